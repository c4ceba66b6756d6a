package latency

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// fakeClock is an injectable clock, safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

var epoch = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(epoch.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time        { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Add(d time.Duration)   { c.ns.Add(int64(d)) }
func (c *fakeClock) Set(t time.Time)       { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) Since0() time.Duration { return time.Duration(c.ns.Load() - epoch.UnixNano()) }
func (c *fakeClock) String() string        { return c.Since0().String() }
func newTestTracker(t testing.TB, c *fakeClock, cfg Config) *Tracker {
	t.Helper()
	cfg.Now = c.Now
	if cfg.MeterProvider == nil {
		cfg.MeterProvider = noop.NewMeterProvider()
	}
	tr, err := NewTracker(cfg)
	require.NoError(t, err)
	return tr
}

func TestNewTrackerValidation(t *testing.T) {
	slo := SLO{Stage: "rank", P95: time.Millisecond}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"accuracy NaN", Config{RelativeAccuracy: math.NaN()}, "Config.RelativeAccuracy"},
		{"accuracy high", Config{RelativeAccuracy: 0.5}, "Config.RelativeAccuracy"},
		{"accuracy negative", Config{RelativeAccuracy: -0.01}, "Config.RelativeAccuracy"},
		{"max stages negative", Config{MaxStages: -1}, "Config.MaxStages"},
		{"max stages huge", Config{MaxStages: 1 << 20}, "Config.MaxStages"},
		{"slo stage", Config{SLOs: []SLO{slo, {P95: time.Millisecond}}}, "Config.SLOs[1].Stage"},
		{"slo window", Config{SLOs: []SLO{{Stage: "a", Window: 7, P95: 1}}}, "Config.SLOs[0].Window"},
		{"slo avg", Config{SLOs: []SLO{{Stage: "a", Avg: -1}}}, "Config.SLOs[0].Avg"},
		{"slo p95", Config{SLOs: []SLO{{Stage: "a", P95: -1}}}, "Config.SLOs[0].P95"},
		{"slo p99", Config{SLOs: []SLO{{Stage: "a", P99: -1}}}, "Config.SLOs[0].P99"},
		{"slo no target", Config{SLOs: []SLO{{Stage: "a"}}}, "at least one target"},
		{"slo min count", Config{SLOs: []SLO{{Stage: "a", P99: 1, MinCount: -3}}}, "Config.SLOs[0].MinCount"},
		{"slo stages over max", Config{MaxStages: 1, SLOs: []SLO{slo, {Stage: "b", P99: 1}}}, "exceed MaxStages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewTracker(tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("zero config", func(t *testing.T) {
		tr, err := NewTracker(Config{})
		require.NoError(t, err)
		assert.Equal(t, DefaultRelativeAccuracy, tr.RelativeAccuracy())
		assert.Equal(t, DefaultMaxStages, tr.max)
		assert.Empty(t, tr.Stages())
	})
}

type obs struct {
	at time.Time
	d  time.Duration
	st Status
}

