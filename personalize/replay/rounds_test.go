package replay

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEstimateRoundsByHand is a worked example of the Open Bandit Pipeline
// estimators (obp 0.5.x, obp.ope: InverseProbabilityWeighting,
// SelfNormalizedInverseProbabilityWeighting, DirectMethod, DoublyRobust,
// SelfNormalizedDoublyRobust, estimate_policy_value). obp is not runnable
// here, so every value is derived step by step in exact rational
// arithmetic (Python fractions; square roots in mpmath, 30 digits):
//
//	i  r  p_b  pi_e  w    q(a_i)  qpi   w r  qpi + w(r-q)  w(r-q)
//	1  1  1/2  1     2    0.6     0.7   2    1.5           0.8
//	2  0  1/4  1/2   2    0.2     0.3   0    -0.1          -0.4
//	3  1  1/2  1/4   1/2  0.5     0.4   1/2  0.65          0.25
//	4  0  4/5  2/5   1/2  0.3     0.35  0    0.2           -0.15
//
//	sum w = 5, sum w^2 = 17/2: ESS = 25/(17/2) = 50/17, mean w = 5/4
//	IPS   = (2 + 1/2)/4 = 5/8
//	SNIPS = (5/2)/5 = 1/2
//	DM    = 1.75/4 = 7/16
//	DR    = 2.25/4 = 9/16
//	SNDR  = 7/16 + (0.8 - 0.4 + 0.25 - 0.15)/5 = 7/16 + 1/10 = 43/80
//	      (= mean of obp's round rewards qpi + w(r-q)/mean(w))
//
// Standard errors, s^2 the sample variance (divisor n-1):
//
//	IPS  s^2(2, 0, 1/2, 0)             = 43/48,     se = sqrt(43/192)    = 0.473242362150023
//	DM   s^2(0.7, 0.3, 0.4, 0.35)      = 31/960,    se = sqrt(31/3840)   = 0.0898494110535326
//	DR   s^2(1.5, -0.1, 0.65, 0.2)     = 777/1600,  se = sqrt(777/6400)  = 0.348433996619159
//	SNIPS phi = w(r - 1/2)/(5/4) = (4/5)(1, -1, 1/4, -1/4):
//	     sum phi^2/(n-1) = (16/25)(17/8)/3 = 34/75, se = sqrt(17/150)   = 0.336650164612069
//	SNDR C = 1/10, phi = (qpi - 7/16) + (w(r-q) - w/10)/(5/4)
//	       = (297, -247, 49, -99)/400:
//	     se^2 = sum phi^2/(3*4) = 8071/96000,   se = 0.289953300837681
func TestEstimateRoundsByHand(t *testing.T) {
	in := Rounds{
		Reward:     []float64{1, 0, 1, 0},
		Propensity: []float64{0.5, 0.25, 0.5, 0.8},
		Target:     []float64{1, 0.5, 0.25, 0.4},
		QLogged:    []float64{0.6, 0.2, 0.5, 0.3},
		QTarget:    []float64{0.7, 0.3, 0.4, 0.35},
	}
	r, err := EstimateRounds(in)
	require.NoError(t, err)
	assert.Equal(t, 4, r.N)
	for _, c := range []struct {
		name      string
		got       PointEstimate
		value, se float64
	}{
		{"IPS", r.IPS, 5.0 / 8, 0.473242362150023},
		{"SNIPS", r.SNIPS, 0.5, 0.336650164612069},
		{"DM", r.DM, 7.0 / 16, 0.0898494110535326},
		{"DR", r.DR, 9.0 / 16, 0.348433996619159},
		{"SNDR", r.SNDR, 43.0 / 80, 0.289953300837681},
	} {
		assert.InDelta(t, c.value, c.got.Value, 1e-15, c.name)
		assert.InEpsilon(t, c.se, c.got.StdErr, 1e-13, c.name+" se")
	}
	assert.InDelta(t, 50.0/17, r.EffectiveSampleSize, 1e-14)
	assert.Equal(t, 2.0, r.MaxWeight)
	assert.InDelta(t, 1.25, r.MeanWeight, 1e-15)

	// Without a reward model only the weighting estimators exist.
	in.QLogged, in.QTarget = nil, nil
	r, err = EstimateRounds(in)
	require.NoError(t, err)
	assert.InDelta(t, 5.0/8, r.IPS.Value, 1e-15)
	assert.True(t, math.IsNaN(r.DM.Value) && math.IsNaN(r.DR.Value) && math.IsNaN(r.SNDR.Value))
}

