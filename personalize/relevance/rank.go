package relevance

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Gain maps a graded relevance to the gain DCG sums.
type Gain uint8

// Gains.
const (
	// GainLinear uses the relevance itself (scikit-learn's dcg_score and
	// ndcg_score).
	GainLinear Gain = iota + 1
	// GainExponential uses 2^rel - 1 (Burges et al. 2005), which rewards
	// highly relevant items more.
	GainExponential
)

func (g Gain) apply(rel float64) float64 {
	if g == GainExponential {
		return math.Exp2(rel) - 1
	}
	return rel
}

// discount is the DCG discount of 0-based rank r: 1/log2(r+2).
func discount(r int) float64 {
	if r < len(discounts) {
		return discounts[r]
	}
	return 1 / math.Log2(float64(r)+2)
}

// discounts holds discount(r) for the ranks of typical lists, computed by
// the same expression (so the values are identical), saving a logarithm
// per item.
var discounts = func() (d [128]float64) {
	for r := range d {
		d[r] = 1 / math.Log2(float64(r)+2)
	}
	return d
}()

// DCG returns the discounted cumulative gain at cutoff k (k <= 0 means the
// whole list) of the ranking induced by sorting scores in decreasing order.
//
// Tied scores are averaged (McSherry and Najork 2008, as scikit-learn does
// by default): every item of a group of tied scores gets the group's mean
// gain, and the group's ranks keep their own discounts. The value is thus
// the expectation of DCG over all orders of the ties. [DCGWith] can
// ignore ties instead.
func DCG(relevance, scores []float64, k int, gain Gain) (float64, error) {
	return DCGWith(relevance, scores, RankOptions{K: k, Gain: gain})
}

// NDCG returns DCG divided by the DCG of the ideal ordering (relevance
// sorted in decreasing order) at the same cutoff. When no item is relevant
// the ideal DCG is 0 and NDCG is 0, as in scikit-learn.
func NDCG(relevance, scores []float64, k int, gain Gain) (float64, error) {
	return NDCGWith(relevance, scores, RankOptions{K: k, Gain: gain})
}

// RankOptions configure [DCGWith] and [NDCGWith]. The zero value gives
// [DCG] and [NDCG] on the whole list.
type RankOptions struct {
	// K is the cutoff; <= 0 means the whole list.
	K int
	// Gain defaults to GainLinear.
	Gain Gain
	// IgnoreTies is scikit-learn's ndcg_score(ignore_ties=True): the items
	// are taken in the order of a sort by decreasing score and tied scores
	// get no averaging. Ties are broken with the later index first, the
	// order of scikit-learn's argsort(scores)[::-1] on small inputs (NumPy's
	// order of ties is unspecified in general); use it when the scores
	// have no ties, where it gives the tie-averaged value faster.
	//
	// When false, tied scores share their group's mean gain (the
	// tie-averaged DCG of McSherry and Najork 2008, "Computing information
	// retrieval performance measures efficiently in the presence of tied
	// scores", ECIR), scikit-learn's default ignore_ties=False:
	//
	//	DCG@k = sum over tie groups G (ranks r in G, r < k) of
	//	        mean_{i in G} gain(rel_i) * sum_{r in G, r < k} 1/log2(r+2)
	IgnoreTies bool
}

