package experiment

import (
	"bytes"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// stateTestMetrics cover every aggregate, a value metric with fractional
// values (dwell seconds) and a custom outcome.
func stateTestMetrics() []Metric {
	return append(DefaultMetrics(),
		Metric{Name: "dwell", Kind: personalize.OutcomeDwell, Aggregate: AggregateValue},
		Metric{Name: "scroll_count", Kind: personalize.OutcomeScroll, Aggregate: AggregateCount},
	)
}

// stableVariants makes most users keep one variant of ranker-v42 (as real
// assignment does), so arms have units; the rest stay random and give
// conflicts.
func stableVariants(events []personalize.Event) {
	for _, e := range events {
		var user string
		var as []personalize.Assignment
		switch {
		case e.Impression != nil:
			user, as = e.Impression.UserID.ID, e.Impression.Experiments
		case e.Exposure != nil:
			user = e.Exposure.UserID.ID
			h := fnv.New32a()
			h.Write([]byte(user))
			if h.Sum32()%10 != 0 {
				e.Exposure.Variant = []string{"control", "treatment"}[h.Sum32()%2]
			}
			continue
		}
		h := fnv.New32a()
		h.Write([]byte(user))
		for i := range as {
			if as[i].Experiment == "ranker-v42" && h.Sum32()%10 != 0 {
				as[i].Variant = []string{"control", "treatment"}[h.Sum32()%2]
			}
		}
	}
}

func userOf(e personalize.Event) string {
	switch {
	case e.Impression != nil:
		return e.Impression.UserID.ID
	case e.Outcome != nil:
		return e.Outcome.UserID.ID
	case e.Exposure != nil:
		return e.Exposure.UserID.ID
	case e.Link != nil:
		return e.Link.UserID.ID
	}
	return ""
}

func collect(t *testing.T, events []personalize.Event) *Collector {
	t.Helper()
	c, err := NewCollector(CollectorConfig{Metrics: stateTestMetrics()})
	require.NoError(t, err)
	for _, e := range events {
		c.Add(e)
	}
	return c
}

func roundTrip(t *testing.T, s *State) *State {
	t.Helper()
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	var d State
	require.NoError(t, d.UnmarshalBinary(b))
	b2, err := d.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, b, b2, "canonical encoding")
	return &d
}

// TestStateMergeEqualsOnePass is the property: random events, units split
// at random over 1..8 shards, each shard's state serialized and decoded,
// merged in a random order and along a random tree, equal the state (and
// the report) of one pass over all events, bit for bit.
func TestStateMergeEqualsOnePass(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 42))
		events := personalizetest.RandomEvents(rng, 200+rng.IntN(3000))
		stableVariants(events)
		want := collect(t, events).State()
		require.NotEmpty(t, want.Experiments)

		k := 1 + rng.IntN(8)
		shardOf := map[string]int{}
		parts := make([][]personalize.Event, k)
		for _, e := range events {
			u := userOf(e)
			s, ok := shardOf[u]
			if !ok {
				s = rng.IntN(k)
				shardOf[u] = s
			}
			parts[s] = append(parts[s], e)
		}
		states := make([]*State, k)
		for i := range parts {
			states[i] = roundTrip(t, collect(t, parts[i]).State())
		}

		// A random order, folded left.
		left := &State{Metrics: stateTestMetrics()}
		for _, i := range rng.Perm(k) {
			require.NoError(t, left.Merge(states[i]))
		}
		require.True(t, want.Equal(left), "seed %d: fold of %d shards", seed, k)

		// A random tree (associativity and commutativity at once).
		pool := append([]*State(nil), states...)
		for len(pool) > 1 {
			i := rng.IntN(len(pool))
			a := pool[i]
			pool = append(pool[:i], pool[i+1:]...)
			j := rng.IntN(len(pool))
			b := pool[j]
			c := roundTrip(t, b)
			require.NoError(t, c.Merge(a))
			pool[j] = roundTrip(t, c)
		}
		require.True(t, want.Equal(pool[0]), "seed %d: tree of %d shards", seed, k)

		wb, _ := want.MarshalBinary()
		gb, _ := left.MarshalBinary()
		require.Equal(t, wb, gb)

		for _, name := range []string{"ranker-v42", "thumbnails"} {
			cfg := AnalysisConfig{Experiment: name}
			if name == "thumbnails" {
				cfg.Control = "a"
			}
			r1, err1 := want.Analyze(cfg)
			r2, err2 := left.Analyze(cfg)
			require.Equal(t, err1 == nil, err2 == nil)
			if err1 != nil {
				continue
			}
			requireBitEqual(t, r1, r2, name)
			var t1, t2 bytes.Buffer
			require.NoError(t, r1.WriteText(&t1))
			require.NoError(t, r2.WriteText(&t2))
			require.Equal(t, t1.String(), t2.String())
		}
	}
}

