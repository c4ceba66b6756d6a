package relevance

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const tol = 1e-9

// scikit-learn calibration_curve docstring example (sklearn/calibration.py):
// y_true = [0,0,0,0,1,1,1,1,1], y_pred = [0.1,0.2,0.3,0.4,0.65,0.7,0.8,0.9,1.],
// n_bins=3 gives prob_true [0, 0.5, 1] and prob_pred [0.2, 0.525, 0.85].
var (
	skLabels = []bool{false, false, false, false, true, true, true, true, true}
	skProbs  = []float64{0.1, 0.2, 0.3, 0.4, 0.65, 0.7, 0.8, 0.9, 1.}
)

func TestReliabilityCurveSklearnExample(t *testing.T) {
	c, err := ReliabilityCurve(skLabels, skProbs, 3, BinningEqualWidth)
	require.NoError(t, err)
	require.Len(t, c.Bins, 3)
	wantTrue := []float64{0, 0.5, 1}
	wantPred := []float64{0.2, 0.525, 0.85}
	for i, b := range c.Bins {
		assert.InDelta(t, wantTrue[i], b.FractionPositive, tol, "bin %d", i)
		assert.InDelta(t, wantPred[i], b.MeanPredicted, tol, "bin %d", i)
	}
	assert.Equal(t, []int64{3, 2, 4}, []int64{c.Bins[0].Count, c.Bins[1].Count, c.Bins[2].Count})
	// ECE and MCE derived by hand from the bins above:
	// ECE = 3/9*|0-0.2| + 2/9*|0.5-0.525| + 4/9*|1-0.85| = 0.1388888...
	assert.InDelta(t, 0.2/3+0.05/9+0.6/9, c.ECE, tol)
	assert.InDelta(t, 0.2, c.MCE, tol)
}

func TestReliabilityCurveEqualMass(t *testing.T) {
	// Hand derivation with NumPy's linear percentile (scikit-learn's
	// strategy="quantile"): n=9, edges at h=(n-1)*q: q=1/3 -> h=8/3 ->
	// 0.3+(2/3)*0.1 = 0.3666..., q=2/3 -> h=16/3 -> 0.7+(1/3)*0.1 = 0.7333...
	// Bins: {.1,.2,.3} {.4,.65,.7} {.8,.9,1}.
	c, err := ReliabilityCurve(skLabels, skProbs, 3, BinningEqualMass)
	require.NoError(t, err)
	require.Len(t, c.Bins, 3)
	assert.InDelta(t, 0.3+0.2/3, c.Bins[0].Hi, tol)
	assert.InDelta(t, 0.7+0.1/3, c.Bins[1].Hi, tol)
	assert.InDelta(t, 0.2, c.Bins[0].MeanPredicted, tol)
	assert.InDelta(t, 1.75/3, c.Bins[1].MeanPredicted, tol)
	assert.InDelta(t, 2.0/3, c.Bins[1].FractionPositive, tol)
	assert.InDelta(t, 0.9, c.Bins[2].MeanPredicted, tol)
	// ECE = (0.2 + |2/3-1.75/3| + 0.1)/3 = 0.127777...
	assert.InDelta(t, (0.2+0.25/3+0.1)/3, c.ECE, tol)
}

func TestReliabilityCurveEdgesRightClosed(t *testing.T) {
	// 0.5 is the inner edge of 2 equal-width bins: it belongs to the first
	// bin [0, 0.5]; 0 belongs to the first bin too.
	c, err := ReliabilityCurve([]bool{true, false, true}, []float64{0.5, 0, 0.5000001}, 2, BinningEqualWidth)
	require.NoError(t, err)
	require.Len(t, c.Bins, 2)
	assert.Equal(t, int64(2), c.Bins[0].Count)
	assert.Equal(t, int64(1), c.Bins[1].Count)
}

