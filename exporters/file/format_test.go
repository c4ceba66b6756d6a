package file_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// fakeFormat reads a ".fake" file whose content is a count n as one
// byte: n copies of a fixed link event.
func fakeFormat(path string, fn func(personalize.Event) error) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(b) != 1 {
		return errors.New("bad fake file")
	}
	for range int(b[0]) {
		ev := personalizetest.RandomEvent(seeded(1), personalize.EventLink)
		if err := fn(ev); err != nil {
			return err
		}
	}
	return nil
}

// registerFake registers ".fake" once per process: registrations are
// global and permanent, and the test runs again under -count.
var registerFake sync.Once

func TestRegisterFormat(t *testing.T) {
	registerFake.Do(func() { file.RegisterFormat(".fake", fakeFormat) })
	for _, ext := range []string{"", ".", "fake", ".a/b", file.Ext, file.OpenExt, ".fake"} {
		assert.Panics(t, func() { file.RegisterFormat(ext, fakeFormat) }, "ext %q", ext)
	}
	assert.Panics(t, func() { file.RegisterFormat(".other", nil) })

	dir := t.TempDir()
	write := func(rel string, n byte) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
		require.NoError(t, os.WriteFile(p, []byte{n}, 0o600))
	}
	write("dt=2026-11-02/hour=10/a.fake", 3)
	write("dt=2026-11-02/hour=09/b.fake", 2)
	write("dt=2026-11-02/hour=09/.c.fake.open", 50) // being written: skipped
	write("_tmp/d.fake", 50)                        // hidden directory: skipped
	write("dt=2026-11-02/hour=09/e.other", 50)      // no format: ignored
	// JSON lines at the top are read first.
	exp, err := file.New(file.Config{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, exp.Export(t.Context(), personalizetest.RandomEvents(seeded(2), 4)))
	require.NoError(t, exp.Shutdown(t.Context()))

	var types []personalize.EventType
	st, err := file.ReadDir(dir, func(e personalize.Event) error {
		types = append(types, e.Type)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, int64(9), st.Events)
	assert.Equal(t, 3, st.Files)
	assert.Len(t, types, 9)
	for _, typ := range types[4:] {
		assert.Equal(t, personalize.EventLink, typ)
	}

	// fn's error comes back as is; a format's error names the file.
	stop := errors.New("stop")
	n := 0
	_, err = file.ReadDir(dir, func(personalize.Event) error {
		if n++; n == 6 {
			return stop
		}
		return nil
	})
	assert.Equal(t, stop, err)
	write("dt=2026-11-02/hour=11/bad.fake", 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dt=2026-11-02/hour=11/bad.fake"), []byte("xx"), 0o600))
	_, err = file.ReadDir(dir, func(personalize.Event) error { return nil })
	assert.ErrorContains(t, err, "bad.fake: bad fake file")
}
