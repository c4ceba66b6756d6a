package main

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/privacy/audit"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{3}, 32)
	logPath, headPath, keyPath := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "a.head"), filepath.Join(dir, "k")
	require.NoError(t, os.WriteFile(keyPath, []byte(hex.EncodeToString(key)+"\n"), 0o600))
	l, err := audit.Open(audit.Config{Path: logPath, HeadFile: headPath, Key: key})
	require.NoError(t, err)
	for _, r := range []string{"/a", "/b", "/c"} {
		require.NoError(t, l.Append("ana", "read", r))
	}
	require.NoError(t, l.Close())
	runIt := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(args, &out, &errb)
		return code, out.String() + errb.String()
	}
	code, out := runIt("-log", logPath, "-head", headPath, "-key-file", keyPath)
	assert.Equal(t, 0, code, out)
	assert.True(t, strings.HasPrefix(out, "ok: 3 records, head seq 3"), out)

	data, err := os.ReadFile(logPath)
	require.NoError(t, err)
	lines := bytes.SplitAfter(data, []byte("\n"))
	require.NoError(t, os.WriteFile(logPath, bytes.Join(lines[:2], nil), 0o600))
	code, out = runIt("-log", logPath, "-head", headPath, "-key-file", keyPath)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "truncated")
	code, out = runIt("-log", logPath, "-key-file", keyPath)
	assert.Equal(t, 0, code, "without the head a cut log verifies")
	assert.Contains(t, out, "not detectable")

	require.NoError(t, os.WriteFile(logPath, bytes.Replace(data, []byte("/b"), []byte("/x"), 1), 0o600))
	code, out = runIt("-log", logPath, "-head", headPath, "-key-file", keyPath)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "line 2")

	code, _ = runIt()
	assert.Equal(t, 2, code)
}
