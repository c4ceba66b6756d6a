package audit_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rankscope/rankscope/privacy/audit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var key = bytes.Repeat([]byte{7}, 32)

// newLog writes n records and returns the log's path, its head file and
// its lines.
func newLog(t *testing.T, cfg audit.Config, n int) (string, string, [][]byte) {
	t.Helper()
	dir := t.TempDir()
	cfg.Path = filepath.Join(dir, "audit.jsonl")
	cfg.HeadFile = filepath.Join(dir, "audit.head")
	clock := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	cfg.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	l, err := audit.Open(cfg)
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, l.Append(fmt.Sprintf("analyst-%d", i%3), "read", fmt.Sprintf("/data/events/%d", i)))
	}
	require.NoError(t, l.Close())
	b, err := os.ReadFile(cfg.Path)
	require.NoError(t, err)
	lines := bytes.SplitAfter(b, []byte("\n"))
	return cfg.Path, cfg.HeadFile, lines[:len(lines)-1]
}

func verify(t *testing.T, lines [][]byte, k []byte, head *audit.Head) (audit.Result, error) {
	t.Helper()
	return audit.Verify(bytes.NewReader(bytes.Join(lines, nil)), k, head)
}

func TestAppendVerify(t *testing.T) {
	path, headPath, lines := newLog(t, audit.Config{Key: key}, 5)
	require.Len(t, lines, 5)
	head, err := audit.ReadHead(headPath)
	require.NoError(t, err)
	assert.EqualValues(t, 5, head.Seq)
	res, err := verify(t, lines, key, &head)
	require.NoError(t, err)
	assert.Equal(t, 5, res.Records)
	assert.Equal(t, head, res.Last)
	assert.Contains(t, string(lines[2]), `"accessor":"analyst-2","action":"read","resource":"/data/events/2"`)

	// Reopened, the log continues the chain.
	l, err := audit.Open(audit.Config{Path: path, HeadFile: headPath, Key: key})
	require.NoError(t, err)
	require.NoError(t, l.Append("dpo", "export", "user:42"))
	assert.EqualValues(t, 6, l.Head().Seq)
	require.NoError(t, l.Close())
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	head, err = audit.ReadHead(headPath)
	require.NoError(t, err)
	res, err = audit.Verify(f, key, &head)
	require.NoError(t, err)
	assert.Equal(t, 6, res.Records)
}

func TestVerifyDetectsTampering(t *testing.T) {
	_, headPath, lines := newLog(t, audit.Config{Key: key}, 6)
	head, err := audit.ReadHead(headPath)
	require.NoError(t, err)
	clone := func() [][]byte {
		out := make([][]byte, len(lines))
		for i := range lines {
			out[i] = bytes.Clone(lines[i])
		}
		return out
	}
	for _, tt := range []struct {
		name    string
		mutate  func([][]byte) [][]byte
		head    *audit.Head
		line    int
		problem string
	}{
		{"edited resource", func(l [][]byte) [][]byte {
			l[2] = bytes.Replace(l[2], []byte("/data/events/2"), []byte("/data/events/X"), 1)
			return l
		}, nil, 3, "hash does not match"},
		{"edited accessor", func(l [][]byte) [][]byte {
			l[0] = bytes.Replace(l[0], []byte("analyst-0"), []byte("analyst-9"), 1)
			return l
		}, nil, 1, "hash does not match"},
		{"reordered", func(l [][]byte) [][]byte { l[3], l[4] = l[4], l[3]; return l }, nil, 4, "sequence number"},
		{"removed from the middle", func(l [][]byte) [][]byte { return append(l[:2], l[3:]...) }, nil, 3, "sequence number"},
		{"duplicated", func(l [][]byte) [][]byte { return append(l[:3], l[2:]...) }, nil, 4, "sequence number"},
		{"truncated, with head", func(l [][]byte) [][]byte { return l[:4] }, &head, 0, "truncated"},
		{"torn last line", func(l [][]byte) [][]byte { l[5] = l[5][:30]; return l }, nil, 6, "no newline"},
		{"not json", func(l [][]byte) [][]byte { l[1] = []byte("hello\n"); return l }, nil, 2, "malformed"},
		{"unknown field", func(l [][]byte) [][]byte {
			l[1] = bytes.Replace(l[1], []byte(`{"seq"`), []byte(`{"x":1,"seq"`), 1)
			return l
		}, nil, 2, "malformed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := verify(t, tt.mutate(clone()), key, tt.head)
			var ve *audit.VerifyError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.line, ve.Line)
			assert.Contains(t, ve.Problem, tt.problem)
		})
	}
	// The limit, stated in the package doc: without a head, a log cut at
	// the end is a valid shorter chain.
	res, err := verify(t, lines[:4], key, nil)
	require.NoError(t, err)
	assert.Equal(t, 4, res.Records)
	// A wrong key fails at the first record.
	_, err = verify(t, lines, bytes.Repeat([]byte{8}, 32), nil)
	require.ErrorContains(t, err, "line 1")
}

