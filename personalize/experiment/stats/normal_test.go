package stats

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestZCritical(t *testing.T) {
	// R: qnorm(0.975) = 1.959964, qnorm(0.95) = 1.644854, qnorm(0.995) = 2.575829;
	// 16 digits from mpmath: sqrt(2)*erfinv(0.95).
	rel(t, 1.959964, ZCritical(0.05), 5e-7, "0.05 (R)")
	rel(t, 1.959963984540054, ZCritical(0.05), 1e-15, "0.05")
	rel(t, 1.644854, ZCritical(0.10), 5e-7, "0.10 (R)")
	rel(t, 2.575829, ZCritical(0.01), 5e-7, "0.01 (R)")
	iv := NormalInterval(0.2, 0.1, 0.05)
	assert.InDelta(t, 0.2-0.1959963984540054, iv.Lo, 1e-15, "normal lo")
	assert.InDelta(t, 0.2+0.1959963984540054, iv.Hi, 1e-15, "normal hi")
}

func TestWaldNewcombeMethod1(t *testing.T) {
	// Newcombe (1998), Stat. Med. 17:873, Table II, method 1 (asymptotic
	// Wald, no continuity correction), (a) 56/70 - 48/80: 0.0575 to 0.3425.
	r, err := TwoProportions(Proportion{48, 80}, Proportion{56, 70}, 0.05)
	require.NoError(t, err)
	assert.InDelta(t, 0.0575, r.Wald.Lo, 5e-5)
	assert.InDelta(t, 0.3425, r.Wald.Hi, 5e-5)
}

func TestRiskRatioKatz(t *testing.T) {
	// The log interval of Katz, Baptista, Azen & Pike, Biometrics 34 (1978)
	// 469-474, on Newcombe's example (a), 56/70 vs 48/80, derived by hand
	// (mpmath, 30 digits): r = 4/3, se(log r) = sqrt(1/56 - 1/70 + 1/48 - 1/80)
	// = 0.109108945117996, interval 1.07662642276319 to 1.65124851126639.
	r, ci, err := RiskRatio(Proportion{48, 80}, Proportion{56, 70}, 0.05)
	require.NoError(t, err)
	rel(t, 4.0/3, r, 1e-15, "ratio")
	rel(t, 1.07662642276319, ci.Lo, 1e-12, "lo")
	rel(t, 1.65124851126639, ci.Hi, 1e-12, "hi")

	for _, bad := range []struct {
		name  string
		c, tr Proportion
		alpha float64
	}{
		{"no control success", Proportion{0, 80}, Proportion{56, 70}, 0.05},
		{"no treatment success", Proportion{48, 80}, Proportion{0, 70}, 0.05},
		{"zero trials", Proportion{0, 0}, Proportion{56, 70}, 0.05},
		{"alpha", Proportion{48, 80}, Proportion{56, 70}, 0},
	} {
		t.Run(bad.name, func(t *testing.T) {
			_, _, err := RiskRatio(bad.c, bad.tr, bad.alpha)
			require.Error(t, err)
		})
	}
}

func TestMeanDiffAndRatio(t *testing.T) {
	// R's sleep data, group 1 as control, group 2 as treatment. Derived by
	// hand (mpmath, 30 digits) from the formulas in the doc comments:
	// means 0.75 and 2.33, variances 3.20055555555556 and 4.009;
	// difference 1.58, se 0.849091017238762, interval
	// -0.0841878133844518 to 3.24418781338445 (Welch's t interval of the
	// same data, R's t.test, is -0.2054832 to 3.3654832: wider, t not z);
	// ratio 3.10666666666667, se(log r) 0.80176878507653, interval
	// 0.645398319842197 to 14.9541414674547.
	c, tr := Summarize(sleep1), Summarize(sleep2)
	d, ci, err := MeanDiff(c, tr, 0.05)
	require.NoError(t, err)
	rel(t, 1.58, d, 1e-12, "diff")
	rel(t, -0.0841878133844518, ci.Lo, 1e-9, "diff lo")
	rel(t, 3.24418781338445, ci.Hi, 1e-12, "diff hi")

	r, ci, err := MeanRatio(c, tr, 0.05)
	require.NoError(t, err)
	rel(t, 2.33/0.75, r, 1e-12, "ratio")
	rel(t, 0.645398319842197, ci.Lo, 1e-12, "ratio lo")
	rel(t, 14.9541414674547, ci.Hi, 1e-12, "ratio hi")

	for _, bad := range []struct {
		name  string
		c, tr Summary
	}{
		{"small control", Summary{N: 1, Mean: 1}, tr},
		{"nan mean", c, Summary{N: 5, Mean: math.NaN()}},
		{"negative var", Summary{N: 5, Mean: 1, Var: -1}, tr},
	} {
		t.Run(bad.name, func(t *testing.T) {
			_, _, err := MeanDiff(bad.c, bad.tr, 0.05)
			require.Error(t, err)
			_, _, err = MeanRatio(bad.c, bad.tr, 0.05)
			require.Error(t, err)
		})
	}
	_, _, err = MeanRatio(Summary{N: 5, Mean: 0, Var: 1}, tr, 0.05)
	require.Error(t, err, "zero control mean")
	_, _, err = MeanRatio(c, Summary{N: 5, Mean: -1, Var: 1}, 0.05)
	require.Error(t, err, "negative treatment mean")
	_, _, err = MeanDiff(c, tr, 1)
	require.Error(t, err, "alpha")
}

func TestQuantileType7(t *testing.T) {
	// R: quantile(1:10, c(0, .1, .25, .5, .9, 1)) -> 1.00 1.90 3.25 5.50 9.10 10.00
	x := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct{ p, want float64 }{
		{0, 1}, {0.1, 1.9}, {0.25, 3.25}, {0.5, 5.5}, {0.9, 9.1}, {1, 10},
	} {
		rel(t, tc.want, Quantile(x, tc.p), 1e-12, "quantile")
	}
	// NumPy docs, numpy.quantile: a = [[10, 7, 4], [3, 2, 1]],
	// np.quantile(a, 0.5) -> 3.5.
	rel(t, 3.5, Quantile([]float64{1, 2, 3, 4, 7, 10}, 0.5), 1e-15, "numpy")
	assert.Equal(t, 7.0, Quantile([]float64{7}, 0.3))
	assert.True(t, math.IsNaN(Quantile(nil, 0.5)), "empty")
	assert.True(t, math.IsNaN(Quantile(x, -0.1)), "p < 0")
	assert.True(t, math.IsNaN(Quantile(x, 1.1)), "p > 1")
	assert.True(t, math.IsNaN(Quantile(x, math.NaN())), "NaN p")
}
