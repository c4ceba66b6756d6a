package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMixtureFormula(t *testing.T) {
	// Johari et al. (2017) normal-mixture mSPRT and Howard et al. (2021)
	// two-sided normal-mixture boundary. Neither paper prints a worked
	// number, so the expected values are the papers' formulas evaluated by
	// hand in 30-digit arithmetic (mpmath) for d = 0.05, V = 0.0004,
	// n = 5000, Rho = 1000, alpha = 0.05:
	//   log LR = 1.70828693205264, p = 1/LR = 0.181175893545374,
	//   CS = (-0.0111223979228670, 0.111122397922867).
	m := Mixture{Rho: 1000}
	l, err := m.LogLR(0.05, 0, 0.0004, 5000)
	require.NoError(t, err)
	rel(t, 1.70828693205264, l, 1e-12, "logLR")
	p, err := m.PValue(0.05, 0.0004, 5000)
	require.NoError(t, err)
	rel(t, 0.181175893545374, p, 1e-12, "p")
	iv, err := m.Interval(0.05, 0.0004, 5000, 0.05)
	require.NoError(t, err)
	rel(t, -0.0111223979228670, iv.Lo, 1e-11, "cs lo")
	rel(t, 0.111122397922867, iv.Hi, 1e-12, "cs hi")

	// Duality: at the ends of the sequence LR(theta0) = 1/alpha exactly.
	for _, end := range []float64{iv.Lo, iv.Hi} {
		l, err := m.LogLR(0.05, end, 0.0004, 5000)
		require.NoError(t, err)
		rel(t, math.Log(20), l, 1e-10, "LR at the boundary")
	}
	// Howard et al. (2021) Section 3.5: the Rho minimising the boundary at
	// n solves n/Rho = 2 log(1/alpha) + log(1 + n/Rho); by hand for
	// n = 10000, alpha = 0.05: Rho = 1217.73488698657.
	r, err := RhoFor(10000, 0.05)
	require.NoError(t, err)
	rel(t, 1217.73488698657, r, 1e-11, "RhoFor")
	// ... and it is a minimum of the width.
	w := func(rho float64) float64 {
		iv, _ := Mixture{Rho: rho}.Interval(0, 1.0/10000, 10000, 0.05)
		return iv.Hi
	}
	assert.Less(t, w(r), w(r*1.05))
	assert.Less(t, w(r), w(r*0.95))

	_, err = Mixture{}.PValue(1, 1, 1)
	require.ErrorContains(t, err, "Rho")
	_, err = m.PValue(1, 0, 1)
	require.ErrorContains(t, err, "variance")
}

// TestPeekingFalsePositives simulates A/A tests looked at after every
// batch. The fixed-horizon z-test, applied at every look, rejects far more
// often than alpha; the mixture SPRT's always-valid p-value does not.
func TestPeekingFalsePositives(t *testing.T) {
	const alpha = 0.05
	sims, looks, batch := 1000, 40, 50
	if testing.Short() || raceEnabled {
		sims = 400
	}
	rho, err := RhoFor(float64(looks*batch)/2, alpha)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(2017, 2021))
	var fixedFP, seqFP, csMiss int
	for range sims {
		var a, b Moments
		mon, err := NewMonitor(Mixture{Rho: rho}, alpha)
		require.NoError(t, err)
		fixedHit := false
		for range looks {
			for range batch {
				a.Add(rng.NormFloat64())
				b.Add(rng.NormFloat64())
			}
			sa, sb := a.Summary(), b.Summary()
			d := sb.Mean - sa.Mean
			v := sa.Var/float64(sa.N) + sb.Var/float64(sb.N)
			if math.Abs(d/math.Sqrt(v)) > 1.959963984540054 {
				fixedHit = true
			}
			neff := 1 / (1/float64(sa.N) + 1/float64(sb.N))
			_, err := mon.Look(d, v, neff)
			require.NoError(t, err)
		}
		if fixedHit {
			fixedFP++
		}
		if mon.Reject() {
			seqFP++
		}
		if !mon.Interval().Contains(0) {
			csMiss++
		}
	}
	fixed := float64(fixedFP) / float64(sims)
	seq := float64(seqFP) / float64(sims)
	t.Logf("sims=%d looks=%d: fixed-horizon FPR %.3f, mSPRT FPR %.3f, CS miss %.3f", sims, looks, fixed, seq, float64(csMiss)/float64(sims))
	assert.Greater(t, fixed, 2*alpha, "peeking at a fixed-horizon test must inflate its error")
	assert.LessOrEqual(t, seq, alpha, "always-valid p-value must keep the error <= alpha")
	assert.Equal(t, seqFP, csMiss, "the CS excludes 0 exactly when the mSPRT rejects")
}

