package schema_test

import (
	"testing"
	"time"

	"github.com/rankscope/rankscope/personalize/schema"
)

// FuzzModelMetadata builds model records from arbitrary strings: Validate
// never panics and names a field when it refuses; a record it accepts
// encodes to a line that both decoders (the hand-written one and the
// encoding/json oracle) read back to the same record.
func FuzzModelMetadata(f *testing.F) {
	f.Add("two-tower", "v1", "fs", schema.FeatureHash(map[string]string{"a": "b"}), "snap", "team", int64(0))
	f.Add("", "v1", "", "", "", "", int64(-1))
	f.Add("m", "v", "", "ABCDEF0123456789ABCDEF0123456789", "", "\xff", int64(1<<62))
	f.Add("m\"\\\n\u2028", "v\x00", "fs", "00112233445566778899aabbccddeeff", "s", "o", int64(1))
	f.Fuzz(func(t *testing.T, model, version, fs, hash, snap, owner string, ns int64) {
		id, _ := schema.ParseEventID(testEventID)
		m := &schema.ModelMetadata{EventID: id, Time: time.Unix(0, ns).UTC(), Model: model, Version: version,
			FeatureSet: fs, FeatureHash: hash, TrainingSnapshot: snap, Owner: owner}
		ev := schema.Event{Type: schema.EventModel, Model: m}
		if err := ev.Validate(); err != nil {
			checkFieldErr(t, err)
			return
		}
		line, err := schema.AppendJSON(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := agree(t, line)
		if err != nil {
			t.Fatalf("a valid model record does not decode: %v\n%s", err, line)
		}
		if *got.Model != *m {
			t.Fatalf("round trip changed the record:\n got %+v\nwant %+v", *got.Model, *m)
		}
	})
}
