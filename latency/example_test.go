package latency_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rankscope/rankscope/latency"
	"go.opentelemetry.io/otel/metric/noop"
)

// clock is a settable clock so the examples print the same thing on every
// run.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func ExampleTracker() {
	c := &clock{time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	tr, err := latency.NewTracker(latency.Config{Now: c.Now, MeterProvider: noop.NewMeterProvider()})
	if err != nil {
		panic(err)
	}
	// 100 scoring calls of 1..100 ms, every tenth a timeout.
	for i := 1; i <= 100; i++ {
		st := latency.StatusOK
		if i%10 == 0 {
			st = latency.StatusTimeout
		}
		tr.Observe(latency.Observation{Stage: "model_scoring", Duration: time.Duration(i) * time.Millisecond, Status: st})
	}
	s, _ := tr.Summary("model_scoring", latency.WindowMinute)
	fmt.Println("count", s.Count, "timeouts", s.Timeouts)
	fmt.Println("mean", s.Mean, "max", s.Max)
	// Quantiles are within 1% of the exact ones (50, 95, 99 ms).
	fmt.Println("p50", s.P50.Round(time.Millisecond), "p95", s.P95.Round(time.Millisecond), "p99", s.P99.Round(time.Millisecond))

	c.t = c.t.Add(2 * time.Minute)
	s, _ = tr.Summary("model_scoring", latency.WindowMinute)
	h, _ := tr.Summary("model_scoring", latency.WindowHour)
	fmt.Println("two minutes later: minute", s.Count, "hour", h.Count)
	// Output:
	// count 100 timeouts 10
	// mean 50.5ms max 100ms
	// p50 50ms p95 95ms p99 99ms
	// two minutes later: minute 0 hour 100
}

func ExampleTracker_CheckSLOs() {
	c := &clock{time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	tr, err := latency.NewTracker(latency.Config{
		Now:           c.Now,
		MeterProvider: noop.NewMeterProvider(),
		SLOs:          []latency.SLO{{Stage: latency.EndToEnd, P95: 80 * time.Millisecond, MinCount: 10}},
		OnBreach: func(b latency.Breach) {
			if b.Recovered {
				fmt.Println("recovered:", b.SLO.Stage, b.Target, b.Observed.Round(time.Millisecond))
				return
			}
			fmt.Println("breach:", b.SLO.Stage, b.Target, b.Observed.Round(time.Millisecond), ">", b.Objective)
		},
	})
	if err != nil {
		panic(err)
	}
	observe := func(n int, d time.Duration) {
		for range n {
			tr.Observe(latency.Observation{Stage: latency.EndToEnd, Duration: d})
		}
	}
	observe(100, 40*time.Millisecond)
	observe(10, 150*time.Millisecond) // a slow burst: p95 is 150 ms
	for range 3 {                     // checked every second, reported once
		c.t = c.t.Add(time.Second)
		tr.CheckSLOs(c.t)
	}
	c.t = c.t.Add(2 * time.Minute) // the burst leaves the minute window
	observe(100, 40*time.Millisecond)
	r := tr.CheckSLOs(c.t)
	fmt.Println("ok:", r[0].OK, "count:", r[0].Count)
	// Output:
	// breach: end_to_end p95 150ms > 80ms
	// recovered: end_to_end p95 40ms
	// ok: true count: 100
}

func ExampleTime() {
	tr, err := latency.NewTracker(latency.Config{MeterProvider: noop.NewMeterProvider()})
	if err != nil {
		panic(err)
	}
	ctx := tr.Context(context.Background())
	fetch := func(ctx context.Context) ([]string, error) { return []string{"f1", "f2"}, nil }
	feats, err := latency.Time(ctx, "feature_retrieval", fetch)
	fmt.Println(feats, err)
	_, err = latency.Time(ctx, "feature_retrieval", func(ctx context.Context) ([]string, error) {
		return nil, fmt.Errorf("feature store: %w", latency.ErrFallback)
	})
	fmt.Println(errors.Is(err, latency.ErrFallback))
	s, _ := tr.Summary("feature_retrieval", latency.WindowMinute)
	fmt.Println("count", s.Count, "fallbacks", s.Fallbacks)
	// Output:
	// [f1 f2] <nil>
	// true
	// count 2 fallbacks 1
}

// Stages that run back to back share their boundaries: Next ends one
// and starts the next with a single clock reading.
func ExampleSpan_Next() {
	tr, err := latency.NewTracker(latency.Config{MeterProvider: noop.NewMeterProvider()})
	if err != nil {
		panic(err)
	}
	ctx := tr.Context(context.Background())
	_, s := latency.Start(ctx, "feature_retrieval")
	// ... fetch features
	s = s.Next("model_scoring")
	// ... score
	s = s.Next("network")
	// ... respond
	s.End(nil)
	for _, stage := range []string{"feature_retrieval", "model_scoring", "network"} {
		sum, _ := tr.Summary(stage, latency.WindowMinute)
		fmt.Println(stage, sum.Count)
	}
	// Output:
	// feature_retrieval 1
	// model_scoring 1
	// network 1
}

func ExampleSketch() {
	a, b := &latency.Sketch{}, &latency.Sketch{}
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * time.Microsecond
		if i%2 == 0 {
			a.Add(d)
		} else {
			b.Add(d)
		}
	}
	if err := a.Merge(b); err != nil { // a now sketches all 1000 values
		panic(err)
	}
	p90, _ := a.Quantile(0.9)
	fmt.Println(a.Count(), a.Min(), a.Max(), p90.Round(10*time.Microsecond))
	// Output: 1000 1µs 1ms 900µs
}

// A goroutine that records many observations a second holds them in a
// Tally and adds them to the windows in bulk.
func ExampleTally() {
	c := &clock{time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	tr, err := latency.NewTracker(latency.Config{Now: c.Now, MeterProvider: noop.NewMeterProvider()})
	if err != nil {
		panic(err)
	}
	y := tr.NewTally() // this goroutine's only
	for i := 1; i <= 1000; i++ {
		y.ObserveWindows(latency.Observation{Stage: "model_scoring", Start: c.t, Duration: time.Duration(i) * time.Microsecond})
		if i%500 == 0 {
			s, _ := tr.Summary("model_scoring", latency.WindowMinute)
			fmt.Println("before flush", s.Count)
			y.Flush()
			s, _ = tr.Summary("model_scoring", latency.WindowMinute)
			fmt.Println("after flush", s.Count, "max", s.Max)
		}
	}
	// Output:
	// before flush 0
	// after flush 500 max 500µs
	// before flush 500
	// after flush 1000 max 1ms
}
