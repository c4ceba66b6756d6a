package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rel asserts got agrees with want to a relative tolerance of tol (1e-7 is
// 7 significant digits).
func rel(t *testing.T, want, got, tol float64, msg string) {
	t.Helper()
	if want == 0 {
		assert.InDelta(t, 0, got, tol, msg)
		return
	}
	assert.InEpsilon(t, want, got, tol, "%s: want %.12g got %.12g", msg, want, got)
}

// Sleep data (Cushny & Peebles, R's datasets::sleep), extra hours by group.
var (
	sleep1 = []float64{0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0}
	sleep2 = []float64{1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4}
)

func TestWelchSleep(t *testing.T) {
	// R: t.test(extra ~ group, data = sleep) (the example in ?t.test) prints
	//   t = -1.8608, df = 17.776, p-value = 0.07939
	//   95 percent confidence interval: -3.3654832  0.2054832
	// R's difference is group1 - group2, so group 2 is our control.
	// The 12-digit values are the same formula in 30-digit arithmetic (mpmath),
	// derived by hand; they round to every digit R prints.
	r, err := Welch(Summarize(sleep2), Summarize(sleep1), 0.05)
	require.NoError(t, err)
	rel(t, -1.58, r.Diff, 1e-12, "diff")
	rel(t, -1.8608, r.T, 5e-5, "t (R)")
	rel(t, -1.86081346748685, r.T, 1e-10, "t")
	rel(t, 17.776, r.DF, 5e-5, "df (R)")
	rel(t, 17.7764735161785, r.DF, 1e-10, "df")
	rel(t, 0.07939, r.P, 1e-4, "p (R)")
	rel(t, 0.0793941401873581, r.P, 1e-8, "p")
	rel(t, -3.3654832, r.CI.Lo, 1e-7, "ci lo (R)")
	rel(t, 0.2054832, r.CI.Hi, 1e-6, "ci hi (R)")
	rel(t, -3.36548323071171, r.CI.Lo, 1e-9, "ci lo")
	rel(t, 0.205483230711711, r.CI.Hi, 1e-8, "ci hi")
}

func TestWelchErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		c, t Summary
		a    float64
	}{
		{"small control", Summary{N: 1}, Summary{N: 5, Var: 1}, 0.05},
		{"nan mean", Summary{N: 5, Mean: math.NaN()}, Summary{N: 5, Var: 1}, 0.05},
		{"negative var", Summary{N: 5, Var: -1}, Summary{N: 5, Var: 1}, 0.05},
		{"alpha", Summary{N: 5, Var: 1}, Summary{N: 5, Var: 1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Welch(tc.c, tc.t, tc.a)
			require.Error(t, err)
		})
	}
	r, err := Welch(Summary{N: 3, Mean: 1}, Summary{N: 3, Mean: 2}, 0.05)
	require.NoError(t, err)
	assert.Equal(t, 0.0, r.P)
}

func TestProportionsChiSquareSmokers(t *testing.T) {
	// R: ?prop.test example, smokers <- c(83, 90, 129, 70); patients <- c(86, 93, 136, 82);
	// prop.test(smokers, patients) prints X-squared = 12.6, df = 3, p-value = 0.005585.
	// 12-digit values: same formula in 30-digit arithmetic, by hand.
	g := []Proportion{{83, 86}, {90, 93}, {129, 136}, {70, 82}}
	r, err := ProportionsChiSquare(g)
	require.NoError(t, err)
	assert.Equal(t, 3, r.DF)
	rel(t, 12.6, r.Stat, 5e-3, "X-squared (R)")
	rel(t, 12.6004112971276, r.Stat, 1e-10, "X-squared")
	rel(t, 0.005585, r.P, 1e-4, "p (R)")
	rel(t, 0.00558547666162704, r.P, 1e-8, "p")
}

func TestTwoProportionsNewcombe(t *testing.T) {
	// Newcombe (1998), "Interval estimation for the difference between
	// independent proportions: comparison of eleven methods", Stat. Med.
	// 17:873, Table II, method 10 (score, no continuity correction):
	//   (a) 56/70 - 48/80: 0.0524 to 0.3339
	//   (b) 9/10 - 3/10:   0.1705 to 0.8090
	// 12-digit values derived by hand (mpmath) from the method's formula.
	for _, tc := range []struct {
		name       string
		c, tr      Proportion
		lo, hi     float64 // Newcombe's printed values
		lo12, hi12 float64
	}{
		{"a", Proportion{48, 80}, Proportion{56, 70}, 0.0524, 0.3339, 0.0524314724023649, 0.333872654036906},
		{"b", Proportion{3, 10}, Proportion{9, 10}, 0.1705, 0.8090, 0.170522723934503, 0.809017973535488},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := TwoProportions(tc.c, tc.tr, 0.05)
			require.NoError(t, err)
			assert.InDelta(t, tc.lo, r.Newcombe.Lo, 5e-5)
			assert.InDelta(t, tc.hi, r.Newcombe.Hi, 5e-5)
			rel(t, tc.lo12, r.Newcombe.Lo, 1e-9, "lo")
			rel(t, tc.hi12, r.Newcombe.Hi, 1e-9, "hi")
		})
	}
}