func TestBrierAndLogLossSklearnExamples(t *testing.T) {
	// brier_score_loss docstring: y_true=[0,1,1,0], y_prob=[0.1,0.9,0.8,0.3]
	// gives 0.037... ; exactly (0.01+0.01+0.04+0.09)/4 = 0.0375.
	b, err := BrierScore([]bool{false, true, true, false}, []float64{0.1, 0.9, 0.8, 0.3})
	require.NoError(t, err)
	assert.InDelta(t, 0.0375, b, 1e-15)
	// log_loss docstring: log_loss(["spam","ham","ham","spam"],
	// [[.1,.9],[.9,.1],[.8,.2],[.35,.65]]) = 0.21616... ; "spam" is the
	// second (positive) column. Full value 0.21616187468057912 (same call,
	// output quoted in Apache Spark's MulticlassMetricsSuite).
	l, err := LogLoss([]bool{true, false, false, true}, []float64{0.9, 0.1, 0.2, 0.65})
	require.NoError(t, err)
	assert.InDelta(t, 0.21616187468057912, l, 1e-12)
}

func TestPredictionErrors(t *testing.T) {
	tests := []struct {
		name   string
		labels []bool
		probs  []float64
		want   string
	}{
		{"length", []bool{true}, []float64{0.1, 0.2}, "lengths differ"},
		{"empty", nil, nil, "probs: empty"},
		{"range", []bool{true, true}, []float64{0.1, 1.5}, "probs[1]"},
		{"nan", []bool{true}, []float64{math.NaN()}, "probs[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BrierScore(tt.labels, tt.probs)
			require.ErrorContains(t, err, tt.want)
			_, err = LogLoss(tt.labels, tt.probs)
			require.ErrorContains(t, err, tt.want)
			_, err = ReliabilityCurve(tt.labels, tt.probs, 5, BinningEqualWidth)
			require.ErrorContains(t, err, tt.want)
		})
	}
	_, err := ReliabilityCurve([]bool{true}, []float64{0.1}, 0, BinningEqualWidth)
	require.ErrorContains(t, err, "bins")
	_, err = ReliabilityCurve([]bool{true}, []float64{0.1}, 2, 9)
	require.ErrorContains(t, err, "binning")
}

func TestCalibratorMatchesOffline(t *testing.T) {
	c, err := NewCalibrator(3, 300)
	require.NoError(t, err)
	for i, p := range skProbs {
		require.True(t, c.Observe(p, skLabels[i]))
	}
	assert.False(t, c.Observe(1.2, true))
	assert.False(t, c.Observe(math.NaN(), true))
	assert.Equal(t, int64(2), c.Rejected)
	off, _ := ReliabilityCurve(skLabels, skProbs, 3, BinningEqualWidth)
	on := c.Curve(BinningEqualWidth)
	require.Len(t, on.Bins, len(off.Bins))
	for i := range on.Bins {
		assert.Equal(t, off.Bins[i].Count, on.Bins[i].Count)
		assert.InDelta(t, off.Bins[i].MeanPredicted, on.Bins[i].MeanPredicted, tol)
		assert.InDelta(t, off.Bins[i].FractionPositive, on.Bins[i].FractionPositive, tol)
	}
	assert.InDelta(t, off.ECE, on.ECE, tol)
	brier, _ := BrierScore(skLabels, skProbs)
	loss, _ := LogLoss(skLabels, skProbs)
	assert.InDelta(t, brier, c.Brier(), tol)
	assert.InDelta(t, loss, c.LogLoss(), tol)

	// Equal mass on the fine grid: the same three groups as the exact
	// quantile bins (the edges snap to multiples of 1/300).
	em := c.Curve(BinningEqualMass)
	require.Len(t, em.Bins, 3)
	assert.Equal(t, []int64{3, 3, 3}, []int64{em.Bins[0].Count, em.Bins[1].Count, em.Bins[2].Count})
	exact, _ := ReliabilityCurve(skLabels, skProbs, 3, BinningEqualMass)
	assert.InDelta(t, exact.ECE, em.ECE, tol)

	// Merge doubles counts and keeps the rates.
	d, _ := NewCalibrator(3, 300)
	require.NoError(t, d.Merge(c))
	require.NoError(t, d.Merge(c))
	assert.Equal(t, 2*c.N(), d.N())
	assert.InDelta(t, c.Brier(), d.Brier(), tol)
	bad, _ := NewCalibrator(2, 300)
	require.Error(t, bad.Merge(c))
}