// requireBitEqual compares two values field by field, floats by their
// bits (so NaN equals NaN and 0.1+0.2 does not equal 0.3).
func requireBitEqual(t *testing.T, a, b any, what string) {
	t.Helper()
	var walk func(x, y reflect.Value, path string)
	walk = func(x, y reflect.Value, path string) {
		switch x.Kind() {
		case reflect.Float64, reflect.Float32:
			require.Equal(t, math.Float64bits(x.Float()), math.Float64bits(y.Float()), "%s%s: %v vs %v", what, path, x.Float(), y.Float())
		case reflect.Pointer, reflect.Interface:
			require.Equal(t, x.IsNil(), y.IsNil(), "%s%s", what, path)
			if !x.IsNil() {
				walk(x.Elem(), y.Elem(), path)
			}
		case reflect.Struct:
			if x.Type() == reflect.TypeFor[time.Time]() {
				require.True(t, x.Interface().(time.Time).Equal(y.Interface().(time.Time)), "%s%s", what, path)
				return
			}
			for i := range x.NumField() {
				walk(x.Field(i), y.Field(i), path+"."+x.Type().Field(i).Name)
			}
		case reflect.Slice, reflect.Array:
			require.Equal(t, x.Len(), y.Len(), "%s%s", what, path)
			for i := range x.Len() {
				walk(x.Index(i), y.Index(i), path+"[]")
			}
		case reflect.Map:
			require.Equal(t, x.Len(), y.Len(), "%s%s", what, path)
		default:
			if x.CanInterface() {
				require.Equal(t, x.Interface(), y.Interface(), "%s%s", what, path)
			}
		}
	}
	walk(reflect.ValueOf(a), reflect.ValueOf(b), "")
}

func TestCollectorAnalyzeMatchesState(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	events := personalizetest.RandomEvents(rng, 2000)
	stableVariants(events)
	c := collect(t, events)
	r1, err := c.Analyze(AnalysisConfig{Experiment: "ranker-v42"})
	require.NoError(t, err)
	r2, err := roundTrip(t, c.State()).Analyze(AnalysisConfig{Experiment: "ranker-v42"})
	require.NoError(t, err)
	requireBitEqual(t, r1, r2, "report")
	assert.Positive(t, r1.Conflicts)
	assert.Positive(t, r1.Arms[0].Units)
}

func TestSumsMatchWelford(t *testing.T) {
	// The exact sums give the same summary as the Welford accumulator up
	// to its rounding (Welford rounds at every step, the sums once), on
	// data with a large mean where naive sums of squares cancel.
	rng := rand.New(rand.NewPCG(1, 9))
	var s Sums
	var n, mean, m2 float64
	for range 10000 {
		y := 1e9 + rng.NormFloat64()
		s.Add(y, 0)
		n++
		d := y - mean
		mean += d / n
		m2 += d * (y - mean)
	}
	b, err := s.bivariate()
	require.NoError(t, err)
	assert.InDelta(t, mean, b.Y().Mean, 1e-6)
	assert.InEpsilon(t, m2/(n-1), b.Y().Var, 1e-6)
	assert.InDelta(t, 1, b.Y().Var, 0.05)
}

func TestNewSumsFromWarehouseAggregates(t *testing.T) {
	// Per-arm (n, sum, sum of squares) as SQL computes them analyse like
	// the collector's sums: R's t.test on the sleep data (Welch, extra
	// ~ group): t = -1.8608, df = 17.776, p-value = 0.07939.
	g1 := []float64{0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0}
	g2 := []float64{1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4}
	agg := func(v []float64) Sums {
		var s, ss float64
		for _, x := range v {
			s += x
			ss += x * x
		}
		return NewSums(int64(len(v)), s, ss)
	}
	m := []Metric{{Name: "extra", Kind: personalize.OutcomePurchase, Aggregate: AggregateValue}}
	st := &State{Metrics: m, Experiments: []ExperimentState{{Name: "sleep", Arms: []ArmState{
		{Variant: "control", Units: 10, Metrics: []Sums{agg(g1)}},
		{Variant: "treatment", Units: 10, Metrics: []Sums{agg(g2)}},
	}}}}
	r, err := st.Analyze(AnalysisConfig{Experiment: "sleep"})
	require.NoError(t, err)
	mt := r.Metrics[0].Comparisons[0].Mean
	require.NotNil(t, mt)
	assert.InDelta(t, 1.8608, mt.T, 1e-4) // treatment - control: the sign of R's group 2 vs 1
	assert.InDelta(t, 17.776, mt.DF, 1e-3)
	assert.InDelta(t, 0.07939, mt.P, 1e-5)
	assert.Nil(t, r.Metrics[0].Comparisons[0].CUPED, "no covariate, no CUPED")
}

