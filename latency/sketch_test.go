package latency

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Data sets for accuracy tests, in nanoseconds, all within
// [SketchMin, SketchMax] so the relative-accuracy guarantee applies.
func dataSets(n int) map[string][]time.Duration {
	r := rand.New(rand.NewPCG(1, 2))
	clampD := func(x float64) time.Duration {
		return time.Duration(min(max(x, float64(SketchMin)), float64(SketchMax)))
	}
	sets := map[string][]time.Duration{}
	var u, ln, bi []time.Duration
	for range n {
		// uniform on [100 µs, 10 ms]
		u = append(u, clampD(100e3+r.Float64()*(10e6-100e3)))
		// lognormal, median 5 ms, σ = 1 (in log space)
		ln = append(ln, clampD(5e6*math.Exp(r.NormFloat64())))
		// bimodal: 80% around 2 ms (σ 0.3 ms), 20% around 80 ms (σ 10 ms)
		if r.Float64() < 0.8 {
			bi = append(bi, clampD(2e6+0.3e6*r.NormFloat64()))
		} else {
			bi = append(bi, clampD(80e6+10e6*r.NormFloat64()))
		}
	}
	sets["uniform"], sets["lognormal"], sets["bimodal"] = u, ln, bi
	return sets
}

// exactQuantile is the order statistic the sketch documents: rank
// ⌊q·(n-1)⌋ of the sorted data.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	return sorted[int(math.Floor(q*float64(len(sorted)-1)))]
}

var testQuantiles = []float64{0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1}

func TestSketchAccuracy(t *testing.T) {
	for _, alpha := range []float64{0.01, 0.001, 0.05} {
		for name, data := range dataSets(20000) {
			t.Run(name+"/"+time.Duration(alpha*1e9).String(), func(t *testing.T) {
				sk, err := NewSketch(alpha)
				require.NoError(t, err)
				for _, d := range data {
					sk.Add(d)
				}
				sorted := slices.Clone(data)
				slices.Sort(sorted)
				require.Equal(t, uint64(len(data)), sk.Count())
				assert.Equal(t, sorted[0], sk.Min())
				assert.Equal(t, sorted[len(sorted)-1], sk.Max())
				var sum time.Duration
				for _, d := range data {
					sum += d
				}
				assert.Equal(t, sum, sk.Sum())
				for _, q := range testQuantiles {
					got, err := sk.Quantile(q)
					require.NoError(t, err)
					want := exactQuantile(sorted, q)
					// α relative, plus rounding to whole nanoseconds and
					// float error in the bucket index.
					tol := alpha*float64(want)*(1+1e-9) + 1
					assert.InDeltaf(t, float64(want), float64(got), tol, "q=%v", q)
				}
			})
		}
	}
}

// The sketch uses the logarithmic mapping of the DDSketch paper, so it must
// agree with DataDog's reference implementation bucket for bucket.
func TestSketchMatchesDDSketch(t *testing.T) {
	for name, data := range dataSets(5000) {
		t.Run(name, func(t *testing.T) {
			ref, err := ddsketch.LogUnboundedDenseDDSketch(0.01)
			require.NoError(t, err)
			var sk Sketch
			for _, d := range data {
				sk.Add(d)
				require.NoError(t, ref.Add(float64(d)))
			}
			for _, q := range []float64{0.05, 0.25, 0.5, 0.75, 0.95, 0.99} {
				want, err := ref.GetValueAtQuantile(q)
				require.NoError(t, err)
				got, _ := sk.Quantile(q)
				assert.InDeltaf(t, want, float64(got), want*1e-9+1, "q=%v", q)
			}
		})
	}
}

func TestSketchMergeIsUnion(t *testing.T) {
	for name, data := range dataSets(9000) {
		t.Run(name, func(t *testing.T) {
			var all, a, b, c Sketch
			for i, d := range data {
				all.Add(d)
				[]*Sketch{&a, &b, &c}[i%3].Add(d)
			}
			a.Add(50 * time.Nanosecond) // underflow
			all.Add(50 * time.Nanosecond)
			c.Add(SketchMax + time.Second) // overflow
			all.Add(SketchMax + time.Second)
			var m Sketch
			for _, s := range []*Sketch{&c, &a, &b} { // any order
				require.NoError(t, m.Merge(s))
			}
			assert.Equal(t, all.Buckets(), m.Buckets())
			assert.Equal(t, all.Count(), m.Count())
			assert.Equal(t, all.Sum(), m.Sum())
			assert.Equal(t, all.Min(), m.Min())
			assert.Equal(t, all.Max(), m.Max())
			assert.Equal(t, all.Underflow(), m.Underflow())
			assert.Equal(t, all.Overflow(), m.Overflow())
			for _, q := range testQuantiles {
				w, _ := all.Quantile(q)
				g, _ := m.Quantile(q)
				assert.Equal(t, w, g, "q=%v", q)
			}
			// Merging an empty sketch changes nothing; the inputs are
			// untouched.
			require.NoError(t, m.Merge(&Sketch{}))
			assert.Equal(t, all.Count(), m.Count())
			assert.Equal(t, uint64(3001), a.Count())
		})
	}
}