func TestCalibratorEdges(t *testing.T) {
	c, _ := NewCalibrator(10, 10)
	// 0.3 is exactly the edge 3/10: it belongs to bin (0.2, 0.3].
	c.Observe(0.3, true)
	c.Observe(0, false)
	c.Observe(1, true)
	cur := c.Curve(BinningEqualWidth)
	require.Len(t, cur.Bins, 3)
	assert.Equal(t, 0.2, cur.Bins[1].Lo)
	assert.Equal(t, 0.0, cur.Bins[0].Lo)
	assert.Equal(t, 1.0, cur.Bins[2].Hi)
	_, err := NewCalibrator(0, 10)
	require.ErrorContains(t, err, "bins")
	_, err = NewCalibrator(3, 10)
	require.ErrorContains(t, err, "fineBins")
}

func TestCalibratorObserveAllocs(t *testing.T) {
	c, _ := NewCalibrator(10, 100)
	allocs := testing.AllocsPerRun(1000, func() { c.Observe(0.37, true) })
	assert.Zero(t, allocs)
}

func TestNDCGSklearnExamples(t *testing.T) {
	// scikit-learn ndcg_score docstring (sklearn/metrics/_ranking.py):
	// true_relevance = [10, 0, 0, 1, 5]. The docs print two digits; the
	// full values are derived by hand from the definition the docs state
	// (linear gain, 1/log2(rank+1) discount, ties averaged), e.g. case 1:
	// DCG = 5 + 1/log2(3) + 10/log2(6), IDCG = 10 + 5/log2(3) + 1/2.
	rel := []float64{10, 0, 0, 1, 5}
	tests := []struct {
		name   string
		scores []float64
		k      int
		want   float64
	}{
		{"0.69...", []float64{.1, .2, .3, 4, 70}, 0, 0.695694044381308},
		{"0.49...", []float64{.05, 1.1, 1., .5, .0}, 0, 0.493680191377376},
		{"k=4 0.35...", []float64{.05, 1.1, 1., .5, .0}, 4, 0.352024110063449},
		{"perfect k=4 1.0", rel, 4, 1},
		{"ties averaged k=1 0.75", []float64{1, 0, 0, 0, 1}, 1, 0.75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NDCG(rel, tt.scores, tt.k, GainLinear)
			require.NoError(t, err)
			assert.InDelta(t, tt.want, got, 1e-12)
		})
	}
	zero, err := NDCG([]float64{0, 0}, []float64{1, 2}, 0, GainLinear)
	require.NoError(t, err)
	assert.Zero(t, zero)
	_, err = NDCG([]float64{1}, []float64{1, 2}, 0, GainLinear)
	require.ErrorContains(t, err, "lengths differ")
	_, err = NDCG([]float64{1, math.Inf(1)}, []float64{1, 2}, 0, GainLinear)
	require.ErrorContains(t, err, "relevance[1]")
}