func TestStateMergeRejectsIncompatible(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	events := personalizetest.RandomEvents(rng, 500)
	a := collect(t, events).State()
	c, err := NewCollector(CollectorConfig{})
	require.NoError(t, err)
	for _, e := range events {
		c.Add(e)
	}
	b := c.State()
	before, _ := a.MarshalBinary()
	assert.ErrorContains(t, a.Merge(b), "Metrics: 6 metrics vs 4")
	after, _ := a.MarshalBinary()
	assert.Equal(t, before, after, "a failed merge changes nothing")

	m := stateTestMetrics()
	m[1].Aggregate = AggregateValue
	d := &State{Metrics: m}
	assert.ErrorContains(t, a.Merge(d), "Metrics[1]")

	bad := roundTrip(t, a) // a deep copy
	bad.Experiments[0].Arms[0].Units++
	assert.ErrorContains(t, a.Merge(bad), "argument: experiment: State.Experiments[0].Arms[0].Metrics[0].N")
}

func TestStateValidateNamesField(t *testing.T) {
	m := DefaultMetrics()
	arm := func(v string, units int64) ArmState {
		return ArmState{Variant: v, Units: units, Metrics: []Sums{NewSums(units, 1, 1), NewSums(units, 1, 1), NewSums(units, 1, 1), NewSums(units, 1, 1)}}
	}
	for _, tc := range []struct {
		st   State
		want string
	}{
		{State{Metrics: []Metric{{Name: ""}}}, "State.Metrics[0].Name"},
		{State{Metrics: m, Experiments: []ExperimentState{{Name: "b"}, {Name: "a"}}}, "Experiments[1].Name"},
		{State{Metrics: m, Experiments: []ExperimentState{{Name: "a", Arms: []ArmState{arm("t", 3), arm("c", 3)}}}}, "Arms[1].Variant"},
		{State{Metrics: m, Experiments: []ExperimentState{{Name: "a", Arms: []ArmState{{Variant: "c", Units: 1}}}}}, "Arms[0].Metrics: 0 sums"},
		{State{Metrics: m, Experiments: []ExperimentState{{Name: "a", Arms: []ArmState{arm("c", 0)}}}}, "Metrics[0].Sum: 1 is not a count"},
		{State{Metrics: m, Experiments: []ExperimentState{{Name: "a", Conflicts: -1}}}, "Conflicts"},
	} {
		err := tc.st.Validate()
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func TestStateUnmarshalRejects(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	good, err := collect(t, personalizetest.RandomEvents(rng, 300)).State().MarshalBinary()
	require.NoError(t, err)
	var s State
	assert.ErrorContains(t, s.UnmarshalBinary(good[:3]), "header")
	assert.ErrorContains(t, s.UnmarshalBinary(append([]byte("RSEY"), good[4:]...)), "magic")
	v2 := append([]byte(nil), good...)
	v2[4] = 2
	assert.ErrorContains(t, s.UnmarshalBinary(v2), "version: 2")
	assert.ErrorContains(t, s.UnmarshalBinary(good[:len(good)-1]), "experiment.State: Experiments[")
	assert.ErrorContains(t, s.UnmarshalBinary(append(good, 0)), "after the end")
	huge := append([]byte("RSEX\x01"), 0xff, 0xff, 0x03)
	assert.ErrorContains(t, s.UnmarshalBinary(huge), "Metrics: 65535 exceeds")
}

func FuzzStateUnmarshal(f *testing.F) {
	rng := rand.New(rand.NewPCG(11, 11))
	for _, n := range []int{0, 20, 200} {
		c, _ := NewCollector(CollectorConfig{Metrics: stateTestMetrics()})
		for _, e := range personalizetest.RandomEvents(rng, n) {
			c.Add(e)
		}
		b, err := c.State().MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("RSEX\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s State
		if err := s.UnmarshalBinary(b); err != nil {
			if !strings.HasPrefix(err.Error(), "experiment") {
				t.Fatalf("error does not say where: %v", err)
			}
			return
		}
		again, err := s.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, b, again, "a decoded state re-encodes to the same bytes")
		for _, e := range s.Experiments {
			_, _ = s.Analyze(AnalysisConfig{Experiment: e.Name}) // must not panic
		}
	})
}
