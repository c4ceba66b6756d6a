package drift

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/alert"
	"github.com/rankscope/rankscope/personalize/segment"
)

func normals(seed uint64, n int, mean, sd float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	for i := range out {
		out[i] = mean + sd*r.NormFloat64()
	}
	return out
}

func TestNumericReference(t *testing.T) {
	vals := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, math.NaN(), math.NaN()}
	r, err := NewNumericReference("x", vals, ReferenceConfig{Bins: 5})
	require.NoError(t, err)
	// n=10, ranks floor(k*10/5) = 2,4,6,8 -> values 3,5,7,9.
	assert.Equal(t, []float64{3, 5, 7, 9}, r.Edges)
	assert.Equal(t, []float64{0.2, 0.2, 0.2, 0.2, 0.2}, r.Proportions)
	assert.Equal(t, 1.0, r.Min)
	assert.Equal(t, 10.0, r.Max)
	assert.InDelta(t, 2.0/12, r.MissingRate, 1e-15)
	assert.InDelta(t, math.Sqrt(8.25), r.Std, 1e-12) // population sd of 1..10
	require.NoError(t, r.Validate())

	// Left-closed bins: an edge value belongs to the bin above it.
	assert.Equal(t, 0, binOf(r.Edges, 2.999))
	assert.Equal(t, 1, binOf(r.Edges, 3))
	assert.Equal(t, 4, binOf(r.Edges, 9))
	assert.Equal(t, 4, binOf(r.Edges, math.Inf(1)))

	// Ties collapse edges.
	r, err = NewNumericReference("x", []float64{1, 1, 1, 1, 2}, ReferenceConfig{Bins: 4})
	require.NoError(t, err)
	assert.Equal(t, []float64{2}, r.Edges)
	assert.Equal(t, []float64{0.8, 0.2}, r.Proportions)

	_, err = NewNumericReference("x", []float64{math.NaN()}, ReferenceConfig{})
	assert.ErrorContains(t, err, "no non-missing")
	_, err = NewNumericReference("x", []float64{math.Inf(1)}, ReferenceConfig{})
	assert.ErrorContains(t, err, "values[0]")
	_, err = NewNumericReference("", []float64{1}, ReferenceConfig{})
	assert.ErrorContains(t, err, "feature")
}

func TestCategoricalReference(t *testing.T) {
	r, err := NewCategoricalReference("device", []string{"ios", "web", "ios", "android", "", "ios", "web"}, ReferenceConfig{MaxCategories: 2})
	require.NoError(t, err)
	assert.Equal(t, []string{"ios", "web"}, r.Categories)
	assert.InDeltaSlice(t, []float64{0.5, 2.0 / 6, 1.0 / 6}, r.Proportions, 1e-15)
	assert.InDelta(t, 1.0/7, r.MissingRate, 1e-15)
	require.NoError(t, r.Validate())
}

func TestReferenceJSONRoundTrip(t *testing.T) {
	r, err := NewNumericReference("price", normals(1, 5000, 10, 2), ReferenceConfig{SampleSize: 100})
	require.NoError(t, err)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	back, err := UnmarshalReference(b)
	require.NoError(t, err)
	assert.Equal(t, r, back)
	assert.Len(t, back.Sample, 100)
}