// The windows must hold exactly what the documentation promises: at time
// now, window W covers every observation made at or after
// floor(now, W.Slot()) - W.Duration(). This drives a tracker through
// bursts and idle gaps over four days and checks every window against a
// brute-force recount.
func TestWindowsMatchDefinition(t *testing.T) {
	c := newFakeClock()
	tr := newTestTracker(t, c, Config{})
	r := rand.New(rand.NewPCG(7, 8))
	var all []obs
	check := func() {
		now := c.Now()
		for _, def := range []struct {
			w          Window
			slot, span time.Duration // as documented on Window
		}{
			{WindowMinute, 5 * time.Second, time.Minute},
			{WindowHour, 5 * time.Minute, time.Hour},
			{WindowDay, time.Hour, 24 * time.Hour},
		} {
			w := def.w
			cut := now.Truncate(def.slot).Add(-def.span).UnixNano()
			var want []time.Duration
			var sum float64
			var st [numStatus]uint64
			for _, o := range all {
				if o.at.UnixNano() >= cut {
					want = append(want, o.d)
					sum += float64(o.d)
					st[o.st]++
				}
			}
			got, ok := tr.Summary("s", w)
			require.True(t, ok)
			require.Equalf(t, uint64(len(want)), got.Count, "window %v at %v", w, c)
			assert.Equal(t, st[StatusError], got.Errors)
			assert.Equal(t, st[StatusTimeout], got.Timeouts)
			assert.Equal(t, st[StatusFallback], got.Fallbacks)
			if len(want) == 0 {
				assert.Zero(t, got.P50)
				continue
			}
			slices.Sort(want)
			assert.Equal(t, want[len(want)-1], got.Max)
			assert.Equal(t, durationOf(math.Round(sum/float64(len(want)))), got.Mean)
			p := exactQuantile(want, 0.5)
			assert.InDelta(t, float64(p), float64(got.P50), 0.01*float64(p)+1)
		}
	}
	for i := range 3000 {
		switch x := r.Float64(); {
		case x < 0.7:
			c.Add(time.Duration(r.Int64N(int64(3 * time.Second))))
		case x < 0.97:
			c.Add(time.Duration(r.Int64N(int64(10 * time.Minute))))
		default:
			c.Add(time.Duration(r.Int64N(int64(3 * time.Hour))))
		}
		o := obs{c.Now(), time.Duration(100e3 + r.Int64N(50e6)), Status(r.IntN(numStatus))}
		all = append(all, o)
		tr.Observe(Observation{Stage: "s", Duration: o.d, Status: o.st})
		if i%37 == 0 {
			check()
		}
		if i%101 == 0 { // look again later without new observations
			c.Add(time.Duration(r.Int64N(int64(2 * time.Hour))))
			check()
		}
	}
	require.Greater(t, c.Since0(), 72*time.Hour, "the run must span several days")
	c.Add(25 * time.Hour)
	check()
	s, _ := tr.Summary("s", WindowDay)
	assert.Zero(t, s.Count, "everything ages out of the day window")
}

func TestWindowEdges(t *testing.T) {
	for _, tc := range []struct {
		w        Window
		d, slot  time.Duration
		name     string
		lastSeen time.Duration // last offset from the observation at which it is still in the window
	}{
		{WindowMinute, time.Minute, 5 * time.Second, "minute", 65*time.Second - 1},
		{WindowHour, time.Hour, 5 * time.Minute, "hour", 65*time.Minute - 1},
		{WindowDay, 24 * time.Hour, time.Hour, "day", 25*time.Hour - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.name, tc.w.String())
			assert.Equal(t, tc.d, tc.w.Duration())
			assert.Equal(t, tc.slot, tc.w.Slot())
			c := newFakeClock() // epoch is aligned to every slot
			tr := newTestTracker(t, c, Config{})
			tr.Observe(Observation{Stage: "x", Duration: time.Millisecond})
			c.Add(tc.lastSeen)
			s, _ := tr.Summary("x", tc.w)
			assert.Equal(t, uint64(1), s.Count)
			c.Add(1)
			s, _ = tr.Summary("x", tc.w)
			assert.Equal(t, uint64(0), s.Count)
		})
	}
	assert.Equal(t, "Window(9)", Window(9).String())
	assert.Zero(t, Window(9).Duration())
	assert.Zero(t, Window(9).Slot())
}

