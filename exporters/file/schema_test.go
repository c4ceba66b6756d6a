package file_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/internal/jsonschema"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func loadSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	out := map[string]*jsonschema.Schema{}
	for _, typ := range []string{"impression", "outcome", "exposure", "link", "model"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", "schema", typ+".schema.json"))
		require.NoError(t, err)
		s, err := jsonschema.Compile(b)
		require.NoError(t, err, typ)
		out[typ] = s
	}
	return out
}

// edgeEvents are valid events at the edges of the schema: only required
// fields, every outcome kind, degraded stages, an empty ranking, extreme
// numbers.
func edgeEvents() []personalize.Event {
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	id := func(b byte) personalize.EventID {
		var e personalize.EventID
		e[0], e[6], e[8] = b, 0x70, 0x80
		return e
	}
	user := personalize.Pseudonym{ID: "4f1c"}
	out := []personalize.Event{
		{Type: personalize.EventImpression, Impression: &personalize.Impression{EventID: id(1), RequestID: "r1",
			Start: t0, End: t0, UserID: user}},
		{Type: personalize.EventImpression, Impression: &personalize.Impression{EventID: id(2), RequestID: "r2",
			Start: t0, End: t0.Add(time.Second), SessionID: user, Status: personalize.StageFallback,
			Flags:   []personalize.Flag{{Key: "f"}},
			Context: []personalize.Attr{{Key: "device", Value: ""}, {Key: "région", Value: "île\n\"x\"\u2028"}},
			Items: []personalize.Item{{ID: "a", Position: 1 << 40, Score: -1e308, Propensity: 1},
				{ID: "b", Position: 1, Score: 5e-324, Propensity: 5e-324}},
			Stages: []personalize.StageTiming{{Name: "s", Duration: 0, Status: personalize.StageTimeout},
				{Name: "t", Offset: 1<<63 - 1, Duration: 1<<63 - 1, Status: personalize.StageError, Detail: "x"}}}},
	}
	for k := personalize.OutcomeClick; k <= personalize.OutcomeCustom; k++ {
		o := &personalize.Outcome{EventID: id(byte(10 + k)), Time: t0, Kind: k, SessionID: user}
		if !k.IsConversion() {
			o.RequestID, o.Item = "r1", "a"
		}
		if k == personalize.OutcomeCustom {
			o.Name = "n"
		}
		if k == personalize.OutcomeScroll {
			o.ScrollDepth = 1
		}
		out = append(out, personalize.Event{Type: personalize.EventOutcome, Outcome: o})
	}
	out = append(out,
		personalize.Event{Type: personalize.EventExposure, Exposure: &personalize.Exposure{EventID: id(30), Time: t0,
			UserID: user, Experiment: "e", Variant: "v"}},
		personalize.Event{Type: personalize.EventLink, Link: &personalize.Link{EventID: id(31), Time: t0,
			UserID: user, SessionID: personalize.Pseudonym{ID: "s", KeyID: "k"}}},
		personalize.Event{Type: personalize.EventModel, Model: &personalize.ModelMetadata{EventID: id(32), Time: t0,
			Model: "m", Version: "1", FeatureHash: strings.Repeat("0f", 16)}},
		personalize.Event{Type: personalize.EventModel, Model: &personalize.ModelMetadata{EventID: id(33), Time: t0,
			Service: "s", Model: strings.Repeat("é", 128), Version: "v\n\"2\"", FeatureSet: "fs",
			FeatureHash: strings.Repeat("9a", 64), TrainingSnapshot: "snap", Owner: "team"}})
	return out
}

// exportedLines runs events through the file exporter and returns every
// line it wrote, in order.
func exportedLines(t *testing.T, events []personalize.Event) [][]byte {
	t.Helper()
	dir := t.TempDir()
	exp, err := file.New(file.Config{Dir: dir, MaxBytes: 256 << 10})
	require.NoError(t, err)
	require.NoError(t, exp.Export(context.Background(), events))
	require.NoError(t, exp.Shutdown(context.Background()))
	var lines [][]byte
	for _, n := range names(t, dir) {
		f, err := os.Open(filepath.Join(dir, n))
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
		require.NoError(t, sc.Err())
		f.Close()
	}
	return lines
}

func typeOf(t *testing.T, line []byte) string {
	t.Helper()
	var h struct{ Type string }
	require.NoError(t, json.Unmarshal(line, &h))
	return h.Type
}

