package file

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// heldSync replaces the exporter's sync: each call announces the file on
// entered and waits for release, then syncs or fails with fail.
type heldSync struct {
	entered chan string
	release chan struct{}
	fail    error
}

func newHeldSync() *heldSync {
	return &heldSync{entered: make(chan string, 4), release: make(chan struct{})}
}

func (h *heldSync) sync(f *os.File) error {
	h.entered <- f.Name()
	<-h.release
	if h.fail != nil {
		return h.fail
	}
	return f.Sync()
}

// exportAsync runs Export on its own goroutine and returns its result.
func exportAsync(e *Exporter, n int, rng *rand.Rand) <-chan error {
	batch := personalizetest.RandomEvents(rng, n)
	done := make(chan error, 1)
	go func() { done <- e.Export(context.Background(), batch) }()
	return done
}

// TestRotationFinishesInBackground: a rotation hands the full file to a
// background goroutine for its sync, close and rename, and the exporter
// writes the next file meanwhile. Before, Export waited for the sync.
func TestRotationFinishesInBackground(t *testing.T) {
	dir := t.TempDir()
	clk := NewTestClock()
	e, err := New(Config{Dir: dir, MaxAge: time.Minute, Now: clk.Now, Encoders: 1})
	require.NoError(t, err)
	held := newHeldSync()
	e.mu.Lock()
	e.syncFile = held.sync
	e.mu.Unlock()
	rng := rand.New(rand.NewPCG(7, 8))
	ctx := context.Background()

	require.NoError(t, <-exportAsync(e, 10, rng))
	first := onlyFile(t, dir)
	clk.Advance(2 * time.Minute)
	// The first file is too old: this Export rotates it and writes its
	// batch to a second file while the first one's sync is held.
	select {
	case err := <-exportAsync(e, 10, rng):
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Export waited for the old file's sync")
	}
	assert.Equal(t, first, filepath.Base(<-held.entered))
	names := DirNames(t, dir)
	require.Len(t, names, 2)
	for _, n := range names {
		assert.True(t, strings.HasSuffix(n, OpenExt), "%s: the finishing file and the new one are both open", n)
	}

	// A second rotation waits for the first file to finish: at most one
	// file finishes at a time.
	clk.Advance(2 * time.Minute)
	third := exportAsync(e, 10, rng)
	select {
	case err := <-third:
		t.Fatalf("Export returned (%v) before the first file finished", err)
	case <-time.After(50 * time.Millisecond):
	}
	held.release <- struct{}{} // the first file's sync
	require.NoError(t, <-third)
	assert.Contains(t, DirNames(t, dir), strings.TrimSuffix(first, OpenExt), "the first file is closed")

	// A failed background sync leaves the file open and is reported by the
	// next call that waits for it.
	held.fail = errors.New("disk gone")
	second := filepath.Base(<-held.entered)
	held.release <- struct{}{}
	err = e.ForceFlush(ctx)
	require.Error(t, err)
	assert.ErrorContains(t, err, "disk gone")
	assert.ErrorContains(t, err, second)
	assert.Contains(t, DirNames(t, dir), second, "a file whose sync failed keeps its .open name")
	e.mu.Lock()
	e.syncFile = (*os.File).Sync
	e.mu.Unlock()
	require.NoError(t, e.ForceFlush(ctx), "the error is reported once")

	require.NoError(t, e.Shutdown(ctx))
	st, err := ReadDir(dir, func(personalize.Event) error { return nil })
	require.NoError(t, err)
	assert.EqualValues(t, 30, st.Events)
}

func onlyFile(t *testing.T, dir string) string {
	t.Helper()
	names := DirNames(t, dir)
	require.Len(t, names, 1)
	return names[0]
}