func TestSummary(t *testing.T) {
	c := newFakeClock()
	tr := newTestTracker(t, c, Config{})
	durs := []time.Duration{}
	for i := 1; i <= 100; i++ {
		st := StatusOK
		switch {
		case i%10 == 0:
			st = StatusError
		case i%25 == 0:
			st = StatusTimeout
		case i == 33:
			st = StatusFallback
		}
		d := time.Duration(i) * time.Millisecond
		durs = append(durs, d)
		tr.Observe(Observation{Stage: "rank", Duration: d, Status: st})
	}
	tr.Observe(Observation{Stage: "rank", Duration: -time.Second, Status: 200}) // zero, error
	durs = append(durs, 0)
	slices.Sort(durs)
	s, ok := tr.Summary("rank", WindowMinute)
	require.True(t, ok)
	assert.Equal(t, "rank", s.Stage)
	assert.Equal(t, WindowMinute, s.Window)
	assert.Equal(t, uint64(101), s.Count)
	assert.Equal(t, uint64(11), s.Errors, "ten multiples of 10 and the unknown status")
	assert.Equal(t, uint64(2), s.Timeouts, "25 and 75")
	assert.Equal(t, uint64(1), s.Fallbacks)
	assert.Equal(t, 5050*time.Millisecond/101, s.Mean.Truncate(time.Nanosecond))
	assert.Equal(t, 100*time.Millisecond, s.Max)
	for q, got := range map[float64]time.Duration{0.5: s.P50, 0.95: s.P95, 0.99: s.P99} {
		want := exactQuantile(durs, q)
		assert.InDelta(t, float64(want), float64(got), 0.01*float64(want)+1, "q=%v", q)
	}

	sk, ok := tr.Sketch("rank", WindowHour)
	require.True(t, ok)
	assert.Equal(t, uint64(101), sk.Count())
	q, _ := sk.Quantile(0.5)
	assert.Equal(t, s.P50, q)

	_, ok = tr.Summary("nope", WindowMinute)
	assert.False(t, ok)
	_, ok = tr.Summary("rank", Window(3))
	assert.False(t, ok)
	_, ok = tr.Sketch("nope", WindowDay)
	assert.False(t, ok)
}

func TestMaxStages(t *testing.T) {
	c := newFakeClock()
	tr := newTestTracker(t, c, Config{MaxStages: 3, SLOs: []SLO{{Stage: EndToEnd, P99: time.Second}}})
	assert.Equal(t, []string{EndToEnd}, tr.Stages(), "SLO stages are tracked from the start")
	for i := range 6 {
		for range 10 {
			tr.Observe(Observation{Stage: fmt.Sprint("s", i), Duration: time.Millisecond})
		}
	}
	tr.Observe(Observation{Stage: "", Duration: time.Millisecond})
	tr.Observe(Observation{Stage: "s1", Duration: time.Millisecond})
	assert.Equal(t, []string{EndToEnd, OtherStage, "s0", "s1"}, tr.Stages())
	assert.Equal(t, Stats{Stages: 4, Other: 41}, tr.Stats())
	s, _ := tr.Summary(OtherStage, WindowMinute)
	assert.Equal(t, uint64(41), s.Count)
	s, _ = tr.Summary("s1", WindowMinute)
	assert.Equal(t, uint64(11), s.Count)
}

func TestTrackerContext(t *testing.T) {
	c := newFakeClock()
	tr := newTestTracker(t, c, Config{})
	ctx := tr.Context(context.Background())
	assert.Same(t, tr, RecorderFromContext(ctx))
	v, err := Time(ctx, "fetch", func(context.Context) (int, error) { return 7, nil })
	assert.Equal(t, 7, v)
	assert.NoError(t, err)
	_, err = Time(ctx, "fetch", func(context.Context) (int, error) { return 0, context.DeadlineExceeded })
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	_, sp := Start(ctx, "fetch")
	sp.End(fmt.Errorf("cache: %w", ErrFallback))
	_, sp = Start(ctx, "fetch")
	sp.End(errors.New("boom"))
	s, ok := tr.Summary("fetch", WindowMinute)
	require.True(t, ok)
	assert.Equal(t, uint64(4), s.Count)
	assert.Equal(t, uint64(1), s.Timeouts)
	assert.Equal(t, uint64(1), s.Fallbacks)
	assert.Equal(t, uint64(1), s.Errors)
}

func TestObserveAllocs(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	for name, cfg := range map[string]Config{
		"noop meter": {},
		"sdk meter":  {MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))},
	} {
		t.Run(name, func(t *testing.T) {
			c := newFakeClock()
			tr := newTestTracker(t, c, cfg)
			o := Observation{Stage: "rank", Duration: 3 * time.Millisecond, Status: StatusTimeout}
			tr.Observe(o) // creates the stage
			// Also across slot rotations, once the ring has filled and
			// recycles its slots.
			for range 200 {
				c.Add(5 * time.Second)
				tr.Observe(o)
			}
			allocs := testing.AllocsPerRun(1000, func() { tr.Observe(o) })
			assert.Zero(t, allocs)
			allocs = testing.AllocsPerRun(100, func() {
				c.Add(5 * time.Second)
				tr.Observe(o)
			})
			assert.Zero(t, allocs, "rotation recycles slots")
		})
	}
}

func TestMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	c := newFakeClock()
	tr := newTestTracker(t, c, Config{MeterProvider: mp})
	tr.Observe(Observation{Stage: "rank", Duration: 2 * time.Millisecond})
	tr.Observe(Observation{Stage: "rank", Duration: 4 * time.Millisecond})
	tr.Observe(Observation{Stage: "rank", Duration: 30 * time.Millisecond, Status: StatusTimeout})
	tr.Observe(Observation{Stage: EndToEnd, Duration: 2 * time.Second, Status: StatusFallback})

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	require.Len(t, rm.ScopeMetrics, 1)
	assert.Equal(t, TracerName, rm.ScopeMetrics[0].Scope.Name)
	var m metricdata.Metrics
	for _, mm := range rm.ScopeMetrics[0].Metrics {
		if mm.Name == MetricStageDuration {
			m = mm
		}
	}
	assert.Equal(t, MetricStageDuration, m.Name)
	assert.Equal(t, "s", m.Unit)
	h, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok)
	type key struct{ stage, status string }
	got := map[key]metricdata.HistogramDataPoint[float64]{}
	for _, dp := range h.DataPoints {
		st, _ := dp.Attributes.Value(attribute.Key(AttrStage))
		ss, _ := dp.Attributes.Value(attribute.Key(AttrStageStatus))
		assert.Equal(t, 2, dp.Attributes.Len())
		got[key{st.AsString(), ss.AsString()}] = dp
		assert.Equal(t, histogramBounds, dp.Bounds)
	}
	require.Len(t, got, 3)
	ok1 := got[key{"rank", "ok"}]
	assert.Equal(t, uint64(2), ok1.Count)
	assert.InDelta(t, 0.006, ok1.Sum, 1e-12)
	// 2 ms and 4 ms fall in (1 ms, 2.5 ms] and (2.5 ms, 5 ms].
	assert.Equal(t, uint64(1), ok1.BucketCounts[4])
	assert.Equal(t, uint64(1), ok1.BucketCounts[5])
	assert.Equal(t, uint64(1), got[key{"rank", "timeout"}].Count)
	e2e := got[key{EndToEnd, "fallback"}]
	assert.Equal(t, uint64(1), e2e.Count)
	assert.InDelta(t, 2.0, e2e.Sum, 1e-12)
	assert.Equal(t, HistogramBounds(), histogramBounds)
}

// Many goroutines observe while others read and the clock moves; nothing
// is lost. The fake clock spans under a minute while writers run (so no
// slot a writer may still hold is folded); afterwards the clock runs for a
// day, folding everything through the hour and day levels.
func TestConcurrentObserve(t *testing.T) {
	c := newFakeClock()
	tr := newTestTracker(t, c, Config{
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
		SLOs:          []SLO{{Stage: "s0", P99: time.Millisecond}},
	})
	const writers, per = 8, 3000
	stages := []string{"s0", "s1", "s2", "s3"}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for range 50 { // bounded: reads are slow under -race
				select {
				case <-stop:
					return
				default:
				}
				for _, s := range stages {
					_, _ = tr.Summary(s, WindowDay)
				}
				tr.CheckSLOs(c.Now())
				_ = tr.Stages()
			}
		}()
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if w == 0 && i%100 == 0 {
					c.Add(time.Second) // 30 s in all
				}
				tr.Observe(Observation{Stage: stages[i%len(stages)], Duration: time.Duration(i+1) * time.Microsecond, Status: Status(i % numStatus)})
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	for range 24 * 60 {
		c.Add(time.Minute)
		tr.Observe(Observation{Stage: "tick", Duration: time.Millisecond})
		for _, s := range stages {
			tr.lookup(s).rotate(c.Now().UnixNano())
		}
	}
	var total, errs uint64
	for _, s := range stages {
		sum, _ := tr.Summary(s, WindowDay)
		total += sum.Count
		errs += sum.Errors
	}
	assert.Equal(t, uint64(writers*per), total)
	assert.Equal(t, uint64(writers*per/numStatus), errs)
}

