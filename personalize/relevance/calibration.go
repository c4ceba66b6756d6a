package relevance

import (
	"fmt"
	"math"
	"slices"
)

// Binning is how a reliability curve cuts [0,1] into bins.
type Binning uint8

// Binnings.
const (
	// BinningEqualWidth uses B bins of width 1/B. The edges are
	// float64(i)/float64(B) (correctly rounded; NumPy's linspace can differ
	// in the last bit).
	BinningEqualWidth Binning = iota + 1
	// BinningEqualMass uses edges at the 0, 1/B, ..., 1 quantiles of the
	// predictions (NumPy's default linear interpolation), so each bin holds
	// about the same number of predictions. Ties can leave bins empty.
	BinningEqualMass
)

// String returns "equal_width" or "equal_mass".
func (b Binning) String() string {
	switch b {
	case BinningEqualWidth:
		return "equal_width"
	case BinningEqualMass:
		return "equal_mass"
	}
	return "unknown"
}

// Bin is one bin of a reliability curve. Every bin is closed on the right
// and open on the left, (Lo, Hi], except the first, which is closed on both
// sides, [Lo, Hi]. This is the rule of scikit-learn's calibration_curve
// (searchsorted over the inner edges, side "left").
type Bin struct {
	Lo, Hi           float64
	Count            int64
	MeanPredicted    float64 // mean predicted probability in the bin
	FractionPositive float64 // observed rate of positives in the bin
}

// Curve is a reliability curve with its calibration errors. Only bins
// holding at least one prediction are listed, as scikit-learn does.
type Curve struct {
	Binning Binning
	NumBins int // bins asked for; len(Bins) may be smaller
	Bins    []Bin
	// ECE is the expected calibration error: the count-weighted mean of
	// |FractionPositive - MeanPredicted| over the bins.
	ECE float64
	// MCE is the maximum calibration error: the largest such gap over the
	// non-empty bins.
	MCE float64
}

func checkPredictions(labels []bool, probs []float64) error {
	if len(labels) != len(probs) {
		return fmt.Errorf("relevance: labels and probs: lengths differ (%d vs %d)", len(labels), len(probs))
	}
	if len(probs) == 0 {
		return fmt.Errorf("relevance: probs: empty")
	}
	for i, p := range probs {
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("relevance: probs[%d]: must be in [0,1], got %v", i, p)
		}
	}
	return nil
}

// BrierScore returns the mean squared difference between each predicted
// probability and its 0/1 outcome.
func BrierScore(labels []bool, probs []float64) (float64, error) {
	if err := checkPredictions(labels, probs); err != nil {
		return 0, err
	}
	var s float64
	for i, p := range probs {
		d := p - b2f(labels[i])
		s += d * d
	}
	return s / float64(len(probs)), nil
}

// LogLossEpsilon is the clipping bound of [LogLoss] and the online
// calibrator: probabilities are clipped to [eps, 1-eps] before the
// logarithm, with eps the float64 machine epsilon (2^-52), as scikit-learn
// does for float64 input.
const LogLossEpsilon = 0x1p-52

// LogLoss returns the mean negative natural-log likelihood of the outcomes.
func LogLoss(labels []bool, probs []float64) (float64, error) {
	if err := checkPredictions(labels, probs); err != nil {
		return 0, err
	}
	var s float64
	for i, p := range probs {
		s += logLoss(p, labels[i])
	}
	return s / float64(len(probs)), nil
}