func TestNDCGIgnoreTies(t *testing.T) {
	// scikit-learn 1.5 docstring of sklearn.metrics.ndcg_score
	// (sklearn/metrics/_ranking.py), true_relevance = [[10, 0, 0, 1, 5]]:
	//   scores = [[1, 0, 0, 0, 1]]
	//   ndcg_score(true_relevance, scores, k=1)                   -> 0.75...
	//   ndcg_score(true_relevance, scores, k=1, ignore_ties=True) -> 0.5...
	// By hand: averaged, the top group {10, 5} has mean gain 7.5, over the
	// ideal 10: 0.75. Ignoring ties, argsort([1,0,0,0,1])[::-1] puts index 4
	// (relevance 5) first: 5/10 = 0.5.
	rel := []float64{10, 0, 0, 1, 5}
	ties := []float64{1, 0, 0, 0, 1}
	avg, err := NDCGWith(rel, ties, RankOptions{K: 1})
	require.NoError(t, err)
	assert.InDelta(t, 0.75, avg, 1e-15)
	ign, err := NDCGWith(rel, ties, RankOptions{K: 1, IgnoreTies: true})
	require.NoError(t, err)
	assert.InDelta(t, 0.5, ign, 1e-15)
	// Without ties both agree, on the docstring's other cases (values as
	// in TestNDCGSklearnExamples).
	for _, tc := range []struct {
		scores []float64
		k      int
		want   float64
	}{
		{[]float64{.1, .2, .3, 4, 70}, 0, 0.695694044381308},
		{[]float64{.05, 1.1, 1., .5, .0}, 0, 0.493680191377376},
		{[]float64{.05, 1.1, 1., .5, .0}, 4, 0.352024110063449},
	} {
		got, err := NDCGWith(rel, tc.scores, RankOptions{K: tc.k, IgnoreTies: true})
		require.NoError(t, err)
		assert.InDelta(t, tc.want, got, 1e-12)
	}
	// Whole list with ties, by hand: ignoring ties the order is indexes
	// 4, 0, 3, 2, 1 (relevance 5, 10, 1, 0, 0):
	//   DCG = 5 + 10/log2(3) + 1/2, IDCG = 10 + 5/log2(3) + 1/2.
	want := (5 + 10/math.Log2(3) + 0.5) / (10 + 5/math.Log2(3) + 0.5)
	got, err := NDCGWith(rel, ties, RankOptions{IgnoreTies: true})
	require.NoError(t, err)
	assert.InDelta(t, want, got, 1e-15)
	d, err := DCGWith(rel, ties, RankOptions{IgnoreTies: true, Gain: GainExponential})
	require.NoError(t, err)
	assert.InDelta(t, 31+1023/math.Log2(3)+0.5, d, 1e-9)
	_, err = NDCGWith(rel, ties[:2], RankOptions{IgnoreTies: true})
	require.ErrorContains(t, err, "lengths differ")
}

func TestMRR(t *testing.T) {
	// The worked example of Wikipedia's "Mean reciprocal rank" article:
	// first correct answers at ranks 3, 2 and 1 give
	// MRR = (1/3 + 1/2 + 1)/3 = 11/18.
	got, err := MRR([][]float64{{0, 0, 1}, {0, 1, 0}, {1, 0, 0}})
	require.NoError(t, err)
	assert.InDelta(t, 11.0/18, got, 1e-15)
	// Lists without a relevant item count as 0 (by hand: (1/2 + 0)/2).
	got, err = MRR([][]float64{{0, 2, 1}, {0, 0}, {}})
	require.NoError(t, err)
	assert.InDelta(t, 1.0/6, got, 1e-15)
	_, err = MRR(nil)
	require.ErrorContains(t, err, "empty")
	_, err = MRR([][]float64{{1}, {0, math.NaN()}})
	require.ErrorContains(t, err, "lists[1][1]")
}

func TestScoreList(t *testing.T) {
	// Display order relevance [0, 1, 0, 2, 0], k = 3, exponential gain.
	// DCG@3 = (2^1-1)/log2(3); ideal@3 = 3/log2(2) + 1/log2(3).
	m, _ := ScoreList([]float64{0, 1, 0, 2, 0}, 3, GainExponential, nil)
	want := (1 / math.Log2(3)) / (3 + 1/math.Log2(3))
	assert.InDelta(t, want, m.NDCG, 1e-12)
	assert.InDelta(t, 0.5, m.RR, 0)
	assert.InDelta(t, 1.0/3, m.Precision, 1e-15)
	assert.InDelta(t, 0.5, m.Recall, 0)
	assert.Equal(t, 2, m.Relevant)
	// Agrees with NDCG given display order as scores.
	nd, _ := NDCG([]float64{0, 1, 0, 2, 0}, []float64{5, 4, 3, 2, 1}, 3, GainExponential)
	assert.InDelta(t, nd, m.NDCG, 1e-12)
	none, _ := ScoreList([]float64{0, 0}, 3, GainLinear, nil)
	assert.Equal(t, ListMetrics{}, none)
}

