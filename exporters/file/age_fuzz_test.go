package file_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// FuzzReadEncrypted reads an encrypted event file (".jsonl.age", closed or
// ".open") whose bytes are either arbitrary (raw) or a valid encrypted file
// of 300 events cut at cut and with the bit flip flipped (flip 0: none).
// The reader must not panic; with SkipMalformed it must not fail; every
// event it delivers must be valid and, for the valid file, be the original
// events in order; an intact valid file must be delivered whole.
func FuzzReadEncrypted(f *testing.F) {
	id := identity(f)
	dir := f.TempDir()
	exp, err := file.New(file.Config{Dir: dir, Recipients: []age.Recipient{id.Recipient()}})
	if err != nil {
		f.Fatal(err)
	}
	events := personalizetest.RandomEvents(seeded(31), 300)
	if err := exp.Export(context.Background(), events); err != nil {
		f.Fatal(err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		f.Fatal(err)
	}
	des, err := os.ReadDir(dir)
	if err != nil || len(des) != 1 {
		f.Fatal(err, len(des))
	}
	valid, err := os.ReadFile(filepath.Join(dir, des[0].Name()))
	if err != nil {
		f.Fatal(err)
	}
	var want [][]byte
	for _, e := range events {
		b, _ := personalize.AppendJSON(nil, e)
		want = append(want, b)
	}
	f.Add([]byte{}, false, true, uint32(len(valid)), uint32(0))
	f.Add([]byte{}, true, true, uint32(len(valid)/2), uint32(0))
	f.Add([]byte{}, true, true, uint32(len(valid)), uint32(8*300+3))
	f.Add(valid[:200], true, false, uint32(0), uint32(0))
	f.Add([]byte("age-encryption.org/v1\n-> X25519 AAAA\n--- \n"), false, false, uint32(0), uint32(0))
	f.Fuzz(func(t *testing.T, raw []byte, open, structured bool, cut, flip uint32) {
		data := raw
		if structured {
			data = bytes.Clone(valid[:int(cut)%(len(valid)+1)])
			if flip > 0 && len(data) > 0 {
				bit := int(flip-1) % (8 * len(data))
				data[bit/8] ^= 1 << (bit % 8)
			}
		}
		dir := t.TempDir()
		name := "events-20261102T090000.000000000Z-000000.jsonl.age"
		if open {
			name += file.OpenExt
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
		var got [][]byte
		st, err := file.ReadConfig{Identities: []age.Identity{id}, SkipMalformed: true}.ReadDir(dir, func(e personalize.Event) error {
			if err := e.Validate(); err != nil {
				t.Fatalf("delivered an invalid event: %v", err)
			}
			b, err := personalize.AppendJSON(nil, e)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, b)
			return nil
		})
		if err != nil {
			t.Fatalf("ReadDir with SkipMalformed: %v", err)
		}
		if int64(len(got)) != st.Events {
			t.Fatalf("delivered %d, stats say %d", len(got), st.Events)
		}
		if len(st.Torn) > 1 || (!open && len(st.Torn) > 0) {
			t.Fatalf("torn lines %v in a file named %s", st.Torn, name)
		}
		if !structured {
			return
		}
		if len(got) > len(want) {
			t.Fatalf("%d events from a file of %d", len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("event %d differs from the one written", i)
			}
		}
		if len(data) == len(valid) && flip == 0 && (len(got) != len(want) || len(st.Torn) != 0 || st.Skipped != 0) {
			t.Fatalf("intact file: %d of %d events, torn %v, skipped %d", len(got), len(want), st.Torn, st.Skipped)
		}
	})
}
