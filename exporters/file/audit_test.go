package file_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy/audit"
)

type failingAuditor struct{}

func (failingAuditor) Append(string, string, string) error { return errors.New("disk full") }

func TestReadIsAudited(t *testing.T) {
	dir := t.TempDir()
	exp, err := file.New(file.Config{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, exp.Export(context.Background(), personalizetest.RandomEvents(seeded(3), 5)))
	require.NoError(t, exp.Shutdown(context.Background()))

	logPath := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := audit.Open(audit.Config{Path: logPath})
	require.NoError(t, err)
	defer log.Close()
	n := 0
	st, err := file.ReadConfig{Audit: log, Accessor: "alice"}.ReadDir(dir, func(personalize.Event) error { n++; return nil })
	require.NoError(t, err)
	assert.EqualValues(t, 5, st.Events)
	b, err := os.ReadFile(logPath)
	require.NoError(t, err)
	res, err := audit.Verify(bytes.NewReader(b), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Records)
	assert.Contains(t, string(b), `"accessor":"alice","action":"read","resource":"`+dir+`"`)

	// No accessor, a failing audit, or an accessor without audit: no read.
	for _, cfg := range []file.ReadConfig{{Audit: log}, {Audit: failingAuditor{}, Accessor: "bob"}, {Accessor: "bob"}} {
		called := false
		_, err := cfg.ReadDir(dir, func(personalize.Event) error { called = true; return nil })
		require.Error(t, err)
		assert.Contains(t, err.Error(), "ReadConfig.")
		assert.False(t, called)
	}
}
