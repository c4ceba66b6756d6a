package otlp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func explainedImpression() personalize.Event {
	im := personalizetest.RandomImpression(newRand(5), 3)
	for i := range im.Items {
		im.Items[i].Explanation = nil
	}
	im.Items[0].Explanation = []personalize.Contribution{{Feature: "recency", Value: 0.5}, {Feature: "price", Value: -0.25}}
	im.Items[2].Explanation = []personalize.Contribution{{Feature: "affinity", Value: 0.125}}
	return personalize.Event{Type: personalize.EventImpression, Impression: im}
}

// TestMappingExplanation: the flattened arrays of docs/SCHEMA.md, and
// nothing at all for an impression without explanations.
func TestMappingExplanation(t *testing.T) {
	ev := explainedImpression()
	kvs, err := AppendAttributes(nil, ev)
	require.NoError(t, err)
	m := attrMap(kvs)
	assert.Equal(t, []int64{2, 0, 1}, m[KeyItemExplanationCounts].AsInt64Slice())
	assert.Equal(t, []string{"recency", "price", "affinity"}, m[KeyItemExplanationFeatures].AsStringSlice())
	assert.Equal(t, []float64{0.5, -0.25, 0.125}, m[KeyItemExplanationValues].AsFloat64Slice())

	back, err := Decode(EventNameImpression, ev.Impression.End, kvs)
	require.NoError(t, err)
	for i := range ev.Impression.Items {
		assert.Equal(t, ev.Impression.Items[i].Explanation, back.Impression.Items[i].Explanation, "item %d", i)
	}

	plain := explainedImpression()
	for i := range plain.Impression.Items {
		plain.Impression.Items[i].Explanation = nil
	}
	kvs, err = AppendAttributes(nil, plain)
	require.NoError(t, err)
	m = attrMap(kvs)
	for _, k := range []string{KeyItemExplanationCounts, KeyItemExplanationFeatures, KeyItemExplanationValues} {
		assert.NotContains(t, m, k)
	}
}

// TestWireExplanationMatchesAttributes: the direct encoder writes the
// same explanation arrays as the attribute mapping, byte for byte as
// protobuf reads them.
func TestWireExplanationMatchesAttributes(t *testing.T) {
	ev := explainedImpression()
	var w wireSink
	require.NoError(t, mapEvent(&w, ev))
	var rec logspb.LogRecord // the sink writes LogRecord.attributes fields
	require.NoError(t, proto.Unmarshal(w.b, &rec))
	kvs, err := AppendAttributes(nil, ev)
	require.NoError(t, err)
	assert.Equal(t, attrMap(kvs), attrMap(protoAttrs(t, rec.Attributes)))
}

func TestDecodeExplanationErrors(t *testing.T) {
	ev := explainedImpression()
	base, err := AppendAttributes(nil, ev)
	require.NoError(t, err)
	with := func(key string, v attribute.Value) []attribute.KeyValue {
		out := make([]attribute.KeyValue, 0, len(base))
		for _, kv := range base {
			if string(kv.Key) == key {
				kv.Value = v
			}
			out = append(out, kv)
		}
		return out
	}
	tests := []struct {
		name, key string
		v         attribute.Value
		want      string
	}{
		{"counts not parallel", KeyItemExplanationCounts, attribute.Int64SliceValue([]int64{2, 1}), KeyItemExplanationCounts},
		{"negative count", KeyItemExplanationCounts, attribute.Int64SliceValue([]int64{4, -1, 0}), KeyItemExplanationCounts},
		{"count past the bound", KeyItemExplanationCounts, attribute.Int64SliceValue([]int64{9, 0, 0}), KeyItemExplanationCounts},
		{"counts disagree with features", KeyItemExplanationCounts, attribute.Int64SliceValue([]int64{1, 0, 1}), KeyItemExplanationFeatures},
		{"short values", KeyItemExplanationValues, attribute.Float64SliceValue([]float64{1}), KeyItemExplanationValues},
		{"features not strings", KeyItemExplanationFeatures, attribute.Int64SliceValue([]int64{1, 2, 3}), KeyItemExplanationFeatures},
		{"invalid explanation", KeyItemExplanationFeatures, attribute.StringSliceValue([]string{"a", "a", "b"}), "items[0].explanation[1].feature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(EventNameImpression, ev.Impression.End, with(tt.key, tt.v))
			require.ErrorContains(t, err, tt.want)
		})
	}
}
