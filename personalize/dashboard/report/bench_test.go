package report

import (
	"testing"

	"github.com/rankscope/rankscope/personalize/dashboard/internal/dashtest"
)

// BenchmarkReport builds a whole report (every package, 200 bootstrap
// replicates) from 3000 rankings and their outcomes.
func BenchmarkReport(b *testing.B) {
	evs := dashtest.Events(3000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rb, err := NewBuilder(Config{})
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range evs {
			_ = rb.Add(e)
		}
		_ = rb.Report()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}
