package schema_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/personalize/schema"
)

// checkProjection requires the projected fields of line to equal what the
// full decoder reads from it (the decoder is the oracle).
func checkProjection(t *testing.T, f *schema.Fields, e schema.Event) {
	t.Helper()
	require.Equal(t, e.Type.String(), string(f.Type))
	require.EqualValues(t, schema.SchemaVersion, f.Version)
	at, err := time.Parse(time.RFC3339Nano, string(f.Time))
	require.NoError(t, err)
	require.True(t, e.Time().Equal(at), "time %s", f.Time)
	switch {
	case e.Outcome != nil:
		o := e.Outcome
		require.Equal(t, o.UserID.ID, string(f.UserID))
		require.Equal(t, o.RequestID, string(f.RequestID))
		require.Equal(t, o.Item, string(f.Item))
		require.Equal(t, o.Kind.String(), string(f.Kind))
		require.Equal(t, o.Name, string(f.Name))
		require.Equal(t, o.Value, f.Value)
		require.Equal(t, int64(o.Dwell), f.DwellNS)
		require.Equal(t, o.ScrollDepth, f.ScrollDepth)
	case e.Exposure != nil:
		require.Equal(t, e.Exposure.UserID.ID, string(f.UserID))
		require.Equal(t, e.Exposure.Experiment, string(f.Experiment))
		require.Equal(t, e.Exposure.Variant, string(f.Variant))
	case e.Impression != nil:
		im := e.Impression
		require.Equal(t, im.UserID.ID, string(f.UserID))
		require.Equal(t, im.RequestID, string(f.RequestID))
		require.Len(t, f.Experiments, len(im.Experiments))
		for i, a := range im.Experiments {
			require.Equal(t, a.Experiment, string(f.Experiments[i][0]))
			require.Equal(t, a.Variant, string(f.Experiments[i][1]))
		}
	case e.Link != nil:
		require.Equal(t, e.Link.UserID.ID, string(f.UserID))
	}
}

// TestProjectMatchesDecoder: every line AppendJSON writes for random events
// of every type is projected, and the projection agrees with the decoder.
func TestProjectMatchesDecoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var f schema.Fields
	for _, e := range personalizetest.RandomEvents(rng, 3000) {
		line, err := schema.AppendJSON(nil, e)
		require.NoError(t, err)
		require.True(t, schema.Project(line, &f), "%s", line)
		back, err := schema.UnmarshalEvent(line)
		require.NoError(t, err)
		checkProjection(t, &f, back)
	}
}

// TestProjectRefusesWhatItDoesNotRead: escapes in projected strings and
// other shapes go to the decoder.
func TestProjectRefusesWhatItDoesNotRead(t *testing.T) {
	var f schema.Fields
	for _, line := range []string{
		`{"schema_version":1,"type":"outcome","kind":"click","user_id":"a\"b"}`,
		`{"schema_version":1,"type":"outcome","item":"\u0041"}`,
		`{}`,
		`{"a":[[[[`,
		`[1,2]`,
		`{"schema_version":1,"type":"outcome"} x`,
		`{"schema_version":1,"type":"outcome","USER_ID":"u"}`,
		`{"schema_version":1,"type":"impression","experiments":[],"experiments":[]}`,
	} {
		require.False(t, schema.Project([]byte(line), &f), "%s", line)
	}
}

func FuzzProject(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, e := range personalizetest.RandomEvents(rng, 12) {
		b, _ := schema.AppendJSON(nil, e)
		f.Add(b)
	}
	f.Add([]byte(`{"schema_version":1,"type":"outcome","kind":"click","user_id":"a\"b"}`))
	f.Add([]byte(`{"schema_version":1,"type":"impression","experiments":[{"experiment":"e","variant":"v"}],"x":{"a":[1,2,{"b":null}]}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"a":[[[[`))
	f.Add([]byte("{\"schema_version\":1,\"type\":\"outcome\",\"kind\":\"click\",\"service\":\"\x80\"}")) // invalid UTF-8: the decoder yields U+FFFD
	f.Add([]byte("{\"schema_version\":1,\"type\":\"outcome\",\"kind\":\"click\",\"service\":\"\x01\"}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p schema.Fields
		ok := schema.Project(b, &p)
		e, err := schema.UnmarshalEvent(b)
		if !ok || err != nil {
			return
		}
		// Both accept the line: the projection must match the decode.
		checkProjection(t, &p, e)
	})
}
