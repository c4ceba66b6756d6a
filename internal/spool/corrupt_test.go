package spool

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/internal/spool/spooltest"
)

// putOne spools data as one batch of events and returns its entry and
// the path of its file.
func putOne(t *testing.T, s *Spool, events int, data []byte) (Entry, string) {
	t.Helper()
	_, err := s.Put("key-1", events, data)
	require.NoError(t, err)
	e, ok := s.Oldest()
	require.True(t, ok)
	return e, filepath.Join(s.Dir(), e.Name())
}

func TestHeaderOnDisk(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir()})
	require.NoError(t, err)
	data := []byte("{\"a\":1}\n{\"b\":2}\n")
	e, path := putOne(t, s, 2, data)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	// CRC-32C of data, computed independently: hash/crc32 with the
	// Castagnoli table is the reference; the header spells it in hex.
	assert.Equal(t, "rsspool1 2 16 "+crcHex(data)+"\n"+string(data), string(raw))
	assert.Equal(t, int64(len(data)), e.Size, "Size counts data, not the header")
	got, err := s.Read(e)
	require.NoError(t, err)
	assert.Equal(t, data, got)

	s2, err := Open(Config{Dir: s.Dir()})
	require.NoError(t, err)
	assert.Equal(t, s.Usage(), s2.Usage(), "reopen computes data sizes from the headers")
}

// The header's checksum is CRC-32C. Reference values: RFC 3720
// appendix B.4 (iSCSI), whose CRC bytes are listed least significant
// first, and the check value of "123456789" in the CRC RevEng catalogue
// (CRC-32/ISCSI, check=0xe3069283).
func TestHeaderChecksumIsCRC32C(t *testing.T) {
	inc := make([]byte, 32)
	for i := range inc {
		inc[i] = byte(i)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want uint32
	}{
		{"32 bytes of zeroes (RFC 3720 B.4: aa 36 91 8a)", make([]byte, 32), 0x8a9136aa},
		{"32 bytes of ones (RFC 3720 B.4: 43 ab a8 62)", bytes.Repeat([]byte{0xff}, 32), 0x62a8ab43},
		{"32 incrementing bytes (RFC 3720 B.4: 4e 79 dd 46)", inc, 0x46dd794e},
		{"check value", []byte("123456789"), 0xe3069283},
	} {
		assert.Equal(t, tc.want, headerOf(0, tc.data).sum, tc.name)
	}
	assert.Equal(t, "rsspool1 0 9 e3069283\n", string(appendHeader(nil, headerOf(0, []byte("123456789")))))
}

func crcHex(data []byte) string {
	b := appendHeader(nil, headerOf(0, data))
	return string(b[len(b)-9 : len(b)-1])
}

func TestReadDetectsCorruption(t *testing.T) {
	data := bytes.Repeat([]byte("{\"event\":\"0123456789\"}\n"), 20)
	hdrLen := len(appendHeader(nil, headerOf(20, data)))
	tests := []struct {
		name   string
		mutate func(t *testing.T, path string, e Entry) Entry
		want   string // "" means read unchecked (no header left)
	}{
		{"truncated mid-data", truncateTo(func(n int) int { return n - 7 }), "truncated"},
		{"truncated at a line end", truncateTo(func(n int) int { return n - 23 }), "truncated"},
		{"truncated to the header", truncateTo(func(int) int { return hdrLen }), "truncated"},
		{"truncated inside the header", truncateTo(func(int) int { return hdrLen - 3 }), "unterminated"},
		{"extended", appendBytes("{\"x\":1}\n"), "header says"},
		{"data byte flipped", flipAt(func(int) int { return hdrLen + 5 }), "checksum mismatch"},
		{"newline flipped", flipAt(func(int) int { return hdrLen + 22 }), "checksum mismatch"},
		{"last byte flipped", flipAt(func(n int) int { return n - 1 }), "checksum mismatch"},
		{"header count flipped", flipAt(func(int) int { return len(headerMagic) + 1 }), "header counts 21 events"},
		{"header size flipped", flipAt(func(int) int { return len(headerMagic) + 3 }), "truncated: 460 of 560 bytes"},
		{"header checksum flipped", flipAt(func(int) int { return hdrLen - 2 }), "checksum"},
		{"header separator flipped", flipAt(func(int) int { return len(headerMagic) + 2 }), "fields"},
		{"name disagrees", func(t *testing.T, path string, e Entry) Entry {
			e.Events = 19
			require.NoError(t, os.Rename(path, filepath.Join(filepath.Dir(path), e.Name())))
			return e
		}, "header counts 20 events, the name 19"},
		// Without the magic the spool cannot tell a damaged file from one
		// written before headers: it returns the bytes and the caller's
		// validation must refuse them.
		{"magic flipped", flipAt(func(int) int { return 0 }), ""},
		{"truncated to nothing", truncateTo(func(int) int { return 0 }), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(Config{Dir: t.TempDir()})
			require.NoError(t, err)
			e, path := putOne(t, s, 20, data)
			e = tt.mutate(t, path, e)
			got, err := s.Read(e)
			if tt.want == "" {
				require.NoError(t, err)
				assert.NotEqual(t, data, got)
				return
			}
			require.ErrorIs(t, err, ErrCorrupt)
			assert.ErrorContains(t, err, tt.want)
			assert.Contains(t, err.Error(), e.Name(), "the error names the file")
			assert.Nil(t, got)
		})
	}
}

