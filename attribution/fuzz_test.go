package attribution

import (
	"bytes"
	"testing"

	"github.com/rankscope/rankscope/personalize"
)

// FuzzEngine feeds decoded JSON lines (the file format) to an engine: no
// input may panic it or break the credit invariants.
func FuzzEngine(f *testing.F) {
	var g gen
	evs := randomStream(11, 5, []string{"a", "b"})
	evs = append(evs, g.link(0, "u1", "s1"))
	var buf []byte
	for _, ev := range evs {
		buf, _ = personalize.AppendJSON(buf, ev)
		buf = append(buf, '\n')
	}
	f.Add(buf)
	f.Add([]byte(`{"schema_version":1,"type":"outcome","event_id":"0190a0b0-0000-7000-8000-000000000001","time":"2025-01-01T00:00:00Z","user_id":"u","kind":"purchase","value":5}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := New(Config{Lateness: 3600e9, Bootstrap: Bootstrap{Replicates: 3}})
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			ev, err := personalize.UnmarshalEvent(line)
			if err != nil {
				continue
			}
			_ = e.Add(ev)
		}
		e.Close()
		rep := e.Report()
		for _, m := range rep.Models {
			var sum float64
			for _, c := range m.Channels {
				sum += c.Conversions
			}
			if d := sum - m.Attributed.Conversions; d > 1e-6 || d < -1e-6 {
				t.Fatalf("%s: channels sum %v != attributed %v", m.Model, sum, m.Attributed.Conversions)
			}
		}
	})
}