func TestTwoProportionsZWaldLift(t *testing.T) {
	// 56/70 vs 48/80, derived by hand (mpmath, 30 digits):
	// pooled z = 2.65017195125853, p = 0.00804508136819658,
	// Wald CI (0.0575048991490371, 0.342495100850963),
	// lift 1/3 with delta-method CI (0.0482005295700935, 0.618466137096573).
	// Standard errors by hand:
	//   SE       = sqrt(0.8*0.2/70 + 0.6*0.4/80) = sqrt(37/7000)  = 0.0727029179999970
	//   PooledSE = sqrt(104/150 * 46/150 * (1/70 + 1/80))
	//            = sqrt(299/52500)              = 0.0754668012786954
	// and Diff/PooledSE = (1/5)/0.0754668012786954 = Z, Wald = Diff ± 1.959963984540054*SE.
	c, tr := Proportion{48, 80}, Proportion{56, 70}
	r, err := TwoProportions(c, tr, 0.05)
	require.NoError(t, err)
	rel(t, 0.0727029179999970, r.SE, 1e-12, "se")
	rel(t, 0.0754668012786954, r.PooledSE, 1e-12, "pooled se")
	rel(t, r.Diff/r.PooledSE, r.Z, 1e-14, "z = diff/pooled se")
	rel(t, r.Diff+ZCritical(0.05)*r.SE, r.Wald.Hi, 1e-14, "wald = diff + z se")
	rel(t, 2.65017195125853, r.Z, 1e-10, "z")
	rel(t, 0.00804508136819658, r.P, 1e-8, "p")
	rel(t, 0.0575048991490371, r.Wald.Lo, 1e-9, "wald lo")
	rel(t, 0.342495100850963, r.Wald.Hi, 1e-9, "wald hi")
	rel(t, 1.0/3, r.Lift, 1e-12, "lift")
	rel(t, 0.0482005295700935, r.LiftCI.Lo, 1e-9, "lift lo")
	rel(t, 0.618466137096573, r.LiftCI.Hi, 1e-9, "lift hi")
	// z^2 is the statistic of prop.test(correct = FALSE) (identity).
	chi, err := ProportionsChiSquare([]Proportion{c, tr})
	require.NoError(t, err)
	rel(t, chi.Stat, r.Z*r.Z, 1e-12, "z^2 = X-squared")
	rel(t, chi.P, r.P, 1e-9, "same p")

	for _, bad := range []struct {
		name  string
		c, tr Proportion
	}{
		{"zero trials", Proportion{0, 0}, tr},
		{"successes > trials", c, Proportion{10, 5}},
		{"negative", Proportion{-1, 5}, tr},
	} {
		t.Run(bad.name, func(t *testing.T) {
			_, err := TwoProportions(bad.c, bad.tr, 0.05)
			require.Error(t, err)
		})
	}
}

func TestChiSquareGOF(t *testing.T) {
	// SciPy docs, scipy.stats.chisquare examples:
	//   chisquare([16, 18, 16, 14, 12, 12]) -> (2.0, 0.84914503608460956)
	//   chisquare([16, 18, 16, 14, 12, 12], f_exp=[16, 16, 16, 16, 16, 8]) -> (3.5, 0.62338762774958223)
	// R: ?chisq.test, x <- c(A = 20, B = 15, C = 25); chisq.test(x) prints
	//   X-squared = 2.5, df = 2, p-value = 0.2865 (12 digits: exp(-1.25), by hand).
	for _, tc := range []struct {
		name    string
		obs     []int64
		w       []float64
		stat, p float64
		tol     float64
	}{
		{"scipy uniform", []int64{16, 18, 16, 14, 12, 12}, []float64{1, 1, 1, 1, 1, 1}, 2.0, 0.84914503608460956, 1e-12},
		{"scipy f_exp", []int64{16, 18, 16, 14, 12, 12}, []float64{16, 16, 16, 16, 16, 8}, 3.5, 0.62338762774958223, 1e-12},
		{"R chisq.test", []int64{20, 15, 25}, []float64{1, 1, 1}, 2.5, 0.286504796860190, 1e-12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ChiSquareGOF(tc.obs, tc.w)
			require.NoError(t, err)
			rel(t, tc.stat, r.Stat, 1e-12, "stat")
			rel(t, tc.p, r.P, tc.tol, "p")
		})
	}
	_, err := ChiSquareGOF([]int64{1, 2}, []float64{1})
	require.ErrorContains(t, err, "weights")
	_, err = ChiSquareGOF([]int64{1, 2}, []float64{1, 0})
	require.ErrorContains(t, err, "weights[1]")
}