func TestCUPED(t *testing.T) {
	// Deng et al. (2013) give no numeric example; expected values are the
	// paper's estimator (theta = cov(Y,X)/var(X) pooled, Ycv = Y - theta(X - mean X))
	// followed by Welch, computed by hand in 30-digit arithmetic.
	yc := []float64{3, 5, 2, 8, 6, 4, 7, 5}
	xc := []float64{2, 4, 1, 7, 5, 4, 6, 3}
	yt := []float64{6, 7, 4, 9, 8, 6, 10, 7}
	xt := []float64{3, 4, 2, 7, 6, 4, 8, 5}
	var c, tr Bivariate
	for i := range yc {
		c.Add(yc[i], xc[i])
		tr.Add(yt[i], xt[i])
	}
	r, err := CUPED(c, tr, 0.05)
	require.NoError(t, err)
	rel(t, 1.01042752867570, r.Theta, 1e-12, "theta")
	rel(t, 2.125, r.Raw.Diff, 1e-12, "raw diff")
	rel(t, 0.971697704315199, r.Raw.SE, 1e-12, "raw se")
	rel(t, 1.24087591240876, r.Adjusted.Diff, 1e-12, "adj diff")
	rel(t, 0.252996000624537, r.Adjusted.SE, 1e-11, "adj se")
	rel(t, 13.7698418903226, r.Adjusted.DF, 1e-10, "adj df")
	rel(t, 0.000243593941259764, r.Adjusted.P, 1e-7, "adj p")
	rel(t, 0.697401332456195, r.Adjusted.CI.Lo, 1e-9, "adj lo")
	rel(t, 1.78435049236132, r.Adjusted.CI.Hi, 1e-9, "adj hi")
	rel(t, 0.932210105445057, r.VarianceReduction, 1e-10, "variance reduction")
	// The pooled squared correlation, by hand over all 16 units:
	// Sxy = 969/16, Sxx = 959/16, Syy = 1135/16, so
	// R2 = 969^2/(959*1135) = 938961/1088465 = 0.862646938578641,
	// not the 0.932 reduction of the difference's variance above.
	rel(t, 938961.0/1088465, r.PooledR2, 1e-12, "pooled R2")

	// Deng et al. (2013) Section 3.1: with theta fitted on the sample, the
	// variance of Ycv is var(Y)(1 - rho^2) exactly. One arm, large sample.
	rng := rand.New(rand.NewPCG(1, 2))
	var one, one2 Bivariate
	var sy, sx, sxy, syy, sxx float64
	n := 20000
	for i := 0; i < n; i++ {
		x := rng.NormFloat64()
		y := 0.8*x + 0.6*rng.NormFloat64()
		one.Add(y, x)
		if i%2 == 0 {
			one2.Add(y, x)
		}
		sy += y
		sx += x
		sxy += x * y
		syy += y * y
		sxx += x * x
	}
	fn := float64(n)
	cov := sxy/fn - sx*sy/fn/fn
	rho2 := cov * cov / ((sxx/fn - sx*sx/fn/fn) * (syy/fn - sy*sy/fn/fn))
	theta := one.sxy / one.sxx
	vcv := (one.syy - 2*theta*one.sxy + theta*theta*one.sxx) / (fn - 1)
	rel(t, one.Y().Var*(1-rho2), vcv, 1e-9, "var(Ycv) = var(Y)(1-rho^2)")

	var flat Bivariate
	flat.Add(1, 2)
	flat.Add(2, 2)
	_, err = CUPED(flat, flat, 0.05)
	require.ErrorContains(t, err, "covariate")
}

