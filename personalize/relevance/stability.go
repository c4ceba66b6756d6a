package relevance

import (
	"fmt"
	"math"
	"slices"
)

// KendallTauB returns Kendall's tau-b between x and y:
//
//	(P - Q) / sqrt((P + Q + Tx) * (P + Q + Ty))
//
// with P concordant pairs, Q discordant pairs, Tx pairs tied only in x and
// Ty pairs tied only in y (pairs tied in both count in neither). It is
// NaN, as in SciPy, when x or y is constant. It runs in O(n^2), meant for
// rankings of at most a few hundred items.
func KendallTauB(x, y []float64) (float64, error) {
	if len(x) != len(y) {
		return 0, fmt.Errorf("relevance: KendallTauB: lengths differ (%d vs %d)", len(x), len(y))
	}
	if len(x) < 2 {
		return 0, fmt.Errorf("relevance: KendallTauB: need at least 2 pairs, got %d", len(x))
	}
	for i := range x {
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) {
			return 0, fmt.Errorf("relevance: KendallTauB: NaN at index %d", i)
		}
	}
	return tauB(x, y), nil
}

// KendallTest is Kendall's tau-b with its large-sample test of
// independence.
type KendallTest struct {
	// TauB is [KendallTauB] of the pairs.
	TauB float64
	// Z is (P - Q) / sqrt(Var), P and Q the concordant and discordant pairs.
	Z float64
	// P is the two-sided p-value 2 (1 - Phi(|Z|)) of H0: no association.
	P float64
	// Var is the variance of P - Q under H0 with ties (see [KendallTauBTest]).
	Var float64
	// Concordant and Discordant are P and Q.
	Concordant, Discordant int64
}

// KendallTauBTest returns tau-b and the normal-approximation p-value of
// H0: x and y independent, with the tie-corrected variance of P - Q
// (Kendall 1970, "Rank correlation methods", 4th ed., chapter 4):
//
//	Var = (n(n-1)(2n+5) - sum t(t-1)(2t+5) - sum u(u-1)(2u+5)) / 18
//	    + sum t(t-1)(t-2) * sum u(u-1)(u-2) / (9 n(n-1)(n-2))
//	    + sum t(t-1) * sum u(u-1) / (2 n(n-1))
//
// where t runs over the sizes of the groups of tied values in x and u in
// y; Z = (P - Q)/sqrt(Var). This is SciPy's
// scipy.stats.kendalltau(x, y, method='asymptotic') (variant 'b',
// alternative 'two-sided'), which SciPy also uses by default whenever there
// are ties. Like SciPy, TauB, Z and P are NaN when x or y is constant.
// The normal approximation is rough below about ten pairs.
func KendallTauBTest(x, y []float64) (KendallTest, error) {
	if _, err := KendallTauB(x, y); err != nil {
		return KendallTest{}, err
	}
	c := countPairs(x, y)
	r := KendallTest{TauB: c.tauB(), Concordant: int64(c.p), Discordant: int64(c.q)}
	n := float64(len(x))
	xt, x0, x1 := tieSums(x)
	yt, y0, y1 := tieSums(y)
	m := n * (n - 1)
	if xt == m || yt == m { // constant input: every pair tied
		r.Z, r.P, r.Var = math.NaN(), math.NaN(), math.NaN()
		return r, nil
	}
	r.Var = (m*(2*n+5)-x1-y1)/18 + xt*yt/(2*m)
	if x0 != 0 && y0 != 0 {
		r.Var += x0 * y0 / (9 * m * (n - 2))
	}
	r.Z = (c.p - c.q) / math.Sqrt(r.Var)
	r.P = math.Erfc(math.Abs(r.Z) / math.Sqrt2)
	return r, nil
}

// tieSums returns, over the groups of t equal values in v, sum t(t-1),
// sum t(t-1)(t-2) and sum t(t-1)(2t+5).
func tieSums(v []float64) (t1, t2, t3 float64) {
	s := slices.Clone(v)
	slices.Sort(s)
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && s[j] == s[i] {
			j++
		}
		if t := float64(j - i); t > 1 {
			t1 += t * (t - 1)
			t2 += t * (t - 1) * (t - 2)
			t3 += t * (t - 1) * (2*t + 5)
		}
		i = j
	}
	return t1, t2, t3
}

// pairCounts are the pair classes of tau-b: concordant, discordant, tied
// in x only and tied in y only (pairs tied in both count in neither).
type pairCounts struct{ p, q, tx, ty float64 }

func (c pairCounts) tauB() float64 {
	return (c.p - c.q) / math.Sqrt((c.p+c.q+c.tx)*(c.p+c.q+c.ty))
}

func tauB(x, y []float64) float64 { return countPairs(x, y).tauB() }

func countPairs(x, y []float64) pairCounts {
	var p, q, tx, ty float64
	for i := range x {
		for j := i + 1; j < len(x); j++ {
			dx, dy := x[i]-x[j], y[i]-y[j]
			switch {
			case dx == 0 && dy == 0:
			case dx == 0:
				tx++
			case dy == 0:
				ty++
			case (dx > 0) == (dy > 0):
				p++
			default:
				q++
			}
		}
	}
	return pairCounts{p, q, tx, ty}
}

