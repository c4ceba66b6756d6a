package stats

import (
	"fmt"
	"math"
	"sort"
)

// Correction is a multiple-comparison adjustment of p-values.
type Correction uint8

// Corrections, with R's p.adjust method names.
// The zero value is not a method, so configuration structs can default it.
const (
	CorrectionNone       Correction = iota + 1 // "none"
	CorrectionBonferroni                       // "bonferroni": family-wise error, any dependence
	CorrectionHolm                             // "holm": family-wise error, any dependence, uniformly better than Bonferroni
	CorrectionBH                               // "BH": false discovery rate, independent or positively dependent tests
	CorrectionBY                               // "BY": false discovery rate under any dependence
	// CorrectionHochberg is "hochberg": family-wise error, the step-up
	// counterpart of Holm (Hochberg 1988). It is valid for independent or
	// positively dependent tests (Sarkar 1998), where it is at least as
	// powerful as Holm: each adjusted p-value is at most Holm's.
	CorrectionHochberg
)

var correctionNames = [...]string{"", "none", "bonferroni", "holm", "BH", "BY", "hochberg"}

// String returns R's name of the method.
func (c Correction) String() string {
	if c != 0 && int(c) < len(correctionNames) {
		return correctionNames[c]
	}
	return "unknown"
}

// ParseCorrection is the inverse of [Correction.String] (case-sensitive, as R).
func ParseCorrection(s string) (Correction, bool) {
	for i, n := range correctionNames {
		if n == s && i > 0 {
			return Correction(i), true
		}
	}
	return 0, false
}

// Adjust returns the adjusted p-values of p in the order given, computed
// as R's p.adjust does. Every p must be in [0,1].
//
// With p_(1) <= ... <= p_(n) the sorted p-values, the adjusted value of
// p_(i) is
//
//	bonferroni  min(1, n p_(i))
//	holm        min(1, max_{j<=i} (n-j+1) p_(j))          step-down
//	hochberg    min(1, min_{j>=i} (n-j+1) p_(j))          step-up
//	BH          min(1, min_{j>=i} n/j p_(j))
//	BY          min(1, min_{j>=i} q n/j p_(j)),  q = sum_{k=1..n} 1/k
//
// Hochberg (1988), "A sharper Bonferroni procedure for multiple tests of
// significance", Biometrika 75:800; the adjusted form is Wright (1992),
// "Adjusted P-values for simultaneous inference", Biometrics 48:1005, as R
// computes it.
func Adjust(p []float64, c Correction) ([]float64, error) {
	for i, v := range p {
		if !(v >= 0 && v <= 1) {
			return nil, fmt.Errorf("stats: p[%d]: must be in [0,1], got %v", i, v)
		}
	}
	if c == 0 || c > CorrectionHochberg {
		return nil, fmt.Errorf("stats: correction: unknown method %d", c)
	}
	n := len(p)
	out := make([]float64, n)
	if n == 0 {
		return out, nil
	}
	fn := float64(n)
	switch c {
	case CorrectionNone:
		copy(out, p)
		return out, nil
	case CorrectionBonferroni:
		for i, v := range p {
			out[i] = math.Min(1, fn*v)
		}
		return out, nil
	}
	o := make([]int, n)
	for i := range o {
		o[i] = i
	}
	sort.SliceStable(o, func(a, b int) bool { return p[o[a]] < p[o[b]] })
	switch c {
	case CorrectionHolm: // step-down: cummax of (n-i+1) p_(i)
		run := 0.0
		for i, idx := range o {
			run = math.Max(run, (fn-float64(i))*p[idx])
			out[idx] = math.Min(1, run)
		}
	case CorrectionHochberg: // step-up: cummin from the largest of (n-i+1) p_(i)
		run := math.Inf(1)
		for i := n - 1; i >= 0; i-- {
			idx := o[i]
			run = math.Min(run, (fn-float64(i))*p[idx])
			out[idx] = math.Min(1, run)
		}
	case CorrectionBH, CorrectionBY: // step-up: cummin from the largest of q n/i p_(i)
		q := 1.0
		if c == CorrectionBY {
			q = 0
			for i := 1; i <= n; i++ {
				q += 1 / float64(i)
			}
		}
		run := math.Inf(1)
		for i := n - 1; i >= 0; i-- {
			idx := o[i]
			run = math.Min(run, q*fn/float64(i+1)*p[idx])
			out[idx] = math.Min(1, run)
		}
	}
	return out, nil
}
