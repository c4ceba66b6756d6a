package drift

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// DefaultEpsilon is the floor PSI puts under a bin's proportion before
// taking the logarithm, so an empty bin on either side gives a large but
// finite term instead of +Inf. With the floor, one bin holding 10% of the
// current traffic and none of the reference contributes
// (0.1-0.0001)*ln(0.1/0.0001) = 0.69: an unmistakable, not an infinite,
// signal.
const DefaultEpsilon = 1e-4

// PSI returns the population stability index of the current distribution
// against the reference: sum over bins of (c_i - r_i) * ln(c_i / r_i),
// where r_i and c_i are the bins' proportions (counts divided by their
// total) floored at eps (eps <= 0 means [DefaultEpsilon]; the floored
// proportions are not renormalized). Both slices must have the same length
// and a positive total. The conventional reading is < 0.1 stable, 0.1 to
// 0.25 a moderate shift, > 0.25 a major shift.
func PSI(ref, cur []float64, eps float64) (float64, error) {
	if eps <= 0 {
		eps = DefaultEpsilon
	}
	rt, err := total("ref", ref)
	if err != nil {
		return 0, err
	}
	ct, err := total("cur", cur)
	if err != nil {
		return 0, err
	}
	if len(ref) != len(cur) {
		return 0, fmt.Errorf("drift: PSI: ref has %d bins, cur has %d", len(ref), len(cur))
	}
	var s float64
	for i := range ref {
		r := max(ref[i]/rt, eps)
		c := max(cur[i]/ct, eps)
		s += (c - r) * math.Log(c/r)
	}
	return s, nil
}

func total(name string, w []float64) (float64, error) {
	if len(w) == 0 {
		return 0, fmt.Errorf("drift: %s: empty", name)
	}
	var t float64
	for i, v := range w {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("drift: %s[%d]: must be a finite count >= 0, got %v", name, i, v)
		}
		t += v
	}
	if t <= 0 {
		return 0, fmt.Errorf("drift: %s: total must be > 0", name)
	}
	return t, nil
}

// JensenShannon returns the Jensen-Shannon distance (the square root of the
// divergence) between two discrete distributions given as non-negative
// weights, normalized to sum to 1, with logarithms in base (base <= 0 means
// e). With base 2 the distance lies in [0, 1].
func JensenShannon(p, q []float64, base float64) (float64, error) {
	pt, err := total("p", p)
	if err != nil {
		return 0, err
	}
	qt, err := total("q", q)
	if err != nil {
		return 0, err
	}
	if len(p) != len(q) {
		return 0, fmt.Errorf("drift: JensenShannon: p has %d entries, q has %d", len(p), len(q))
	}
	var d float64
	for i := range p {
		a, b := p[i]/pt, q[i]/qt
		m := (a + b) / 2
		if a > 0 {
			d += a * math.Log(a/m)
		}
		if b > 0 {
			d += b * math.Log(b/m)
		}
	}
	d /= 2
	if base > 0 {
		d /= math.Log(base)
	}
	return math.Sqrt(max(d, 0)), nil
}

// Wasserstein returns the first Wasserstein (earth mover's) distance
// between the empirical distributions of u and v: the integral of
// |U(x) - V(x)| over x, where U and V are their CDFs. uw and vw are
// optional non-negative weights (nil means equal weights). NaN values are
// an error.
func Wasserstein(u, v, uw, vw []float64) (float64, error) {
	us, uws, err := sortedWeighted("u", u, uw)
	if err != nil {
		return 0, err
	}
	vs, vws, err := sortedWeighted("v", v, vw)
	if err != nil {
		return 0, err
	}
	return wassersteinSorted(us, uws, vs, vws), nil
}

