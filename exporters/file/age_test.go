package file_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// testIdentity is a fixed X25519 identity for tests (generated once with
// age.GenerateX25519Identity; not a secret).
const testIdentity = "AGE-SECRET-KEY-14LVR285E0SYHN8UN9LCKQCS5C3VKJKAUKNSYNVSXM3J63MJPWFQQ7ZERGV"

func identity(t testing.TB) *age.X25519Identity {
	t.Helper()
	id, err := age.ParseX25519Identity(testIdentity)
	require.NoError(t, err)
	return id
}

func readSealed(t *testing.T, dir string, cfg file.ReadConfig) ([]personalize.Event, file.ReadStats, error) {
	t.Helper()
	var got []personalize.Event
	st, err := cfg.ReadDir(dir, func(e personalize.Event) error {
		got = append(got, e)
		return nil
	})
	return got, st, err
}

func jsonLines(t *testing.T, events []personalize.Event) [][]byte {
	t.Helper()
	var out [][]byte
	for _, e := range events {
		b, err := personalize.AppendJSON(nil, e)
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

func TestConformanceEncrypted(t *testing.T) {
	id := identity(t)
	for _, tc := range []struct {
		name string
		cfg  file.Config
	}{
		{"defaults", file.Config{}},
		// Not the plain test's 3000-byte files: each encrypted file costs an
		// X25519 key exchange and two fsyncs, and under -race the suite's
		// ForceFlush loop (one file per call) ran past its deadline.
		{"small files and buffer", file.Config{MaxBytes: 100 << 10, BufferSize: 1024}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			personalizetest.TestExporter(t, personalizetest.Harness{
				New: func(t *testing.T) personalizetest.Instance {
					cfg := tc.cfg
					cfg.Dir = t.TempDir()
					cfg.Recipients = []age.Recipient{id.Recipient()}
					exp, err := file.New(cfg)
					require.NoError(t, err)
					return personalizetest.Instance{
						Exporter: exp,
						Delivered: func() ([]personalize.Event, error) {
							var got []personalize.Event
							_, err := file.ReadConfig{Identities: []age.Identity{id}}.ReadDir(cfg.Dir, func(e personalize.Event) error {
								got = append(got, e)
								return nil
							})
							return got, err
						},
						Written: func() ([]byte, error) { return written(cfg.Dir) },
					}
				},
			})
		})
	}
}

func TestEncryptedRoundTrip(t *testing.T) {
	id := identity(t)
	dir := t.TempDir()
	exp, err := file.New(file.Config{Dir: dir, Recipients: []age.Recipient{id.Recipient()}, MaxBytes: 256 << 10})
	require.NoError(t, err)
	events := personalizetest.RandomEvents(seeded(21), 2000)
	ctx := context.Background()
	for i := 0; i < len(events); i += 300 {
		require.NoError(t, exp.Export(ctx, events[i:min(i+300, len(events))]))
	}
	require.NoError(t, exp.Shutdown(ctx))
	ns := names(t, dir)
	require.Greater(t, len(ns), 1, "rotated by size")
	for _, n := range ns {
		require.True(t, strings.HasSuffix(n, ".jsonl.age"), n)
		b, err := os.ReadFile(filepath.Join(dir, n))
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(b, []byte("age-encryption.org/v1\n")), "a standard age file")
		require.NotContains(t, string(b), `"schema_version"`, "no plaintext on disk")
	}
	for _, workers := range []int{1, 3} {
		got, st, err := readSealed(t, dir, file.ReadConfig{Identities: []age.Identity{id}, Workers: workers})
		require.NoError(t, err)
		assert.Empty(t, st.Torn)
		assert.Equal(t, jsonLines(t, events), jsonLines(t, got), "workers=%d", workers)
	}
	st := exp.Stats()
	assert.Equal(t, file.Stats{Exported: 2000}, st)

	// Without an identity the read fails closed.
	_, _, err = readSealed(t, dir, file.ReadConfig{})
	require.ErrorIs(t, err, file.ErrNoIdentity)
	// With the wrong identity every file is unreadable: an error naming
	// the file, or skipped and counted.
	other, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	_, _, err = readSealed(t, dir, file.ReadConfig{Identities: []age.Identity{other}})
	var le *file.LineError
	require.ErrorAs(t, err, &le)
	var de *file.DecryptError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, filepath.Join(dir, ns[0]), le.File)
	_, st2, err := readSealed(t, dir, file.ReadConfig{Identities: []age.Identity{other}, SkipMalformed: true})
	require.NoError(t, err)
	assert.EqualValues(t, len(ns), st2.Skipped)
}

