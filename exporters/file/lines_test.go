package file_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/personalize/schema"
)

// TestReadLinesMatchesReadDir: over the exporter's own files (several,
// rotated), ReadLines hands over exactly the lines whose decoding ReadDir
// delivers, in the same order.
func TestReadLinesMatchesReadDir(t *testing.T) {
	dir := t.TempDir()
	exp, err := file.New(file.Config{Dir: dir, MaxBytes: 64 << 10})
	require.NoError(t, err)
	events := personalizetest.RandomEvents(seeded(91), 600)
	for i := 0; i < len(events); i += 50 {
		require.NoError(t, exp.Export(t.Context(), events[i:i+50]))
	}
	require.NoError(t, exp.Shutdown(t.Context()))
	require.Greater(t, len(names(t, dir)), 1, "rotated into several files")

	var fromDir []string
	_, err = file.ReadDir(dir, func(e personalize.Event) error {
		b, err := schema.AppendJSON(nil, e)
		fromDir = append(fromDir, string(b))
		return err
	})
	require.NoError(t, err)
	var fromLines []string
	st, err := file.ReadLines(dir, func(line []byte) error {
		fromLines = append(fromLines, string(line)) // valid only during fn: copied
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, fromDir, fromLines)
	assert.EqualValues(t, len(events), st.Events)
}

// TestReadLinesRules: the torn last line of an unfinished file is skipped
// and listed as torn (it is decoded to tell), blank lines are skipped, a
// malformed line elsewhere is handed over unvalidated (the consumer
// counts it), and fn's error stops the read.
func TestReadLinesRules(t *testing.T) {
	dir := t.TempDir()
	var good []byte
	for _, e := range personalizetest.RandomEvents(seeded(92), 3) {
		b, err := schema.AppendJSON(nil, e)
		require.NoError(t, err)
		good = append(append(good, b...), '\n')
	}
	closed := append(append([]byte{}, good...), "\nnot json\n"...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.jsonl"), closed, 0o600))
	torn := append(append([]byte{}, good...), `{"schema_version":1,"type":"outc`...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.jsonl.open"), torn, 0o600))
	brokenLast := append(append([]byte{}, good...), "{\"half\":\n"...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.jsonl.open"), brokenLast, 0o600))

	var got [][]byte
	st, err := file.ReadLines(dir, func(line []byte) error {
		got = append(got, bytes.Clone(line))
		return nil
	})
	require.NoError(t, err)
	require.Len(t, got, 10, "3+1 from a (the malformed line included), 3 from b, 3 from c")
	assert.Equal(t, "not json", string(got[3]))
	assert.EqualValues(t, 10, st.Events)
	require.Len(t, st.Torn, 2, "b's cut line and c's complete but undecodable last line")
	assert.Equal(t, filepath.Join(dir, "b.jsonl.open"), st.Torn[0].File)
	assert.Equal(t, filepath.Join(dir, "c.jsonl.open"), st.Torn[1].File)

	stop := errors.New("stop")
	n := 0
	_, err = file.ReadLines(dir, func([]byte) error {
		if n++; n == 2 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	assert.Equal(t, 2, n)

	_, err = file.ReadLines(filepath.Join(dir, "missing"), func([]byte) error { return nil })
	require.Error(t, err)
}
