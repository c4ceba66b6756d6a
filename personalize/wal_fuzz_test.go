package personalize

import (
	"bytes"
	"testing"
	"time"
)

// walSeedLines are JSON lines of the four event types, as the WAL holds
// them.
func walSeedLines(t testing.TB) [][]byte {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	user := Pseudonym{ID: "0123456789abcdef0123456789abcdef", KeyID: "k1"}
	evs := []Event{
		{Type: EventImpression, Impression: &Impression{EventID: NewEventID(), RequestID: "r1", Start: at, End: at.Add(time.Millisecond),
			Service: "s", Surface: "home", UserID: user, Items: []Item{{ID: "a", Position: 1, Score: 0.5, Propensity: 0.25}},
			Stages: []StageTiming{{Name: "model_scoring", Duration: time.Microsecond}}}},
		{Type: EventOutcome, Outcome: &Outcome{EventID: NewEventID(), RequestID: "r1", Item: "a", Kind: OutcomeClick, Time: at, UserID: user, Service: "s"}},
		{Type: EventExposure, Exposure: &Exposure{EventID: NewEventID(), Experiment: "e", Variant: "v", Time: at, UserID: user, Service: "s"}},
		{Type: EventLink, Link: &Link{EventID: NewEventID(), Time: at, UserID: user, SessionID: user, Service: "s"}},
	}
	var out [][]byte
	for _, e := range evs {
		b, err := AppendJSON(nil, e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := UnmarshalEvent(b); err != nil {
			t.Fatalf("seed %s does not decode: %v", b, err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzWALSegment feeds arbitrary segment contents to the replay's scanner:
// it never panics, every complete line is either an event or counted as
// malformed, a missing final newline counts one torn line, and every event
// it yields encodes and decodes again.
func FuzzWALSegment(f *testing.F) {
	lines := walSeedLines(f)
	all := bytes.Join(lines, []byte("\n"))
	f.Add(append(append([]byte(nil), all...), '\n'))
	f.Add(all) // torn: no final newline
	f.Add(append(append([]byte(nil), lines[0][:len(lines[0])/2]...), "\n"+string(lines[1])+"\n"...))
	f.Add([]byte("\n\n"))
	f.Add([]byte{})
	f.Add([]byte("{}\nnot json\n\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var events []Event
		malformed, torn, firstErr := scanSegment(data, func(e Event) bool {
			events = append(events, e)
			return true
		})
		complete := bytes.Count(data, []byte("\n"))
		if len(events)+malformed != complete {
			t.Fatalf("%d events + %d malformed != %d complete lines", len(events), malformed, complete)
		}
		wantTorn := 0
		if len(data) > 0 && data[len(data)-1] != '\n' {
			wantTorn = 1
		}
		if torn != wantTorn {
			t.Fatalf("torn = %d, want %d", torn, wantTorn)
		}
		if (malformed+torn > 0) != (firstErr != nil) {
			t.Fatalf("malformed %d, torn %d, first error %v", malformed, torn, firstErr)
		}
		for _, e := range events {
			b, err := AppendJSON(nil, e)
			if err != nil {
				t.Fatalf("a replayed event does not encode: %v", err)
			}
			if _, err := UnmarshalEvent(b); err != nil {
				t.Fatalf("a replayed event does not decode again: %v\n%s", err, b)
			}
		}
		// Stopping early yields no more.
		if len(events) > 1 {
			n := 0
			scanSegment(data, func(Event) bool { n++; return false })
			if n != 1 {
				t.Fatalf("yield returned false, scanner went on to %d events", n)
			}
		}
	})
}

// FuzzWALSegmentName checks that only the names segmentName makes parse,
// and parse back to their sequence number.
func FuzzWALSegmentName(f *testing.F) {
	f.Add("wal-00000000000000000001.jsonl")
	f.Add("wal-18446744073709551615.jsonl")
	f.Add("wal-18446744073709551616.jsonl")
	f.Add("wal-00000000000000000000.jsonl")
	f.Add("wal-0000000000000000001.jsonl")
	f.Add("wal-+0000000000000000001.jsonl")
	f.Add("LOCK")
	f.Add(".probe-123")
	f.Fuzz(func(t *testing.T, name string) {
		seq, ok := parseSegmentName(name)
		if !ok {
			return
		}
		if seq == 0 {
			t.Fatalf("%q parsed as segment 0", name)
		}
		if got := segmentName(seq); got != name {
			t.Fatalf("%q parsed as %d, which is named %q", name, seq, got)
		}
	})
}