func TestReferenceValidate(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"unsorted edges", `{"feature":"x","kind":"numeric","edges":[2,1],"proportions":[0.3,0.3,0.4]}`, "edges[1]"},
		{"bad length", `{"feature":"x","kind":"numeric","edges":[1],"proportions":[1]}`, "proportions: want 2"},
		{"bad sum", `{"feature":"x","kind":"numeric","edges":[1],"proportions":[0.5,0.6]}`, "sum to 1"},
		{"unknown kind", `{"feature":"x","kind":"vector","proportions":[1]}`, "unknown kind"},
		{"no feature", `{"kind":"numeric","proportions":[1]}`, "Feature"},
		{"dup category", `{"feature":"d","kind":"categorical","categories":["a","a"],"proportions":[0.5,0.5,0]}`, "categories[1]"},
		{"unsorted sample", `{"feature":"x","kind":"numeric","proportions":[1],"sample":[2,1]}`, "sample[1]"},
		{"min above max", `{"feature":"x","kind":"numeric","proportions":[1],"min":2,"max":1}`, "min/max"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnmarshalReference([]byte(tt.json))
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func FuzzUnmarshalReference(f *testing.F) {
	r, _ := NewNumericReference("x", []float64{1, 2, 3, 4}, ReferenceConfig{Bins: 2})
	b, _ := json.Marshal(r)
	f.Add(b)
	c, _ := NewCategoricalReference("d", []string{"a", "b"}, ReferenceConfig{})
	b, _ = json.Marshal(c)
	f.Add(b)
	f.Add([]byte(`{"feature":"x","kind":"numeric","edges":[1e308],"proportions":[0.5,0.5]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ref, err := UnmarshalReference(data)
		if err != nil {
			return
		}
		// A reference that validates must be usable by a monitor.
		m, err := New(Config{References: []*Reference{ref}})
		require.NoError(t, err)
		m.Observe(ref.Feature, 1.5)
		m.ObserveCategory(ref.Feature, "a")
		_ = m.Report()
	})
}

func newNumMonitor(t testing.TB, ref []float64, cfg Config) *Monitor {
	t.Helper()
	r, err := NewNumericReference("x", ref, ReferenceConfig{})
	require.NoError(t, err)
	cfg.References = append(cfg.References, r)
	m, err := New(cfg)
	require.NoError(t, err)
	return m
}

func TestMonitorNoDrift(t *testing.T) {
	m := newNumMonitor(t, normals(1, 20000, 0, 1), Config{})
	for _, v := range normals(2, 20000, 0, 1) {
		m.Observe("x", v)
	}
	fr := m.Report().Features[0]
	assert.Equal(t, uint64(20000), fr.Count)
	assert.Less(t, fr.PSI, 0.01)
	assert.Less(t, fr.JS, 0.05)
	assert.Less(t, fr.NormalizedWasserstein, 0.1)
	assert.Equal(t, LevelOK, fr.Level, fr.Reasons)
	assert.False(t, fr.Sparse)
}

func TestMonitorShift(t *testing.T) {
	m := newNumMonitor(t, normals(1, 20000, 0, 1), Config{})
	for _, v := range normals(2, 20000, 1, 1) { // one sd shift
		m.Observe("x", v)
	}
	m.Observe("x", math.NaN())
	m.Observe("x", 1e9)
	fr := m.Report().Features[0]
	assert.Equal(t, LevelCritical, fr.Level)
	assert.Greater(t, fr.PSI, 0.25)
	assert.InDelta(t, 1.0, fr.NormalizedWasserstein, 0.15) // a mean shift of 1 sd moves mass 1 sd
	assert.Less(t, fr.KS.PValue, 1e-6)
	assert.InDelta(t, 0.38, fr.KS.Statistic, 0.06) // 2*Phi(0.5)-1 = 0.383 for a 1 sd shift
	assert.InDelta(t, 1.0/20002, fr.MissingRate, 1e-12)
	assert.Greater(t, fr.OutOfRangeRate, 0.0)
	assert.NotEmpty(t, fr.Reasons)
}

func TestMonitorSparseAndUnknown(t *testing.T) {
	m := newNumMonitor(t, normals(1, 1000, 0, 1), Config{})
	m.Observe("x", 100)
	m.Observe("nope", 1)
	m.ObserveCategory("x", "a") // wrong kind
	rep := m.Report()
	assert.True(t, rep.Features[0].Sparse)
	assert.Equal(t, LevelOK, rep.Features[0].Level)
	assert.Equal(t, uint64(2), rep.Unknown)
	m.Reset()
	rep = m.Report()
	assert.Equal(t, uint64(0), rep.Features[0].Count)
	assert.Equal(t, uint64(0), rep.Unknown)
}

func TestMonitorReservoirDeterministic(t *testing.T) {
	run := func() Report {
		m := newNumMonitor(t, normals(1, 5000, 0, 1), Config{SampleSize: 64, Seed: 7})
		for _, v := range normals(3, 10000, 0.2, 1) {
			m.Observe("x", v)
		}
		return m.Report()
	}
	a, b := run(), run()
	assert.Equal(t, a.Features[0].KS, b.Features[0].KS)
	assert.Equal(t, a.Features[0].Wasserstein, b.Features[0].Wasserstein)
}

func TestMonitorCategorical(t *testing.T) {
	ref, err := NewCategoricalReference("device", []string{"ios", "ios", "web", "android"}, ReferenceConfig{})
	require.NoError(t, err)
	m, err := New(Config{References: []*Reference{ref}, Thresholds: Thresholds{MinCount: 1}})
	require.NoError(t, err)
	for i := 0; i < 100; i++ {
		m.ObserveCategory("device", "ios")
		m.ObserveCategory("device", "tv") // unseen category
	}
	m.ObserveCategory("device", "")
	fr := m.Report().Features[0]
	assert.Equal(t, KindCategorical, fr.Kind)
	assert.Equal(t, uint64(201), fr.Count)
	assert.InDelta(t, 0.5, fr.OutOfRangeRate, 1e-12)
	assert.Equal(t, uint64(2), fr.Cardinality)
	// PSI by hand over bins ios/web/android/other: ref .5/.25/.25/0,
	// cur .5/0/0/.5 with eps 1e-4.
	want := 2*(1e-4-0.25)*math.Log(1e-4/0.25) + (0.5-1e-4)*math.Log(0.5/1e-4)
	assert.InDelta(t, want, fr.PSI, 1e-12)
	assert.Equal(t, LevelCritical, fr.Level)
}

// TestCardinalityHLL checks the distinct count against the HyperLogLog
// error bound: standard error 1.04/sqrt(m) with m = 2^14 registers
// (Flajolet et al. 2007), 0.8125%; we allow 3 standard errors.
func TestCardinalityHLL(t *testing.T) {
	m, err := New(Config{IDs: []string{"user"}})
	require.NoError(t, err)
	const n = 200_000
	for i := 0; i < n; i++ {
		id := "u" + strconv.Itoa(i)
		m.ObserveID("user", id)
		m.ObserveID("user", id) // repeats do not count
	}
	fr := m.Report().Features[0]
	rel := math.Abs(float64(fr.Cardinality)-n) / n
	assert.Less(t, rel, 3*1.04/math.Sqrt(1<<14), "estimate %d", fr.Cardinality)

	// Sketches merge across monitors: two halves give the whole.
	a, _ := New(Config{IDs: []string{"user"}})
	b, _ := New(Config{IDs: []string{"user"}})
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			a.ObserveID("user", "u"+strconv.Itoa(i))
		} else {
			b.ObserveID("user", "u"+strconv.Itoa(i))
		}
	}
	sa, err := a.Sketch("user")
	require.NoError(t, err)
	sb, _ := b.Sketch("user")
	require.NoError(t, sa.Merge(sb))
	assert.Less(t, math.Abs(float64(sa.Estimate())-n)/n, 3*1.04/math.Sqrt(1<<14))
	_, err = a.Sketch("nope")
	assert.Error(t, err)
}

func TestFreshness(t *testing.T) {
	m, err := New(Config{Sources: []string{"features"}})
	require.NoError(t, err)
	for i := 0; i < 99; i++ {
		m.ObserveAge("features", 300*time.Millisecond) // bucket [256, 512) ms
	}
	m.ObserveAge("features", 10*time.Second)
	m.ObserveAge("features", -time.Second) // skew counts as 0
	s := m.Report().Sources[0]
	assert.Equal(t, uint64(101), s.Count)
	assert.Equal(t, 512*time.Millisecond, s.P50)
	assert.Equal(t, 512*time.Millisecond, s.P99) // rank ceil(0.99*101)=100 is still a 300 ms age
	assert.Equal(t, 10*time.Second, s.Max)
	assert.InDelta(t, float64((99*300+10000)*time.Millisecond/101), float64(s.Mean), float64(time.Millisecond))
}

func TestObserveAllocs(t *testing.T) {
	ref, _ := NewCategoricalReference("device", []string{"ios", "web"}, ReferenceConfig{})
	m := newNumMonitor(t, normals(1, 1000, 0, 1), Config{References: []*Reference{ref}, IDs: []string{"user"}, Sources: []string{"events"}})
	var i float64
	assert.Zero(t, testing.AllocsPerRun(1000, func() { i++; m.Observe("x", i) }))
	assert.Zero(t, testing.AllocsPerRun(1000, func() { m.ObserveCategory("device", "web") }))
	assert.Zero(t, testing.AllocsPerRun(1000, func() { m.ObserveID("user", "u-123") }))
	assert.Zero(t, testing.AllocsPerRun(1000, func() { m.ObserveAge("events", time.Second) }))
}

func TestNewValidates(t *testing.T) {
	r, _ := NewNumericReference("x", []float64{1, 2}, ReferenceConfig{})
	bad := *r
	bad.Proportions = []float64{2}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"nil ref", Config{References: []*Reference{nil}}, "References[0]: nil"},
		{"invalid ref", Config{References: []*Reference{&bad}}, "References[0]"},
		{"dup", Config{References: []*Reference{r, r}}, "duplicate"},
		{"dup id", Config{References: []*Reference{r}, IDs: []string{"x"}}, "IDs[0]"},
		{"empty source", Config{Sources: []string{""}}, "Sources[0]"},
		{"sample", Config{SampleSize: -1}, "SampleSize"},
		{"threshold", Config{Thresholds: Thresholds{PSIWarn: math.NaN()}}, "PSIWarn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestReportAlerts(t *testing.T) {
	var got []alert.Alert
	ev, err := alert.New(alert.Config{
		Handler: alert.HandlerFunc(func(_ context.Context, a alert.Alert) { got = append(got, a) }),
		Rules:   DefaultRules(Thresholds{}, time.Minute, 10*time.Minute),
	})
	require.NoError(t, err)
	m := newNumMonitor(t, normals(1, 5000, 0, 1), Config{Sources: []string{"events"}})
	for _, v := range normals(2, 5000, 2, 1) {
		m.Observe("x", v)
	}
	m.ObserveAge("events", 20*time.Minute)
	require.NoError(t, m.Report().Alert(context.Background(), ev, "all/"))
	names := map[string]alert.Severity{}
	for _, a := range got {
		names[a.Rule+" "+a.Key] = a.Severity
	}
	assert.Equal(t, alert.SeverityCritical, names["drift.psi.critical all/x"])
	assert.Equal(t, alert.SeverityRoutine, names["drift.psi all/x"])
	assert.Equal(t, alert.SeverityCritical, names["freshness.p99_seconds.critical all/events"])
	_, missing := names["drift.missing_rate all/x"]
	assert.False(t, missing)
}

func TestSegmented(t *testing.T) {
	r, _ := NewNumericReference("x", normals(1, 1000, 0, 1), ReferenceConfig{})
	s, err := NewSegmented(Config{References: []*Reference{r}}, 2)
	require.NoError(t, err)
	a := s.For(segment.Key{Device: "ios"})
	assert.Same(t, a, s.For(segment.Key{Device: "ios"}))
	b := s.For(segment.Key{Device: "web"})
	assert.NotSame(t, a, b)
	of := s.For(segment.Key{Device: "tv"})
	assert.Same(t, of, s.For(segment.Key{Device: "car"}))
	a.Observe("x", 1)
	of.Observe("x", 1)
	reps := s.Reports()
	require.Len(t, reps, 3)
	assert.Equal(t, "device=ios", reps[0].Key.String())
	assert.Equal(t, OverflowKey, reps[2].Key)
	s.Reset()
	assert.Len(t, s.Reports(), 2)
	_, err = NewSegmented(Config{}, -1)
	assert.Error(t, err)
}

func impression(i int, device string, score float64) personalize.Event {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	im := &personalize.Impression{EventID: personalize.NewEventID(), RequestID: "r" + strconv.Itoa(i), Start: start, End: start.Add(20 * time.Millisecond),
		UserID: personalize.Pseudonym{ID: "u" + strconv.Itoa(i%50)}, Surface: "home",
		Context: []personalize.Attr{{Key: personalize.AttrDevice, Value: device}},
		Items:   []personalize.Item{{ID: "a", Position: 1, Score: score, Category: "news"}, {ID: "b", Position: 2, Score: score - 1, Category: "sport"}}}
	return personalize.Event{Type: personalize.EventImpression, Impression: im}
}

func TestEventMonitor(t *testing.T) {
	rb, err := NewReferenceBuilder(ReferenceConfig{}, 0)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		require.NoError(t, rb.Add(impression(i, []string{"ios", "web"}[i%2], rng.NormFloat64())))
	}
	refs, err := rb.Build()
	require.NoError(t, err)
	var names []string
	for _, r := range refs {
		names = append(names, r.Feature)
	}
	// region has only missing values: no reference.
	assert.Equal(t, []string{"category", "device", "items", "latency_ms", "score", "surface"}, names)

	seg, err := NewSegmented(Config{References: refs, IDs: []string{FeatureUser}, Sources: []string{SourceEvents}}, 0)
	require.NoError(t, err)
	keyer, err := segment.NewKeyer(segment.Config{Dims: segment.DimDevice})
	require.NoError(t, err)
	now := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	em, err := NewEventMonitor(seg, keyer, func() time.Time { return now })
	require.NoError(t, err)
	var batch []personalize.Event
	for i := 0; i < 2000; i++ {
		batch = append(batch, impression(i, "ios", rng.NormFloat64()+3)) // scores shifted by 3 sd, all ios
	}
	require.NoError(t, em.Export(context.Background(), batch))
	reps := seg.Reports()
	require.Len(t, reps, 2) // all traffic and device=ios
	assert.True(t, reps[0].Key.IsZero())
	assert.Equal(t, "device=ios", reps[1].Key.String())
	byName := map[string]FeatureReport{}
	for _, f := range reps[0].Report.Features {
		byName[f.Feature] = f
	}
	assert.Equal(t, LevelCritical, byName["score"].Level)
	assert.Equal(t, LevelOK, byName["items"].Level, byName["items"].Reasons)
	assert.Greater(t, byName["device"].PSI, 0.25) // 50/50 became all ios
	assert.Equal(t, uint64(50), byName["user"].Cardinality)
	require.Len(t, reps[0].Report.Sources, 1)
	assert.Equal(t, uint64(2000), reps[0].Report.Sources[0].Count)
	assert.GreaterOrEqual(t, reps[0].Report.Sources[0].Max, 2*time.Hour-2000*time.Second)
	_, err = NewEventMonitor(nil, nil, nil)
	assert.Error(t, err)
}

func BenchmarkObserve(b *testing.B) {
	m := newNumMonitor(b, normals(1, 5000, 0, 1), Config{})
	vals := normals(2, 1024, 0, 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Observe("x", vals[i&1023])
	}
}

func BenchmarkObserveParallel(b *testing.B) {
	m := newNumMonitor(b, normals(1, 5000, 0, 1), Config{})
	vals := normals(2, 1024, 0, 1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Observe("x", vals[i&1023])
			i++
		}
	})
}

func BenchmarkObserveCategory(b *testing.B) {
	ref, _ := NewCategoricalReference("device", []string{"ios", "web", "android"}, ReferenceConfig{})
	m, _ := New(Config{References: []*Reference{ref}})
	vals := []string{"ios", "web", "android", "tv"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.ObserveCategory("device", vals[i&3])
	}
}

func BenchmarkObserveAge(b *testing.B) {
	m, _ := New(Config{Sources: []string{"events"}})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.ObserveAge("events", time.Duration(i)*time.Microsecond)
	}
}

func BenchmarkReport(b *testing.B) {
	m := newNumMonitor(b, normals(1, 2048, 0, 1), Config{})
	for _, v := range normals(2, 5000, 0, 1) {
		m.Observe("x", v)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Report()
	}
}

// TestObserveScoresMatchesObserve: the list path the event adapter uses
// for item scores leaves exactly the state of observing each score in
// turn (bins, missing, out of range, count and the reservoir sample),
// including NaN, infinities and values outside the reference range, well
// past the reservoir's size.
func TestObserveScoresMatchesObserve(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	ref, err := NewNumericReference("score", func() []float64 {
		v := make([]float64, 5000)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}(), ReferenceConfig{})
	require.NoError(t, err)
	mk := func() *numericFeature {
		return &numericFeature{ref: ref, counts: make([]atomic.Uint64, len(ref.Edges)+1),
			sample: make([]atomic.Uint64, 64), seed: 42}
	}
	one, list := mk(), mk()
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e9, -1e9}
	for range 2000 {
		items := make([]personalize.Item, rng.IntN(12))
		for i := range items {
			items[i].Score = rng.NormFloat64() * 1.5
			if rng.IntN(20) == 0 {
				items[i].Score = specials[rng.IntN(len(specials))]
			}
			one.observe(items[i].Score)
		}
		list.observeScores(items)
	}
	load := func(s []atomic.Uint64) []uint64 {
		out := make([]uint64, len(s))
		for i := range s {
			out[i] = s[i].Load()
		}
		return out
	}
	require.Positive(t, one.missing.Load())
	require.Positive(t, one.outOfRange.Load())
	assert.Equal(t, load(one.counts), load(list.counts))
	assert.Equal(t, one.missing.Load(), list.missing.Load())
	assert.Equal(t, one.outOfRange.Load(), list.outOfRange.Load())
	assert.Equal(t, one.seen.Load(), list.seen.Load())
	assert.Equal(t, load(one.sample), load(list.sample))
}

// TestBinOfIsUpperBound: binOf is the number of edges <= v (sort's upper
// bound) for every edge count, on edges, between them and beyond.
func TestBinOfIsUpperBound(t *testing.T) {
	for n := range 20 {
		edges := make([]float64, n)
		for i := range edges {
			edges[i] = float64(2 * i)
		}
		for v := -2.0; v <= float64(2*n+1); v += 0.5 {
			want := sort.Search(n, func(i int) bool { return edges[i] > v })
			require.Equal(t, want, binOf(edges, v), "n=%d v=%v", n, v)
		}
		require.Equal(t, 0, binOf(edges, math.NaN()))
		require.Equal(t, n, binOf(edges, math.Inf(1)))
	}
}
