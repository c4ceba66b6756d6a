package schema_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/rankscope/rankscope/personalize/schema"
)

// BenchmarkAppendJSONImpression encodes the benchmark's 10-item impression
// (the unit of work of BenchmarkInference and internal/peerbench).
func BenchmarkAppendJSONImpression(b *testing.B) {
	end := time.Date(2026, 12, 4, 17, 3, 9, 123456789, time.UTC)
	im := &schema.Impression{
		EventID: schema.NewEventID(), RequestID: "0193a5c8-6f1e-7cc2-b1a4-5d2e8f9a0b1c",
		Start: end.Add(-3 * time.Millisecond), End: end, Service: "feed-ranker", Surface: "home_feed",
		Model: "ranker", ModelVersion: "v42", FeatureSet: "fs-2026-11",
		UserID:      schema.Pseudonym{ID: "dbd4147a71286348ea76ec4790f5230f", KeyID: "k1"},
		Experiments: []schema.Assignment{{Experiment: "ranker-v42", Variant: "treatment"}},
		Context:     []schema.Attr{{Key: "device", Value: "mobile"}}, Items: benchItems(),
		Stages: []schema.StageTiming{{Name: "feature_retrieval", Duration: 1200000}, {Name: "model_scoring", Offset: 1200100, Duration: 1500000}, {Name: "network", Offset: 2700200, Duration: 290000}},
	}
	ev := schema.Event{Type: schema.EventImpression, Impression: im}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = schema.AppendJSON(buf[:0], ev)
	}
	b.SetBytes(int64(len(buf)))
}

// benchItems are the 10 items of personalize's BenchmarkInference.
func benchItems() []schema.Item {
	out := make([]schema.Item, 10)
	for i := range out {
		out[i] = schema.Item{ID: fmt.Sprintf("sku-%04d", i), Position: i + 1, Score: 0.9 - float64(i)*0.05, Propensity: 0.3}
	}
	return out
}
