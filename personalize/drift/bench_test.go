package drift

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/exporters/file/filetest"
	"github.com/rankscope/rankscope/internal/benchcpu"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/segment"
)

func benchEvents(n int) []personalize.Event {
	rng := rand.New(rand.NewPCG(1, 1))
	out := make([]personalize.Event, n)
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		start := t.Add(time.Duration(i) * time.Millisecond)
		im := &personalize.Impression{RequestID: strconv.Itoa(i), Start: start, End: start.Add(time.Duration(5+rng.IntN(50)) * time.Millisecond),
			Surface: "home", UserID: personalize.Pseudonym{ID: "u" + strconv.Itoa(rng.IntN(5000))},
			Context: []personalize.Attr{{Key: personalize.AttrDevice, Value: []string{"ios", "web", "android"}[rng.IntN(3)]}, {Key: personalize.AttrRegion, Value: "eu"}},
			Items:   make([]personalize.Item, 10)}
		for k := range im.Items {
			im.Items[k] = personalize.Item{ID: strconv.Itoa(rng.IntN(1000)), Position: k + 1, Score: rng.NormFloat64(), Category: []string{"news", "sport", "music"}[rng.IntN(3)]}
		}
		out[i] = personalize.Event{Type: personalize.EventImpression, Impression: im}
	}
	return out
}

// BenchmarkEventMonitorOffline feeds decoded impressions (10 items each,
// about 35 observations per monitor) through the event adapter into the
// all-traffic monitor ("all") or into it and the device segment's
// ("segmented"). Run with -benchtime=10000000x for the 10 million
// events.
func BenchmarkEventMonitorOffline(b *testing.B) {
	b.Run("all", func(b *testing.B) { benchEventMonitor(b, false) })
	b.Run("segmented", func(b *testing.B) { benchEventMonitor(b, true) })
}

func benchEventMonitor(b *testing.B, segmented bool) {
	evs := benchEvents(50000)
	rb, _ := NewReferenceBuilder(ReferenceConfig{}, 0)
	for _, e := range evs[:20000] {
		_ = rb.Add(e)
	}
	refs, err := rb.Build()
	if err != nil {
		b.Fatal(err)
	}
	seg, _ := NewSegmented(Config{References: refs, IDs: []string{FeatureUser, FeatureItem}, Sources: []string{SourceEvents}}, 0)
	var keyer *segment.Keyer
	if segmented {
		keyer, _ = segment.NewKeyer(segment.Config{Dims: segment.DimDevice})
	}
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	em, _ := NewEventMonitor(seg, keyer, func() time.Time { return now })
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchcpu.Now()
	for i := 0; i < b.N; i++ {
		em.Add(evs[i%len(evs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(benchcpu.Now()-cpu0)/float64(b.N), "cpu-ns/event")
}

// BenchmarkEventMonitorFiles is the offline path from files: the 50,000
// impressions of BenchmarkEventMonitorOffline (10 items each) written by
// the file exporter and read back with file.ReadDir, decoding on two
// goroutines (ReadConfig.Workers = 2), into the all-traffic monitor. One
// op is one event; the directory is re-read as often as b.N needs.
func BenchmarkEventMonitorFiles(b *testing.B) {
	evs := benchEvents(50000)
	rb, _ := NewReferenceBuilder(ReferenceConfig{}, 0)
	for _, e := range evs[:20000] {
		_ = rb.Add(e)
	}
	refs, err := rb.Build()
	if err != nil {
		b.Fatal(err)
	}
	dir := filetest.WriteDir(b, evs)
	per := len(evs)
	evs = nil
	seg, _ := NewSegmented(Config{References: refs, IDs: []string{FeatureUser, FeatureItem}, Sources: []string{SourceEvents}}, 0)
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	em, _ := NewEventMonitor(seg, nil, func() time.Time { return now })
	add := func(e personalize.Event) error { em.Add(e); return nil }
	rc := file.ReadConfig{Workers: 2}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchcpu.Now()
	var n int
	for n < b.N {
		if _, err := rc.ReadDir(dir, add); err != nil {
			b.Fatal(err)
		}
		n += per
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(benchcpu.Now()-cpu0)/float64(n), "cpu-ns/event")
}