// countingClock counts reads of the tracker's clock.
type countingClock struct {
	*fakeClock
	reads atomic.Int64
}

func (c *countingClock) Now() time.Time { c.reads.Add(1); return c.fakeClock.Now() }

func TestObserveUsesObservationTime(t *testing.T) {
	c := &countingClock{fakeClock: newFakeClock()}
	tr, err := NewTracker(Config{MeterProvider: noop.NewMeterProvider(), Now: c.Now})
	require.NoError(t, err)
	tr.Observe(Observation{Stage: "s", Duration: time.Millisecond}) // creates the stage
	c.reads.Store(0)

	// Ended within the current slot: the clock is not read.
	for range 100 {
		tr.Observe(Observation{Stage: "s", Start: c.fakeClock.Now().Add(-time.Second), Duration: time.Millisecond})
	}
	assert.Zero(t, c.reads.Load())

	// An observation claiming to end in the future joins the current slot:
	// only the tracker's clock moves the windows.
	tr.Observe(Observation{Stage: "s", Start: c.fakeClock.Now().Add(10 * time.Hour), Duration: time.Millisecond})
	assert.Equal(t, int64(1), c.reads.Load())
	s, _ := tr.Summary("s", WindowMinute)
	assert.Equal(t, uint64(102), s.Count)

	// An observation that ended before the slot in progress joins it
	// without moving the windows: two minutes on, the slot that started
	// at epoch is out of the minute window and so is the late one.
	c.Add(2 * time.Minute)
	tr.Observe(Observation{Stage: "s", Start: epoch.Add(-time.Hour), Duration: time.Millisecond})
	s, _ = tr.Summary("s", WindowMinute)
	assert.Zero(t, s.Count)
	s, _ = tr.Summary("s", WindowHour)
	assert.Equal(t, uint64(103), s.Count)
	// The next observation ending now starts a new slot.
	tr.Observe(Observation{Stage: "s", Start: c.fakeClock.Now(), Duration: time.Millisecond})
	s, _ = tr.Summary("s", WindowMinute)
	assert.Equal(t, uint64(1), s.Count)
}

// The documented worst case: a stage whose every slot spans the whole
// sketch range, run for over a day, stays under 450 KiB (13 live sketches of about 5.4
// KiB and at most 39 merged ones of 9.3 KiB).
func TestMemoryBound(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("measures the heap, which the race detector inflates")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := newFakeClock()
	tr := newTestTracker(t, c, Config{})
	for range 26 * 3600 / 5 {
		tr.Observe(Observation{Stage: "s", Duration: SketchMin})
		tr.Observe(Observation{Stage: "s", Duration: SketchMax})
		c.Add(5 * time.Second)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("one stage, worst case: %d KiB", grown/1024)
	assert.Less(t, grown, int64(450*1024))
	s, _ := tr.Summary("s", WindowDay)
	assert.Equal(t, uint64(2*24*720), s.Count, "now is on the hour: exactly 24 h")
	runtime.KeepAlive(tr)
}

// TestStageGauges: the quantile gauge reports the minute window's p50,
// p95 and p99 within the sketch's relative accuracy, and the count gauge
// the observations by status, at collection time only.
func TestStageGauges(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tr, err := NewTracker(Config{MeterProvider: mp})
	require.NoError(t, err)
	now := time.Now()
	// 1..100 ms: p50 = 50 ms, p95 = 95 ms, p99 = 99 ms (nearest rank).
	for i := 1; i <= 100; i++ {
		st := StatusOK
		if i%10 == 0 {
			st = StatusTimeout
		}
		tr.Observe(Observation{Stage: "model_scoring", Start: now, Duration: time.Duration(i) * time.Millisecond, Status: st})
	}
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	quant := map[float64]float64{}
	counts := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch m.Name {
			case MetricStageLatency:
				for _, dp := range m.Data.(metricdata.Gauge[float64]).DataPoints {
					stage, _ := dp.Attributes.Value(AttrStage)
					require.Equal(t, "model_scoring", stage.AsString())
					q, _ := dp.Attributes.Value("quantile")
					quant[q.AsFloat64()] = dp.Value
				}
			case MetricStageCount:
				for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
					st, _ := dp.Attributes.Value(AttrStageStatus)
					counts[st.AsString()] = dp.Value
				}
			}
		}
	}
	for q, want := range map[float64]float64{0.5: 0.050, 0.95: 0.095, 0.99: 0.099} {
		assert.InEpsilon(t, want, quant[q], 0.02, "quantile %v", q)
	}
	assert.Equal(t, map[string]int64{"ok": 90, "timeout": 10, "error": 0, "fallback": 0}, counts)
	require.NoError(t, tr.Close())
	require.NoError(t, tr.Close())
	rm = metricdata.ResourceMetrics{}
	require.NoError(t, reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			assert.NotEqual(t, MetricStageLatency, m.Name, "no gauge after Close")
		}
	}
}

