package webhook

import (
	"bytes"
	"testing"

	"github.com/rankscope/rankscope/personalize"
)

// FuzzValidateSpooled: the replay check accepts exactly the data made of n
// newline-terminated lines that each decode as an event (checked against
// a plain reference using personalize.UnmarshalEvent), and never panics.
func FuzzValidateSpooled(f *testing.F) {
	var lines []byte
	for _, e := range events(77, 3) {
		lines, _ = personalize.AppendJSON(lines, e)
		lines = append(lines, '\n')
	}
	f.Add(lines, 3)
	f.Add(lines, 2)
	f.Add(lines[:len(lines)-1], 3)
	f.Add(lines[:len(lines)/2], 3)
	f.Add(append(bytes.Clone(lines), '\n'), 3)
	f.Add([]byte("null\n"), 1)
	f.Add([]byte{}, 0)
	d := personalize.NewDecoder()
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		err := validateSpooled(d, data, n)
		want := referenceValid(data, n)
		if (err == nil) != want {
			t.Fatalf("validateSpooled(%q, %d) = %v, reference says valid=%v", data, n, err, want)
		}
	})
}

func referenceValid(data []byte, n int) bool {
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return false
	}
	if len(data) == 0 {
		return n == 0
	}
	lines := bytes.Split(data[:len(data)-1], []byte{'\n'})
	if len(lines) != n {
		return false
	}
	for _, l := range lines {
		if _, err := personalize.UnmarshalEvent(l); err != nil {
			return false
		}
	}
	return true
}