func TestBivariateMerge(t *testing.T) {
	var a, b, all Bivariate
	for i := 0; i < 100; i++ {
		y, x := float64(i*i%17), float64(i%7)
		all.Add(y, x)
		if i < 37 {
			a.Add(y, x)
		} else {
			b.Add(y, x)
		}
	}
	a.Merge(b)
	rel(t, all.sxy, a.sxy, 1e-12, "sxy")
	rel(t, all.syy, a.syy, 1e-12, "syy")
	rel(t, all.mx, a.mx, 1e-12, "mx")
	var m1, m2, mall Moments
	for i := 0; i < 50; i++ {
		mall.Add(float64(i))
		if i < 20 {
			m1.Add(float64(i))
		} else {
			m2.Add(float64(i))
		}
	}
	m1.Merge(m2)
	rel(t, mall.Summary().Var, m1.Summary().Var, 1e-12, "var")
}

func TestFactorial(t *testing.T) {
	// By hand (30-digit arithmetic) from the contrasts documented on Factorial.
	cells := []Cell{
		{Levels: []uint8{0, 0}, Summary: Summary{N: 100, Mean: 10, Var: 4}},
		{Levels: []uint8{1, 0}, Summary: Summary{N: 120, Mean: 11, Var: 5}},
		{Levels: []uint8{0, 1}, Summary: Summary{N: 90, Mean: 10.5, Var: 3}},
		{Levels: []uint8{1, 1}, Summary: Summary{N: 110, Mean: 12.5, Var: 6}},
	}
	eff, err := Factorial([]string{"ranker", "layout"}, cells, 0.05)
	require.NoError(t, err)
	require.Len(t, eff, 3)
	want := []struct {
		name        string
		est, se, df float64
		p           float64
	}{
		{"ranker", 1.5, 0.205879488138968, 407.562667649120, 1.66872791424992e-12},
		{"layout", 1.0, 0.205879488138968, 407.562667649120, 1.70038827344046e-6},
		{"ranker×layout", 1.0, 0.411758976277937, 407.562667649120, 0.0155887242985857},
	}
	for i, w := range want {
		t.Run(w.name, func(t *testing.T) {
			assert.Equal(t, w.name, eff[i].Name)
			rel(t, w.est, eff[i].Estimate, 1e-12, "estimate")
			rel(t, w.se, eff[i].SE, 1e-12, "se")
			rel(t, w.df, eff[i].DF, 1e-10, "df")
			rel(t, w.p, eff[i].P, 1e-6, "p")
		})
	}
	_, err = Factorial([]string{"a", "b"}, cells[:3], 0.05)
	require.ErrorContains(t, err, "cells")
	bad := append([]Cell(nil), cells...)
	bad[3].Levels = []uint8{0, 0}
	_, err = Factorial([]string{"a", "b"}, bad, 0.05)
	require.ErrorContains(t, err, "duplicate")
}

func TestDiD(t *testing.T) {
	// By hand: (6.5-5) - (5.3-4.8) = 1; SE = sqrt(4/200+5/220+3.5/210+4.5/190).
	r, err := DiD(Summary{200, 5, 4}, Summary{220, 6.5, 5}, Summary{210, 4.8, 3.5}, Summary{190, 5.3, 4.5}, 0.05)
	require.NoError(t, err)
	rel(t, 1, r.Estimate, 1e-12, "estimate")
	rel(t, 0.288232805073009, r.SE, 1e-12, "se")
	rel(t, 0.435074082893949, r.CI.Lo, 1e-11, "lo")
	rel(t, 1.56492591710605, r.CI.Hi, 1e-11, "hi")
	rel(t, 0.000521587812644969, r.P, 1e-7, "p")
	assert.NotEmpty(t, r.Assumptions)
	assert.Contains(t, r.Assumptions[0], "parallel trends")
	_, err = DiD(Summary{1, 5, 4}, Summary{220, 6.5, 5}, Summary{210, 4.8, 3.5}, Summary{190, 5.3, 4.5}, 0.05)
	require.ErrorContains(t, err, "treatedPre")
}

