package relevance

import (
	"fmt"
	"math"
	"sort"
)

// PositionBias estimates how likely each position is to be examined, with
// the position-based click model (PBM; Richardson et al. 2007, Chuklin,
// Markov and de Rijke 2015, "Click Models for Web Search", ch. 3):
//
//	P(click on item d at position k) = theta_k * gamma_d
//
// where theta_k is the probability that position k is examined and gamma_d
// the probability that item d is attractive once examined. The parameters
// are fitted by expectation-maximization over per-(item, position)
// impression and click counts (Wang et al. 2018, "Position Bias Estimation
// for Unbiased Learning to Rank in Personal Search", section 4). The model
// is identified only when items are shown at several positions (for
// example under a randomized or changing ranker); with a deterministic
// ranker the estimate mostly reflects item quality, not position.
//
// Memory is bounded: at most maxItems items are tracked (16 bytes per
// position each); impressions of further items, and of positions beyond
// maxPosition, are counted in Overflow and not used.
//
// A PositionBias is not safe for concurrent use.
type PositionBias struct {
	maxPos   int
	maxItems int
	items    map[string][]float64 // per position: impressions, clicks
	// Overflow counts observations not tracked (item cap or position cap).
	Overflow int64
}

// NewPositionBias returns an estimator for positions 1..maxPosition over at
// most maxItems distinct items.
func NewPositionBias(maxPosition, maxItems int) (*PositionBias, error) {
	if maxPosition < 2 {
		return nil, fmt.Errorf("relevance: NewPositionBias: maxPosition: must be >= 2, got %d", maxPosition)
	}
	if maxItems < 1 {
		return nil, fmt.Errorf("relevance: NewPositionBias: maxItems: must be >= 1, got %d", maxItems)
	}
	return &PositionBias{maxPos: maxPosition, maxItems: maxItems, items: make(map[string][]float64)}, nil
}

// Observe records that item was shown at position (1-based) and whether it
// was clicked.
func (pb *PositionBias) Observe(item string, position int, clicked bool) {
	if position < 1 || position > pb.maxPos {
		pb.Overflow++
		return
	}
	c, ok := pb.items[item]
	if !ok {
		if len(pb.items) >= pb.maxItems {
			pb.Overflow++
			return
		}
		c = make([]float64, 2*pb.maxPos)
		pb.items[item] = c
	}
	c[2*(position-1)]++
	if clicked {
		c[2*(position-1)+1]++
	}
}

// Estimate is the result of fitting the position-based model.
type Estimate struct {
	// Examination[k-1] is theta_k / theta_1: the examination probability of
	// position k relative to the top position. NaN for positions never
	// observed.
	Examination []float64
	// NaiveCTRRatio[k-1] is CTR(k)/CTR(1), the unadjusted ratio, for
	// comparison: it mixes position bias with the quality of what the
	// ranker puts at each position.
	NaiveCTRRatio []float64
	Iterations    int
	Items         int
	Impressions   float64
}

// Estimate fits the model with at most iterations EM steps (it stops
// early when no parameter moves by more than 1e-7).
func (pb *PositionBias) Estimate(iterations int) Estimate {
	K := pb.maxPos
	est := Estimate{Examination: make([]float64, K), NaiveCTRRatio: make([]float64, K), Items: len(pb.items)}
	theta := make([]float64, K)
	posN := make([]float64, K)
	posC := make([]float64, K)
	names := make([]string, 0, len(pb.items))
	for name, c := range pb.items {
		names = append(names, name)
		for k := range K {
			posN[k] += c[2*k]
			posC[k] += c[2*k+1]
		}
	}
	sort.Strings(names) // deterministic summation order
	for k := range K {
		theta[k] = 0.5
		est.Impressions += posN[k]
	}
	gamma := make([]float64, len(names))
	for i := range gamma {
		gamma[i] = 0.5
	}
	numT := make([]float64, K)
	for it := 0; it < iterations; it++ {
		est.Iterations = it + 1
		clear(numT)
		delta := 0.0
		for i, name := range names {
			c := pb.items[name]
			var numG, denG float64
			g := gamma[i]
			for k := range K {
				n, clicks := c[2*k], c[2*k+1]
				if n == 0 {
					continue
				}
				th := theta[k]
				skip := n - clicks
				den := 1 - th*g
				var postE, postR float64
				if den > 0 {
					postE = th * (1 - g) / den
					postR = (1 - th) * g / den
				}
				numT[k] += clicks + skip*postE
				numG += clicks + skip*postR
				denG += n
			}
			if denG > 0 {
				ng := numG / denG
				delta = math.Max(delta, math.Abs(ng-g))
				gamma[i] = ng
			}
		}
		for k := range K {
			if posN[k] > 0 {
				nt := numT[k] / posN[k]
				delta = math.Max(delta, math.Abs(nt-theta[k]))
				theta[k] = nt
			}
		}
		if delta < 1e-7 {
			break
		}
	}
	for k := range K {
		est.Examination[k] = math.NaN()
		est.NaiveCTRRatio[k] = math.NaN()
		if posN[k] > 0 && posN[0] > 0 && theta[0] > 0 {
			est.Examination[k] = theta[k] / theta[0]
		}
		if posN[k] > 0 && posC[0] > 0 {
			est.NaiveCTRRatio[k] = (posC[k] / posN[k]) / (posC[0] / posN[0])
		}
	}
	return est
}

// Merge adds the counts of o (same maxPosition) up to the item cap.
func (pb *PositionBias) Merge(o *PositionBias) error {
	if o.maxPos != pb.maxPos {
		return fmt.Errorf("relevance: PositionBias.Merge: maxPosition differs (%d vs %d)", pb.maxPos, o.maxPos)
	}
	for name, oc := range o.items {
		c, ok := pb.items[name]
		if !ok {
			if len(pb.items) >= pb.maxItems {
				for k := 0; k < pb.maxPos; k++ {
					pb.Overflow += int64(oc[2*k])
				}
				continue
			}
			c = make([]float64, 2*pb.maxPos)
			pb.items[name] = c
		}
		for i := range c {
			c[i] += oc[i]
		}
	}
	pb.Overflow += o.Overflow
	return nil
}
