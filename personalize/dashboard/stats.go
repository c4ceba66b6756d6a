package dashboard

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// z95 is the two-sided 95% standard normal quantile.
const z95 = 1.959963984540054

// wilson returns the Wilson score interval of k successes in n trials at
// the 95% level (R's prop.test(k, n, correct = FALSE)$conf.int).
func wilson(k, n int64) (lo, hi float64) {
	if n <= 0 {
		return 0, 0
	}
	p := float64(k) / float64(n)
	nf := float64(n)
	z2 := z95 * z95
	den := 1 + z2/nf
	mid := (p + z2/(2*nf)) / den
	half := z95 * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / den
	return math.Max(0, mid-half), math.Min(1, mid+half)
}

// twoSidedP returns the two-sided normal p-value of z.
func twoSidedP(z float64) float64 {
	if math.IsNaN(z) {
		return 1
	}
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// PropDiff is the comparison of two proportions: treatment minus control.
type PropDiff struct {
	Diff float64 `json:"diff"`
	// Lo and Hi are the unpooled (Wald) 95% interval of Diff.
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
	// P is the pooled two-proportion z-test p-value (R's prop.test with
	// correct = FALSE).
	P float64 `json:"p"`
	// Relative is Diff over the control rate (lift); 0 when control is 0.
	Relative float64 `json:"relative"`
	// SeqP is the always-valid p-value of the normal-mixture sequential
	// probability ratio test (Johari et al. 2017) at this sample size.
	SeqP float64 `json:"seq_p"`
}

// compareProps compares k1/n1 (treatment) with k0/n0 (control). tau is the
// mixing standard deviation of the mSPRT prior on the difference.
func compareProps(k1, n1, k0, n0 int64, tau float64) PropDiff {
	if n1 <= 0 || n0 <= 0 {
		return PropDiff{P: 1, SeqP: 1}
	}
	p1, p0 := float64(k1)/float64(n1), float64(k0)/float64(n0)
	d := PropDiff{Diff: p1 - p0}
	v := p1*(1-p1)/float64(n1) + p0*(1-p0)/float64(n0)
	se := math.Sqrt(v)
	d.Lo, d.Hi = d.Diff-z95*se, d.Diff+z95*se
	pool := float64(k1+k0) / float64(n1+n0)
	sp := math.Sqrt(pool * (1 - pool) * (1/float64(n1) + 1/float64(n0)))
	d.P = 1
	if sp > 0 {
		d.P = twoSidedP(d.Diff / sp)
	}
	if p0 > 0 {
		d.Relative = d.Diff / p0
	}
	d.SeqP = msprtP(d.Diff, v, tau*tau)
	return d
}

// msprtP is the always-valid p-value min(1, 1/Λ) of the normal-mixture
// SPRT for H0: θ = 0, given an estimate with variance v and mixing
// variance tau2:
//
//	Λ = sqrt(v/(v+τ²)) · exp(τ²θ̂² / (2v(v+τ²)))
//
// (Johari, Pekelis and Walsh 2017, eq. for the normal mixture with known
// variance, written in terms of the estimator's variance). Computed at the
// final sample only, it is conservative relative to the running minimum.
func msprtP(theta, v, tau2 float64) float64 {
	if v <= 0 || tau2 <= 0 || math.IsNaN(theta) {
		return 1
	}
	logL := 0.5*math.Log(v/(v+tau2)) + tau2*theta*theta/(2*v*(v+tau2))
	if logL <= 0 {
		return 1
	}
	return math.Exp(-logL)
}

// srm is the chi-square goodness-of-fit p-value of counts against shares
// (equal shares when shares is nil or sums to 0), as R's
// chisq.test(counts, p = shares).
func srm(counts []int64, shares []float64) float64 {
	if len(counts) < 2 {
		return -1
	}
	var n int64
	for _, c := range counts {
		n += c
	}
	if n == 0 {
		return -1
	}
	var tot float64
	for _, s := range shares {
		tot += s
	}
	var x2 float64
	for i, c := range counts {
		share := 1 / float64(len(counts))
		if tot > 0 && i < len(shares) {
			share = shares[i] / tot
		}
		e := share * float64(n)
		if e <= 0 {
			if c > 0 {
				return 0
			}
			continue
		}
		x2 += (float64(c) - e) * (float64(c) - e) / e
	}
	return distuv.ChiSquared{K: float64(len(counts) - 1)}.Survival(x2)
}

// SRMAlpha is the p-value below which a sample ratio mismatch is reported.
// It is deliberately strict (0.0005, the threshold Fabijan et al. 2019
// report using at Microsoft) because the check runs on every refresh.
const SRMAlpha = 0.0005

func srmVerdict(p float64, n int64) string {
	switch {
	case p < 0 || n < 100:
		return "insufficient data"
	case p < SRMAlpha:
		return "mismatch"
	}
	return "ok"
}

// holm returns Holm's step-down adjusted p-values (R's p.adjust(p,
// "holm")).
func holm(p []float64) []float64 {
	m := len(p)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	out := make([]float64, m)
	run := 0.0
	for rank, i := range idx {
		v := math.Min(1, float64(m-rank)*p[i])
		run = math.Max(run, v)
		out[i] = run
	}
	return out
}