// Recall@k counts relevant items of the served list: items never shown
// have no outcome. A list no longer than k therefore has recall 1 whatever
// its order (why the quickstart's 10-item lists printed R@10 = 1.000), and
// only a cut inside the list can miss. Values by hand from the definition
// (trec_eval's recall_k, relevant retrieved in the top k over relevant
// judged, with the served list as the judged items).
func TestRecallOnlyInformsBelowTheListLength(t *testing.T) {
	worst := []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 1} // the only relevant item last
	m, _ := ScoreList(worst, 10, GainLinear, nil)
	assert.InDelta(t, 1, m.Recall, 0)
	m, _ = ScoreList(worst, 5, GainLinear, nil)
	assert.InDelta(t, 0, m.Recall, 0)
	m, _ = ScoreList([]float64{1, 0, 0, 0, 1, 0, 1}, 5, GainLinear, nil)
	assert.InDelta(t, 2.0/3, m.Recall, 1e-15)
}

func TestKendallTauB(t *testing.T) {
	// scipy.stats.kendalltau docstring: x1 = [12, 2, 1, 12, 2],
	// x2 = [1, 4, 7, 1, 0] gives tau = -0.47140452079103173.
	tau, err := KendallTauB([]float64{12, 2, 1, 12, 2}, []float64{1, 4, 7, 1, 0})
	require.NoError(t, err)
	assert.InDelta(t, -0.47140452079103173, tau, 1e-15)
	tau, _ = KendallTauB([]float64{1, 2, 3}, []float64{3, 2, 1})
	assert.Equal(t, -1.0, tau)
	tau, _ = KendallTauB([]float64{1, 1, 1}, []float64{3, 2, 1})
	assert.True(t, math.IsNaN(tau), "constant input gives NaN as in SciPy")
	_, err = KendallTauB([]float64{1}, []float64{1})
	require.Error(t, err)
	_, err = KendallTauB([]float64{1, 2}, []float64{1})
	require.Error(t, err)
	_, err = KendallTauB([]float64{1, math.NaN()}, []float64{1, 2})
	require.ErrorContains(t, err, "index 1")
}

