package schema_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/personalize/schema"
)

// FuzzUnmarshalEvent decodes arbitrary lines. UnmarshalEvent must never
// panic and must fail only with a *DecodeError; whatever it decodes must
// validate, re-encode with AppendJSON, decode again to the same event, and
// re-encode to the same bytes (the encoding is a fixed point after one
// round). Validation refuses what could not round-trip: durations past
// ~292 years, UTC years outside 0000..9999, key ids without their ids.
func FuzzUnmarshalEvent(f *testing.F) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, e := range personalizetest.RandomEvents(rng, 40) {
		b, err := schema.AppendJSON(nil, e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"schema_version":1,"type":"link","event_id":"0193a6f1-7c2e-7d4b-8a1f-0123456789ab","time":"2026-11-02T09:00:00+02:00","user_id":"u","session_id":"s"}`,
		`{"schema_version":1,"type":"outcome","event_id":"0193a6f17c2e7d4b8a1f0123456789ab","time":"2026-11-02T09:00:00.5Z","session_id":"s","kind":"signup","value":0}`,
		`{"schema_version":1,"type":"impression","event_id":"{0193a6f1-7c2e-7d4b-8a1f-0123456789ab}","time":"2026-11-02T09:00:01Z","start_time":"2026-11-02T09:00:00Z","request_id":"r","user_id":"u","items":[],"context":{"a":"1","a":"2"},"status":""}`,
		`{"schema_version":1,"type":"exposure","event_id":"0193a6f1-7c2e-7d4b-8a1f-0123456789ab","time":"2026-11-02T09:00:00Z","user_id":"u\u2028\ud800","experiment":"e","variant":"v","extra":[1,{}]}`,
		`{"schema_version":1,"type":"model","event_id":"0193a6f1-7c2e-7d4b-8a1f-0123456789ab","time":"2026-11-02T09:00:00Z","model":"m","model_version":"v","feature_hash":"00112233445566778899aabbccddeeff","consent_basis":"opt_in"}`,
		`{"schema_version":2}`, `{"schema_version":1,"type":"nope"}`, `[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		e1, err := schema.UnmarshalEvent(line)
		if err != nil {
			var de *schema.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error is %T, want *schema.DecodeError: %v", err, err)
			}
			return
		}
		if err := e1.Validate(); err != nil {
			t.Fatalf("decoded event does not validate: %v", err)
		}
		b1, err := schema.AppendJSON(nil, e1)
		if err != nil {
			t.Fatalf("AppendJSON of a decoded event: %v", err)
		}
		e2, err := schema.UnmarshalEvent(b1)
		if err != nil {
			t.Fatalf("re-encoded event does not decode: %v\ninput:      %q\nre-encoded: %s", err, line, b1)
		}
		b2, err := schema.AppendJSON(nil, e2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", b1, b2)
		}
		if d := diffEvents(e1, e2); d != "" {
			t.Fatalf("decode(encode(decode(x))) != decode(x): %s\ninput:      %q\nre-encoded: %s", d, line, b1)
		}
	})
}

// diffEvents compares two events field by field, times by instant (the
// encoding writes UTC; the input may carry any offset). It returns "" when
// they are the same event.
func diffEvents(a, b schema.Event) string {
	if a.Type != b.Type {
		return "type"
	}
	sameT := func(x, y time.Time) bool { return x.Equal(y) }
	switch {
	case a.Impression != nil:
		x, y := *a.Impression, *b.Impression
		if !sameT(x.Start, y.Start) || !sameT(x.End, y.End) {
			return "impression times"
		}
		x.Start, x.End, y.Start, y.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !equalImpression(&x, &y) {
			return "impression fields"
		}
	case a.Outcome != nil:
		x, y := *a.Outcome, *b.Outcome
		if !sameT(x.Time, y.Time) {
			return "outcome time"
		}
		x.Time, y.Time = time.Time{}, time.Time{}
		if x != y {
			return "outcome fields"
		}
	case a.Exposure != nil:
		x, y := *a.Exposure, *b.Exposure
		if !sameT(x.Time, y.Time) {
			return "exposure time"
		}
		x.Time, y.Time = time.Time{}, time.Time{}
		if x != y {
			return "exposure fields"
		}
	case a.Link != nil:
		x, y := *a.Link, *b.Link
		if !sameT(x.Time, y.Time) {
			return "link time"
		}
		x.Time, y.Time = time.Time{}, time.Time{}
		if x != y {
			return "link fields"
		}
	}
	return ""
}

func equalImpression(x, y *schema.Impression) bool {
	// Items may be nil after one decode and empty after the next: both
	// encode as "items":[]; compare contents.
	eq := func(n1, n2 int, f func(i int) bool) bool {
		if n1 != n2 {
			return false
		}
		for i := range n1 {
			if !f(i) {
				return false
			}
		}
		return true
	}
	return x.EventID == y.EventID && x.RequestID == y.RequestID && x.Service == y.Service &&
		x.Surface == y.Surface && x.Channel == y.Channel && x.UserID == y.UserID && x.SessionID == y.SessionID &&
		x.Model == y.Model && x.ModelVersion == y.ModelVersion && x.FeatureSet == y.FeatureSet &&
		x.Status == y.Status && x.ErrorType == y.ErrorType &&
		eq(len(x.Experiments), len(y.Experiments), func(i int) bool { return x.Experiments[i] == y.Experiments[i] }) &&
		eq(len(x.Flags), len(y.Flags), func(i int) bool { return x.Flags[i] == y.Flags[i] }) &&
		eq(len(x.Context), len(y.Context), func(i int) bool { return x.Context[i] == y.Context[i] }) &&
		eq(len(x.Items), len(y.Items), func(i int) bool {
			a, b := &x.Items[i], &y.Items[i]
			return a.ID == b.ID && a.Position == b.Position && a.Score == b.Score && a.Propensity == b.Propensity &&
				a.Category == b.Category && a.Provider == b.Provider &&
				eq(len(a.Explanation), len(b.Explanation), func(j int) bool { return a.Explanation[j] == b.Explanation[j] })
		}) &&
		eq(len(x.Stages), len(y.Stages), func(i int) bool { return x.Stages[i] == y.Stages[i] })
}
