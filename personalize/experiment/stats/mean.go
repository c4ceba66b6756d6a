package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// MeanTest is Welch's unequal-variance comparison of two means.
type MeanTest struct {
	Control, Treatment float64 // sample means
	Diff               float64 // Treatment - Control
	SE                 float64 // standard error of Diff
	T, DF, P           float64 // Welch t, Welch-Satterthwaite df, two-sided p
	CI                 Interval
	// Lift is Treatment/Control - 1, LiftCI its delta-method interval
	// (normal critical value).
	Lift   float64
	LiftCI Interval
	Alpha  float64
}

func (s Summary) check(name string) error {
	if s.N < 2 {
		return fmt.Errorf("stats: %s.N: must be >= 2, got %d", name, s.N)
	}
	if math.IsNaN(s.Mean) || math.IsInf(s.Mean, 0) {
		return fmt.Errorf("stats: %s.Mean: must be finite, got %v", name, s.Mean)
	}
	if !(s.Var >= 0) || math.IsInf(s.Var, 0) {
		return fmt.Errorf("stats: %s.Var: must be finite and >= 0, got %v", name, s.Var)
	}
	return nil
}

// Welch compares the treatment mean with the control mean (R's t.test
// with var.equal = FALSE). When both variances are zero the test is
// degenerate: T is ±Inf (or NaN for equal means) and P 0 (or 1).
func Welch(control, treatment Summary, alpha float64) (MeanTest, error) {
	if err := control.check("control"); err != nil {
		return MeanTest{}, err
	}
	if err := treatment.check("treatment"); err != nil {
		return MeanTest{}, err
	}
	if err := checkAlpha(alpha); err != nil {
		return MeanTest{}, err
	}
	nc, nt := float64(control.N), float64(treatment.N)
	vc, vt := control.Var/nc, treatment.Var/nt
	r := MeanTest{Control: control.Mean, Treatment: treatment.Mean, Diff: treatment.Mean - control.Mean, Alpha: alpha}
	r.SE = math.Sqrt(vc + vt)
	r.Lift, r.LiftCI = ratioLift(control.Mean, vc, treatment.Mean, vt, ZCritical(alpha))
	if r.SE == 0 {
		r.DF = nc + nt - 2
		if r.Diff == 0 {
			r.T, r.P = math.NaN(), 1
		} else {
			r.T, r.P = math.Copysign(math.Inf(1), r.Diff), 0
		}
		r.CI = Interval{r.Diff, r.Diff}
		return r, nil
	}
	r.T = r.Diff / r.SE
	r.DF = (vc + vt) * (vc + vt) / (vc*vc/(nc-1) + vt*vt/(nt-1))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: r.DF}
	r.P = 2 * t.Survival(math.Abs(r.T))
	q := t.Quantile(1 - alpha/2)
	r.CI = Interval{r.Diff - q*r.SE, r.Diff + q*r.SE}
	return r, nil
}
