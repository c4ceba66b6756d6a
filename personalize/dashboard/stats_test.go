package dashboard

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSRMMatchesChisqTest(t *testing.T) {
	// R documentation of chisq.test, example "x <- c(A = 20, B = 15, C = 25);
	// chisq.test(x)": X-squared = 2.5, df = 2, p-value = 0.2865. With 2
	// degrees of freedom the survival function is exp(-x/2), so the exact
	// p-value is exp(-1.25) = 0.286504796860190.
	assert.InDelta(t, 0.286504796860190, srm([]int64{20, 15, 25}, nil), 1e-12)
	// Same counts against shares 0.25/0.25/0.5: expected 15, 15, 30;
	// X² = 25/15 + 0 + 25/30 = 2.5 again.
	assert.InDelta(t, 0.286504796860190, srm([]int64{20, 15, 25}, []float64{1, 1, 2}), 1e-12)
	assert.Equal(t, -1.0, srm([]int64{5}, nil))
	assert.Equal(t, -1.0, srm([]int64{0, 0}, nil))
}

func TestWilsonBoundsSolveTheScoreEquation(t *testing.T) {
	// The Wilson interval's ends are the two roots p of
	// (p̂ - p)² = z² p(1-p)/n.
	for _, c := range []struct{ k, n int64 }{{15, 50}, {1, 1000}, {999, 1000}, {120, 1000}} {
		lo, hi := wilson(c.k, c.n)
		ph := float64(c.k) / float64(c.n)
		for _, p := range []float64{lo, hi} {
			lhs := (ph - p) * (ph - p)
			rhs := z95 * z95 * p * (1 - p) / float64(c.n)
			assert.InDelta(t, lhs, rhs, 1e-12, "k=%d n=%d p=%v", c.k, c.n, p)
		}
		assert.Less(t, lo, ph)
		assert.Greater(t, hi, ph)
	}
	lo, hi := wilson(0, 0)
	assert.Zero(t, lo)
	assert.Zero(t, hi)
}

func TestCompareProps(t *testing.T) {
	// prop.test(c(25, 15), c(50, 50), correct = FALSE): pooled p = 0.4,
	// X-squared = (0.2)² / (0.4·0.6·(2/50)) = 25/6, df = 1, so the exact
	// p-value is erfc(sqrt(25/12)) = 0.0412268...; by hand from the
	// formula.
	d := compareProps(25, 50, 15, 50, 0.1)
	assert.InDelta(t, 0.2, d.Diff, 1e-15)
	assert.InDelta(t, math.Erfc(math.Sqrt(25.0/12)), d.P, 1e-15)
	assert.InDelta(t, 0.0412268, d.P, 1e-7)
	// Unpooled Wald interval: se = sqrt(0.5·0.5/50 + 0.3·0.7/50) =
	// sqrt(0.0092).
	assert.InDelta(t, 0.2-z95*math.Sqrt(0.0092), d.Lo, 1e-12)
	assert.InDelta(t, 0.2+z95*math.Sqrt(0.0092), d.Hi, 1e-12)
	assert.InDelta(t, 0.2/0.3, d.Relative, 1e-12)
	assert.True(t, d.SeqP > d.P, "the always-valid p-value is more conservative")
	assert.Equal(t, PropDiff{P: 1, SeqP: 1}, compareProps(1, 0, 1, 10, 0.1))
}

func TestMSPRT(t *testing.T) {
	// By hand: v = 1, τ² = 1, θ̂ = 2: log Λ = ½ log(½) + 1·4/(2·1·2)
	// = 1 - ½ log 2, so p = exp(½ log 2 - 1) = sqrt(2)/e.
	assert.InDelta(t, math.Sqrt2/math.E, msprtP(2, 1, 1), 1e-15)
	assert.Equal(t, 1.0, msprtP(0, 1, 1))
	assert.Equal(t, 1.0, msprtP(1, 0, 1))
	assert.Less(t, msprtP(5, 1, 1), msprtP(3, 1, 1))
}

func TestHolm(t *testing.T) {
	// By hand from Holm (1979): sorted p times (m - rank + 1), then a
	// running maximum: 0.05, 0.08, 0.09, max(0.08, 0.09), max(0.05, 0.09).
	got := holm([]float64{0.04, 0.01, 0.03, 0.02, 0.05})
	want := []float64{0.09, 0.05, 0.09, 0.08, 0.09}
	for i := range want {
		assert.InDelta(t, want[i], got[i], 1e-15)
	}
	assert.Equal(t, []float64{1}, holm([]float64{1}))
}

func TestHistQuantilesWithinDocumentedError(t *testing.T) {
	h := newHist()
	const n = 10000
	for i := 1; i <= n; i++ {
		h.add(float64(i)*0.01, false) // 0.01 ms .. 100 ms
	}
	for _, q := range []float64{0.5, 0.9, 0.95, 0.99} {
		exact := math.Ceil(q*n) * 0.01
		got := h.quantile(q)
		assert.InEpsilon(t, exact, got, math.Sqrt(histGamma)-1+1e-9, "q=%v", q)
	}
	assert.Equal(t, float64(histMinMs), func() float64 { h := newHist(); h.add(0, false); return h.quantile(0.5) }())
	assert.Equal(t, float64(histMaxMs), func() float64 { h := newHist(); h.add(1e9, false); return h.quantile(0.5) }())
	assert.Zero(t, newHist().quantile(0.5))
}

func TestRingForgetsOldSlots(t *testing.T) {
	r := newRing(10*time.Second, 6)
	r.add(fixedNow.Add(-5*time.Minute), 1, false)
	r.add(fixedNow.Add(-30*time.Second), 2, false)
	r.add(fixedNow, 3, false)
	assert.Equal(t, uint64(2), r.sum(fixedNow).n)
	assert.Equal(t, uint64(0), r.sum(fixedNow.Add(2*time.Minute)).n)
	// a late observation older than the slot it maps to is ignored
	r.add(fixedNow.Add(-time.Hour), 4, false)
	assert.Equal(t, uint64(2), r.sum(fixedNow).n)
}