// DCGWith is [DCG] with options.
func DCGWith(relevance, scores []float64, o RankOptions) (float64, error) {
	if err := checkRanking(relevance, scores); err != nil {
		return 0, err
	}
	gain := o.Gain
	if gain == 0 {
		gain = GainLinear
	}
	n := len(scores)
	k := o.K
	if k <= 0 || k > n {
		k = n
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if o.IgnoreTies {
		sort.SliceStable(idx, func(a, b int) bool {
			sa, sb := scores[idx[a]], scores[idx[b]]
			return sa > sb || (sa == sb && idx[a] > idx[b])
		})
		var dcg float64
		for r, i := range idx[:k] {
			dcg += gain.apply(relevance[i]) * discount(r)
		}
		return dcg, nil
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	var dcg float64
	for start := 0; start < k; {
		end := start + 1
		for end < n && scores[idx[end]] == scores[idx[start]] {
			end++
		}
		var g float64
		for _, i := range idx[start:end] {
			g += gain.apply(relevance[i])
		}
		g /= float64(end - start)
		for r := start; r < min(end, k); r++ {
			dcg += g * discount(r)
		}
		start = end
	}
	return dcg, nil
}

// NDCGWith is [NDCG] with options: scikit-learn's
// ndcg_score([relevance], [scores], k=K, ignore_ties=IgnoreTies) for
// GainLinear.
func NDCGWith(relevance, scores []float64, o RankOptions) (float64, error) {
	dcg, err := DCGWith(relevance, scores, o)
	if err != nil {
		return 0, err
	}
	ideal, _ := DCGWith(relevance, relevance, o)
	if ideal == 0 {
		return 0, nil
	}
	return dcg / ideal, nil
}

// MRR returns the mean reciprocal rank over all lists: each list is the
// graded relevance of one served list in display order, its reciprocal
// rank is 1/r for the first position r (1-based) with relevance > 0, and
// 0 when no item is relevant:
//
//	MRR = (1/|L|) sum_{l in L} 1/rank_l
//
// Every list counts, including those without a relevant item (as
// trec_eval's recip_rank averaged over all queries; Voorhees 1999, "The
// TREC-8 question answering track report"). [RankingReport].MRR is the
// mean over Judged impressions instead (those with an item graded > 0):
// MRR here equals RankingReport.MRR * Judged / Impressions. MRR is an
// error for no lists or a NaN relevance.
func MRR(lists [][]float64) (float64, error) {
	if len(lists) == 0 {
		return 0, fmt.Errorf("relevance: MRR: lists: empty")
	}
	var sum float64
	for i, l := range lists {
		rr := 0.0
		for j, r := range l {
			if math.IsNaN(r) {
				return 0, fmt.Errorf("relevance: MRR: lists[%d][%d]: NaN", i, j)
			}
			if r > 0 && rr == 0 {
				rr = 1 / float64(j+1)
			}
		}
		sum += rr
	}
	return sum / float64(len(lists)), nil
}

func checkRanking(relevance, scores []float64) error {
	if len(relevance) != len(scores) {
		return fmt.Errorf("relevance: relevance and scores: lengths differ (%d vs %d)", len(relevance), len(scores))
	}
	if len(scores) == 0 {
		return fmt.Errorf("relevance: scores: empty")
	}
	for i, s := range scores {
		if math.IsNaN(s) {
			return fmt.Errorf("relevance: scores[%d]: NaN", i)
		}
	}
	for i, r := range relevance {
		if math.IsNaN(r) || math.IsInf(r, 0) {
			return fmt.Errorf("relevance: relevance[%d]: must be finite, got %v", i, r)
		}
	}
	return nil
}

// ListMetrics are the ranking metrics of one served list whose relevance
// is given in display order (index 0 is position 1).
type ListMetrics struct {
	NDCG      float64 // NDCG@k, display order, no ties
	RR        float64 // reciprocal rank of the first relevant item, 0 if none in the list
	Precision float64 // relevant items in the top k divided by k (even when the list is shorter)
	// Recall is the relevant items in the top k divided by the relevant
	// items in the list: items never shown have no outcome, so a list of
	// at most k items has recall 1 by construction.
	Recall   float64
	Relevant int // items with relevance > 0
}

// ScoreList computes [ListMetrics] for relevance in display order. An item
// counts as relevant when its relevance is > 0. scratch, if it has enough
// capacity, is used to sort the ideal ordering without allocating; the
// (possibly grown) scratch is returned.
func ScoreList(relevance []float64, k int, gain Gain, scratch []float64) (ListMetrics, []float64) {
	var m ListMetrics
	n := len(relevance)
	if k <= 0 {
		k = n
	}
	if gain == 0 {
		gain = GainLinear
	}
	var dcg float64
	hits := 0
	for i, r := range relevance {
		if r > 0 {
			m.Relevant++
			if m.RR == 0 {
				m.RR = 1 / float64(i+1)
			}
			if i < k {
				hits++
			}
		}
		if i < k {
			dcg += gain.apply(r) * discount(i)
		}
	}
	if m.Relevant == 0 {
		return m, scratch
	}
	scratch = append(scratch[:0], relevance...)
	slices.SortFunc(scratch, func(a, b float64) int {
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
	var ideal float64
	for i := 0; i < min(k, n); i++ {
		ideal += gain.apply(scratch[i]) * discount(i)
	}
	if ideal > 0 {
		m.NDCG = dcg / ideal
	}
	m.Precision = float64(hits) / float64(k)
	m.Recall = float64(hits) / float64(m.Relevant)
	return m, scratch
}