// TestEncryptedForceFlushFinishesFile: the age stream keeps its last chunk
// in memory, so ForceFlush finishes the file to put every line on disk.
func TestEncryptedForceFlushFinishesFile(t *testing.T) {
	id := identity(t)
	dir := t.TempDir()
	exp, err := file.New(file.Config{Dir: dir, Recipients: []age.Recipient{id.Recipient()}})
	require.NoError(t, err)
	events := personalizetest.RandomEvents(seeded(22), 10)
	ctx := context.Background()
	require.NoError(t, exp.Export(ctx, events[:5]))
	require.NoError(t, exp.ForceFlush(ctx))
	require.NoError(t, exp.Export(ctx, events[5:]))
	got, st, err := readSealed(t, dir, file.ReadConfig{Identities: []age.Identity{id}})
	require.NoError(t, err)
	assert.Equal(t, jsonLines(t, events[:5]), jsonLines(t, got))
	// The second file is open and its lines are still in the buffer: its
	// tail is torn (cut before the first chunk), not an error.
	require.Len(t, st.Torn, 1)
	require.NoError(t, exp.Shutdown(ctx))
	got, _, err = readSealed(t, dir, file.ReadConfig{Identities: []age.Identity{id}})
	require.NoError(t, err)
	assert.Equal(t, jsonLines(t, events), jsonLines(t, got))
}

// TestEncryptedTornFile cuts a finished encrypted file at many points and
// reads it as a crashed writer's ".open" file: the lines in the whole
// 64 KiB chunks before the cut are delivered, the rest is one torn line,
// and the read does not fail. The same cut under a closed name is a
// malformed last line (an error, or counted with SkipMalformed).
func TestEncryptedTornFile(t *testing.T) {
	id := identity(t)
	src := t.TempDir()
	exp, err := file.New(file.Config{Dir: src, Recipients: []age.Recipient{id.Recipient()}})
	require.NoError(t, err)
	events := personalizetest.RandomEvents(seeded(23), 400)
	require.NoError(t, exp.Export(context.Background(), events))
	require.NoError(t, exp.Shutdown(context.Background()))
	ns := names(t, src)
	require.Len(t, ns, 1)
	sealed, err := os.ReadFile(filepath.Join(src, ns[0]))
	require.NoError(t, err)
	lines := jsonLines(t, events)
	var plain []byte
	for _, l := range lines {
		plain = append(append(plain, l...), '\n')
	}
	const chunk, sealedChunk = 64 << 10, 64<<10 + 16
	require.Greater(t, len(plain), 3*chunk, "several chunks")
	hdr := len(sealed) - (len(plain)/chunk)*sealedChunk - (len(plain)%chunk + 16)
	require.Greater(t, hdr, 50)

	// wantLines is the number of whole lines in the first n bytes of plain.
	wantLines := func(n int) int { return bytes.Count(plain[:n], []byte{'\n'}) }
	for _, cut := range []int{0, 10, hdr - 1, hdr, hdr + 100, hdr + sealedChunk, hdr + sealedChunk + 1,
		hdr + 2*sealedChunk - 1, hdr + 3*sealedChunk, len(sealed) - 1} {
		dir := t.TempDir()
		name := ns[0] + file.OpenExt
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), sealed[:cut], 0o600))
		got, st, err := readSealed(t, dir, file.ReadConfig{Identities: []age.Identity{id}})
		require.NoError(t, err, "cut at %d", cut)
		whole := 0
		if cut > hdr {
			whole = (cut - hdr) / sealedChunk * chunk
		}
		require.Equal(t, wantLines(whole), len(got), "cut at %d", cut)
		if len(got) > 0 {
			assert.Equal(t, lines[:len(got)], jsonLines(t, got))
		}
		require.Len(t, st.Torn, 1, "cut at %d", cut)
		var de *file.DecryptError
		assert.ErrorAs(t, st.Torn[0], &de)
		assert.Equal(t, len(got)+1, st.Torn[0].Line)

		// Closed name: the damage is malformed, not torn.
		require.NoError(t, os.Rename(filepath.Join(dir, name), filepath.Join(dir, ns[0])))
		_, _, err = readSealed(t, dir, file.ReadConfig{Identities: []age.Identity{id}})
		var le *file.LineError
		require.ErrorAs(t, err, &le, "cut at %d", cut)
		_, st, err = readSealed(t, dir, file.ReadConfig{Identities: []age.Identity{id}, SkipMalformed: true})
		require.NoError(t, err)
		assert.EqualValues(t, 1, st.Skipped)
	}

	// A flipped bit in a middle chunk: the chunks before it are read.
	dir := t.TempDir()
	bad := bytes.Clone(sealed)
	bad[hdr+sealedChunk+7] ^= 1
	require.NoError(t, os.WriteFile(filepath.Join(dir, ns[0]+file.OpenExt), bad, 0o600))
	got, st, err := readSealed(t, dir, file.ReadConfig{Identities: []age.Identity{id}})
	require.NoError(t, err)
	assert.Equal(t, wantLines(chunk), len(got))
	require.Len(t, st.Torn, 1)
}

func TestNewRejectsNilRecipient(t *testing.T) {
	_, err := file.New(file.Config{Dir: t.TempDir(), Recipients: []age.Recipient{nil}})
	require.ErrorContains(t, err, "Config.Recipients[0]")
}