// AverageOverlap returns the average overlap of rankings a and b to depth
// k (k <= 0: the longer list's length), with the definitions of Webber,
// Moffat and Zobel (2010), "A similarity measure for indefinite rankings",
// ACM TOIS 28(4):
//
//	X_d   = |a[:d] ∩ b[:d]|                  overlap at depth d
//	A_d   = X_d / d                          agreement at depth d
//	AO@k  = (1/k) sum_{d=1..k} A_d           average overlap
//
// the measure the paper starts from (Fagin, Kumar and Sivakumar 2003 call
// it the intersection metric). A list shorter than d contributes all its
// items to the prefix. AO@k is RBO at p = 1: the truncated RBO
// (1-p) sum_{d<=k} p^(d-1) A_d (the Prefix of [RBO]), normalised by its
// total weight 1-p^k, gives every depth the weight (1-p) p^(d-1)/(1-p^k),
// which tends to 1/k as p tends to 1. Unlike RBO, every depth up to k
// counts equally, so a disagreement at the top is diluted as k grows.
// An item repeated within one list counts at its first rank only. Two
// empty lists give 1, one empty list against a non-empty one 0.
func AverageOverlap(a, b []string, k int) float64 {
	a, b = dedupe(a), dedupe(b)
	l := max(len(a), len(b))
	if l == 0 {
		return 1
	}
	if k <= 0 {
		k = l
	}
	inA := make(map[string]bool, min(k, len(a)))
	inB := make(map[string]bool, min(k, len(b)))
	var x, sum float64
	for d := 1; d <= k; d++ {
		// a's d-th item counts if b's prefix holds it; b's d-th if a's
		// prefix (now including a's d-th) does: each common item once.
		if d <= len(a) {
			inA[a[d-1]] = true
			if inB[a[d-1]] {
				x++
			}
		}
		if d <= len(b) {
			inB[b[d-1]] = true
			if inA[b[d-1]] {
				x++
			}
		}
		sum += x / float64(d)
	}
	return sum / float64(k)
}

// Overlap is the rank-biased overlap of two rankings (Webber, Moffat and
// Zobel 2010) with the persistence it was computed with.
type Overlap struct {
	// Persistence is p, the probability that the modelled user goes on to
	// the next rank; the expected depth examined is 1/(1-p).
	Persistence float64
	// Ext is RBO_ext, the extrapolated point estimate of eq. (32) of the
	// paper, which handles lists of different lengths and assumes the
	// agreement seen at the evaluated depth continues.
	Ext float64
	// Prefix is the truncated sum (1-p) * sum_{d=1..L} p^(d-1) * A_d, the
	// agreement actually observed to the longer depth L: a lower bound on
	// RBO when both lists end there.
	Prefix float64
	// Short and Long are the lengths s <= l of the two lists (after removing
	// repeated items).
	Short, Long int
}

// RBO returns the rank-biased overlap of rankings a and b with persistence
// p in (0,1). An item repeated within one list counts at its first rank
// only. Two empty lists have Ext 1 (nothing disagrees); one empty list
// against a non-empty one has Ext 0.
func RBO(a, b []string, p float64) (Overlap, error) {
	if !(p > 0 && p < 1) {
		return Overlap{}, fmt.Errorf("relevance: RBO: persistence: must be in (0,1), got %v", p)
	}
	a, b = dedupe(a), dedupe(b)
	return rbo(a, b, p), nil
}

func dedupe(l []string) []string {
	seen := make(map[string]bool, len(l))
	out := l[:0:0]
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// rbo computes the overlap of duplicate-free lists.
func rbo(a, b []string, p float64) Overlap {
	idx := make(map[string]int, len(b))
	for j, id := range b {
		idx[id] = j
	}
	aInB := make([]int, len(a))
	bInA := make([]int, len(b))
	for j := range bInA {
		bInA[j] = -1
	}
	for i, id := range a {
		aInB[i] = -1
		if j, ok := idx[id]; ok {
			aInB[i] = j
			bInA[j] = i
		}
	}
	return rboIndexed(aInB, bInA, p)
}

// rboIndexed computes RBO from cross indexes: aInB[i] is the rank (0-based)
// of a's i-th item in b, or -1; bInA likewise. It does not allocate.
func rboIndexed(aInB, bInA []int, p float64) Overlap {
	la, lb := len(aInB), len(bInA)
	s, l := min(la, lb), max(la, lb)
	o := Overlap{Persistence: p, Short: s, Long: l}
	if l == 0 {
		o.Ext = 1
		return o
	}
	if s == 0 {
		return o
	}
	// X_d = |a[:min(d,la)] ∩ b[:min(d,lb)]|, grown one rank at a time: a's
	// d-th item counts if it is in b's prefix (including b's d-th), b's
	// d-th if it is in a's prefix excluding a's d-th.
	var x, xs, sum1, sum2 float64
	pd := 1.0
	for d := 1; d <= l; d++ {
		pd *= p
		if d <= la {
			if j := aInB[d-1]; j >= 0 && j < min(d, lb) {
				x++
			}
		}
		if d <= lb {
			if i := bInA[d-1]; i >= 0 && i < min(d-1, la) {
				x++
			}
		}
		if d == s {
			xs = x
		}
		sum1 += x / float64(d) * pd
		if d > s {
			sum2 += xs * float64(d-s) / float64(s*d) * pd
		}
		o.Prefix += (1 - p) * pd / p * x / float64(d)
	}
	o.Ext = (1-p)/p*(sum1+sum2) + ((x-xs)/float64(l)+xs/float64(s))*pd
	return o
}
