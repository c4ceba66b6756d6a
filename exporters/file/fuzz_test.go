package file_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// FuzzReader reads arbitrary bytes as an event file, closed or still
// ".open", with a small maximum line length. The reader must not panic,
// and what it delivers, skips and reports as torn must match an oracle
// that splits the bytes on newlines and decodes each line on its own.
func FuzzReader(f *testing.F) {
	var good []byte
	for _, e := range personalizetest.RandomEvents(seeded(40), 5) {
		b, _ := personalize.AppendJSON(nil, e)
		good = append(append(good, b...), '\n')
	}
	f.Add(good, true, uint16(4000))
	f.Add(good[:len(good)-30], true, uint16(4000))
	f.Add(good[:len(good)-30], false, uint16(4000))
	f.Add(append(bytes.Clone(good), make([]byte, 600)...), true, uint16(4000))
	f.Add(append([]byte("\n  \n{}\n"), good...), false, uint16(300))
	f.Add([]byte("x\r\ny\n"), true, uint16(1))
	f.Add([]byte{}, true, uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, open bool, maxLine uint16) {
		dir := t.TempDir()
		name := "events-20261102T090000.000000000Z-000000.jsonl"
		if open {
			name += ".open"
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
		max := int(maxLine)%5000 + 1
		var got [][]byte
		cfg := file.ReadConfig{SkipMalformed: true, MaxLineBytes: max}
		st, err := cfg.ReadDir(dir, func(e personalize.Event) error {
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

		want, skipped, firstBad, tornAt := oracle(data, open, max)
		if len(got) != len(want) {
			t.Fatalf("delivered %d events, oracle %d", len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("event %d differs:\n%s\n%s", i, got[i], want[i])
			}
		}
		if st.Skipped != int64(skipped) {
			t.Fatalf("skipped %d, oracle %d", st.Skipped, skipped)
		}
		if st.Bytes != int64(len(data)) {
			t.Fatalf("read %d bytes of %d", st.Bytes, len(data))
		}
		switch {
		case tornAt < 0 && len(st.Torn) != 0:
			t.Fatalf("torn %v, oracle none", st.Torn[0])
		case tornAt >= 0 && len(st.Torn) != 1:
			t.Fatalf("%d torn lines, oracle 1 at %d", len(st.Torn), tornAt)
		case tornAt >= 0 && (st.Torn[0].Offset != int64(tornAt) || st.Torn[0].Offset+st.Torn[0].Len != int64(len(data))):
			t.Fatalf("torn at %d+%d, oracle %d to %d", st.Torn[0].Offset, st.Torn[0].Len, tornAt, len(data))
		}

		// Without SkipMalformed the first malformed line stops the read.
		_, err = file.ReadConfig{MaxLineBytes: max}.ReadDir(dir, func(personalize.Event) error { return nil })
		var le *file.LineError
		switch {
		case skipped == 0 && err != nil:
			t.Fatalf("strict read failed without malformed lines: %v", err)
		case skipped > 0 && !errors.As(err, &le):
			t.Fatalf("strict read returned %v, want a *LineError", err)
		case skipped > 0 && le.Line != firstBad:
			t.Fatalf("LineError at line %d, oracle %d", le.Line, firstBad)
		}
	})
}

// oracle computes what reading data should give: the encodings of the
// events, the number of skipped lines, the 1-based number of the first
// skipped line, and the offset of the torn line (-1 if none).
func oracle(data []byte, open bool, max int) (events [][]byte, skipped, firstBad, tornAt int) {
	tornAt = -1
	lines := bytes.Split(data, []byte{'\n'})
	off := 0
	for i, line := range lines {
		complete := i < len(lines)-1
		if !complete && len(line) == 0 {
			break
		}
		lastLine := !complete || (i == len(lines)-2 && len(lines[len(lines)-1]) == 0)
		start := off
		off += len(line) + 1
		if complete && len(line) <= max && len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if !complete && open {
			tornAt = start
			break
		}
		var ev personalize.Event
		var err error
		if len(line) > max {
			err = file.ErrLineTooLong
		} else {
			ev, err = personalize.UnmarshalEvent(line)
		}
		if err == nil {
			b, _ := personalize.AppendJSON(nil, ev)
			events = append(events, b)
			continue
		}
		if open && lastLine {
			tornAt = start
			break
		}
		skipped++
		if firstBad == 0 {
			firstBad = i + 1
		}
	}
	return events, skipped, firstBad, tornAt
}
