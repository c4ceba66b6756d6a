package file

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// TestWriteFailure breaks the active file under the exporter (as a failing
// disk would) and checks that Export reports it, the file keeps only whole
// lines, and the next Export starts a new file.
func TestWriteFailure(t *testing.T) {
	dir := t.TempDir()
	e, err := New(Config{Dir: dir, BufferSize: 4096, Encoders: 1})
	require.NoError(t, err)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	first := personalizetest.RandomEvents(rng, 10)
	require.NoError(t, e.Export(ctx, first))
	require.NoError(t, e.ForceFlush(ctx))

	// Swap the file for a read-only descriptor: writes fail, truncation too.
	e.mu.Lock()
	ro, err := os.Open(e.path)
	require.NoError(t, err)
	broken := e.path
	e.f.Close()
	e.f = ro
	e.mu.Unlock()

	err = e.Export(ctx, personalizetest.RandomEvents(rng, 50))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "file: write "+broken)
	var we *WriteError
	require.ErrorAs(t, err, &we)
	assert.Equal(t, WriteError{Written: 0, Failed: 50, Err: we.Err}, *we)
	assert.Equal(t, Stats{Exported: 10, Failed: 50}, e.Stats())

	second := personalizetest.RandomEvents(rng, 10)
	require.NoError(t, e.Export(ctx, second), "a new file after the failure")
	require.NoError(t, e.Shutdown(ctx))

	var got int
	st, err := ReadDir(dir, func(personalize.Event) error { got++; return nil })
	require.NoError(t, err)
	assert.Equal(t, 20, got, "the 10 flushed lines of the broken file and the 10 of the new one")
	assert.Empty(t, st.Torn, "the broken file ends at a whole line")
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	require.Len(t, names, 2)
	// Truncation failed on the broken descriptor, so the file keeps its
	// .open name; the new file was closed normally.
	assert.Equal(t, broken, names[0])
	assert.True(t, strings.HasSuffix(names[1], Ext), names[1])
}

func TestWholeLines(t *testing.T) {
	// What a short write got to the file: the whole lines are those up to
	// its last newline.
	for _, tc := range []struct {
		written     string
		keep, lines int
	}{
		{"", 0, 0},
		{"abc", 0, 0},
		{"a\n", 2, 1},
		{"a\nbb\n", 5, 2},
		{"a\nbb\nccc", 5, 2},
	} {
		keep, lines := wholeLines([]byte(tc.written))
		assert.Equal(t, tc.keep, keep, "%q", tc.written)
		assert.Equal(t, tc.lines, lines, "%q", tc.written)
	}
}
