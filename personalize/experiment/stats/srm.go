package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// DefaultSRMThreshold is the p-value below which [CheckSRM] raises a
// sample-ratio-mismatch alarm.
//
// Why 0.001 and not 0.05: the check runs on every analysis refresh of every
// experiment, so at 0.05 one healthy experiment in twenty would be flagged
// and the alarm would be ignored. Real mismatches (a redirect losing one arm,
// a bot filter, a crash in one variant) show up at experiment scale with
// p-values far below 0.001: with 100,000 units per arm, a 50.5/49.5 split of
// a 50/50 design gives chi-square 20 and p ~ 8e-6. The strict threshold
// costs little sensitivity and keeps false alarms at 1 in 1000 checks. The
// same threshold is the common practice in the SRM literature (Fabijan et
// al. 2019, "Diagnosing Sample Ratio Mismatch in Online Controlled
// Experiments"; Kohavi, Tang & Xu 2020, ch. 21).
const DefaultSRMThreshold = 0.001

// ChiSquareGOF is Pearson's goodness-of-fit test of observed counts
// against expected proportions (R's chisq.test(x, p = weights,
// rescale.p = TRUE); SciPy's chisquare). Weights need not sum to 1.
func ChiSquareGOF(observed []int64, weights []float64) (ChiSquareResult, error) {
	if len(observed) < 2 {
		return ChiSquareResult{}, fmt.Errorf("stats: observed: need at least 2 categories, got %d", len(observed))
	}
	if len(weights) != len(observed) {
		return ChiSquareResult{}, fmt.Errorf("stats: weights: need %d (one per category), got %d", len(observed), len(weights))
	}
	var n, wsum float64
	for i, o := range observed {
		if o < 0 {
			return ChiSquareResult{}, fmt.Errorf("stats: observed[%d]: must be >= 0, got %d", i, o)
		}
		if !(weights[i] > 0) || math.IsInf(weights[i], 0) {
			return ChiSquareResult{}, fmt.Errorf("stats: weights[%d]: must be finite and > 0, got %v", i, weights[i])
		}
		n += float64(o)
		wsum += weights[i]
	}
	if n == 0 {
		return ChiSquareResult{}, fmt.Errorf("stats: observed: all counts are 0")
	}
	var chi float64
	for i, o := range observed {
		e := n * weights[i] / wsum
		d := float64(o) - e
		chi += d * d / e
	}
	df := len(observed) - 1
	return ChiSquareResult{Stat: chi, DF: df, P: distuv.ChiSquared{K: float64(df)}.Survival(chi)}, nil
}

// SRM is a sample-ratio-mismatch check.
type SRM struct {
	ChiSquareResult
	Observed  []int64
	Expected  []float64 // expected counts under the configured weights
	Threshold float64
	// Mismatch is P < Threshold: the split differs from the design and the
	// experiment's results should not be trusted until the cause is found.
	Mismatch bool
}

// CheckSRM tests observed units per arm against the configured weights.
// threshold 0 means [DefaultSRMThreshold].
func CheckSRM(observed []int64, weights []float64, threshold float64) (SRM, error) {
	if threshold == 0 {
		threshold = DefaultSRMThreshold
	}
	if !(threshold > 0 && threshold < 1) {
		return SRM{}, fmt.Errorf("stats: threshold: must be in (0,1), got %v", threshold)
	}
	r, err := ChiSquareGOF(observed, weights)
	if err != nil {
		return SRM{}, err
	}
	var n, w float64
	for i := range observed {
		n += float64(observed[i])
		w += weights[i]
	}
	exp := make([]float64, len(weights))
	for i := range weights {
		exp[i] = n * weights[i] / w
	}
	return SRM{ChiSquareResult: r, Observed: append([]int64(nil), observed...), Expected: exp,
		Threshold: threshold, Mismatch: r.P < threshold}, nil
}