// sortedWeighted returns the values sorted with their normalized weights.
func sortedWeighted(name string, x, w []float64) ([]float64, []float64, error) {
	if len(x) == 0 {
		return nil, nil, fmt.Errorf("drift: %s: empty", name)
	}
	if w != nil && len(w) != len(x) {
		return nil, nil, fmt.Errorf("drift: %s weights: %d weights for %d values", name, len(w), len(x))
	}
	idx := make([]int, len(x))
	for i := range idx {
		if math.IsNaN(x[i]) || math.IsInf(x[i], 0) {
			return nil, nil, fmt.Errorf("drift: %s[%d]: must be finite, got %v", name, i, x[i])
		}
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(x[a], x[b]) })
	xs := make([]float64, len(x))
	ws := make([]float64, len(x))
	var t float64
	for i, j := range idx {
		xs[i] = x[j]
		ws[i] = 1
		if w != nil {
			ws[i] = w[j]
			if w[j] < 0 || math.IsNaN(w[j]) || math.IsInf(w[j], 0) {
				return nil, nil, fmt.Errorf("drift: %s weights[%d]: must be finite and >= 0, got %v", name, j, w[j])
			}
		}
		t += ws[i]
	}
	if t <= 0 {
		return nil, nil, fmt.Errorf("drift: %s weights: total must be > 0", name)
	}
	for i := range ws {
		ws[i] /= t
	}
	return xs, ws, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// wassersteinSorted integrates |U-V| between consecutive points of the
// merged support. Weights are normalized.
func wassersteinSorted(us, uw, vs, vw []float64) float64 {
	var i, j int
	var cu, cv, d float64
	x := math.Min(us[0], vs[0])
	for i < len(us) || j < len(vs) {
		var next float64
		switch {
		case j >= len(vs) || (i < len(us) && us[i] <= vs[j]):
			next = us[i]
		default:
			next = vs[j]
		}
		d += math.Abs(cu-cv) * (next - x)
		x = next
		for i < len(us) && us[i] == x {
			cu += uw[i]
			i++
		}
		for j < len(vs) && vs[j] == x {
			cv += vw[j]
			j++
		}
	}
	return d
}

// NormalizedWasserstein is [Wasserstein] (unweighted) divided by the
// population standard deviation of ref, so the result reads in reference
// standard deviations whatever the feature's unit. When ref has no spread
// it returns 0 for identical samples and +Inf otherwise.
func NormalizedWasserstein(ref, cur []float64) (float64, error) {
	w, err := Wasserstein(ref, cur, nil, nil)
	if err != nil {
		return 0, err
	}
	return normalize(w, stddev(ref)), nil
}

func normalize(w, sd float64) float64 {
	if sd > 0 {
		return w / sd
	}
	if w == 0 {
		return 0
	}
	return math.Inf(1)
}

func stddev(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return math.Sqrt(ss / float64(len(x)))
}

// KSResult is the outcome of a two-sample Kolmogorov-Smirnov test.
type KSResult struct {
	// Statistic is D = sup |F1(x) - F2(x)| over the two empirical CDFs.
	Statistic float64
	// PValue is the two-sided p-value of D under the null hypothesis that
	// both samples come from the same continuous distribution.
	PValue float64
	// Exact says whether PValue is exact (n1*n2 <= [KSExactMax]) or from
	// the asymptotic Kolmogorov distribution of sqrt(n1*n2/(n1+n2))*D.
	Exact bool
}

// KSExactMax is the largest n1*n2 for which [KS] computes the exact
// p-value (an O(n1*n2) lattice-path count); larger samples use the
// asymptotic distribution.
const KSExactMax = 10000

// KS runs the two-sided two-sample Kolmogorov-Smirnov test. Ties are
// allowed in the statistic (both CDFs step together); the p-value assumes
// continuous data, as the classic test does, and is conservative with
// ties. NaN or infinite values are an error.
func KS(a, b []float64) (KSResult, error) {
	if len(a) == 0 || len(b) == 0 {
		return KSResult{}, errors.New("drift: KS: both samples must be non-empty")
	}
	as, err := sortedFinite("a", a)
	if err != nil {
		return KSResult{}, err
	}
	bs, err := sortedFinite("b", b)
	if err != nil {
		return KSResult{}, err
	}
	return ksSorted(as, bs), nil
}

