package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Interval is a two-sided confidence interval [Lo, Hi].
type Interval struct {
	Lo, Hi float64
}

// Contains reports whether x lies in the closed interval.
func (iv Interval) Contains(x float64) bool { return iv.Lo <= x && x <= iv.Hi }

// Summary is the sufficient statistics of a sample for mean comparisons.
type Summary struct {
	N    int64   // sample size
	Mean float64 // sample mean
	Var  float64 // sample variance with the n-1 denominator
}

// Summarize returns the summary of x, computed with Welford's update.
func Summarize(x []float64) Summary {
	var m Moments
	for _, v := range x {
		m.Add(v)
	}
	return m.Summary()
}

// Moments accumulates a sample's count, mean and centred second moment with
// Welford's numerically stable update. The zero value is empty.
type Moments struct {
	n    int64
	mean float64
	m2   float64
}

// Add adds one observation.
func (m *Moments) Add(x float64) {
	m.n++
	d := x - m.mean
	m.mean += d / float64(m.n)
	m.m2 += d * (x - m.mean)
}

// Merge adds all observations of o (Chan et al. parallel update).
func (m *Moments) Merge(o Moments) {
	if o.n == 0 {
		return
	}
	if m.n == 0 {
		*m = o
		return
	}
	n := m.n + o.n
	d := o.mean - m.mean
	m.mean += d * float64(o.n) / float64(n)
	m.m2 += o.m2 + d*d*float64(m.n)*float64(o.n)/float64(n)
	m.n = n
}

// N returns the number of observations.
func (m Moments) N() int64 { return m.n }

// Summary returns count, mean and sample variance (0 when n < 2).
func (m Moments) Summary() Summary {
	s := Summary{N: m.n, Mean: m.mean}
	if m.n > 1 {
		s.Var = m.m2 / float64(m.n-1)
	}
	return s
}

func checkAlpha(alpha float64) error {
	if !(alpha > 0 && alpha < 1) {
		return fmt.Errorf("stats: alpha: must be in (0,1), got %v", alpha)
	}
	return nil
}

// normP is the two-sided normal p-value of z.
func normP(z float64) float64 {
	if math.IsNaN(z) {
		return math.NaN()
	}
	return 2 * distuv.UnitNormal.Survival(math.Abs(z))
}

// ratioLift is the relative lift mt/mc - 1 with its delta-method interval;
// vt and vc are the variances of the two means.
func ratioLift(mc, vc, mt, vt, z float64) (float64, Interval) {
	if mc == 0 {
		return math.NaN(), Interval{math.NaN(), math.NaN()}
	}
	r := mt / mc
	// Var(mt/mc) ~ vt/mc^2 + mt^2 vc/mc^4 (first-order Taylor, independent arms).
	se := math.Sqrt(vt/(mc*mc) + mt*mt*vc/(mc*mc*mc*mc))
	return r - 1, Interval{r - 1 - z*se, r - 1 + z*se}
}