// TestSchemaValidatesOutput checks the real output of the file exporter
// for thousands of random events and the edge events against
// docs/schema/*.schema.json.
func TestSchemaValidatesOutput(t *testing.T) {
	schemas := loadSchemas(t)
	events := append(personalizetest.RandomEvents(seeded(30), 4000), edgeEvents()...)
	for i, e := range edgeEvents() {
		require.NoError(t, e.Validate(), "edge event %d", i)
	}
	lines := exportedLines(t, events)
	require.Len(t, lines, len(events))
	seen := map[string]int{}
	for i, line := range lines {
		typ := typeOf(t, line)
		seen[typ]++
		require.NoError(t, schemas[typ].Validate(line), "line %d: %s", i+1, line)
	}
	assert.Len(t, seen, 5, "every type, the model record from edgeEvents")
}

// TestSchemaRejectsBrokenEvents mutates valid output lines and requires
// the schema to reject each variant; where the reader
// (personalize.UnmarshalEvent) rejects the variant too, that is checked.
func TestSchemaRejectsBrokenEvents(t *testing.T) {
	schemas := loadSchemas(t)
	var imp, click, custom, link []byte
	for _, line := range exportedLines(t, personalizetest.RandomEvents(seeded(31), 400)) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m))
		switch {
		case m["type"] == "impression" && m["stages"] != nil && m["experiments"] != nil && imp == nil:
			imp = line
		case m["kind"] == "click" && click == nil:
			click = line
		case m["kind"] == "custom" && custom == nil:
			custom = line
		case m["type"] == "link" && link == nil:
			link = line
		}
	}
	require.NotNil(t, imp)
	require.NotNil(t, click)
	require.NotNil(t, custom)
	require.NotNil(t, link)

	type mut = func(m map[string]any)
	item0 := func(m map[string]any) map[string]any { return m["items"].([]any)[0].(map[string]any) }
	stage0 := func(m map[string]any) map[string]any { return m["stages"].([]any)[0].(map[string]any) }
	for _, tc := range []struct {
		name         string
		line         []byte
		mutate       mut
		readerAgrees bool // UnmarshalEvent rejects it as well
	}{
		{"missing event_id", imp, func(m map[string]any) { delete(m, "event_id") }, true},
		{"missing request_id", imp, func(m map[string]any) { delete(m, "request_id") }, true},
		{"missing start_time", imp, func(m map[string]any) { delete(m, "start_time") }, true},
		{"missing items", imp, func(m map[string]any) { delete(m, "items") }, false},
		{"no user or session", imp, func(m map[string]any) {
			delete(m, "user_id")
			delete(m, "user_key_id")
			delete(m, "session_id")
			delete(m, "session_key_id")
		}, true},
		{"key id without pseudonym", imp, func(m map[string]any) { delete(m, "user_id") }, false},
		{"schema_version 2", imp, func(m map[string]any) { m["schema_version"] = 2 }, true},
		{"schema_version as string", imp, func(m map[string]any) { m["schema_version"] = "1" }, true},
		{"wrong type", imp, func(m map[string]any) { m["type"] = "outcome" }, false},
		{"event_id not a uuid", imp, func(m map[string]any) { m["event_id"] = "42" }, true},
		{"time not RFC 3339", imp, func(m map[string]any) { m["time"] = "2026-11-02 09:00:00" }, true},
		{"position 0", imp, func(m map[string]any) { item0(m)["position"] = 0 }, true},
		{"position negative", imp, func(m map[string]any) { item0(m)["position"] = -3 }, true},
		{"position fractional", imp, func(m map[string]any) { item0(m)["position"] = 1.5 }, true},
		{"position missing", imp, func(m map[string]any) { delete(item0(m), "position") }, true},
		{"score null (NaN written)", imp, func(m map[string]any) { item0(m)["score"] = nil }, true},
		{"score string", imp, func(m map[string]any) { item0(m)["score"] = "NaN" }, true},
		{"propensity 0", imp, func(m map[string]any) { item0(m)["propensity"] = 0 }, false},
		{"propensity above 1", imp, func(m map[string]any) { item0(m)["propensity"] = 1.01 }, true},
		{"propensity negative", imp, func(m map[string]any) { item0(m)["propensity"] = -0.2 }, true},
		{"item id empty", imp, func(m map[string]any) { item0(m)["id"] = "" }, true},
		{"item field misspelt", imp, func(m map[string]any) { item0(m)["postion"] = 1 }, false},
		{"negative stage duration", imp, func(m map[string]any) { stage0(m)["duration_ns"] = -1 }, true},
		{"negative stage offset", imp, func(m map[string]any) { stage0(m)["offset_ns"] = -5 }, true},
		{"stage duration fractional", imp, func(m map[string]any) { stage0(m)["duration_ns"] = 1.5 }, true},
		{"unknown stage status", imp, func(m map[string]any) { stage0(m)["status"] = "slow" }, true},
		{"unknown status", imp, func(m map[string]any) { m["status"] = "degraded" }, true},
		{"negative duration", imp, func(m map[string]any) { m["duration_ns"] = -1 }, true},
		{"experiment without variant", imp, func(m map[string]any) {
			delete(m["experiments"].([]any)[0].(map[string]any), "variant")
		}, true},
		{"degraded false", imp, func(m map[string]any) { m["degraded"] = false }, false},
		{"unknown top-level field", imp, func(m map[string]any) { m["raw_user"] = "user-000123" }, false},
		{"context value not a string", imp, func(m map[string]any) { m["context"] = map[string]any{"device": 1} }, true},
		{"unknown kind", click, func(m map[string]any) { m["kind"] = "like" }, true},
		{"click without request_id", click, func(m map[string]any) { delete(m, "request_id") }, true},
		{"click without item", click, func(m map[string]any) { delete(m, "item") }, true},
		{"negative value", click, func(m map[string]any) { m["value"] = -1 }, true},
		{"negative dwell", click, func(m map[string]any) { m["dwell_ns"] = -1 }, true},
		{"scroll depth above 1", click, func(m map[string]any) { m["scroll_depth"] = 1.5 }, true},
		{"currency of 4 letters", click, func(m map[string]any) { m["currency"] = "EURO" }, true},
		{"custom without name", custom, func(m map[string]any) { delete(m, "name") }, true},
		{"link without session", link, func(m map[string]any) {
			delete(m, "session_id")
			delete(m, "session_key_id")
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			require.NoError(t, json.Unmarshal(tc.line, &m))
			require.NoError(t, schemas[m["type"].(string)].Validate(tc.line), "the original is valid")
			tc.mutate(m)
			broken, err := json.Marshal(m)
			require.NoError(t, err)
			typ := typeOf(t, tc.line)
			err = schemas[typ].Validate(broken)
			require.Error(t, err, "schema accepted %s", broken)
			_, rerr := personalize.UnmarshalEvent(broken)
			if tc.readerAgrees {
				assert.Error(t, rerr, "the reader accepted it")
			}
		})
	}
}

