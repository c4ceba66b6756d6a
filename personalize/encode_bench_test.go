package personalize_test

import (
	"testing"
	"time"

	"github.com/rankscope/rankscope/personalize"
)

// BenchmarkAppendJSONImpression encodes the benchmark's 10-item impression
// (the unit of work of BenchmarkInference and internal/peerbench).
func BenchmarkAppendJSONImpression(b *testing.B) {
	end := time.Date(2026, 12, 4, 17, 3, 9, 123456789, time.UTC)
	im := &personalize.Impression{
		EventID: personalize.NewEventID(), RequestID: "0193a5c8-6f1e-7cc2-b1a4-5d2e8f9a0b1c",
		Start: end.Add(-3 * time.Millisecond), End: end, Service: "feed-ranker", Surface: benchReq.Surface,
		Model: benchReq.Model, ModelVersion: benchReq.ModelVersion, FeatureSet: benchReq.FeatureSet,
		UserID:      personalize.Pseudonym{ID: "dbd4147a71286348ea76ec4790f5230f", KeyID: "k1"},
		Experiments: benchReq.Experiments, Context: benchReq.Context, Items: benchItems,
		Stages: []personalize.StageTiming{{Name: "feature_retrieval", Duration: 1200000}, {Name: "model_scoring", Offset: 1200100, Duration: 1500000}, {Name: "network", Offset: 2700200, Duration: 290000}},
	}
	ev := personalize.Event{Type: personalize.EventImpression, Impression: im}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = personalize.AppendJSON(buf[:0], ev)
	}
	b.SetBytes(int64(len(buf)))
}
