//go:build linux

package pagecache_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// TestAllocate allocates a megabyte past a 100-byte file's end: the size
// and bytes stay, the blocks are allocated, and truncating the file to
// its size gives them back.
func TestAllocate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	line := []byte(strings.Repeat("x", 99) + "\n")
	_, err = f.Write(line)
	require.NoError(t, err)
	err = pagecache.Allocate(f, 0, 1<<20)
	if errors.Is(err, syscall.EOPNOTSUPP) {
		t.Skipf("no fallocate in %s: %v", path, err)
	}
	require.NoError(t, err)
	blocks := func() (size, alloc int64) {
		var st syscall.Stat_t
		require.NoError(t, syscall.Fstat(int(f.Fd()), &st))
		return st.Size, st.Blocks * 512
	}
	size, alloc := blocks()
	require.Equal(t, int64(len(line)), size, "the size is unchanged")
	require.GreaterOrEqual(t, alloc, int64(1<<20))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, line, got)

	require.NoError(t, f.Truncate(size))
	_, alloc = blocks()
	require.Less(t, alloc, int64(64<<10), "truncating to the size frees the rest")
}
