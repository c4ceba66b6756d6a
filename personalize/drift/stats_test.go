package drift

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPSIByHand derives PSI from its definition on two 4-bin histograms.
// ref proportions {0.25,0.25,0.25,0.25}, cur {0.1,0.2,0.3,0.4}:
//
//	(0.1-0.25)ln(0.4)   = 0.137444
//	(0.2-0.25)ln(0.8)   = 0.011157
//	(0.3-0.25)ln(1.2)   = 0.009116
//	(0.4-0.25)ln(1.6)   = 0.070500
//	                sum = 0.228217
func TestPSIByHand(t *testing.T) {
	want := -0.15*math.Log(0.4) - 0.05*math.Log(0.8) + 0.05*math.Log(1.2) + 0.15*math.Log(1.6)
	got, err := PSI([]float64{25, 25, 25, 25}, []float64{10, 20, 30, 40}, 0)
	require.NoError(t, err)
	assert.InDelta(t, 0.2282170, got, 1e-6)
	assert.InDelta(t, want, got, 1e-12)

	// An empty current bin is floored at eps: (1e-4 - 0.5) ln(1e-4/0.5)
	// + (1 - 0.5) ln(1/0.5) = 4.257744 + 0.346574 = 4.604318 (by hand).
	got, err = PSI([]float64{1, 1}, []float64{0, 10}, 1e-4)
	require.NoError(t, err)
	assert.InDelta(t, (1e-4-0.5)*math.Log(1e-4/0.5)+0.5*math.Log(2), got, 1e-12)
	assert.InDelta(t, 4.604318, got, 1e-6)

	// Identical distributions: 0.
	got, err = PSI([]float64{3, 1}, []float64{30, 10}, 0)
	require.NoError(t, err)
	assert.InDelta(t, 0, got, 1e-15)
}

func TestPSIErrors(t *testing.T) {
	for name, c := range map[string]struct{ ref, cur []float64 }{
		"length":   {[]float64{1, 2}, []float64{1}},
		"empty":    {nil, nil},
		"negative": {[]float64{1, -1}, []float64{1, 1}},
		"nan":      {[]float64{1, math.NaN()}, []float64{1, 1}},
		"zero":     {[]float64{0, 0}, []float64{1, 1}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := PSI(c.ref, c.cur, 0)
			assert.Error(t, err)
		})
	}
}

// TestJensenShannonSciPy uses the examples of the
// scipy.spatial.distance.jensenshannon docstring (SciPy 1.2+).
func TestJensenShannonSciPy(t *testing.T) {
	tests := []struct {
		p, q []float64
		base float64
		want float64
	}{
		{[]float64{1, 0, 0}, []float64{0, 1, 0}, 2, 1.0},
		{[]float64{1, 0}, []float64{0.5, 0.5}, 0, 0.46450140402245893},
		{[]float64{1, 0, 0}, []float64{1, 0, 0}, 0, 0},
	}
	for _, tt := range tests {
		got, err := JensenShannon(tt.p, tt.q, tt.base)
		require.NoError(t, err)
		assert.InDelta(t, tt.want, got, 1e-12)
	}
	_, err := JensenShannon([]float64{1}, []float64{1, 2}, 2)
	assert.ErrorContains(t, err, "entries")
}

// TestWassersteinSciPy uses the examples of the
// scipy.stats.wasserstein_distance docstring.
func TestWassersteinSciPy(t *testing.T) {
	tests := []struct {
		name         string
		u, v, uw, vw []float64
		want         float64
	}{
		{"unweighted", []float64{0, 1, 3}, []float64{5, 6, 8}, nil, nil, 5.0},
		{"weighted", []float64{0, 1}, []float64{0, 1}, []float64{3, 1}, []float64{2, 2}, 0.25},
		{"weighted uneven", []float64{3.4, 3.9, 7.5, 7.8}, []float64{4.5, 1.4}, []float64{1.4, 0.9, 3.1, 7.2}, []float64{3.2, 3.5}, 4.0781331438047861},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Wasserstein(tt.u, tt.v, tt.uw, tt.vw)
			require.NoError(t, err)
			assert.InDelta(t, tt.want, got, 1e-12)
		})
	}
	_, err := Wasserstein([]float64{1, math.NaN()}, []float64{1}, nil, nil)
	assert.ErrorContains(t, err, "u[1]")
	_, err = Wasserstein([]float64{1}, []float64{1}, []float64{1, 2}, nil)
	assert.ErrorContains(t, err, "weights")
}

