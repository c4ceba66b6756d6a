package otlp

import (
	"math"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func TestSemanticConventionNames(t *testing.T) {
	for key, want := range map[string]attribute.Key{
		KeyEventID:     semconv.LogRecordUIDKey,
		KeyUserID:      semconv.EnduserPseudoIDKey,
		KeySessionID:   semconv.SessionIDKey,
		KeyErrorType:   semconv.ErrorTypeKey,
		KeyFlagKey:     semconv.FeatureFlagKeyKey,
		KeyFlagVariant: semconv.FeatureFlagResultVariantKey,
	} {
		assert.Equal(t, string(want), key)
	}
}

func attrMap(kvs []attribute.KeyValue) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

func TestMappingImpression(t *testing.T) {
	end := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	id, err := personalize.ParseEventID("0190c0de-0000-7000-8000-000000000001")
	require.NoError(t, err)
	im := &personalize.Impression{EventID: id, RequestID: "r1", Start: end.Add(-42 * time.Millisecond), End: end,
		Service: "feed", Surface: "home", Channel: "app", UserID: personalize.Pseudonym{ID: "u-h", KeyID: "k1"},
		SessionID: personalize.Pseudonym{ID: "s-h"}, Model: "ltr", ModelVersion: "7", FeatureSet: "fs3",
		Experiments: []personalize.Assignment{{Experiment: "exp1", Variant: "b"}},
		Flags:       []personalize.Flag{{Key: "new_ui", Variant: "on"}, {Key: "dark", Variant: "off"}},
		Context:     []personalize.Attr{{Key: "region", Value: "eu"}, {Key: "device", Value: "ios"}},
		Items: []personalize.Item{{ID: "c", Position: 1, Score: 0.9, Propensity: 0.5, Category: "news"},
			{ID: "a", Position: 2, Score: 0.7}, {ID: "b", Position: 3, Score: -1.5, Propensity: 1}},
		Stages: []personalize.StageTiming{{Name: "retrieval", Duration: 10 * time.Millisecond},
			{Name: "model_scoring", Offset: 10 * time.Millisecond, Duration: 30 * time.Millisecond, Status: personalize.StageFallback, Detail: "cache"}},
		Status: personalize.StageOK}
	ev := personalize.Event{Type: personalize.EventImpression, Impression: im}
	kvs, err := AppendAttributes(nil, ev)
	require.NoError(t, err)
	m := attrMap(kvs)
	assert.Len(t, m, len(kvs), "no duplicate keys")
	want := map[string]any{
		"log.record.uid":                "0190c0de-0000-7000-8000-000000000001",
		"rankscope.schema_version":      int64(1),
		"rankscope.service":             "feed",
		"rankscope.request_id":          "r1",
		"rankscope.duration_ns":         int64(42 * time.Millisecond),
		"rankscope.surface":             "home",
		"rankscope.channel":             "app",
		"enduser.pseudo.id":             "u-h",
		"rankscope.user.key_id":         "k1",
		"session.id":                    "s-h",
		"rankscope.model":               "ltr",
		"rankscope.model.version":       "7",
		"rankscope.feature_set":         "fs3",
		"rankscope.experiments.name":    []string{"exp1"},
		"rankscope.experiments.variant": []string{"b"},
		"rankscope.flags.key":           []string{"new_ui", "dark"},
		"rankscope.flags.variant":       []string{"on", "off"},
		"rankscope.context.region":      "eu",
		"rankscope.context.device":      "ios",
		"rankscope.items.id":            []string{"c", "a", "b"},
		"rankscope.items.position":      []int64{1, 2, 3},
		"rankscope.items.score":         []float64{0.9, 0.7, -1.5},
		"rankscope.items.propensity":    []float64{0.5, 0, 1},
		"rankscope.items.category":      []string{"news", "", ""},
		"rankscope.stages.name":         []string{"retrieval", "model_scoring"},
		"rankscope.stages.offset_ns":    []int64{0, int64(10 * time.Millisecond)},
		"rankscope.stages.duration_ns":  []int64{int64(10 * time.Millisecond), int64(30 * time.Millisecond)},
		"rankscope.stages.status":       []string{"ok", "fallback"},
		"rankscope.stages.detail":       []string{"", "cache"},
		"rankscope.status":              "ok",
		"rankscope.degraded":            true,
	}
	got := map[string]any{}
	for k, v := range m {
		got[k] = v.AsInterface()
	}
	assert.Equal(t, want, got)
	assert.NotContains(t, m, "rankscope.items.provider", "all-empty optional arrays are omitted")

	back, err := Decode(EventNameImpression, end, kvs)
	require.NoError(t, err)
	assert.Equal(t, encodeAll([]personalize.Event{ev}), encodeAll([]personalize.Event{back}))
}

func TestMappingOtherTypes(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	id := personalize.NewEventID()
	tests := []struct {
		name string
		ev   personalize.Event
		want map[string]any
	}{
		{"outcome", personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{EventID: id, Time: at,
			RequestID: "r", UserID: personalize.Pseudonym{ID: "u"}, Item: "i", Kind: personalize.OutcomePurchase,
			Value: 12.5, Currency: "EUR", Dwell: time.Second, ScrollDepth: 0.5, Channel: "web", Surface: "home", Service: "feed"}},
			map[string]any{"rankscope.request_id": "r", "enduser.pseudo.id": "u", "rankscope.item": "i",
				"rankscope.outcome.kind": "purchase", "rankscope.outcome.value": 12.5, "rankscope.outcome.currency": "EUR",
				"rankscope.outcome.dwell_ns": int64(time.Second), "rankscope.outcome.scroll_depth": 0.5,
				"rankscope.channel": "web", "rankscope.surface": "home", "rankscope.service": "feed"}},
		{"exposure", personalize.Event{Type: personalize.EventExposure, Exposure: &personalize.Exposure{EventID: id, Time: at,
			UserID: personalize.Pseudonym{ID: "u", KeyID: "k"}, Experiment: "ranker", Variant: "b"}},
			map[string]any{"enduser.pseudo.id": "u", "rankscope.user.key_id": "k", "feature_flag.key": "ranker",
				"feature_flag.result.variant": "b"}},
		{"link", personalize.Event{Type: personalize.EventLink, Link: &personalize.Link{EventID: id, Time: at,
			UserID: personalize.Pseudonym{ID: "u"}, SessionID: personalize.Pseudonym{ID: "s"}}},
			map[string]any{"enduser.pseudo.id": "u", "session.id": "s"}},
		{"model", personalize.Event{Type: personalize.EventModel, Model: &personalize.ModelMetadata{EventID: id, Time: at,
			Service: "feed", Model: "ltr", Version: "7", FeatureSet: "fs3", FeatureHash: "00112233445566778899aabbccddeeff",
			TrainingSnapshot: "snap-9", Owner: "ranking"}},
			map[string]any{"rankscope.service": "feed", "rankscope.model": "ltr", "rankscope.model.version": "7",
				"rankscope.feature_set": "fs3", "rankscope.feature_hash": "00112233445566778899aabbccddeeff",
				"rankscope.training_snapshot": "snap-9", "rankscope.model.owner": "ranking"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kvs, err := AppendAttributes(nil, tt.ev)
			require.NoError(t, err)
			got := map[string]any{}
			for k, v := range attrMap(kvs) {
				got[k] = v.AsInterface()
			}
			tt.want["log.record.uid"] = id.String()
			tt.want["rankscope.schema_version"] = int64(1)
			assert.Equal(t, tt.want, got)
			back, err := Decode(EventName(tt.ev.Type), at, kvs)
			require.NoError(t, err)
			assert.Equal(t, encodeAll([]personalize.Event{tt.ev}), encodeAll([]personalize.Event{back}))
		})
	}
	_, err := AppendAttributes(nil, personalize.Event{})
	require.Error(t, err)
}

