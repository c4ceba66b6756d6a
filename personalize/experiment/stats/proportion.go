package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Proportion is a binomial count: Successes out of Trials.
type Proportion struct {
	Successes, Trials int64
}

// Rate returns Successes/Trials.
func (p Proportion) Rate() float64 { return float64(p.Successes) / float64(p.Trials) }

func (p Proportion) check(name string) error {
	if p.Trials <= 0 {
		return fmt.Errorf("stats: %s.Trials: must be > 0, got %d", name, p.Trials)
	}
	if p.Successes < 0 || p.Successes > p.Trials {
		return fmt.Errorf("stats: %s.Successes: must be in [0, Trials=%d], got %d", name, p.Trials, p.Successes)
	}
	return nil
}

// ProportionTest is the comparison of two proportions.
type ProportionTest struct {
	Control, Treatment float64 // observed rates
	Diff               float64 // Treatment - Control
	// Z and P are the pooled two-proportion z-test (two-sided); Z*Z equals
	// the statistic of R's prop.test(correct = FALSE).
	Z, P float64
	// SE is the unpooled standard error of Diff,
	//
	//	SE = sqrt(pc (1-pc)/nc + pt (1-pt)/nt),
	//
	// the one the Wald interval uses (Wald = Diff ± z SE): report it with
	// Diff. PooledSE is the standard error under H0 (equal rates), with the
	// pooled rate p = (xc+xt)/(nc+nt):
	//
	//	PooledSE = sqrt(p (1-p) (1/nc + 1/nt)),
	//
	// the one the z-test uses (Z = Diff/PooledSE); it is not the
	// uncertainty of Diff when the rates differ. PooledSE is 0 when both
	// arms are all successes or all failures (then Z = 0, P = 1).
	SE, PooledSE float64
	// Wald is the unpooled normal interval of Diff.
	Wald Interval
	// Newcombe is the hybrid Wilson score interval of Diff (Newcombe 1998,
	// method 10); it keeps its coverage for small counts and rates near 0 or 1.
	Newcombe Interval
	// Lift is Treatment/Control - 1, LiftCI its delta-method interval.
	Lift   float64
	LiftCI Interval
	Alpha  float64
}

// TwoProportions compares treatment with control at level alpha.
func TwoProportions(control, treatment Proportion, alpha float64) (ProportionTest, error) {
	if err := control.check("control"); err != nil {
		return ProportionTest{}, err
	}
	if err := treatment.check("treatment"); err != nil {
		return ProportionTest{}, err
	}
	if err := checkAlpha(alpha); err != nil {
		return ProportionTest{}, err
	}
	z := ZCritical(alpha)
	pc, pt := control.Rate(), treatment.Rate()
	nc, nt := float64(control.Trials), float64(treatment.Trials)
	r := ProportionTest{Control: pc, Treatment: pt, Diff: pt - pc, Alpha: alpha}
	pool := float64(control.Successes+treatment.Successes) / (nc + nt)
	se0 := math.Sqrt(pool * (1 - pool) * (1/nc + 1/nt))
	r.PooledSE = se0
	if se0 > 0 {
		r.Z = r.Diff / se0
		r.P = normP(r.Z)
	} else {
		r.P = 1 // both arms all-success or all-failure: no evidence of a difference
	}
	vc, vt := pc*(1-pc)/nc, pt*(1-pt)/nt
	r.SE = math.Sqrt(vc + vt)
	r.Wald = NormalInterval(r.Diff, r.SE, alpha)
	lt, ut := Wilson(treatment, alpha)
	lc, uc := Wilson(control, alpha)
	r.Newcombe = Interval{
		Lo: r.Diff - math.Sqrt((pt-lt)*(pt-lt)+(uc-pc)*(uc-pc)),
		Hi: r.Diff + math.Sqrt((ut-pt)*(ut-pt)+(pc-lc)*(pc-lc)),
	}
	r.Lift, r.LiftCI = ratioLift(pc, vc, pt, vt, z)
	return r, nil
}

// Wilson returns the Wilson score interval of one proportion (no
// continuity correction). p must be valid.
func Wilson(p Proportion, alpha float64) (lo, hi float64) {
	z := ZCritical(alpha)
	n := float64(p.Trials)
	r := p.Rate()
	den := 1 + z*z/n
	c := (r + z*z/(2*n)) / den
	h := z / den * math.Sqrt(r*(1-r)/n+z*z/(4*n*n))
	return math.Max(0, c-h), math.Min(1, c+h)
}

// ChiSquareResult is a chi-square statistic with its degrees of freedom and
// upper-tail p-value.
type ChiSquareResult struct {
	Stat float64
	DF   int
	P    float64
}

// ProportionsChiSquare tests equality of k >= 2 proportions with Pearson's
// chi-square on the k x 2 table, without continuity correction: R's
// prop.test(x, n) for k > 2 and prop.test(correct = FALSE) for k = 2.
func ProportionsChiSquare(groups []Proportion) (ChiSquareResult, error) {
	if len(groups) < 2 {
		return ChiSquareResult{}, fmt.Errorf("stats: groups: need at least 2, got %d", len(groups))
	}
	var x, n float64
	for i, g := range groups {
		if err := g.check(fmt.Sprintf("groups[%d]", i)); err != nil {
			return ChiSquareResult{}, err
		}
		x += float64(g.Successes)
		n += float64(g.Trials)
	}
	p := x / n
	if p == 0 || p == 1 {
		return ChiSquareResult{}, fmt.Errorf("stats: groups: all successes or all failures; the test is undefined")
	}
	var chi float64
	for _, g := range groups {
		e1 := float64(g.Trials) * p
		e0 := float64(g.Trials) * (1 - p)
		d1 := float64(g.Successes) - e1
		chi += d1*d1/e1 + d1*d1/e0 // the failure cell deviates by -d1
	}
	df := len(groups) - 1
	return ChiSquareResult{Stat: chi, DF: df, P: distuv.ChiSquared{K: float64(df)}.Survival(chi)}, nil
}