func TestCheckSRM(t *testing.T) {
	// The case quoted in DefaultSRMThreshold's doc: 101,000 vs 99,000 units
	// on a 50/50 design gives chi-square 20 (by hand) and p = erfc(sqrt(10)) = 7.74421643104407e-6.
	s, err := CheckSRM([]int64{101000, 99000}, []float64{0.5, 0.5}, 0)
	require.NoError(t, err)
	rel(t, 20, s.Stat, 1e-12, "stat")
	rel(t, 7.74421643104407e-6, s.P, 1e-9, "p")
	assert.True(t, s.Mismatch)
	assert.Equal(t, DefaultSRMThreshold, s.Threshold)
	s, err = CheckSRM([]int64{100100, 99900}, []float64{1, 1}, 0)
	require.NoError(t, err)
	assert.False(t, s.Mismatch, "p=%v", s.P)
	_, err = CheckSRM([]int64{1, 1}, []float64{1, 1}, 2)
	require.ErrorContains(t, err, "threshold")
}

// Benjamini & Hochberg (1995) example p-values (Neuhaus et al. 1992), as in
// SciPy's false_discovery_control docs.
var bh1995 = []float64{0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000}

func TestAdjust(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Correction
		want []float64
	}{
		// SciPy docs, stats.false_discovery_control(ps) prints (8 digits):
		// [0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.06385714, 0.06385714,
		//  0.0645, 0.0765, 0.486, 0.58118182, 0.714875, 0.75323077, 0.81321429, 1.]
		// written here as the exact fractions they round (e.g. 0.0298*15/7).
		{"BH", CorrectionBH, []float64{0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.0298 * 15 / 7, 0.0298 * 15 / 7,
			0.0645, 0.0765, 0.486, 0.4262 * 15 / 11, 0.714875, 0.6528 * 15 / 13, 0.759 * 15 / 14, 1}},
		// Holm and BY: R's p.adjust algorithm applied by hand (mpmath); BY is BH
		// times sum(1/i, i=1..15) = 3.31822899322899 before the running minimum.
		{"holm", CorrectionHolm, []float64{0.0015, 0.0056, 0.0247, 0.114, 0.2211, 0.278, 0.278, 0.278, 0.3213, 1, 1, 1, 1, 1, 1}},
		{"BY", CorrectionBY, []float64{0.0049773434898434898, 0.0099546869796869797, 0.031523175435675436, 0.11821190788378288,
			0.20008920829170829, 0.21189262285333714, 0.21189262285333714, 0.21402577006327006, 0.25384451798201798, 1, 1, 1, 1, 1, 1}},
		// Hochberg: R's p.adjust(p, "hochberg") (stats package, R 4.x; the
		// code is unchanged since R 2.x) is
		//   i <- n:1; o <- order(p, decreasing = TRUE)
		//   pmin(1, cummin((n + 1 - i) * p[o]))[order(o)]
		// applied by hand in exact rational arithmetic (Python fractions):
		// the seven largest are 1, 0.0459*7, 0.0344*8, 0.0298*9 = 0.2682
		// (which the tie with 0.0278 carries down), then as Holm.
		{"hochberg", CorrectionHochberg, []float64{0.0015, 0.0056, 0.0247, 0.114, 0.2211, 0.2682, 0.2682, 0.2752, 0.3213, 1, 1, 1, 1, 1, 1}},
		{"bonferroni", CorrectionBonferroni, []float64{0.0015, 0.006, 0.0285, 0.1425, 0.3015, 0.417, 0.447, 0.516, 0.6885, 1, 1, 1, 1, 1, 1}},
		{"none", CorrectionNone, bh1995},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Adjust(bh1995, tc.c)
			require.NoError(t, err)
			for i := range got {
				rel(t, tc.want[i], got[i], 1e-12, tc.name)
			}
			// Order of input must not matter.
			rev := make([]float64, len(bh1995))
			for i := range bh1995 {
				rev[len(rev)-1-i] = bh1995[i]
			}
			gotRev, err := Adjust(rev, tc.c)
			require.NoError(t, err)
			for i := range got {
				assert.Equal(t, got[i], gotRev[len(rev)-1-i])
			}
		})
	}
	// SciPy prints 0.06385714 and 0.58118182 for BH; check the rounding.
	got, _ := Adjust(bh1995, CorrectionBH)
	assert.InDelta(t, 0.06385714, got[5], 5e-9)
	assert.InDelta(t, 0.58118182, got[10], 5e-9)

	_, err := Adjust([]float64{0.1, 1.5}, CorrectionHolm)
	require.ErrorContains(t, err, "p[1]")
	_, err = Adjust([]float64{0.1}, Correction(99))
	require.Error(t, err)
	c, ok := ParseCorrection("BY")
	assert.True(t, ok)
	assert.Equal(t, CorrectionBY, c)
	c, ok = ParseCorrection("hochberg")
	assert.True(t, ok)
	assert.Equal(t, CorrectionHochberg, c)
	assert.Equal(t, "hochberg", CorrectionHochberg.String())
}

