//go:build linux

package pagecache_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/internal/pagecache"
	"github.com/rankscope/rankscope/internal/pagecache/pagecachetest"
)

// TestBehindKeepsAFewWindows writes 5½ windows through Behind and checks
// that the windows lag and more behind the last complete one left the page
// cache, the rest stayed, and every byte reads back.
func TestBehindKeepsAFewWindows(t *testing.T) {
	path := filepath.Join(pagecachetest.Dir(t), "f")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	chunk := make([]byte, 256<<10)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	var b pagecache.Behind
	var size int64
	for size < 5*pagecache.Window+pagecache.Window/2 {
		n, err := f.Write(chunk)
		require.NoError(t, err)
		size += int64(n)
		b.Wrote(f, size)
	}
	// Windows 0-4 are complete; writeback was started for each, and
	// windows 0-2 (two or more behind window 4) were dropped.
	const dropped = 3 * pagecache.Window
	res, total, err := pagecache.ResidentRange(path, 0, dropped)
	require.NoError(t, err)
	require.Zero(t, res, "%d of the %d pages of the dropped windows are cached", res, total)
	res, total, err = pagecache.ResidentRange(path, dropped, size-dropped)
	require.NoError(t, err)
	require.Equal(t, total, res, "the last windows stay cached")

	require.NoError(t, f.Sync())
	pagecache.Drop(f)
	res, _, err = pagecache.Resident(path)
	require.NoError(t, err)
	require.Zero(t, res, "Drop after Sync leaves nothing cached")

	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, got, int(size))
	for off := 0; off < len(got); off += len(chunk) {
		require.Equal(t, chunk, got[off:off+len(chunk)], "bytes at %d", off)
	}
}

// TestBehindReset starts counting again for a new file.
func TestBehindReset(t *testing.T) {
	dir := pagecachetest.Dir(t)
	var b pagecache.Behind
	write := func(name string, n int64) string {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		require.NoError(t, err)
		defer f.Close()
		_, err = f.Write(make([]byte, n))
		require.NoError(t, err)
		b.Wrote(f, n)
		return path
	}
	write("a", 4*pagecache.Window)
	b.Reset()
	// Without Reset, b would take this file for the rest of the last one
	// and drop nothing until it passed 5 windows.
	path := write("b", 4*pagecache.Window)
	res, _, err := pagecache.ResidentRange(path, 0, pagecache.Window)
	require.NoError(t, err)
	require.Zero(t, res, "window 0 of the second file dropped")
}