func logLoss(p float64, y bool) float64 {
	p = min(max(p, LogLossEpsilon), 1-LogLossEpsilon)
	if y {
		return -math.Log(p)
	}
	return -math.Log1p(-p)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// ReliabilityCurve bins the predictions exactly (it sorts a copy for
// equal-mass bins) and returns the curve with ECE and MCE.
func ReliabilityCurve(labels []bool, probs []float64, bins int, binning Binning) (Curve, error) {
	if err := checkPredictions(labels, probs); err != nil {
		return Curve{}, err
	}
	if bins < 1 {
		return Curve{}, fmt.Errorf("relevance: bins: must be >= 1, got %d", bins)
	}
	edges := make([]float64, bins+1)
	switch binning {
	case BinningEqualWidth:
		for i := range edges {
			edges[i] = float64(i) / float64(bins)
		}
	case BinningEqualMass:
		sorted := slices.Clone(probs)
		slices.Sort(sorted)
		n := len(sorted)
		for i := range edges {
			h := float64(n-1) * float64(i) / float64(bins)
			lo := int(math.Floor(h))
			if lo >= n-1 {
				edges[i] = sorted[n-1]
				continue
			}
			edges[i] = sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
		}
	default:
		return Curve{}, fmt.Errorf("relevance: binning: unknown value %d", binning)
	}
	count := make([]int64, bins)
	sumP := make([]float64, bins)
	sumY := make([]float64, bins)
	inner := edges[1:bins]
	for i, p := range probs {
		// number of inner edges strictly below p: (lo, hi] bins
		b, _ := slices.BinarySearch(inner, p)
		count[b]++
		sumP[b] += p
		sumY[b] += b2f(labels[i])
	}
	return buildCurve(binning, edges, count, sumP, sumY), nil
}

func buildCurve(binning Binning, edges []float64, count []int64, sumP, sumY []float64) Curve {
	c := Curve{Binning: binning, NumBins: len(count)}
	var n int64
	for _, k := range count {
		n += k
	}
	for i, k := range count {
		if k == 0 {
			continue
		}
		b := Bin{Lo: edges[i], Hi: edges[i+1], Count: k, MeanPredicted: sumP[i] / float64(k), FractionPositive: sumY[i] / float64(k)}
		gap := math.Abs(b.FractionPositive - b.MeanPredicted)
		c.ECE += float64(k) / float64(n) * gap
		c.MCE = max(c.MCE, gap)
		c.Bins = append(c.Bins, b)
	}
	return c
}

// Calibrator accumulates calibration online in constant memory: a
// histogram of FineBins equal-width bins (count, sum of predictions, sum of
// positives; 24 bytes each) plus running Brier and log-loss sums.
//
// Equal-width curves with Bins bins are exact (FineBins is a multiple of
// Bins, so the coarse edges are fine edges). Equal-mass curves are
// approximate: their edges snap to the fine grid (resolution 1/FineBins),
// so a bin's mass can differ from N/Bins by up to the mass of one fine bin.
// Use [ReliabilityCurve] over the raw predictions for exact equal-mass bins.
//
// A Calibrator is not safe for concurrent use; [Analyzer] serializes it.
type Calibrator struct {
	bins  int
	fine  []fineBin
	n     int64
	brier float64
	loss  float64
	// Rejected counts predictions outside [0,1] (or NaN), which are not
	// observed.
	Rejected int64
}

type fineBin struct {
	n    float64
	sumP float64
	sumY float64
}

// NewCalibrator returns a calibrator reporting bins bins over a fine grid of
// fineBins bins (a multiple of bins).
func NewCalibrator(bins, fineBins int) (*Calibrator, error) {
	if bins < 1 {
		return nil, fmt.Errorf("relevance: NewCalibrator: bins: must be >= 1, got %d", bins)
	}
	if fineBins < bins || fineBins%bins != 0 {
		return nil, fmt.Errorf("relevance: NewCalibrator: fineBins: must be a multiple of bins (%d), got %d", bins, fineBins)
	}
	return &Calibrator{bins: bins, fine: make([]fineBin, fineBins)}, nil
}

// Observe adds one prediction p of a binary outcome. It does not allocate.
// It reports false, and counts the prediction in Rejected, when p is not in
// [0,1].
func (c *Calibrator) Observe(p float64, positive bool) bool {
	if !(p >= 0 && p <= 1) {
		c.Rejected++
		return false
	}
	f := len(c.fine)
	i := int(p * float64(f))
	// (lo, hi] bins: a p equal to edge i/f belongs to bin i-1.
	if i > 0 && p <= float64(i)/float64(f) {
		i--
	}
	if i >= f {
		i = f - 1
	}
	y := b2f(positive)
	fb := &c.fine[i]
	fb.n++
	fb.sumP += p
	fb.sumY += y
	c.n++
	d := p - y
	c.brier += d * d
	c.loss += logLoss(p, positive)
	return true
}

// Merge adds the observations of o, which must have the same bins.
func (c *Calibrator) Merge(o *Calibrator) error {
	if o.bins != c.bins || len(o.fine) != len(c.fine) {
		return fmt.Errorf("relevance: Calibrator.Merge: bins differ (%d/%d vs %d/%d)", c.bins, len(c.fine), o.bins, len(o.fine))
	}
	for i := range c.fine {
		c.fine[i].n += o.fine[i].n
		c.fine[i].sumP += o.fine[i].sumP
		c.fine[i].sumY += o.fine[i].sumY
	}
	c.n += o.n
	c.brier += o.brier
	c.loss += o.loss
	c.Rejected += o.Rejected
	return nil
}

// N is the number of observed predictions.
func (c *Calibrator) N() int64 { return c.n }

// Brier returns the Brier score so far (NaN before any observation).
func (c *Calibrator) Brier() float64 { return c.brier / float64(c.n) }

// LogLoss returns the log loss so far (NaN before any observation).
func (c *Calibrator) LogLoss() float64 { return c.loss / float64(c.n) }

// Curve returns the reliability curve with the calibrator's bins.
func (c *Calibrator) Curve(binning Binning) Curve {
	f := len(c.fine)
	switch binning {
	case BinningEqualMass:
		return c.equalMass()
	default:
		per := f / c.bins
		edges := make([]float64, c.bins+1)
		count := make([]int64, c.bins)
		sumP := make([]float64, c.bins)
		sumY := make([]float64, c.bins)
		for i := range edges {
			edges[i] = float64(i) / float64(c.bins)
		}
		for i, fb := range c.fine {
			b := i / per
			count[b] += int64(fb.n)
			sumP[b] += fb.sumP
			sumY[b] += fb.sumY
		}
		return buildCurve(BinningEqualWidth, edges, count, sumP, sumY)
	}
}

func (c *Calibrator) equalMass() Curve {
	f := len(c.fine)
	edges := []float64{0}
	var count []int64
	var sumP, sumY []float64
	var cum, cn float64
	var cp, cy float64
	next := 1
	for i, fb := range c.fine {
		cum += fb.n
		cn += fb.n
		cp += fb.sumP
		cy += fb.sumY
		if cn > 0 && (cum >= float64(next)*float64(c.n)/float64(c.bins) || i == f-1) {
			edges = append(edges, float64(i+1)/float64(f))
			count = append(count, int64(cn))
			sumP = append(sumP, cp)
			sumY = append(sumY, cy)
			cn, cp, cy = 0, 0, 0
			for next <= c.bins && cum >= float64(next)*float64(c.n)/float64(c.bins) {
				next++
			}
		}
	}
	cur := buildCurve(BinningEqualMass, edges, count, sumP, sumY)
	cur.NumBins = c.bins
	return cur
}
