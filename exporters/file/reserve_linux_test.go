//go:build linux

package file_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/rankscope/rankscope/exporters/file"
)

// allocated returns the size of path and the bytes of its allocated
// blocks.
func allocated(t *testing.T, path string) (size, blocks int64) {
	t.Helper()
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(path, &st))
	return st.Size, st.Blocks * 512
}

// fallocateDir returns a temporary directory whose file system allocates
// blocks past a file's end with fallocate(2), or skips the test.
func fallocateDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "probe"))
	require.NoError(t, err)
	err = unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, 1<<20)
	require.NoError(t, f.Close())
	require.NoError(t, os.Remove(f.Name()))
	if errors.Is(err, unix.EOPNOTSUPP) {
		t.Skipf("the file system of %s has no fallocate: %v", dir, err)
	}
	require.NoError(t, err)
	return dir
}

// TestFilesAreAllocatedAhead: the active file's blocks are allocated
// ahead of its lines (up to MaxBytes here, below the 8 MiB step) without
// changing its size, so a reader of the ".open" file sees whole lines and
// nothing after them; every finished file (at rotation and at Shutdown)
// gives back the blocks past its last line.
func TestFilesAreAllocatedAhead(t *testing.T) {
	dir := fallocateDir(t)
	const maxBytes = 1 << 20
	exp, err := file.New(file.Config{Dir: dir, MaxBytes: maxBytes})
	require.NoError(t, err)
	ctx := context.Background()
	t.Cleanup(func() { exp.Shutdown(ctx) })

	events := impressions(1500) // about 2.5 MiB: two rotations
	require.NoError(t, exp.Export(ctx, events[:10]))
	ns := names(t, dir)
	require.Len(t, ns, 1)
	require.True(t, strings.HasSuffix(ns[0], file.OpenExt), ns[0])
	size, blocks := allocated(t, filepath.Join(dir, ns[0]))
	assert.Less(t, size, int64(64<<10), "10 events")
	assert.GreaterOrEqual(t, blocks, int64(maxBytes), "allocated ahead to MaxBytes (size %d)", size)
	got, st := readAll(t, dir)
	assert.Equal(t, events[:10], got)
	assert.Empty(t, st.Torn, "nothing past the last line")

	for b := range slices.Chunk(events[10:], 100) {
		require.NoError(t, exp.Export(ctx, b))
	}
	require.NoError(t, exp.Shutdown(ctx))
	ns = names(t, dir)
	require.GreaterOrEqual(t, len(ns), 3, "rotated")
	for _, n := range ns {
		require.True(t, strings.HasSuffix(n, file.Ext), n)
		size, blocks := allocated(t, filepath.Join(dir, n))
		// A file system block is at most 64 KiB.
		assert.Less(t, blocks, size+64<<10, "%s: %d bytes allocated for %d", n, blocks, size)
	}
	got, st = readAll(t, dir)
	assert.Equal(t, events, got)
	assert.Empty(t, st.Torn)
}
