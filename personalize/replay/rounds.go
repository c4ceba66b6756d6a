package replay

import (
	"fmt"
	"math"
)

// Rounds is logged bandit feedback as parallel arrays, one entry per
// round (logged action i), for data that did not come through events. In
// the terms of Open Bandit Pipeline's estimate_policy_value(reward,
// action, pscore, action_dist, estimated_rewards_by_reg_model):
//
//	Reward[i]     = reward[i]                                         r_i
//	Propensity[i] = pscore[i], the logging policy's pi_b(a_i|x_i)     in (0,1]
//	Target[i]     = action_dist[i, action[i]], pi_e(a_i|x_i)          in [0,1]
//	QLogged[i]    = estimated_rewards_by_reg_model[i, action[i]]      q(x_i, a_i)
//	QTarget[i]    = sum_a action_dist[i, a] estimated_rewards_by_reg_model[i, a]
//
// QTarget is the reward model's expected reward under the target policy
// (obp's np.average(q_hat, weights=action_dist)); QLogged and QTarget may
// both be nil, and then DM, DR and SNDR are NaN.
type Rounds struct {
	Reward     []float64
	Propensity []float64
	Target     []float64
	QLogged    []float64
	QTarget    []float64
}

// PointEstimate is an estimate with its standard error.
type PointEstimate struct {
	Value  float64
	StdErr float64 // NaN with fewer than 2 rounds
}

// RoundsResult are the estimates of [EstimateRounds]. Values are expected
// rewards per round.
type RoundsResult struct {
	N                        int
	IPS, SNIPS, DM, DR, SNDR PointEstimate
	// EffectiveSampleSize is (sum w)^2 / sum w^2 (0 when every w is 0),
	// MaxWeight the largest and MeanWeight the mean importance weight.
	EffectiveSampleSize, MaxWeight, MeanWeight float64
}

