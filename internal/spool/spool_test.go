package spool

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no dir", Config{}, "spool: Config.Dir: required"},
		{"negative bytes", Config{Dir: t.TempDir(), MaxBytes: -1}, "spool: Config.MaxBytes"},
		{"negative files", Config{Dir: t.TempDir(), MaxFiles: -1}, "spool: Config.MaxFiles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestFIFOAndReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir})
	require.NoError(t, err)
	for i := range 3 {
		ev, err := s.Put("k"+strconv.Itoa(i), i+1, []byte("batch"+strconv.Itoa(i)))
		require.NoError(t, err)
		assert.Empty(t, ev)
	}
	assert.Equal(t, Usage{Files: 3, Bytes: 18, Events: 6}, s.Usage())

	// A crash leftover and foreign files.
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".tmp-99"), []byte("partial"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README"), []byte("x"), 0o600))

	s2, err := Open(Config{Dir: dir})
	require.NoError(t, err)
	assert.Equal(t, s.Usage(), s2.Usage())
	_, err = os.Stat(filepath.Join(dir, ".tmp-99"))
	assert.ErrorIs(t, err, os.ErrNotExist, "temporary file removed")

	for i := range 3 {
		e, ok := s2.Oldest()
		require.True(t, ok)
		assert.Equal(t, "k"+strconv.Itoa(i), e.Key)
		assert.Equal(t, i+1, e.Events)
		b, err := s2.Read(e)
		require.NoError(t, err)
		assert.Equal(t, "batch"+strconv.Itoa(i), string(b))
		removed, err := s2.Remove(e)
		require.NoError(t, err)
		assert.True(t, removed)
	}
	_, ok := s2.Oldest()
	assert.False(t, ok)
	// Sequence continues after reopen.
	_, err = s2.Put("next", 1, []byte("x"))
	require.NoError(t, err)
	e, _ := s2.Oldest()
	assert.Equal(t, uint64(4), e.Seq)
}

func TestBoundsEvictOldest(t *testing.T) {
	t.Run("files", func(t *testing.T) {
		s, err := Open(Config{Dir: t.TempDir(), MaxFiles: 2})
		require.NoError(t, err)
		_, _ = s.Put("a", 1, []byte("1"))
		_, _ = s.Put("b", 2, []byte("2"))
		ev, err := s.Put("c", 3, []byte("3"))
		require.NoError(t, err)
		require.Len(t, ev, 1)
		assert.Equal(t, "a", ev[0].Key)
		assert.Equal(t, Usage{Files: 2, Bytes: 2, Events: 5}, s.Usage())
	})
	t.Run("bytes", func(t *testing.T) {
		s, err := Open(Config{Dir: t.TempDir(), MaxBytes: 10})
		require.NoError(t, err)
		_, _ = s.Put("a", 1, []byte("12345"))
		_, _ = s.Put("b", 1, []byte("12345"))
		ev, err := s.Put("c", 1, []byte("123456"))
		require.NoError(t, err)
		require.Len(t, ev, 2, "both older batches must go to fit 6 bytes under 10")
		assert.Equal(t, Usage{Files: 1, Bytes: 6, Events: 1}, s.Usage())
		_, err = s.Put("d", 1, make([]byte, 11))
		assert.ErrorIs(t, err, ErrTooLarge)
	})
	t.Run("bad key", func(t *testing.T) {
		s, err := Open(Config{Dir: t.TempDir()})
		require.NoError(t, err)
		_, err = s.Put("../etc", 1, nil)
		assert.ErrorContains(t, err, "spool: key")
	})
	t.Run("remove evicted", func(t *testing.T) {
		s, err := Open(Config{Dir: t.TempDir(), MaxFiles: 1})
		require.NoError(t, err)
		_, _ = s.Put("a", 1, []byte("1"))
		e, _ := s.Oldest()
		_, _ = s.Put("b", 1, []byte("2"))
		removed, err := s.Remove(e)
		require.NoError(t, err)
		assert.False(t, removed)
	})
}

func TestParseName(t *testing.T) {
	e := Entry{Seq: 42, Events: 7, Key: "0190c0de-aaaa-7bbb-8ccc-123456789abc"}
	got, ok := ParseName(e.Name())
	require.True(t, ok)
	assert.Equal(t, e, got)
	for _, bad := range []string{"", "x.batch", "00000000000000000042-7-.batch", "00000000000000000042-07-k.batch",
		"42-7-k.batch", "00000000000000000042-7-k/../x.batch", "00000000000000000042-x-k.batch", "00000000000000000042-7-k.tmp"} {
		_, ok := ParseName(bad)
		assert.False(t, ok, bad)
	}
}

func FuzzParseName(f *testing.F) {
	f.Add("00000000000000000042-7-key.batch")
	f.Add("00000000000000000001-0-a_b-c.batch")
	f.Add("99999999999999999999-1-k.batch")
	f.Add("x")
	f.Fuzz(func(t *testing.T, name string) {
		e, ok := ParseName(name)
		if !ok {
			return
		}
		if !ValidKey(e.Key) || e.Events < 0 {
			t.Fatalf("%q parsed to invalid %+v", name, e)
		}
		if e.Name() != name {
			t.Fatalf("%q does not round-trip: %q", name, e.Name())
		}
	})
}
