package stats

import (
	"fmt"
	"math"
)

// Bivariate accumulates an outcome Y and a pre-period covariate X with a
// numerically stable (Welford-style) update. The zero value is empty.
type Bivariate struct {
	n             int64
	my, mx        float64
	syy, sxx, sxy float64
}

// Add adds one unit's outcome y and covariate x.
func (b *Bivariate) Add(y, x float64) {
	b.n++
	n := float64(b.n)
	dy, dx := y-b.my, x-b.mx
	b.my += dy / n
	b.mx += dx / n
	b.syy += dy * (y - b.my)
	b.sxx += dx * (x - b.mx)
	b.sxy += dx * (y - b.my)
}

// Merge adds all units of o.
func (b *Bivariate) Merge(o Bivariate) {
	if o.n == 0 {
		return
	}
	if b.n == 0 {
		*b = o
		return
	}
	n := float64(b.n + o.n)
	f := float64(b.n) * float64(o.n) / n
	dy, dx := o.my-b.my, o.mx-b.mx
	b.syy += o.syy + dy*dy*f
	b.sxx += o.sxx + dx*dx*f
	b.sxy += o.sxy + dx*dy*f
	b.my += dy * float64(o.n) / n
	b.mx += dx * float64(o.n) / n
	b.n += o.n
}

// N returns the number of units.
func (b Bivariate) N() int64 { return b.n }

// Y returns the summary of the outcome alone.
func (b Bivariate) Y() Summary {
	s := Summary{N: b.n, Mean: b.my}
	if b.n > 1 {
		s.Var = b.syy / float64(b.n-1)
	}
	return s
}

// CUPEDResult is a comparison with and without CUPED adjustment.
type CUPEDResult struct {
	// Theta is cov(Y,X)/var(X) over both arms pooled (Deng, Xu, Kohavi &
	// Walker 2013, "Improving the sensitivity of online controlled
	// experiments by utilizing pre-experiment data", Section 3.1).
	Theta    float64
	Raw      MeanTest // Welch test on Y
	Adjusted MeanTest // Welch test on Y - Theta (X - mean X)
	// VarianceReduction is the reduction in the variance of the estimated
	// difference of means, the quantity a test's sensitivity depends on:
	//
	//	VarianceReduction = 1 - Adjusted.SE^2 / Raw.SE^2
	//	                  = 1 - (vcv_c/n_c + vcv_t/n_t) / (v_c/n_c + v_t/n_t)
	//
	// with v the arms' sample variances of Y and vcv those of Ycv. It is
	// not the pooled 1 - rho^2 (see PooledR2): the two agree for one
	// sample, or when both arms have the same variances and correlation;
	// they differ when the covariate explains more of one arm than of the
	// other, or when Theta, fitted on both arms, is not each arm's own
	// slope. It can be negative when the covariate is useless.
	VarianceReduction float64
	// PooledR2 is the squared correlation of Y and X over both arms
	// together, cov(Y,X)^2 / (var(Y) var(X)): the variance reduction Deng
	// et al. (2013, Section 3.1) derive for one sample, var(Ycv) =
	// var(Y)(1 - rho^2). It includes the arms' difference in Y, so it is a
	// description of the covariate, not the gain in the test.
	PooledR2 float64
}

// CUPED compares the arms on the covariate-adjusted outcome
// Ycv = Y - Theta (X - mean(X)), with Theta pooled across arms. Because X
// is measured before exposure, the adjustment leaves the expected
// difference unchanged and only removes variance explained by X.
func CUPED(control, treatment Bivariate, alpha float64) (CUPEDResult, error) {
	raw, err := Welch(control.Y(), treatment.Y(), alpha)
	if err != nil {
		return CUPEDResult{}, err
	}
	all := control
	all.Merge(treatment)
	if all.sxx == 0 {
		return CUPEDResult{}, fmt.Errorf("stats: covariate: has zero variance; CUPED needs a varying pre-period value")
	}
	theta := all.sxy / all.sxx
	adj := func(b Bivariate) Summary {
		n := float64(b.n)
		v := (b.syy - 2*theta*b.sxy + theta*theta*b.sxx) / (n - 1)
		return Summary{N: b.n, Mean: b.my - theta*(b.mx-all.mx), Var: math.Max(0, v)}
	}
	ad, err := Welch(adj(control), adj(treatment), alpha)
	if err != nil {
		return CUPEDResult{}, err
	}
	// The arm means share mean(X) only through the pooled centring, which
	// shifts both arms by Theta*(mean X) and cancels in the difference, so
	// the lift of the adjusted means is reported on the adjusted scale.
	r := CUPEDResult{Theta: theta, Raw: raw, Adjusted: ad}
	if all.syy > 0 {
		r.PooledR2 = all.sxy * all.sxy / (all.sxx * all.syy)
	}
	if raw.SE > 0 {
		r.VarianceReduction = 1 - (ad.SE*ad.SE)/(raw.SE*raw.SE)
	}
	return r, nil
}
