package fairness

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rankscope/rankscope/personalize"
)

func BenchmarkExposureObserve(b *testing.B) {
	w, _ := NewWeights(100, nil)
	e, _ := NewExposure(w, 1000)
	groups := make([]string, 50)
	for i := range groups {
		groups[i] = fmt.Sprint("provider-", i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e.Observe(groups[i%50], 1+i%20, 0.3)
	}
}

// BenchmarkTrackerExportParallel measures contention on the Tracker's
// mutex with several goroutines exporting batches of 64 events.
func BenchmarkTrackerExportParallel(b *testing.B) {
	tr, _ := New(Config{})
	its := make([]personalize.Item, 10)
	for i := range its {
		its[i] = personalize.Item{ID: fmt.Sprint("i", i), Position: i + 1, Score: 0.5, Provider: fmt.Sprint("p", i%4)}
	}
	var worker atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		prefix := strconv.FormatInt(worker.Add(1), 10) + "-"
		batch := make([]personalize.Event, 0, 64)
		n := 0
		for pb.Next() {
			at := t0.Add(time.Duration(n) * time.Millisecond)
			batch = append(batch, impression(prefix+strconv.Itoa(n), "mobile", at, its...))
			n++
			if len(batch) == cap(batch) {
				_ = tr.Export(context.Background(), batch)
				batch = batch[:0]
			}
		}
	})
}

func benchItems(n, groups int) []personalize.Item {
	its := make([]personalize.Item, n)
	for i := range its {
		its[i] = personalize.Item{ID: fmt.Sprint(i), Position: i + 1, Score: 1 / float64(i+1), Provider: fmt.Sprint("g", i*groups/n)}
	}
	return its
}

func BenchmarkRerank(b *testing.B) {
	for _, tc := range []struct {
		name   string
		n, g   int
		greedy bool
	}{{"exact_10x2", 10, 2, false}, {"exact_12x3", 12, 3, false}, {"greedy_50x3", 50, 3, true}, {"greedy_200x4", 200, 4, true}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := RerankConfig{Target: TargetEqual, Tolerance: 0.2}
			if tc.greedy {
				cfg.MaxExact = 1
			}
			rr, _ := NewReranker(cfg)
			its := benchItems(tc.n, tc.g)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rr.Rerank(its); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