func TestSketchRangeEdges(t *testing.T) {
	var s Sketch
	for _, d := range []time.Duration{-5, 0, 40, 99, SketchMin, time.Millisecond, SketchMax, SketchMax + 1, 2 * SketchMax} {
		s.Add(d)
	}
	assert.Equal(t, uint64(9), s.Count())
	assert.Equal(t, uint64(4), s.Underflow(), "-5, 0, 40, 99")
	assert.Equal(t, uint64(2), s.Overflow())
	q0, _ := s.Quantile(0)
	q1, _ := s.Quantile(1)
	assert.Equal(t, time.Duration(0), q0, "negative counts as zero; min is exact")
	assert.Equal(t, 2*SketchMax, q1, "max is exact")
	q, _ := s.Quantile(0.5) // rank 4 of 0..8 is SketchMin
	assert.InDelta(t, float64(SketchMin), float64(q), 0.01*float64(SketchMin)+1)

	b := s.Buckets()
	require.NotEmpty(t, b)
	assert.Equal(t, Bucket{0, SketchMin, 4}, b[0])
	assert.Equal(t, Bucket{SketchMax, 2 * SketchMax, 2}, b[len(b)-1])
	var n uint64
	for i, x := range b {
		n += x.Count
		assert.Less(t, x.Lower, x.Upper)
		if i > 0 {
			assert.LessOrEqual(t, b[i-1].Upper, x.Lower)
		}
	}
	assert.Equal(t, s.Count(), n)
}

func TestSketchBucketsContainValues(t *testing.T) {
	var s Sketch
	for _, d := range []time.Duration{123456, 7 * time.Millisecond, 3 * time.Second} {
		s.Reset()
		s.Add(d)
		b := s.Buckets()
		require.Len(t, b, 1)
		// Bounds are rounded to whole nanoseconds.
		assert.LessOrEqual(t, b[0].Lower, d+1)
		assert.GreaterOrEqual(t, b[0].Upper, d-1)
		// Relative width of a bucket is γ-1 = 2α/(1-α).
		w := float64(b[0].Upper-b[0].Lower) / float64(b[0].Lower)
		assert.InDelta(t, 2*0.01/0.99, w, 1e-3)
	}
}

func TestSketchErrors(t *testing.T) {
	for _, a := range []float64{0, -0.01, 0.0009, 0.11, math.NaN(), math.Inf(1)} {
		_, err := NewSketch(a)
		assert.ErrorContains(t, err, "relativeAccuracy", "alpha %v", a)
	}
	var s Sketch
	s.Add(time.Millisecond)
	for _, q := range []float64{-0.1, 1.0001, math.NaN()} {
		_, err := s.Quantile(q)
		assert.ErrorContains(t, err, "q must be in [0, 1]", "q %v", q)
	}
	other, err := NewSketch(0.02)
	require.NoError(t, err)
	other.Add(time.Second)
	assert.ErrorContains(t, s.Merge(other), "relative accuracy")
	assert.Equal(t, uint64(1), s.Count(), "failed merge changes nothing")

	var empty Sketch
	q, err := empty.Quantile(0.5)
	assert.NoError(t, err)
	assert.Zero(t, q)
	assert.Zero(t, empty.Mean())
	assert.Empty(t, empty.Buckets())
	assert.Equal(t, DefaultRelativeAccuracy, empty.RelativeAccuracy())
}

func TestSketchGamma(t *testing.T) {
	// γ = (1+α)/(1-α); for α = 1%, γ = 101/99 = 1.0202020202... (by hand),
	// and 1/ln γ = 49.9983333... buckets per e-fold: ln(10)·49.99833 =
	// 115.1254 buckets per decade.
	m := newMapping(0.01)
	assert.InDelta(t, 1.02020202020202, m.gamma, 1e-14)
	assert.InDelta(t, 49.998333313, m.invLn, 1e-6)
	assert.Equal(t, 1152, m.n)
}

