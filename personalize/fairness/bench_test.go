package fairness

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/exporters/file/filetest"
	"github.com/rankscope/rankscope/internal/benchcpu"
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

// trackerPool is requests impressions of 10 items one second apart, each
// followed by a click, as valid events (they go through event files).
func trackerPool(requests, offset int) []personalize.Event {
	var ev []personalize.Event
	for r := range requests {
		at := t0.Add(time.Duration(offset+r) * time.Second)
		req := "req-" + strconv.Itoa(offset+r)
		its := make([]personalize.Item, 10)
		for i := range its {
			id := (r*7 + i*13) % 3000
			its[i] = personalize.Item{ID: "item" + strconv.Itoa(id), Position: i + 1, Score: float64(id%97) / 97, Provider: "p" + strconv.Itoa(id%5), Category: "c" + strconv.Itoa(id%9)}
		}
		im := impression(req, []string{"mobile", "desktop"}[r%2], at, its...)
		c := click(req, its[r%10].ID, at.Add(time.Second))
		c.Outcome.UserID = im.Impression.UserID
		ev = append(ev, im, c)
	}
	return ev
}

// BenchmarkTrackerFiles is the offline path from files: 60,000 events
// (three pools of BenchmarkTrackerOffline's traffic) written by the file
// exporter, read with file.ReadDir decoding on two goroutines
// (ReadConfig.Workers = 2) into a new Tracker per read, then Flush. One op
// is one event.
func BenchmarkTrackerFiles(b *testing.B) {
	const requests = 10_000
	var evs []personalize.Event
	for k := range 3 {
		evs = append(evs, trackerPool(requests, k*requests)...)
	}
	dir := filetest.WriteDir(b, evs)
	per := len(evs)
	evs = nil
	rc := file.ReadConfig{Workers: 2}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchcpu.Now()
	var check time.Duration // the report checking each read, not timed
	var n int
	for n < b.N {
		tr, err := New(Config{CatalogSize: 3000})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := rc.ReadDir(dir, tr.Observe); err != nil {
			b.Fatal(err)
		}
		tr.Flush()
		b.StopTimer()
		c := benchcpu.Now()
		if s := tr.Report(0).Stats.Join; s.Duplicates != 0 || s.Unjoined != 0 || s.Impressions != int64(per/2) {
			b.Fatalf("join mismatch %+v", s)
		}
		check += benchcpu.Now() - c
		b.StartTimer()
		n += per
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(benchcpu.Now()-cpu0-check)/float64(n), "cpu-ns/event")
}

// BenchmarkTrackerOffline is the offline path of the Tracker over decoded
// events (impressions of 10 items, one click each). One op is one event.
func BenchmarkTrackerOffline(b *testing.B) {
	const requests = 10_000
	pools := [2][]personalize.Event{trackerPool(requests, 0), trackerPool(requests, requests)}
	tr, _ := New(Config{CatalogSize: 3000})
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchcpu.Now()
	var setup time.Duration
	n, pass := 0, 0
	for i := 0; i < b.N; i++ {
		_ = tr.Observe(pools[pass%2][n])
		if n++; n == len(pools[pass%2]) {
			n = 0
			if pass++; pass >= 2 {
				b.StopTimer()
				c := benchcpu.Now()
				for _, e := range pools[pass%2] {
					if e.Impression != nil {
						e.Impression.Start = e.Impression.Start.Add(2 * requests * time.Second)
						e.Impression.End = e.Impression.Start
					} else {
						e.Outcome.Time = e.Outcome.Time.Add(2 * requests * time.Second)
					}
				}
				setup += benchcpu.Now() - c
				b.StartTimer()
			}
		}
	}
	tr.Flush()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(benchcpu.Now()-cpu0-setup)/float64(b.N), "cpu-ns/event")
	if s := tr.Report(0).Stats.Join; s.Duplicates != 0 || s.Unjoined != 0 {
		b.Fatalf("join mismatch %+v", s)
	}
}
