package experiment

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/experiment/stats"
)

func TestHashIsTheDocumentedFunction(t *testing.T) {
	// Expected values come from an independent Python implementation of the
	// specification in hash.go (FNV-1a 64 over salt, 0xFF, unit; then fmix64).
	for _, tc := range []struct {
		salt, unit string
		want       uint64
	}{
		{"ranker-v42", "user-000123", 15215757025433468275},
		{"", "", 1998855519756462295},
		{"layer-1", "ψ-unit", 15215560273326181069},
	} {
		t.Run(tc.salt+"/"+tc.unit, func(t *testing.T) {
			assert.Equal(t, tc.want, Hash(tc.salt, tc.unit))
		})
	}
}

func units(n int) []string {
	out := make([]string, n)
	buf := make([]byte, 0, 16)
	for i := range out {
		buf = append(buf[:0], "user-"...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		out[i] = string(buf)
	}
	return out
}

var millionUnits = sync.OnceValue(func() []string { return units(1_000_000) })

func TestUniformity(t *testing.T) {
	// Sequential ids are the hard case for a weak hash. Pearson chi-square
	// GOF over a million units must not reject at 0.001 (it would, with
	// overwhelming p-values, for FNV-1a without the finalizer's low bits).
	t.Run("1000 buckets of the raw hash", func(t *testing.T) {
		counts := make([]int64, 1000)
		w := make([]float64, 1000)
		for i := range w {
			w[i] = 1
		}
		for _, u := range millionUnits() {
			counts[(Hash("uniformity", u)>>32)*1000>>32]++
		}
		r, err := stats.ChiSquareGOF(counts, w)
		require.NoError(t, err)
		t.Logf("chi2=%.1f df=%d p=%.3f", r.Stat, r.DF, r.P)
		assert.Greater(t, r.P, 0.001)
	})
	t.Run("weighted variants", func(t *testing.T) {
		e, err := New(Config{Name: "ranker-v42", Variants: []Variant{{"control", 5}, {"a", 3}, {"b", 2}}})
		require.NoError(t, err)
		idx := map[string]int{"control": 0, "a": 1, "b": 2}
		counts := make([]int64, 3)
		for _, u := range millionUnits() {
			v, r := e.Assign(u)
			require.Equal(t, ReasonAssigned, r)
			counts[idx[v]]++
		}
		r, err := stats.ChiSquareGOF(counts, []float64{5, 3, 2})
		require.NoError(t, err)
		t.Logf("counts=%v p=%.3f", counts, r.P)
		assert.Greater(t, r.P, 0.001)
	})
	t.Run("traffic fraction", func(t *testing.T) {
		e, err := New(Config{Name: "x", Variants: []Variant{{"c", 1}, {"t", 1}}, Traffic: 0.3})
		require.NoError(t, err)
		var in int64
		for _, u := range millionUnits() {
			if _, r := e.Assign(u); r == ReasonAssigned {
				in++
			}
		}
		r, err := stats.ChiSquareGOF([]int64{in, int64(len(millionUnits())) - in}, []float64{0.3, 0.7})
		require.NoError(t, err)
		assert.Greater(t, r.P, 0.001, "in=%d", in)
	})
}

func TestAssignDeterministicAndRampSafe(t *testing.T) {
	vs := []Variant{{"control", 1}, {"treatment", 1}}
	e10, err := New(Config{Name: "ranker-v42", Variants: vs, Traffic: 0.1})
	require.NoError(t, err)
	e20, err := New(Config{Name: "ranker-v42", Variants: vs, Traffic: 0.2})
	require.NoError(t, err)
	again, err := New(Config{Name: "ranker-v42", Variants: vs, Traffic: 0.1})
	require.NoError(t, err)
	resalted, err := New(Config{Name: "ranker-v42", Salt: "ranker-v42-run2", Variants: vs})
	require.NoError(t, err)
	moved := 0
	for _, u := range millionUnits()[:100000] {
		v10, r10 := e10.Assign(u)
		v, r := again.Assign(u)
		require.Equal(t, v10, v)
		require.Equal(t, r10, r)
		if r10 == ReasonAssigned {
			v20, r20 := e20.Assign(u)
			require.Equal(t, ReasonAssigned, r20, "ramp-up must keep enrolled units")
			require.Equal(t, v10, v20, "ramp-up must keep the arm")
			if v2, _ := resalted.Assign(u); v2 != v10 {
				moved++
			}
		}
	}
	assert.InDelta(t, 0.5, float64(moved)/10000, 0.05, "a new salt re-randomizes about half the units")
	v, r := e10.Assign("")
	assert.Equal(t, "", v)
	assert.Equal(t, ReasonEmptyUnit, r)
}

func TestConfigErrors(t *testing.T) {
	vs := []Variant{{"c", 1}, {"t", 1}}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no name", Config{Variants: vs}, "Config.Name"},
		{"one variant", Config{Name: "x", Variants: vs[:1]}, "Config.Variants"},
		{"dup", Config{Name: "x", Variants: []Variant{{"c", 1}, {"c", 1}}}, "duplicate"},
		{"weight", Config{Name: "x", Variants: []Variant{{"c", 1}, {"t", -1}}}, "Variants[1].Weight"},
		{"traffic", Config{Name: "x", Variants: vs, Traffic: 1.5}, "Traffic"},
		{"salt", Config{Name: "x", Salt: "\xff", Variants: vs}, "Salt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func newLayer(t testing.TB, name string, shares ...int) (*Layer, []*Experiment) {
	var slots []Slot
	var exps []*Experiment
	for i, s := range shares {
		e, err := New(Config{Name: name + "-exp" + strconv.Itoa(i), Variants: []Variant{{"control", 1}, {"treatment", 1}}})
		require.NoError(t, err)
		exps = append(exps, e)
		slots = append(slots, Slot{Experiment: e, Buckets: s})
	}
	l, err := NewLayer(LayerConfig{Name: name, Buckets: 100, Slots: slots})
	require.NoError(t, err)
	return l, exps
}

func TestLayersHoldout(t *testing.T) {
	l1, _ := newLayer(t, "ranking", 50, 30) // 20 buckets unused
	l2, _ := newLayer(t, "layout", 100)
	a, err := NewAssigner(&Holdout{Salt: "global-holdout-2026", Fraction: 0.05}, l1, l2)
	require.NoError(t, err)
	count := map[string]int{}
	var holdout int
	dst := make([]personalize.Assignment, 0, 4)
	for _, u := range millionUnits()[:200000] {
		dst = a.Append(dst[:0], u)
		perLayer := map[string]int{}
		for _, as := range dst {
			count[as.Experiment]++
			if as.Experiment == "holdout" {
				holdout++
				require.Len(t, dst, 1, "a held-out unit gets no experiment")
			}
			if len(as.Experiment) > 7 {
				perLayer[as.Experiment[:7]]++
			}
		}
		for layer, n := range perLayer {
			require.LessOrEqual(t, n, 1, "unit %s in two experiments of layer %s", u, layer)
		}
	}
	n := 200000.0
	assert.InDelta(t, 0.05, float64(holdout)/n, 0.003)
	assert.InDelta(t, 0.95*0.5, float64(count["ranking-exp0"])/n, 0.006)
	assert.InDelta(t, 0.95*0.3, float64(count["ranking-exp1"])/n, 0.006)
	assert.InDelta(t, 0.95, float64(count["layout-exp0"])/n, 0.003)

	_, err = NewLayer(LayerConfig{Name: "x", Buckets: 10, Slots: []Slot{{Experiment: &Experiment{}, Buckets: 11}}})
	require.ErrorContains(t, err, "Slots[0].Buckets")
	_, err = NewAssigner(&Holdout{Salt: "s", Fraction: 1}, l1)
	require.ErrorContains(t, err, "Fraction")
	_, err = NewAssigner(nil, l1, l1)
	require.ErrorContains(t, err, "twice")
}

func TestAssignDoesNotAllocate(t *testing.T) {
	e, err := New(Config{Name: "ranker-v42", Variants: []Variant{{"control", 1}, {"treatment", 1}}})
	require.NoError(t, err)
	l1, _ := newLayer(t, "ranking", 50, 50)
	l2, _ := newLayer(t, "layout", 100)
	a, err := NewAssigner(&Holdout{Salt: "h", Fraction: 0.01}, l1, l2)
	require.NoError(t, err)
	dst := make([]personalize.Assignment, 0, 4)
	assert.Zero(t, testing.AllocsPerRun(1000, func() { e.Assign("user-000123") }))
	assert.Zero(t, testing.AllocsPerRun(1000, func() { dst = a.Append(dst[:0], "user-000123") }))
}

func BenchmarkAssign(b *testing.B) {
	e, err := New(Config{Name: "ranker-v42", Variants: []Variant{{"control", 1}, {"treatment", 1}}, Traffic: 0.9})
	require.NoError(b, err)
	us := millionUnits()[:1024]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e.Assign(us[i&1023])
	}
}

func BenchmarkAssignParallel(b *testing.B) {
	e, err := New(Config{Name: "ranker-v42", Variants: []Variant{{"control", 1}, {"treatment", 1}}})
	require.NoError(b, err)
	us := millionUnits()[:1024]
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			e.Assign(us[i&1023])
			i++
		}
	})
}

func BenchmarkAssignerAppend(b *testing.B) {
	l1, _ := newLayer(b, "ranking", 50, 50)
	l2, _ := newLayer(b, "layout", 100)
	l3, _ := newLayer(b, "ui", 30, 30, 40)
	a, err := NewAssigner(&Holdout{Salt: "h", Fraction: 0.02}, l1, l2, l3)
	require.NoError(b, err)
	dst := make([]personalize.Assignment, 0, 4)
	us := millionUnits()[:1024]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		dst = a.Append(dst[:0], us[i&1023])
	}
}