func TestKendallTauBTest(t *testing.T) {
	// SciPy 1.8.1, docstring of scipy.stats.kendalltau
	// (scipy/stats/_stats_py.py), example:
	//   x1 = [12, 2, 1, 12, 2]; x2 = [1, 4, 7, 1, 0]
	//   tau, p_value = stats.kendalltau(x1, x2)
	//   tau -> -0.47140452079103173, p_value -> 0.2827454599327748
	// (SciPy's test_kendalltau expects the same pair). x1 has ties, so
	// SciPy's default method='auto' is method='asymptotic'.
	// By hand: P = 2, Q = 6; x ties {12,12}, {2,2}, y ties {1,1}:
	//   Var = (20*15 - 2*18 - 18)/18 + 4*2/(2*20) = 13.8666...,
	//   Z = -4/sqrt(13.8666...) = -1.07417231105915.
	r, err := KendallTauBTest([]float64{12, 2, 1, 12, 2}, []float64{1, 4, 7, 1, 0})
	require.NoError(t, err)
	assert.InDelta(t, -0.47140452079103173, r.TauB, 1e-15)
	assert.InEpsilon(t, 0.2827454599327748, r.P, 1e-13)
	assert.InEpsilon(t, -1.07417231105915, r.Z, 1e-13)
	assert.InEpsilon(t, 208.0/15, r.Var, 1e-15)
	assert.Equal(t, int64(2), r.Concordant)
	assert.Equal(t, int64(6), r.Discordant)

	// A ten-pair case with tie groups of three in both (so every term of
	// the variance enters), the formula of scipy.stats.kendalltau(x, y,
	// method='asymptotic') evaluated by hand (mpmath 1.3.0, 30 digits):
	// x = [1 1 1 4 5 6 7 8 9 10], y = [1 2 2 4 3 6 6 6 10 9]: P = 37, Q = 2,
	// 2 pairs tied in x only, 3 in y only; x ties {1,1,1}: sums t(t-1) = 6,
	// t(t-1)(t-2) = 6, t(t-1)(2t+5) = 66; y ties {2,2}, {6,6,6}: 8, 6, 84.
	//   Var = (90*25 - 66 - 84)/18 + 6*6/(9*90*8) + 6*8/(2*90) = 116.938888...,
	//   Z = 35/sqrt(Var) = 3.23659652004823, p = 0.00120964311006817,
	//   tau-b = 35/sqrt(41*42) = 0.843434712245790.
	r, err = KendallTauBTest([]float64{1, 1, 1, 4, 5, 6, 7, 8, 9, 10}, []float64{1, 2, 2, 4, 3, 6, 6, 6, 10, 9})
	require.NoError(t, err)
	assert.InEpsilon(t, 0.843434712245790, r.TauB, 1e-13)
	assert.InEpsilon(t, 116.938888888888889, r.Var, 1e-15)
	assert.InEpsilon(t, 3.23659652004823, r.Z, 1e-13)
	assert.InEpsilon(t, 0.00120964311006817, r.P, 1e-12)

	r, err = KendallTauBTest([]float64{1, 1, 1}, []float64{3, 2, 1})
	require.NoError(t, err)
	assert.True(t, math.IsNaN(r.TauB) && math.IsNaN(r.P), "constant input gives NaN as in SciPy")
	_, err = KendallTauBTest([]float64{1, 2}, []float64{1})
	require.Error(t, err)
}

func TestAverageOverlap(t *testing.T) {
	// Webber, Moffat and Zobel (2010) define agreement A_d = X_d/d and
	// AO@k = mean of A_1..A_k; no worked number in the paper, so by hand for
	// S = <a b c>, L = <b a d c> (the lists of TestRBO):
	//   X_1..X_4 = 0, 2, 2, 3;  A = 0, 1, 2/3, 3/4
	//   AO@2 = 1/2, AO@3 = (5/3)/3 = 5/9, AO@4 = (29/12)/4 = 29/48,
	//   AO@6 = (29/12 + 3/5 + 3/6)/6 = 211/360.
	a, b := []string{"a", "b", "c"}, []string{"b", "a", "d", "c"}
	for _, tc := range []struct {
		k    int
		want float64
	}{{1, 0}, {2, 0.5}, {3, 5.0 / 9}, {4, 29.0 / 48}, {0, 29.0 / 48}, {6, 211.0 / 360}} {
		assert.InDelta(t, tc.want, AverageOverlap(a, b, tc.k), 1e-15, "k=%d", tc.k)
		assert.InDelta(t, tc.want, AverageOverlap(b, a, tc.k), 1e-15, "symmetric, k=%d", tc.k)
	}
	// RBO at p -> 1: the normalised truncated RBO tends to AO@k.
	p := 1 - 1e-7
	o, err := RBO(a, b, p)
	require.NoError(t, err)
	assert.InDelta(t, 29.0/48, o.Prefix/(1-math.Pow(p, 4)), 1e-6)

	assert.Equal(t, 1.0, AverageOverlap([]string{"x", "y"}, []string{"x", "y"}, 0))
	assert.Equal(t, 0.0, AverageOverlap([]string{"x", "y"}, []string{"z", "w"}, 0))
	assert.Equal(t, 1.0, AverageOverlap(nil, nil, 3))
	assert.Equal(t, 0.0, AverageOverlap(nil, []string{"x"}, 3))
	// Repeats count at their first rank: <x x y> is <x y>.
	assert.Equal(t, 1.0, AverageOverlap([]string{"x", "x", "y"}, []string{"x", "y"}, 0))
}