// EstimateRounds estimates the target policy's expected reward from
// logged rounds with the estimators of Open Bandit Pipeline (Saito,
// Aihara, Matsutani and Narita 2021, "Open Bandit Dataset and Pipeline";
// obp.ope classes named in brackets), with w_i = Target[i]/Propensity[i],
// q_i = QLogged[i] and qpi_i = QTarget[i]:
//
//	IPS    (1/n) sum w_i r_i                         [InverseProbabilityWeighting]
//	SNIPS  sum w_i r_i / sum w_i                     [SelfNormalizedInverseProbabilityWeighting]
//	DM     (1/n) sum qpi_i                           [DirectMethod]
//	DR     (1/n) sum (qpi_i + w_i (r_i - q_i))       [DoublyRobust]
//	SNDR   DM + sum w_i (r_i - q_i) / sum w_i        [SelfNormalizedDoublyRobust]
//
// SNDR is obp's round reward qpi_i + w_i (r_i - q_i) / mean(w), averaged.
//
// Standard errors are analytic (obp itself gives bootstrap intervals of
// the same round rewards). For IPS, DM and DR, whose value is a mean of
// round values v_i, StdErr = s(v)/sqrt(n) with s the sample standard
// deviation (divisor n-1). SNIPS and SNDR are ratios; their StdErr is the
// delta method's, s(phi)/sqrt(n) with the influence values
//
//	SNIPS  phi_i = w_i (r_i - SNIPS) / mean(w)
//	SNDR   phi_i = (qpi_i - DM) + (w_i (r_i - q_i) - C w_i) / mean(w),
//	       C = sum w_i (r_i - q_i) / sum w_i
//
// (mean phi = 0, so s(phi)^2 = sum phi_i^2 / (n-1)). SNIPS and SNDR are
// NaN when every weight is 0. Rounds are treated as independent; for the
// slots of one ranking, which are not, use the [Evaluator]'s bootstrap
// over impressions.
//
// EstimateRounds returns an error naming the field and index for
// arrays of different lengths, no rounds, a propensity outside (0,1], a
// target probability outside [0,1] or a value that is not finite.
func EstimateRounds(in Rounds) (RoundsResult, error) {
	n := len(in.Reward)
	if n == 0 {
		return RoundsResult{}, fmt.Errorf("replay: Rounds.Reward: empty")
	}
	hasQ := in.QLogged != nil || in.QTarget != nil
	for _, f := range []struct {
		name string
		v    []float64
		skip bool
	}{
		{"Propensity", in.Propensity, false},
		{"Target", in.Target, false},
		{"QLogged", in.QLogged, !hasQ},
		{"QTarget", in.QTarget, !hasQ},
	} {
		if !f.skip && len(f.v) != n {
			return RoundsResult{}, fmt.Errorf("replay: Rounds.%s: length %d, Reward has %d", f.name, len(f.v), n)
		}
	}
	for i := range n {
		if r := in.Reward[i]; math.IsNaN(r) || math.IsInf(r, 0) {
			return RoundsResult{}, fmt.Errorf("replay: Rounds.Reward[%d]: must be finite, got %v", i, r)
		}
		if p := in.Propensity[i]; !(p > 0 && p <= 1) {
			return RoundsResult{}, fmt.Errorf("replay: Rounds.Propensity[%d]: must be in (0,1], got %v", i, p)
		}
		if p := in.Target[i]; !(p >= 0 && p <= 1) {
			return RoundsResult{}, fmt.Errorf("replay: Rounds.Target[%d]: must be in [0,1], got %v", i, p)
		}
		if hasQ {
			if q := in.QLogged[i]; math.IsNaN(q) || math.IsInf(q, 0) {
				return RoundsResult{}, fmt.Errorf("replay: Rounds.QLogged[%d]: must be finite, got %v", i, q)
			}
			if q := in.QTarget[i]; math.IsNaN(q) || math.IsInf(q, 0) {
				return RoundsResult{}, fmt.Errorf("replay: Rounds.QTarget[%d]: must be finite, got %v", i, q)
			}
		}
	}
	fn := float64(n)
	w := func(i int) float64 { return in.Target[i] / in.Propensity[i] }
	var sw, sw2, swr, maxW float64
	for i := range n {
		wi := w(i)
		sw += wi
		sw2 += wi * wi
		swr += wi * in.Reward[i]
		maxW = max(maxW, wi)
	}
	res := RoundsResult{N: n, MaxWeight: maxW, MeanWeight: sw / fn}
	if sw2 > 0 {
		res.EffectiveSampleSize = sw * sw / sw2
	}
	nan := math.NaN()
	// se returns s(v)/sqrt(n) of values v_i = f(i) around their mean m.
	se := func(m float64, f func(i int) float64) float64 {
		if n < 2 {
			return nan
		}
		var ss float64
		for i := range n {
			d := f(i) - m
			ss += d * d
		}
		return math.Sqrt(ss / (fn - 1) / fn)
	}
	ips := swr / fn
	res.IPS = PointEstimate{ips, se(ips, func(i int) float64 { return w(i) * in.Reward[i] })}
	wbar := sw / fn
	res.SNIPS = PointEstimate{nan, nan}
	if sw > 0 {
		snips := swr / sw
		res.SNIPS = PointEstimate{snips, se(0, func(i int) float64 { return w(i) * (in.Reward[i] - snips) / wbar })}
	}
	res.DM, res.DR, res.SNDR = PointEstimate{nan, nan}, PointEstimate{nan, nan}, PointEstimate{nan, nan}
	if !hasQ {
		return res, nil
	}
	var sq, sc float64 // sum qpi, sum w (r - q)
	for i := range n {
		sq += in.QTarget[i]
		sc += w(i) * (in.Reward[i] - in.QLogged[i])
	}
	dm := sq / fn
	res.DM = PointEstimate{dm, se(dm, func(i int) float64 { return in.QTarget[i] })}
	dr := (sq + sc) / fn
	res.DR = PointEstimate{dr, se(dr, func(i int) float64 {
		return in.QTarget[i] + w(i)*(in.Reward[i]-in.QLogged[i])
	})}
	if sw > 0 {
		c := sc / sw
		res.SNDR = PointEstimate{dm + c, se(0, func(i int) float64 {
			return in.QTarget[i] - dm + (w(i)*(in.Reward[i]-in.QLogged[i])-c*w(i))/wbar
		})}
	}
	return res, nil
}