func TestIPW(t *testing.T) {
	// One binary confounder: the logistic model is saturated, so the
	// propensity is the treated share within each stratum (0.4 and 0.6) and
	// the Hajek IPW estimate equals direct standardisation:
	// 0.5*(2.5-1.5) + 0.5*(5-3.25) = 1.375 (by hand). The SE is the
	// influence-function formula evaluated by hand: 0.770410920295858.
	data := []struct {
		x, tr int
		y     float64
	}{{0, 1, 2}, {0, 1, 3}, {0, 0, 1}, {0, 0, 2}, {0, 0, 1.5}, {1, 1, 5}, {1, 1, 6}, {1, 1, 4}, {1, 0, 3}, {1, 0, 3.5}}
	var units []ObservedUnit
	for _, d := range data {
		units = append(units, ObservedUnit{Treated: d.tr == 1, Outcome: d.y, Covariates: []float64{float64(d.x)}})
	}
	r, err := IPW(units, IPWConfig{})
	require.NoError(t, err)
	rel(t, 1.375, r.Estimate, 1e-9, "ate")
	rel(t, 0.770410920295858, r.SE, 1e-8, "se")
	assert.Len(t, r.Assumptions, 4)
	assert.Contains(t, r.Diagnostics[0], "[0.4, 0.6]")

	// Perfect separation: no overlap, must be an error, not a number.
	sep := []ObservedUnit{{true, 1, []float64{1}}, {true, 2, []float64{1.2}}, {false, 1, []float64{0}}, {false, 3, []float64{-0.1}}}
	_, err = IPW(sep, IPWConfig{})
	require.Error(t, err)
	_, err = IPW(units, IPWConfig{Clip: 0.7})
	require.ErrorContains(t, err, "Clip")
}

func TestOneSidedMixtureFormula(t *testing.T) {
	// The one-sided (half-normal) mixture of Howard et al. (2021); no paper
	// prints a worked number, so the values are the formula
	//   log LR+ = log 2 + log(Rho/(n+Rho))/2 + S^2/(2(n+Rho)) + log Phi(S/sqrt(n+Rho))
	// evaluated by hand in 30-digit arithmetic (mpmath 1.3.0: ncdf, findroot)
	// for d = 0.05, V = 0.0004, n = 5000, Rho = 1000, alpha = 0.05
	// (the case of TestMixtureFormula):
	//   S = d sqrt(n/V) = 176.776695296637,
	//   log LR+ = 2.39013103616163, p = 1/LR+ = 0.0916176778620667,
	//   s* (LR+(s*) = 20) = 196.086522410056,
	//   lower bound d - s* sigma/n = -0.00546164387817548.
	// Against the two-sided p of 0.181 (TestMixtureFormula), the one-sided
	// p is 0.181/(2 Phi(2.28)) = 0.0916.
	m := OneSidedMixture{Rho: 1000}
	l, err := m.LogLR(0.05, 0, 0.0004, 5000)
	require.NoError(t, err)
	rel(t, 2.39013103616163, l, 1e-12, "logLR+")
	p, err := m.PValue(0.05, 0.0004, 5000)
	require.NoError(t, err)
	rel(t, 0.0916176778620667, p, 1e-12, "p")
	iv, err := m.Interval(0.05, 0.0004, 5000, 0.05)
	require.NoError(t, err)
	rel(t, -0.00546164387817548, iv.Lo, 1e-10, "lower")
	assert.True(t, math.IsInf(iv.Hi, 1))
	// Duality: LR+ at the lower end is 1/alpha.
	l, err = m.LogLR(0.05, iv.Lo, 0.0004, 5000)
	require.NoError(t, err)
	rel(t, math.Log(20), l, 1e-10, "LR+ at the boundary")
	// A harm is never evidence of an improvement.
	p, err = m.PValue(-0.05, 0.0004, 5000)
	require.NoError(t, err)
	assert.Equal(t, 1.0, p)
	// The one-sided lower end is above the two-sided one at the same alpha.
	two, err := Mixture{Rho: 1000}.Interval(0.05, 0.0004, 5000, 0.05)
	require.NoError(t, err)
	assert.Greater(t, iv.Lo, two.Lo)

	_, err = OneSidedMixture{}.PValue(1, 1, 1)
	require.ErrorContains(t, err, "OneSidedMixture.Rho")
	_, err = m.Interval(1, 1, 1, 0)
	require.ErrorContains(t, err, "alpha")
	_, err = NewOneSidedMonitor(OneSidedMixture{Rho: -1}, 0.05)
	require.Error(t, err)
}

