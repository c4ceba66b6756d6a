package spool

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"
)

func TestEncryptedSpool(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}})
	require.NoError(t, err)
	data := []byte(`{"schema_version":1,"user_id":"u-secret"}` + "\n")
	_, err = s.Put("k1", 1, data)
	require.NoError(t, err)
	e, ok := s.Oldest()
	require.True(t, ok)
	raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
	require.NoError(t, err)
	require.NotContains(t, string(raw), "u-secret", "no plaintext on disk")
	require.Contains(t, string(raw), ageMagic)
	got, err := s.Read(e)
	require.NoError(t, err)
	require.Equal(t, data, got)

	// Reopened with another identity the batch is unreadable, reported as
	// corrupt; reopened without keys likewise.
	other, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	s2, err := Open(Config{Dir: dir, Recipients: []age.Recipient{other.Recipient()}, Identities: []age.Identity{other}})
	require.NoError(t, err)
	_, err = s2.Read(e)
	require.ErrorIs(t, err, ErrCorrupt)
	s3, err := Open(Config{Dir: dir})
	require.NoError(t, err)
	_, err = s3.Read(e)
	require.ErrorIs(t, err, ErrCorrupt)

	// An altered ciphertext with a recomputed header still fails: age
	// authenticates every chunk.
	hdrEnd := bytes.IndexByte(raw, '\n') + 1
	body := bytes.Clone(raw[hdrEnd:])
	body[len(body)-3] ^= 1
	var hdr [maxHeaderLen]byte
	require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), append(appendHeader(hdr[:0], headerOf(1, body)), body...), 0o600))
	_, err = s.Read(e)
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestEncryptedSpoolRefusesUnreadableKeys(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	other, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	_, err = Open(Config{Dir: t.TempDir(), Recipients: []age.Recipient{id.Recipient()}})
	require.ErrorContains(t, err, "Config.Identities")
	_, err = Open(Config{Dir: t.TempDir(), Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{other}})
	require.ErrorContains(t, err, "Config.Identities")
	_, err = Open(Config{Dir: t.TempDir(), Recipients: []age.Recipient{nil}})
	require.ErrorContains(t, err, "Config.Recipients[0]")
}
