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

// TestDropAfterSync writes a file, syncs it and checks that its pages are
// cached before Drop and not after, and that every byte reads back.
func TestDropAfterSync(t *testing.T) {
	path := filepath.Join(pagecachetest.Dir(t), "f")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	chunk := make([]byte, 256<<10)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	const chunks = 32 // 8 MiB
	for range chunks {
		_, err := f.Write(chunk)
		require.NoError(t, err)
	}
	require.NoError(t, f.Sync())
	res, total, err := pagecache.Resident(path)
	require.NoError(t, err)
	require.Equal(t, chunks*len(chunk)/os.Getpagesize(), total)
	require.Equal(t, total, res, "a file just written is cached")

	pagecache.Drop(f)
	res, _, err = pagecache.Resident(path)
	require.NoError(t, err)
	require.Zero(t, res, "Drop after Sync leaves nothing cached")

	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, got, chunks*len(chunk))
	for off := 0; off < len(got); off += len(chunk) {
		require.Equal(t, chunk, got[off:off+len(chunk)], "bytes at %d", off)
	}
	res, total, err = pagecache.Resident(path)
	require.NoError(t, err)
	require.Equal(t, total, res, "reading brings the pages back")
}

// TestDroppable tells a disk file system from tmpfs.
func TestDroppable(t *testing.T) {
	ok, err := pagecache.Droppable("/dev/shm")
	if err == nil {
		require.False(t, ok, "/dev/shm is tmpfs")
	}
	_, err = pagecache.Droppable(filepath.Join(t.TempDir(), "missing"))
	require.Error(t, err)
}