func TestSketchCloneIndependent(t *testing.T) {
	var s Sketch
	s.Add(time.Millisecond)
	c := s.Clone()
	s.Add(time.Second)
	assert.Equal(t, uint64(1), c.Count())
	assert.Equal(t, time.Millisecond, c.Max())
}

func FuzzSketch(f *testing.F) {
	f.Add(int64(0), int64(1), int64(1000), 0.5)
	f.Add(int64(-7), int64(math.MaxInt64), int64(math.MinInt64), 0.99)
	f.Add(int64(150), int64(150), int64(1e12+1), 1.0)
	f.Fuzz(func(t *testing.T, a, b, c int64, q float64) {
		var s, m Sketch
		for _, d := range []int64{a, b, c} {
			s.Add(time.Duration(d))
		}
		require.NoError(t, m.Merge(&s))
		require.NoError(t, m.Merge(&s))
		got, err := m.Quantile(q)
		if !(q >= 0 && q <= 1) {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		assert.GreaterOrEqual(t, got, m.Min())
		assert.LessOrEqual(t, got, m.Max())
		assert.Equal(t, uint64(6), m.Count())
		var n uint64
		for _, b := range m.Buckets() {
			n += b.Count
		}
		assert.Equal(t, uint64(6), n)
		prev := time.Duration(-1)
		for _, p := range testQuantiles {
			v, _ := m.Quantile(p)
			assert.GreaterOrEqual(t, v, prev, "quantiles are monotone")
			prev = v
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{"ok", "error", "timeout", "fallback", "", "OK", "unknown"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, ok := ParseStatus(s)
		if ok {
			assert.Equal(t, s, st.String())
		}
	})
}

// The bucket index is the first bucket whose upper bound is at least the
// duration: the table lookup and its one comparison must agree with a
// binary search of the bounds for every duration near an edge or a
// sub-range boundary, and for random ones, at every accuracy's table size.
func TestMappingIndexIsFirstBoundAbove(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, alpha := range []float64{0.001, 0.005, 0.01, 0.0137, 0.05, 0.1} {
		m := newMapping(alpha)
		check := func(d int64) {
			if d < int64(SketchMin) || d > int64(SketchMax) {
				return
			}
			want, _ := slices.BinarySearch(m.bounds, float64(d))
			if got := m.index(d); got != want {
				t.Fatalf("alpha %v: index(%d) = %d, first bound at or above is %d", alpha, d, got, want)
			}
		}
		for _, b := range m.bounds {
			for _, d := range []int64{int64(b) - 1, int64(b), int64(b) + 1} {
				check(d)
			}
		}
		for j := range m.sub { // each sub-range's first value and the one before
			x := int64(math.Ceil(math.Float64frombits((m.base + uint64(j)) << m.shift)))
			check(x - 1)
			check(x)
		}
		for range 200000 {
			check(int64(math.Exp(math.Log(float64(SketchMin)) + r.Float64()*math.Log(float64(SketchMax/SketchMin)))))
		}
	}
}

// The fast bucket index must agree with the defining formula
// ⌈ln x / ln γ⌉ everywhere but within float rounding of a bucket edge.
func TestMappingIndexMatchesLog(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, alpha := range []float64{0.001, 0.01, 0.0137, 0.1} {
		m := newMapping(alpha)
		check := func(d int64) {
			want := min(max(m.key(float64(d))-m.minKey, 0), m.n-1)
			got := m.index(d)
			if got != want {
				// Only a value on an edge may differ, by one bucket.
				edge := m.bounds[min(got, want)]
				require.InDeltaf(t, edge, float64(d), edge*1e-12, "alpha %v d %v: got %d want %d", alpha, d, got, want)
			}
		}
		for range 50000 {
			check(int64(math.Exp(math.Log(float64(SketchMin)) + r.Float64()*math.Log(float64(SketchMax/SketchMin)))))
		}
		for i := range m.bounds { // around every edge
			e := int64(m.bounds[i])
			for _, d := range []int64{e - 1, e, e + 1} {
				if d >= int64(SketchMin) && d <= int64(SketchMax) {
					check(d)
				}
			}
		}
		assert.Equal(t, -1, m.index(int64(SketchMin)-1))
		assert.Equal(t, 0, m.index(int64(SketchMin)))
		assert.Equal(t, m.n-1, m.index(int64(SketchMax)))
		assert.Equal(t, m.n, m.index(int64(SketchMax)+1))
	}
}