func TestRBO(t *testing.T) {
	// Derived by hand from eq. (32) of Webber, Moffat and Zobel (2010),
	// "A similarity measure for indefinite rankings", for S = <a b c>,
	// L = <b a d c>, p = 0.9: s=3, l=4, X_1..X_4 = 0, 2, 2, 3, X_s = 2.
	//   sum_{d=1..4} X_d/d p^d        = 0.81 + 0.486 + 0.492075 = 1.788075
	//   sum_{d=4..4} X_s(d-s)/(sd) p^d = 2*1/12*0.6561            = 0.10935
	//   (1-p)/p * (1.788075+0.10935)                               = 0.210825
	//   ((X_l-X_s)/l + X_s/s) p^l = (1/4 + 2/3) * 0.6561           = 0.601425
	// RBO_ext = 0.81225.
	o, err := RBO([]string{"a", "b", "c"}, []string{"b", "a", "d", "c"}, 0.9)
	require.NoError(t, err)
	assert.InDelta(t, 0.81225, o.Ext, 1e-12)
	assert.Equal(t, 0.9, o.Persistence)
	assert.Equal(t, 3, o.Short)
	assert.Equal(t, 4, o.Long)
	// Prefix = 0.1*(0*1 + 0.9*2/2 + 0.81*2/3 + 0.729*3/4) = 0.1*1.98675 = 0.198675.
	assert.InDelta(t, 0.198675, o.Prefix, 1e-12)
	// Symmetric in its arguments.
	o2, _ := RBO([]string{"b", "a", "d", "c"}, []string{"a", "b", "c"}, 0.9)
	assert.InDelta(t, o.Ext, o2.Ext, 1e-15)

	// Identical lists have RBO_ext exactly 1 for any p (the paper's
	// eq. (30) with X_d = d); disjoint lists 0.
	for _, p := range []float64{0.5, 0.9, 0.98} {
		same, _ := RBO([]string{"a", "b", "c", "d"}, []string{"a", "b", "c", "d"}, p)
		assert.InDelta(t, 1, same.Ext, 1e-12)
		dis, _ := RBO([]string{"a", "b"}, []string{"c", "d"}, p)
		assert.Zero(t, dis.Ext)
	}
	dup, _ := RBO([]string{"a", "a", "b"}, []string{"a", "b"}, 0.9)
	assert.InDelta(t, 1, dup.Ext, 1e-12)
	empty, _ := RBO(nil, nil, 0.9)
	assert.Equal(t, 1.0, empty.Ext)
	_, err = RBO(nil, nil, 1)
	require.ErrorContains(t, err, "persistence")
}

// TestUnionTauMatchesTauB: the stability tau-b computed from the union's
// shape (no pair loop) equals tauB over the explicit union ranks for
// random pairs of top lists drawn from a small catalog.
func TestUnionTauMatchesTauB(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	a := &Analyzer{}
	for range 20000 {
		p := randomTop(rng, rng.IntN(12))
		c := randomTop(rng, rng.IntN(12))
		a.crossIndex(p, c)
		var x, y []float64
		for i, j := range a.pInC {
			if j < 0 {
				j = len(c)
			}
			x, y = append(x, float64(i+1)), append(y, float64(j+1))
		}
		for j, i := range a.cInP {
			if i < 0 {
				x, y = append(x, float64(len(p)+1)), append(y, float64(j+1))
			}
		}
		got := a.unionTau(len(p), len(c))
		if len(x) < 2 {
			require.True(t, math.IsNaN(got))
			continue
		}
		want := tauB(x, y)
		if math.IsNaN(want) {
			require.True(t, math.IsNaN(got), "p=%v c=%v got %v", p, c, got)
			continue
		}
		require.InDelta(t, want, got, 1e-12, "p=%v c=%v", p, c)
	}
}

// randomTop returns n distinct items of a 16-item catalog in random order.
func randomTop(rng *rand.Rand, n int) []string {
	perm := rng.Perm(16)[:n]
	out := make([]string, n)
	for i, v := range perm {
		out[i] = string(rune('a' + v))
	}
	return out
}