func TestAdjustHochbergStepUp(t *testing.T) {
	// The textbook case that separates step-up from step-down, by hand with
	// R's p.adjust algorithm (see TestAdjust): p = 0.01, 0.02, 0.03, 0.04, 0.05.
	//   hochberg: cummin from the largest of 1*0.05, 2*0.04, 3*0.03, 4*0.02, 5*0.01
	//             = 0.05 everywhere: all five rejected at 0.05;
	//   holm:     cummax from the smallest of 5*0.01, 4*0.02, 3*0.03, 2*0.04, 1*0.05
	//             = 0.05, 0.08, 0.09, 0.09, 0.09: one rejected.
	p := []float64{0.01, 0.02, 0.03, 0.04, 0.05}
	hoch, err := Adjust(p, CorrectionHochberg)
	require.NoError(t, err)
	holm, err := Adjust(p, CorrectionHolm)
	require.NoError(t, err)
	for i, want := range []float64{0.05, 0.05, 0.05, 0.05, 0.05} {
		rel(t, want, hoch[i], 1e-15, "hochberg")
	}
	for i, want := range []float64{0.05, 0.08, 0.09, 0.09, 0.09} {
		rel(t, want, holm[i], 1e-15, "holm")
	}
	// Hochberg never exceeds Holm.
	rng := rand.New(rand.NewPCG(1988, 1992))
	for range 200 {
		q := make([]float64, 1+rng.IntN(20))
		for i := range q {
			q[i] = rng.Float64()
		}
		a, err := Adjust(q, CorrectionHochberg)
		require.NoError(t, err)
		b, err := Adjust(q, CorrectionHolm)
		require.NoError(t, err)
		for i := range a {
			assert.LessOrEqual(t, a[i], b[i])
		}
	}
}

func TestPowerProportions(t *testing.T) {
	// R: ?power.prop.test examples:
	//   power.prop.test(n = 50, p1 = .50, p2 = .75)        ## => power = 0.740
	//   power.prop.test(p1 = .50, p2 = .75, power = .90)   ## => n = 76.7
	//   power.prop.test(p1 = .5, p2 = 0.501, sig.level=.001, power=0.90) ## => n = 10451937
	// Longer values: the closed form in 30-digit arithmetic, by hand.
	n, err := SampleSizeProportions(0.5, 0.75, 0.05, 0.9)
	require.NoError(t, err)
	assert.InDelta(t, 76.7, n, 0.05)
	rel(t, 76.7069284517774, n, 1e-9, "n")
	n, err = SampleSizeProportions(0.5, 0.501, 0.001, 0.9)
	require.NoError(t, err)
	assert.Equal(t, 10451937.0, math.Round(n))
	rel(t, 10451936.5954885, n, 1e-9, "n small effect")
	p, err := PowerProportions(50, 0.5, 0.75, 0.05)
	require.NoError(t, err)
	assert.InDelta(t, 0.740, p, 5e-4)
	rel(t, 0.740165901331388, p, 1e-9, "power")
	// Round trip: power at the computed n is the requested power.
	n, _ = SampleSizeProportions(0.1, 0.12, 0.05, 0.8)
	p, _ = PowerProportions(n, 0.1, 0.12, 0.05)
	rel(t, 0.8, p, 1e-9, "round trip")

	_, err = SampleSizeProportions(0.5, 0.5, 0.05, 0.8)
	require.ErrorContains(t, err, "p2")
	_, err = SampleSizeProportions(0.5, 0.6, 0.05, 1)
	require.ErrorContains(t, err, "power")
}

func TestPowerMeans(t *testing.T) {
	// By hand: 2 (1.95996398454005 + 0.841621233572914)^2 = 15.6977..., so
	// sd = 2, mde = 0.5 gives 15.6977 * 16 = 251.16.
	n, err := SampleSizeMeans(2, 0.5, 0.05, 0.8)
	require.NoError(t, err)
	z := 1.95996398454005423552 + 0.84162123357291418468
	rel(t, 2*z*z*16, n, 1e-12, "n")
	m, err := MDEMeans(n, 2, 0.05, 0.8)
	require.NoError(t, err)
	rel(t, 0.5, m, 1e-12, "mde round trip")
	_, err = SampleSizeMeans(0, 1, 0.05, 0.8)
	require.ErrorContains(t, err, "sd")
}
