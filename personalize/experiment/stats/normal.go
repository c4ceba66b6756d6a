package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// ZCritical returns the two-sided standard normal critical value
// z = Φ⁻¹(1 - alpha/2), 1.959963984540054 for alpha = 0.05. The caller
// checks that alpha is in (0,1).
func ZCritical(alpha float64) float64 { return distuv.UnitNormal.Quantile(1 - alpha/2) }

// NormalInterval is the large-sample (Wald) interval est ± z·se at level
// 1-alpha, z = [ZCritical](alpha).
func NormalInterval(est, se, alpha float64) Interval {
	z := ZCritical(alpha)
	return Interval{est - z*se, est + z*se}
}

// LogNormalInterval is the interval of a positive ratio r whose logarithm
// has standard error se: [r·exp(-z·se), r·exp(z·se)] at level 1-alpha,
// z = [ZCritical](alpha).
func LogNormalInterval(r, se, alpha float64) Interval {
	z := ZCritical(alpha)
	return Interval{r * math.Exp(-z*se), r * math.Exp(z*se)}
}

// checkArms validates both arms of a comparison, naming the bad one, and
// alpha.
func checkArms[T interface{ check(name string) error }](control, treatment T, alpha float64) error {
	if err := control.check("control"); err != nil {
		return err
	}
	if err := treatment.check("treatment"); err != nil {
		return err
	}
	return checkAlpha(alpha)
}

// RiskRatio is the ratio of the treatment rate to the control rate with
// the log interval of Katz et al. (1978):
// se(log r) = sqrt(1/xt - 1/nt + 1/xc - 1/nc). It is undefined, and an
// error, when an arm has no success.
func RiskRatio(control, treatment Proportion, alpha float64) (float64, Interval, error) {
	if err := checkArms(control, treatment, alpha); err != nil {
		return 0, Interval{}, err
	}
	if control.Successes == 0 {
		return 0, Interval{}, fmt.Errorf("stats: control.Successes: must be > 0 for a ratio, got 0")
	}
	if treatment.Successes == 0 {
		return 0, Interval{}, fmt.Errorf("stats: treatment.Successes: must be > 0 for a ratio, got 0")
	}
	xc, nc := float64(control.Successes), float64(control.Trials)
	xt, nt := float64(treatment.Successes), float64(treatment.Trials)
	r := treatment.Rate() / control.Rate()
	se := math.Sqrt(1/xt - 1/nt + 1/xc - 1/nc)
	return r, LogNormalInterval(r, se, alpha), nil
}

// MeanDiff is the difference of means, treatment minus control, with the
// large-sample normal interval ± z·sqrt(vt/nt + vc/nc) (v are sample
// variances). It suits the large arms of a stream; [Welch] is the small-
// sample comparison (Student t critical value, p-value).
func MeanDiff(control, treatment Summary, alpha float64) (float64, Interval, error) {
	if err := checkArms(control, treatment, alpha); err != nil {
		return 0, Interval{}, err
	}
	d := treatment.Mean - control.Mean
	se := math.Sqrt(treatment.Var/float64(treatment.N) + control.Var/float64(control.N))
	return d, NormalInterval(d, se, alpha), nil
}

// MeanRatio is the ratio of the treatment mean to the control mean with a
// delta-method interval on the log scale:
// se(log r) = sqrt(vt/(nt·mt²) + vc/(nc·mc²)). Both means must be > 0.
func MeanRatio(control, treatment Summary, alpha float64) (float64, Interval, error) {
	if err := checkArms(control, treatment, alpha); err != nil {
		return 0, Interval{}, err
	}
	mc, mt := control.Mean, treatment.Mean
	if !(mc > 0) {
		return 0, Interval{}, fmt.Errorf("stats: control.Mean: must be > 0 for a ratio, got %v", mc)
	}
	if !(mt > 0) {
		return 0, Interval{}, fmt.Errorf("stats: treatment.Mean: must be > 0 for a ratio, got %v", mt)
	}
	r := mt / mc
	se := math.Sqrt(treatment.Var/(float64(treatment.N)*mt*mt) + control.Var/(float64(control.N)*mc*mc))
	return r, LogNormalInterval(r, se, alpha), nil
}