func sortedFinite(name string, x []float64) ([]float64, error) {
	s := make([]float64, len(x))
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("drift: KS: %s[%d]: must be finite, got %v", name, i, v)
		}
		s[i] = v
	}
	slices.Sort(s)
	return s, nil
}

// ksSorted computes the test on sorted finite samples.
func ksSorted(a, b []float64) KSResult {
	m, n := int64(len(a)), int64(len(b))
	// h is max |i*n - j*m|, D = h/(m*n): integer arithmetic keeps the
	// lattice test of the exact p-value free of rounding.
	var i, j, h int64
	for i < m && j < n {
		x := min(a[i], b[j])
		for i < m && a[i] == x {
			i++
		}
		for j < n && b[j] == x {
			j++
		}
		h = max(h, abs64(i*n-j*m))
	}
	// Once one sample is exhausted the gap only shrinks.
	r := KSResult{Statistic: float64(h) / float64(m*n)}
	if m*n <= KSExactMax {
		r.PValue, r.Exact = ksExact(m, n, h), true
	} else {
		en := math.Sqrt(float64(m*n) / float64(m+n))
		r.PValue = KolmogorovSF(en * r.Statistic)
	}
	return r
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// ksExact returns P(D >= h/(m*n)) for samples of sizes m and n from one
// continuous distribution: one minus the share of the C(m+n, m) equally
// likely merge orders whose lattice path keeps |i*n - j*m| < h throughout.
func ksExact(m, n, h int64) float64 {
	if h <= 0 {
		return 1
	}
	// u[j] = number of paths to (i, j) staying inside, divided by
	// C(i+j, i) progressively to stay in range: we carry probabilities of
	// the uniform random path instead of counts. The path from (i,j)
	// moves right with probability (m-i)/(m+n-i-j).
	u := make([]float64, n+1)
	u[0] = 1
	for j := int64(1); j <= n; j++ {
		if abs64(-j*m) >= h {
			u[j] = 0
		} else {
			u[j] = u[j-1] * float64(n-j+1) / float64(m+n-j+1)
		}
	}
	for i := int64(1); i <= m; i++ {
		// probability of arriving at (i, 0) by i right moves
		if abs64(i*n) >= h {
			u[0] = 0
		} else {
			u[0] *= float64(m-i+1) / float64(m+n-i+1)
		}
		for j := int64(1); j <= n; j++ {
			if abs64(i*n-j*m) >= h {
				u[j] = 0
				continue
			}
			// from (i-1, j) moving in a (the i direction) and from
			// (i, j-1) moving in b.
			left := u[j] * float64(m-i+1) / float64(m+n-i-j+1)
			down := u[j-1] * float64(n-j+1) / float64(m+n-i-j+1)
			u[j] = left + down
		}
	}
	p := 1 - u[n]
	return min(max(p, 0), 1)
}

// KolmogorovSF returns P(K > x) for the Kolmogorov distribution, the limit
// of sqrt(n)*D: 2*sum_{k>=1} (-1)^(k-1) exp(-2 k^2 x^2), evaluated through
// the theta-function identity sqrt(2*pi)/x * sum exp(-(2k-1)^2 pi^2/(8x^2))
// for small x, where the alternating series converges slowly.
func KolmogorovSF(x float64) float64 {
	switch {
	case math.IsNaN(x):
		return math.NaN()
	case x <= 0:
		return 1
	case x < 1:
		var cdf float64
		w := math.Pi * math.Pi / (8 * x * x)
		for k := 1; k < 20; k++ {
			t := math.Exp(-float64((2*k-1)*(2*k-1)) * w)
			cdf += t
			if t < 1e-17*cdf {
				break
			}
		}
		cdf *= math.Sqrt(2*math.Pi) / x
		return min(max(1-cdf, 0), 1)
	}
	var s float64
	sign := 1.0
	for k := 1; k < 100; k++ {
		t := math.Exp(-2 * float64(k*k) * x * x)
		s += sign * t
		if t < 1e-17 {
			break
		}
		sign = -sign
	}
	return min(max(2*s, 0), 1)
}
