package audit_test

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/rankscope/rankscope/privacy/audit"
)

// FuzzVerify verifies arbitrary bytes as a log, with and without a key.
// It must not panic, must report at most the records it read, and a log
// that verifies must still verify when read again (Verify is a pure
// function of its input).
func FuzzVerify(f *testing.F) {
	dir := f.TempDir()
	l, err := audit.Open(audit.Config{Path: filepath.Join(dir, "a"), Key: key,
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC) }})
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range []string{"/a", "/b", "/c"} {
		if err := l.Append("ana", "read", r); err != nil {
			f.Fatal(err)
		}
	}
	l.Close()
	good := readFile(f, filepath.Join(dir, "a"))
	f.Add(good, true)
	f.Add(good[:len(good)-5], true)
	f.Add([]byte(`{"seq":1}`+"\n"), false)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, data []byte, keyed bool) {
		var k []byte
		if keyed {
			k = key
		}
		res, err := audit.Verify(bytes.NewReader(data), k, nil)
		if res.Records > bytes.Count(data, []byte{'\n'}) {
			t.Fatalf("%d records from %d lines", res.Records, bytes.Count(data, []byte{'\n'}))
		}
		if err == nil {
			res2, err2 := audit.Verify(bytes.NewReader(data), k, &res.Last)
			if err2 != nil || res2 != res {
				t.Fatalf("verified once, then %v %v", res2, err2)
			}
		}
	})
}