// TestNormalizedWasserstein: ref {0,1,3} has mean 4/3 and population sd
// sqrt(((16+1+25)/9)/3) = sqrt(14/9) = 1.247219 (by hand); W to {5,6,8} is
// 5 (SciPy docstring), so the normalized distance is 5/1.247219 = 4.008919.
func TestNormalizedWasserstein(t *testing.T) {
	got, err := NormalizedWasserstein([]float64{0, 1, 3}, []float64{5, 6, 8})
	require.NoError(t, err)
	assert.InDelta(t, 5/math.Sqrt(14.0/9), got, 1e-12)
	assert.InDelta(t, 4.008919, got, 1e-6)
	got, err = NormalizedWasserstein([]float64{2, 2}, []float64{2})
	require.NoError(t, err)
	assert.Equal(t, 0.0, got)
	got, err = NormalizedWasserstein([]float64{2, 2}, []float64{3})
	require.NoError(t, err)
	assert.True(t, math.IsInf(got, 1))
}

// TestKSReference checks the exact two-sided p-value against R's ks.test
// (exact = NULL picks the exact test for small samples) and values derived
// by hand.
func TestKSReference(t *testing.T) {
	tests := []struct {
		name  string
		a, b  []float64
		d, p  float64
		exact bool
	}{
		// R: ks.test(c(1,2,3), c(4,5,6)): D = 1, p-value = 0.1. By hand: of
		// the C(6,3) = 20 merge orders only 2 reach D = 1.
		{"separated", []float64{1, 2, 3}, []float64{4, 5, 6}, 1, 0.1, true},
		// R: ks.test(c(1,2,3,4,5), c(3,4,5,6,7)): D = 0.4, p-value =
		// 0.8730159 (= 55/63).
		{"overlap", []float64{1, 2, 3, 4, 5}, []float64{3, 4, 5, 6, 7}, 0.4, 55.0 / 63, true},
		// Identical samples: D = 0, p = 1.
		{"identical", []float64{1, 2, 3}, []float64{1, 2, 3}, 0, 1, true},
		// By hand: a={1,2}, b={3}: D=1; 1 - P(D<1) where only the orders
		// with b in the middle stay inside: 1 of 3, so p = 2/3.
		{"unequal sizes", []float64{1, 2}, []float64{3}, 1, 2.0 / 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := KS(tt.a, tt.b)
			require.NoError(t, err)
			assert.InDelta(t, tt.d, r.Statistic, 1e-12)
			assert.InDelta(t, tt.p, r.PValue, 1e-9)
			assert.Equal(t, tt.exact, r.Exact)
		})
	}
}

// TestKolmogorovSF checks the limiting distribution against Smirnov's
// published critical values (Smirnov 1948 table; the 0.05 and 0.01 points
// 1.3581 and 1.6276 appear in every KS table) and against the series
// evaluated by hand at x = 1: 2(e^-2 - e^-8 + e^-18) = 0.2699996717.
func TestKolmogorovSF(t *testing.T) {
	assert.InDelta(t, 0.05, KolmogorovSF(1.35810), 2e-5)
	assert.InDelta(t, 0.01, KolmogorovSF(1.62762), 2e-5)
	assert.InDelta(t, 0.10, KolmogorovSF(1.22385), 2e-5)
	assert.InDelta(t, 2*(math.Exp(-2)-math.Exp(-8)+math.Exp(-18)), KolmogorovSF(1), 1e-12)
	assert.InDelta(t, 0.2699996717, KolmogorovSF(1), 1e-9)
	// Both branches agree where they meet.
	assert.InDelta(t, KolmogorovSF(0.9999999), KolmogorovSF(1), 1e-6)
	assert.Equal(t, 1.0, KolmogorovSF(0))
	assert.InDelta(t, 1.0, KolmogorovSF(0.1), 1e-12)
}

func TestKSAsymptotic(t *testing.T) {
	// 200 vs 300 points: exact would be 60000 cells, so asymptotic.
	a := make([]float64, 200)
	b := make([]float64, 300)
	for i := range a {
		a[i] = float64(i)
	}
	for i := range b {
		b[i] = float64(i) + 50.5
	}
	r, err := KS(a, b)
	require.NoError(t, err)
	assert.False(t, r.Exact)
	// By hand: the gap is widest at x = 199, where F_a = 1 and F_b counts
	// 50.5..198.5, 149 of 300: D = 151/300.
	assert.InDelta(t, 151.0/300, r.Statistic, 1e-12)
	assert.InDelta(t, KolmogorovSF(math.Sqrt(200*300/500.0)*151/300), r.PValue, 1e-15)
	assert.Less(t, r.PValue, 1e-10)
}

func TestKSErrors(t *testing.T) {
	_, err := KS(nil, []float64{1})
	assert.Error(t, err)
	_, err = KS([]float64{math.Inf(1)}, []float64{1})
	assert.ErrorContains(t, err, "a[0]")
}