// The hot slots in front of the stage map (Tracker.lookup) must give the
// stage the map gives: for the same string, for an equal string held
// elsewhere, for names made anew at every observation (which fill at most
// hotSlots slots and are never replaced), and for names beyond MaxStages,
// which stay counted under OtherStage at every observation.
func TestHotStages(t *testing.T) {
	c := newFakeClock()
	tr := newTestTracker(t, c, Config{MaxStages: 40})
	const name = "model_scoring"
	tr.Observe(Observation{Stage: name, Duration: time.Millisecond}) // creates the stage
	tr.Observe(Observation{Stage: name, Duration: time.Millisecond}) // finds it in the map
	want := (*tr.stages.Load())[name]
	require.NotNil(t, want)
	assert.Same(t, want, tr.hotLookup(name), "a name found in the map is remembered")
	copyOf := string([]byte(name)) // equal bytes at another address
	assert.Same(t, want, tr.lookup(copyOf))
	for i := range 200 {
		tr.Observe(Observation{Stage: fmt.Sprint("dyn", i%30), Duration: time.Millisecond})
	}
	used := 0
	for i := range tr.hot {
		if e := tr.hot[i].Load(); e != nil {
			used++
			assert.Same(t, (*tr.stages.Load())[e.name], e.s, "slot %d holds %q", i, e.name)
		}
	}
	assert.LessOrEqual(t, used, hotSlots)
	assert.Same(t, want, tr.lookup(name), "still the same stage after the slots filled")
	s, ok := tr.Summary(name, WindowMinute)
	require.True(t, ok)
	assert.Equal(t, uint64(2), s.Count)

	// Two names whose addresses hash to the same slot both fit.
	pair := newTestTracker(t, c, Config{})
	seen := map[int]string{}
	var a, b string
	for i := 0; a == ""; i++ {
		n := fmt.Sprint("stage-", i)
		if m, ok := seen[hotIndex(n)]; ok {
			a, b = m, n
		}
		seen[hotIndex(n)] = n
	}
	for range 2 {
		pair.Observe(Observation{Stage: a, Duration: time.Millisecond})
		pair.Observe(Observation{Stage: b, Duration: time.Millisecond})
	}
	assert.Same(t, (*pair.stages.Load())[a], pair.hotLookup(a))
	assert.Same(t, (*pair.stages.Load())[b], pair.hotLookup(b))

	full := newTestTracker(t, c, Config{MaxStages: 2})
	for _, st := range []string{"a", "b", "a", "b"} {
		full.Observe(Observation{Stage: st, Duration: time.Millisecond})
	}
	for range 3 {
		full.Observe(Observation{Stage: "c", Duration: time.Millisecond})
	}
	assert.Equal(t, uint64(3), full.Stats().Other, "a name over the bound is counted at every observation")
}
