//go:build linux

package file

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/internal/pagecache"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// TestRefusedAllocationWritesOn: when the file system refuses to allocate
// ahead (here after allocating part of the range, as a nearly full disk
// may), Export still writes every line, the file is not asked again, and
// the closed file keeps no block past its last line.
func TestRefusedAllocationWritesOn(t *testing.T) {
	dir := t.TempDir()
	e, err := New(Config{Dir: dir})
	require.NoError(t, err)
	var calls int
	e.mu.Lock()
	e.preallocate = func(f *os.File, off, n int64) error {
		calls++
		if err := pagecache.Allocate(f, off, n/2); err != nil {
			t.Skipf("no fallocate in %s: %v", dir, err)
		}
		return syscall.ENOSPC
	}
	e.mu.Unlock()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 77))
	var want []personalize.Event
	for range 3 {
		batch := personalizetest.RandomEvents(rng, 50)
		require.NoError(t, e.Export(ctx, batch))
		want = append(want, batch...)
	}
	require.NoError(t, e.Shutdown(ctx))
	assert.Equal(t, 1, calls, "asked once, refused")

	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, des, 1)
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(filepath.Join(dir, des[0].Name()), &st))
	assert.Less(t, st.Blocks*512, st.Size+64<<10, "%d bytes allocated for %d", st.Blocks*512, st.Size)
	var got []personalize.Event
	_, err = ReadDir(dir, func(ev personalize.Event) error {
		got = append(got, ev)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, want, got)
}
