package latency

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/rankscope/rankscope/internal/benchcpu"
)

func benchMeters() map[string]Config {
	return map[string]Config{
		"noop-meter": {MeterProvider: noop.NewMeterProvider()},
		"sdk-meter":  {MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))},
	}
}

// benchDurations are realistic stage latencies (lognormal around 2 ms).
func benchDurations() []time.Duration {
	r := rand.New(rand.NewPCG(3, 4))
	d := make([]time.Duration, 1024)
	for i := range d {
		d[i] = time.Duration(2e6 * (0.2 + r.ExpFloat64()))
	}
	return d
}

func BenchmarkObserve(b *testing.B) {
	durs := benchDurations()
	for _, name := range []string{"noop-meter", "sdk-meter"} {
		cfg := benchMeters()[name]
		b.Run("serial/"+name, func(b *testing.B) {
			tr, err := NewTracker(cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			defer benchcpu.Start().Report(b)
			i := 0
			start := time.Now()
			for b.Loop() {
				tr.Observe(Observation{Stage: "model_scoring", Start: start, Duration: durs[i&1023]})
				i++
			}
		})
		b.Run("parallel/"+name, func(b *testing.B) {
			tr, err := NewTracker(cfg)
			if err != nil {
				b.Fatal(err)
			}
			stages := []string{"feature_retrieval", "model_scoring", "rerank", EndToEnd}
			b.ReportAllocs()
			defer benchcpu.Start().Report(b)
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				start := time.Now()
				for pb.Next() {
					tr.Observe(Observation{Stage: stages[i&3], Start: start, Duration: durs[i&1023], Status: Status(i>>8) & 3})
					i++
				}
			})
		})
	}
}

func BenchmarkTime(b *testing.B) {
	tr, err := NewTracker(Config{MeterProvider: noop.NewMeterProvider()})
	if err != nil {
		b.Fatal(err)
	}
	fn := func(context.Context) (int, error) { return 1, nil }
	for name, ctx := range map[string]context.Context{
		"no-recorder": context.Background(),
		"tracker":     tr.Context(context.Background()),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			defer benchcpu.Start().Report(b)
			for b.Loop() {
				_, _ = Time(ctx, "model_scoring", fn)
			}
		})
	}
}

func BenchmarkSummary(b *testing.B) {
	c := newFakeClock()
	tr, err := NewTracker(Config{MeterProvider: noop.NewMeterProvider(), Now: c.Now})
	if err != nil {
		b.Fatal(err)
	}
	durs := benchDurations()
	// A day and an hour of traffic, 20 observations a second.
	for i := range 25 * 3600 * 20 {
		if i%20 == 0 {
			c.Add(time.Second)
		}
		tr.Observe(Observation{Stage: "model_scoring", Duration: durs[i&1023]})
	}
	for _, w := range []Window{WindowMinute, WindowHour, WindowDay} {
		b.Run(w.String(), func(b *testing.B) {
			b.ReportAllocs()
			defer benchcpu.Start().Report(b)
			for b.Loop() {
				if s, _ := tr.Summary("model_scoring", w); s.Count == 0 {
					b.Fatal("empty")
				}
			}
		})
	}
}

// BenchmarkSketchInsert compares the cost of one insert into the Tracker's
// lock-free sketch with DataDog's DDSketch (same mapping and accuracy),
// which is not safe for concurrent use and so needs a mutex on a shared
// hot path.
func BenchmarkSketchInsert(b *testing.B) {
	durs := benchDurations()
	b.Run("serial/rankscope-live", func(b *testing.B) {
		l := newLiveSketch(defaultMapping, 0, 1)
		b.ReportAllocs()
		defer benchcpu.Start().Report(b)
		i := 0
		for b.Loop() {
			l.add(defaultMapping, int64(durs[i&1023]), StatusOK)
			i++
		}
	})
	b.Run("serial/rankscope-Sketch", func(b *testing.B) {
		var s Sketch
		b.ReportAllocs()
		defer benchcpu.Start().Report(b)
		i := 0
		for b.Loop() {
			s.Add(durs[i&1023])
			i++
		}
	})
	b.Run("serial/ddsketch-mutex", func(b *testing.B) {
		sk, _ := ddsketch.LogUnboundedDenseDDSketch(0.01)
		var mu sync.Mutex
		b.ReportAllocs()
		defer benchcpu.Start().Report(b)
		i := 0
		for b.Loop() {
			mu.Lock()
			_ = sk.Add(float64(durs[i&1023]))
			mu.Unlock()
			i++
		}
	})
	b.Run("parallel/rankscope-live", func(b *testing.B) {
		l := newLiveSketch(defaultMapping, 0, 1)
		b.ReportAllocs()
		defer benchcpu.Start().Report(b)
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				l.add(defaultMapping, int64(durs[i&1023]), StatusOK)
				i++
			}
		})
	})
	b.Run("parallel/ddsketch-mutex", func(b *testing.B) {
		sk, _ := ddsketch.LogUnboundedDenseDDSketch(0.01)
		var mu sync.Mutex
		b.ReportAllocs()
		defer benchcpu.Start().Report(b)
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				mu.Lock()
				_ = sk.Add(float64(durs[i&1023]))
				mu.Unlock()
				i++
			}
		})
	})
}