// TestOneSidedPeeking looks at A/A tests after every batch, with the true
// difference 0 (the edge of the one-sided null) and -0.1 sd (inside it):
// the one-sided always-valid p-value rejects at most alpha of the time,
// and its lower confidence sequence covers the truth as often.
func TestOneSidedPeeking(t *testing.T) {
	const alpha = 0.05
	sims, looks, batch := 600, 40, 50
	if testing.Short() || raceEnabled {
		sims = 250
	}
	rho, err := RhoFor(float64(looks*batch)/2, alpha)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(2021, 2017))
	for _, shift := range []float64{0, -0.1} {
		var fp, miss int
		for range sims {
			var a, b Moments
			mon, err := NewOneSidedMonitor(OneSidedMixture{Rho: rho}, alpha)
			require.NoError(t, err)
			for range looks {
				for range batch {
					a.Add(rng.NormFloat64())
					b.Add(rng.NormFloat64() + shift)
				}
				sa, sb := a.Summary(), b.Summary()
				d := sb.Mean - sa.Mean
				v := sa.Var/float64(sa.N) + sb.Var/float64(sb.N)
				neff := 1 / (1/float64(sa.N) + 1/float64(sb.N))
				_, err := mon.Look(d, v, neff)
				require.NoError(t, err)
			}
			if mon.Reject() {
				fp++
			}
			if !mon.Interval().Contains(shift) {
				miss++
			}
		}
		t.Logf("shift %v: one-sided mSPRT FPR %.3f, lower CS miss %.3f", shift, float64(fp)/float64(sims), float64(miss)/float64(sims))
		assert.LessOrEqual(t, float64(fp)/float64(sims), alpha)
		assert.LessOrEqual(t, float64(miss)/float64(sims), alpha)
	}
}

func TestMixtureParametrisations(t *testing.T) {
	// The conversions of the package doc, checked numerically on the case
	// of TestMixtureFormula (d = 0.05, V = 0.0004, n = 5000, Rho = 1000):
	// sigma² = V n = 2, tau² = sigma²/Rho = 0.002, rho = Rho sigma² = 2000.
	d, v, n, rho := 0.05, 0.0004, 5000.0, 1000.0
	sigma2 := v * n
	tau2 := sigma2 / rho
	l, err := Mixture{Rho: rho}.LogLR(d, 0, v, n)
	require.NoError(t, err)
	// Johari et al. (2017), two-sample mSPRT with mixing N(0, tau²) on the
	// difference: sqrt(V/(V+tau²)) exp(tau² d² / (2 V (V+tau²))).
	johari := 0.5*math.Log(v/(v+tau2)) + tau2*d*d/(2*v*(v+tau2))
	rel(t, johari, l, 1e-12, "Johari form")
	// Howard et al. (2021): raw sum S_t = d n (intrinsic time V_t =
	// sigma² n), boundary sqrt((V_t+rho) log((V_t+rho)/(rho alpha²))) on S_t.
	rhoH := rho * sigma2
	vt := sigma2 * n
	bound := math.Sqrt((vt + rhoH) * math.Log((vt+rhoH)/(rhoH*0.05*0.05)))
	iv, err := Mixture{Rho: rho}.Interval(d, v, n, 0.05)
	require.NoError(t, err)
	rel(t, bound/n, iv.Hi-d, 1e-12, "Howard boundary / n = half-width")
}
