package relevance

import (
	"fmt"
	"math"
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

func tauB(x, y []float64) float64 {
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
	return (p - q) / math.Sqrt((p+q+tx)*(p+q+ty))
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
	return rbo(a, b, p, make(map[string]uint8, len(a)+len(b))), nil
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

// rbo computes the overlap of duplicate-free lists; seen is a cleared
// scratch map.
func rbo(a, b []string, p float64, seen map[string]uint8) Overlap {
	clear(seen)
	S, L := a, b
	if len(S) > len(L) {
		S, L = L, S
	}
	s, l := len(S), len(L)
	o := Overlap{Persistence: p, Short: s, Long: l}
	if l == 0 {
		o.Ext, o.Prefix = 1, 0
		return o
	}
	if s == 0 {
		return o
	}
	// X_d: overlap of S[:min(d,s)] and L[:d].
	var x, xs float64
	var sum1, sum2 float64
	pd := 1.0
	for d := 1; d <= l; d++ {
		pd *= p
		if d <= s {
			if seen[S[d-1]]&2 != 0 {
				x++
			}
			seen[S[d-1]] |= 1
		}
		if seen[L[d-1]]&1 != 0 {
			x++
		}
		seen[L[d-1]] |= 2
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