// TestRoundTripRandom maps and decodes many random events of every type.
func TestRoundTripRandom(t *testing.T) {
	for _, ev := range events(12, 2000) {
		kvs, err := AppendAttributes(nil, ev)
		require.NoError(t, err)
		tid, sid := traceContext(ev) // travels in the record, not in attributes
		back, err := DecodeRecord(Record{EventName: EventName(ev.Type), Time: ev.Time(), TraceID: tid, SpanID: sid, Attributes: kvs})
		require.NoError(t, err)
		require.Equal(t, encodeAll([]personalize.Event{ev}), encodeAll([]personalize.Event{back}))
	}
}

func TestDecodeErrors(t *testing.T) {
	ev := personalize.Event{Type: personalize.EventImpression, Impression: personalizetest.RandomImpression(newRand(3), 4)}
	base, err := AppendAttributes(nil, ev)
	require.NoError(t, err)
	with := func(key string, v attribute.Value) []attribute.KeyValue {
		out := make([]attribute.KeyValue, 0, len(base)+1)
		for _, kv := range base {
			if string(kv.Key) != key {
				out = append(out, kv)
			}
		}
		if v.Type() != attribute.EMPTY {
			out = append(out, attribute.KeyValue{Key: attribute.Key(key), Value: v})
		}
		return out
	}
	tests := []struct {
		name, event, key string
		v                attribute.Value
		want             string
	}{
		{"unknown name", "rankscope.other", "", attribute.Value{}, "unknown event name"},
		{"bad id", EventNameImpression, KeyEventID, attribute.StringValue("nope"), "log.record.uid"},
		{"no id", EventNameImpression, KeyEventID, attribute.Value{}, "log.record.uid"},
		{"future schema", EventNameImpression, KeySchemaVersion, attribute.Int64Value(99), "rankscope.schema_version"},
		{"wrong type", EventNameImpression, KeySurface, attribute.Int64Value(3), "rankscope.surface: want string"},
		{"short positions", EventNameImpression, KeyItemPositions, attribute.Int64SliceValue([]int64{1}), "rankscope.items.position"},
		{"short scores", EventNameImpression, KeyItemScores, attribute.Float64SliceValue([]float64{1}), "rankscope.items.score"},
		{"no items", EventNameImpression, KeyItemIDs, attribute.Value{}, "rankscope.items.id"},
		{"bad status", EventNameImpression, KeyStatus, attribute.StringValue("meh"), "rankscope.status"},
		{"no duration", EventNameImpression, KeyDurationNS, attribute.Value{}, "rankscope.duration_ns"},
		{"context not string", EventNameImpression, KeyContextPrefix + "x", attribute.BoolValue(true), "rankscope.context.x"},
		{"invalid event", EventNameImpression, KeyItemPositions, attribute.Int64SliceValue([]int64{1, 1, 2, 3}), "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kvs := base
			if tt.key != "" {
				kvs = with(tt.key, tt.v)
			}
			_, err := Decode(tt.event, ev.Impression.End, kvs)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// FuzzDecode feeds Decode attributes of valid events with one attribute
// replaced by a fuzzed value: it must return an event or an error, never
// panic, and whatever it returns must be valid.
func FuzzDecode(f *testing.F) {
	evs := append(events(13, 40), modelEvent())
	f.Add(40, 4, "x", int64(0), 0.0) // the model record's model name
	f.Add(0, 0, "x", int64(0), 0.0)
	f.Add(1, 3, "", int64(-1), 1.5)
	f.Add(5, 20, "fallback", int64(1<<40), math.Copysign(0, -1))
	f.Fuzz(func(t *testing.T, which, attr int, s string, i int64, fl float64) {
		ev := evs[(which%len(evs)+len(evs))%len(evs)]
		kvs, err := AppendAttributes(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		k := (attr%len(kvs) + len(kvs)) % len(kvs)
		switch kvs[k].Value.Type() {
		case attribute.STRING:
			kvs[k].Value = attribute.StringValue(s)
		case attribute.INT64:
			kvs[k].Value = attribute.Int64Value(i)
		case attribute.FLOAT64:
			kvs[k].Value = attribute.Float64Value(fl)
		case attribute.STRINGSLICE:
			kvs[k].Value = attribute.StringSliceValue([]string{s})
		case attribute.INT64SLICE:
			kvs[k].Value = attribute.Int64SliceValue([]int64{i, i})
		case attribute.FLOAT64SLICE:
			kvs[k].Value = attribute.Float64SliceValue([]float64{fl})
		default:
			kvs[k].Value = attribute.StringValue(s)
		}
		got, err := Decode(EventName(ev.Type), ev.Time(), kvs)
		if err == nil {
			if verr := got.Validate(); verr != nil {
				t.Fatalf("Decode returned an invalid event: %v", verr)
			}
		}
	})
}

// sortedKeys is used by examples.
func sortedKeys(kvs []attribute.KeyValue) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = string(kv.Key)
	}
	sort.Strings(out)
	return out
}

var _ = sortedKeys