func truncateTo(size func(n int) int) func(*testing.T, string, Entry) Entry {
	return func(t *testing.T, path string, e Entry) Entry {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.NoError(t, os.Truncate(path, int64(size(int(fi.Size())))))
		return e
	}
}

func flipAt(at func(n int) int) func(*testing.T, string, Entry) Entry {
	return func(t *testing.T, path string, e Entry) Entry {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		b[at(len(b))] ^= 0x01
		require.NoError(t, os.WriteFile(path, b, 0o600))
		return e
	}
}

func appendBytes(extra string) func(*testing.T, string, Entry) Entry {
	return func(t *testing.T, path string, e Entry) Entry {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		require.NoError(t, err)
		_, err = f.WriteString(extra)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		return e
	}
}

// Files written before headers existed are still read, unchecked.
func TestReadHeaderlessFile(t *testing.T) {
	dir := t.TempDir()
	e := Entry{Seq: 7, Events: 2, Key: "old"}
	data := []byte("{\"a\":1}\n{\"b\":2}\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), data, 0o600))
	s, err := Open(Config{Dir: dir})
	require.NoError(t, err)
	got, ok := s.Oldest()
	require.True(t, ok)
	e.Size = int64(len(data))
	assert.Equal(t, e, got)
	b, err := s.Read(got)
	require.NoError(t, err)
	assert.Equal(t, data, b)
}

func TestOpenDirNotUsable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	tests := []struct {
		name string
		dir  func(t *testing.T) string
		want string
	}{
		{"under a regular file", func(*testing.T) string { return filepath.Join(file, "spool") }, "cannot be created"},
		{"a regular file", func(*testing.T) string { return file }, "cannot be created"},
		{"read-only directory", func(t *testing.T) string { return spooltest.ReadOnlyDir(t) }, "is not writable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir(t)
			_, err := Open(Config{Dir: dir})
			require.ErrorContains(t, err, tt.want)
			var de *DirError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, dir, de.Dir)
			assert.Contains(t, err.Error(), "spool: Config.Dir", "the error names the field")
			assert.Contains(t, err.Error(), dir, "and the path")
		})
	}
}

func TestOpenLeavesNoProbe(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(Config{Dir: dir})
	require.NoError(t, err)
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, des, "the writability probe is removed")
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte("rsspool1 20 460 0a1b2c3d\n{}"))
	f.Add([]byte("rsspool1 0 0 00000000\n"))
	f.Add([]byte("rsspool1 2147483647 281474976710656 ffffffff\n"))
	f.Add([]byte("rsspool1 2147483648 1 ffffffff\n"))
	f.Add([]byte("rsspool1 01 1 ffffffff\n"))
	f.Add([]byte("rsspool1 1 1 FFFFFFFF\n"))
	f.Add([]byte("rsspool1 1  1 ffffffff\n"))
	f.Add([]byte("rsspool1 1 1 ffffffff"))
	f.Add([]byte("{\"event\":1}\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := parseHeader(b)
		if !bytes.HasPrefix(b, []byte(headerMagic)) {
			if n != 0 || err != nil {
				t.Fatalf("no magic: n=%d err=%v", n, err)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) || n != 0 {
				t.Fatalf("n=%d err=%v", n, err)
			}
			return
		}
		if n > maxHeaderLen || n > len(b) || b[n-1] != '\n' {
			t.Fatalf("header length %d of %q", n, b)
		}
		if h.events < 0 || h.events > maxEvents || h.size < 0 || h.size > maxDataBytes {
			t.Fatalf("out of range: %+v", h)
		}
		if got := appendHeader(nil, h); !bytes.Equal(got, b[:n]) {
			t.Fatalf("%q does not round-trip: %q", b[:n], got)
		}
	})
}

// FuzzRead: whatever a batch file holds, Read either refuses it with
// ErrCorrupt or returns data that matches its header (or, without the
// magic, the file as is); it never panics.
func FuzzRead(f *testing.F) {
	data := []byte("{\"a\":1}\n{\"b\":2}\n")
	f.Add(append(appendHeader(nil, headerOf(2, data)), data...), uint16(2))
	f.Add(append(appendHeader(nil, headerOf(2, data)), data[:5]...), uint16(2))
	f.Add(data, uint16(2))
	f.Add([]byte("rsspool1 2 16"), uint16(2))
	dir := f.TempDir()
	s, err := Open(Config{Dir: dir})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, content []byte, events uint16) {
		e := Entry{Seq: 1, Events: int(events), Key: "fuzz"}
		path := filepath.Join(dir, e.Name())
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(path)
		got, err := s.Read(e)
		switch {
		case err != nil:
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
		case !strings.HasPrefix(string(content), headerMagic):
			if !bytes.Equal(got, content) {
				t.Fatal("headerless content altered")
			}
		default:
			h, n, _ := parseHeader(content)
			if h != headerOf(int(events), got) || !bytes.Equal(got, content[n:]) {
				t.Fatalf("accepted %q as %+v", content, h)
			}
		}
	})
}