// TestSchemaDocExamples checks that the example lines in docs/SCHEMA.md
// validate against the schema files and decode.
func TestSchemaDocExamples(t *testing.T) {
	schemas := loadSchemas(t)
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "SCHEMA.md"))
	require.NoError(t, err)
	var lines [][]byte
	for rest := doc; ; { // every json block
		_, after, ok := bytes.Cut(rest, []byte("```json\n"))
		if !ok {
			break
		}
		block, tail, ok := bytes.Cut(after, []byte("```"))
		require.True(t, ok)
		lines = append(lines, bytes.Split(bytes.TrimSpace(block), []byte{'\n'})...)
		rest = tail
	}
	require.GreaterOrEqual(t, len(lines), 3, "the example block and the model record's")
	for i, line := range lines {
		require.NoError(t, schemas[typeOf(t, line)].Validate(line), "example %d", i+1)
		e, err := personalize.UnmarshalEvent(line)
		require.NoError(t, err, "example %d", i+1)
		b, err := personalize.AppendJSON(nil, e)
		require.NoError(t, err)
		assert.Equal(t, string(line), string(b), "example %d is exactly what the writer writes", i+1)
	}
}

// TestModelSchemaRejectsBrokenRecords: docs/schema/model.schema.json and
// the reader refuse the same broken model records.
func TestModelSchemaRejectsBrokenRecords(t *testing.T) {
	s := loadSchemas(t)["model"]
	head := `{"schema_version":1,"type":"model","event_id":"0193a6f1-7c2e-7d4b-8a1f-0123456789ab","time":"2026-11-02T09:00:00Z"`
	hash := `,"feature_hash":"` + strings.Repeat("ab", 32) + `"`
	good := head + `,"model":"m","model_version":"v"` + hash + `}`
	require.NoError(t, s.Validate([]byte(good)))
	_, err := personalize.UnmarshalEvent([]byte(good))
	require.NoError(t, err)
	for _, bad := range []string{
		head + `,"model_version":"v"` + hash + `}`,
		head + `,"model":"m"` + hash + `}`,
		head + `,"model":"m","model_version":"v"}`,
		head + `,"model":"m","model_version":"v","feature_hash":"` + strings.Repeat("AB", 32) + `"}`,
		head + `,"model":"m","model_version":"v","feature_hash":"abc"}`,
		head + `,"model":"` + strings.Repeat("m", 257) + `","model_version":"v"` + hash + `}`,
	} {
		assert.Error(t, s.Validate([]byte(bad)), bad)
		_, err := personalize.UnmarshalEvent([]byte(bad))
		assert.Error(t, err, bad)
	}
	assert.Error(t, s.Validate([]byte(head+`,"model":"m","model_version":"v"`+hash+`,"user_id":"u"}`)), "no personal fields")
}