// TestKeyedChainResistsRecomputation: an editor who recomputes the plain
// SHA-256 chain after an edit passes an unkeyed Verify but not a keyed
// one, nor the head.
func TestKeyedChainResistsRecomputation(t *testing.T) {
	for _, keyed := range []bool{false, true} {
		var k []byte
		if keyed {
			k = key
		}
		_, headPath, _ := newLog(t, audit.Config{Key: k}, 3)
		head, err := audit.ReadHead(headPath)
		require.NoError(t, err)
		// Rewrite record 2 and recompute the chain from there with no key,
		// using a fresh unkeyed log as the forger's tool.
		dir := t.TempDir()
		forger, err := audit.Open(audit.Config{Path: filepath.Join(dir, "f"), Now: func() time.Time {
			return time.Date(2026, 11, 2, 9, 0, 1, 0, time.UTC)
		}})
		require.NoError(t, err)
		require.NoError(t, forger.Append("analyst-0", "read", "/data/events/0"))
		require.NoError(t, forger.Append("nobody", "read", "/data/events/1"))
		require.NoError(t, forger.Append("analyst-2", "read", "/data/events/2"))
		require.NoError(t, forger.Close())
		forged, err := os.ReadFile(filepath.Join(dir, "f"))
		require.NoError(t, err)
		_, err = audit.Verify(bytes.NewReader(forged), k, nil)
		if keyed {
			require.Error(t, err, "a keyed chain cannot be recomputed without the key")
		} else {
			require.NoError(t, err, "an unkeyed chain can: the documented limit")
			_, err = audit.Verify(bytes.NewReader(forged), k, &head)
			require.ErrorContains(t, err, "rewritten", "the head kept apart catches it")
		}
	}
}

func TestOpenRefusesTamperedLog(t *testing.T) {
	path, headPath, lines := newLog(t, audit.Config{Key: key}, 3)
	require.NoError(t, os.WriteFile(path, bytes.Join(lines[:2], nil), 0o600))
	_, err := audit.Open(audit.Config{Path: path, HeadFile: headPath, Key: key})
	require.ErrorContains(t, err, "truncated")
	lines[1] = bytes.Replace(lines[1], []byte("analyst-1"), []byte("analyst-7"), 1)
	require.NoError(t, os.WriteFile(path, bytes.Join(lines, nil), 0o600))
	_, err = audit.Open(audit.Config{Path: path, Key: key})
	require.ErrorContains(t, err, "hash does not match")
}

func TestLogAheadOfHead(t *testing.T) {
	_, _, lines := newLog(t, audit.Config{}, 4)
	var h3 audit.Record
	require.NoError(t, jsonUnmarshal(lines[2], &h3))
	res, err := verify(t, lines, nil, &audit.Head{Seq: 3, Hash: h3.Hash})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Ahead)
}

func TestAppendValidates(t *testing.T) {
	l, err := audit.Open(audit.Config{Path: filepath.Join(t.TempDir(), "a")})
	require.NoError(t, err)
	defer l.Close()
	require.ErrorContains(t, l.Append("", "read", "x"), "accessor: required")
	require.ErrorContains(t, l.Append("a", "", "x"), "action: required")
	require.ErrorContains(t, l.Append("a", "read", "x\ny"), "resource: control character")
	require.ErrorContains(t, l.Append("a\xff", "read", "x"), "accessor: not valid UTF-8")
	require.ErrorContains(t, l.Append("a", "read", strings.Repeat("x", audit.MaxFieldBytes+1)), "resource: longer")
	_, err = audit.Open(audit.Config{Path: filepath.Join(t.TempDir(), "b"), Key: []byte("short")})
	require.ErrorContains(t, err, "Config.Key")
	_, err = audit.Open(audit.Config{})
	require.ErrorContains(t, err, "Config.Path")
}

func TestConcurrentAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a")
	l, err := audit.Open(audit.Config{Path: path, Key: key, Sync: audit.SyncNone})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				assert.NoError(t, l.Append(fmt.Sprint("g", g), "read", fmt.Sprint(i)))
			}
		})
	}
	wg.Wait()
	require.NoError(t, l.Close())
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	res, err := audit.Verify(f, key, nil)
	require.NoError(t, err)
	assert.Equal(t, 400, res.Records)
}
