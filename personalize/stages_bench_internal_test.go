package personalize

import (
	"testing"
	"time"

	"github.com/rankscope/rankscope/latency"
)

// BenchmarkRecordStages is the batcher's stage recording for one
// impression of three stages: through the tracker's ObserveWindows
// ("direct", as emitting goroutines record) and through the shard's Tally
// flushed every 512 impressions, as the batcher does per batch ("tally").
func BenchmarkRecordStages(b *testing.B) {
	in := discardInstrument(b)
	now := time.Now()
	im := &Impression{Start: now, End: now.Add(5 * time.Microsecond), Stages: []StageTiming{
		{Name: "feature_retrieval", Offset: 100, Duration: 600},
		{Name: "model_scoring", Offset: 700, Duration: 700},
		{Name: "network", Offset: 1400, Duration: 200},
	}}
	for _, tc := range []struct {
		name string
		y    *latency.Tally
	}{{"direct", nil}, {"tally", in.latency.NewTally()}} {
		b.Run(tc.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				im.Stages[0].Duration = time.Duration(500 + n%300) // a few buckets, as real timings
				in.recordStages(im, tc.y)
				if n++; n%512 == 0 && tc.y != nil {
					tc.y.Flush()
				}
			}
		})
	}
}