// TestEstimateRoundsMatchesEvaluator feeds the four rounds of
// TestEstimatorsByHand to both entry points.
func TestEstimateRoundsMatchesEvaluator(t *testing.T) {
	r, err := EstimateRounds(Rounds{
		Reward:     []float64{1, 0, 0, 1},
		Propensity: []float64{0.5, 0.25, 0.8, 0.5},
		Target:     []float64{1, 0, 1, 0},
		QLogged:    []float64{0.6, 0.3, 0.6, 0.3},
		QTarget:    []float64{0.6, 0.6, 0.6, 0.6},
	})
	require.NoError(t, err)
	assert.InDelta(t, 0.5, r.IPS.Value, 1e-12)
	assert.InDelta(t, 0.6153846153846154, r.SNIPS.Value, 1e-12)
	assert.InDelta(t, 0.6, r.DM.Value, 1e-12)
	assert.InDelta(t, 0.6125, r.DR.Value, 1e-12)
	assert.InDelta(t, 8.0/13, r.SNDR.Value, 1e-12)
	assert.InDelta(t, 1.898876404494382, r.EffectiveSampleSize, 1e-12)
}

// TestEstimateRoundsCoverage checks the standard errors on a simulated
// log: the logging policy picks one of 3 actions uniformly, the target
// prefers action 0; across repetitions the estimates' spread matches
// their reported standard errors.
func TestEstimateRoundsCoverage(t *testing.T) {
	means := []float64{0.7, 0.4, 0.2}
	target := []float64{0.6, 0.3, 0.1}
	truth := 0.6*0.7 + 0.3*0.4 + 0.1*0.2
	rng := rand.New(rand.NewPCG(2021, 5))
	const reps, n = 300, 400
	names := []string{"IPS", "SNIPS", "DM", "DR", "SNDR"}
	miss := make([]int, len(names))
	for range reps {
		in := Rounds{}
		for range n {
			a := rng.IntN(3)
			r := 0.0
			if rng.Float64() < means[a] {
				r = 1
			}
			// A biased reward model: DR and SNDR must still cover.
			q := []float64{0.6, 0.5, 0.3}
			in.Reward = append(in.Reward, r)
			in.Propensity = append(in.Propensity, 1.0/3)
			in.Target = append(in.Target, target[a])
			in.QLogged = append(in.QLogged, q[a])
			in.QTarget = append(in.QTarget, 0.6*q[0]+0.3*q[1]+0.1*q[2])
		}
		res, err := EstimateRounds(in)
		require.NoError(t, err)
		for j, e := range []PointEstimate{res.IPS, res.SNIPS, res.DM, res.DR, res.SNDR} {
			if math.Abs(e.Value-truth) > 1.96*e.StdErr {
				miss[j]++
			}
		}
	}
	for j, name := range names {
		rate := float64(miss[j]) / reps
		t.Logf("%s: 95%% normal interval misses %.3f", name, rate)
		if name == "DM" {
			assert.Greater(t, rate, 0.5, "DM with a biased model misses")
			continue
		}
		assert.InDelta(t, 0.05, rate, 0.04, name)
	}
}

func TestEstimateRoundsErrors(t *testing.T) {
	ok := func() Rounds {
		return Rounds{Reward: []float64{1, 0}, Propensity: []float64{0.5, 0.5}, Target: []float64{1, 0},
			QLogged: []float64{0.5, 0.5}, QTarget: []float64{0.5, 0.5}}
	}
	for _, tc := range []struct {
		name string
		mod  func(*Rounds)
		want string
	}{
		{"empty", func(r *Rounds) { r.Reward = nil }, "Reward: empty"},
		{"length", func(r *Rounds) { r.Target = r.Target[:1] }, "Rounds.Target: length 1"},
		{"one model array", func(r *Rounds) { r.QTarget = nil }, "Rounds.QTarget"},
		{"propensity 0", func(r *Rounds) { r.Propensity[1] = 0 }, "Propensity[1]"},
		{"target > 1", func(r *Rounds) { r.Target[0] = 1.5 }, "Target[0]"},
		{"reward NaN", func(r *Rounds) { r.Reward[1] = math.NaN() }, "Reward[1]"},
		{"q inf", func(r *Rounds) { r.QLogged[0] = math.Inf(1) }, "QLogged[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := ok()
			tc.mod(&in)
			_, err := EstimateRounds(in)
			require.ErrorContains(t, err, tc.want)
		})
	}
	// All weights zero: the self-normalized estimators are undefined.
	in := ok()
	in.Target = []float64{0, 0}
	r, err := EstimateRounds(in)
	require.NoError(t, err)
	assert.True(t, math.IsNaN(r.SNIPS.Value) && math.IsNaN(r.SNDR.Value))
	assert.Zero(t, r.EffectiveSampleSize)
	// One round: values but no standard errors.
	r, err = EstimateRounds(Rounds{Reward: []float64{1}, Propensity: []float64{0.5}, Target: []float64{1}})
	require.NoError(t, err)
	assert.Equal(t, 2.0, r.IPS.Value)
	assert.True(t, math.IsNaN(r.IPS.StdErr))
}
