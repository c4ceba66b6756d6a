package fairness

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// LogDiscount is the position weight of Singh and Joachims (2018), the DCG
// discount: v_j = 1/log2(1+j) for 1-based position j.
func LogDiscount(position int) float64 { return 1 / math.Log2(1+float64(position)) }

// Weights is a precomputed position-weight table.
type Weights []float64

// NewWeights tabulates weight for positions 1..maxPosition. Positions
// beyond maxPosition weigh 0 (outside the attention the model assumes).
// weight must return finite values >= 0. Nil weight means [LogDiscount].
func NewWeights(maxPosition int, weight func(position int) float64) (Weights, error) {
	if maxPosition < 1 {
		return nil, fmt.Errorf("fairness: NewWeights: maxPosition: must be >= 1, got %d", maxPosition)
	}
	if weight == nil {
		weight = LogDiscount
	}
	w := make(Weights, maxPosition)
	for i := range w {
		v := weight(i + 1)
		if !(v >= 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("fairness: NewWeights: weight(%d) = %v, must be finite and >= 0", i+1, v)
		}
		w[i] = v
	}
	return w, nil
}

// At returns the weight of a 1-based position (0 outside the table).
func (w Weights) At(position int) float64 {
	if position < 1 || position > len(w) {
		return 0
	}
	return w[position-1]
}

// GroupStats accumulates one group's exposure.
type GroupStats struct {
	Appearances int64   // item placements in rankings
	Exposure    float64 // sum of position weights
	Relevance   float64 // sum of item relevance (expected utility)
	Clicks      int64   // clicks on the group's items (joined outcomes)
}

// Exposure accumulates position-weighted exposure per group in bounded
// memory: at most maxGroups groups; placements of further groups count in
// the group [OtherGroup]. The zero value is not usable; see [NewExposure].
//
// Not safe for concurrent use.
type Exposure struct {
	w         Weights
	maxGroups int
	groups    map[string]*GroupStats
}

// OtherGroup collects the groups beyond the group bound.
const OtherGroup = "_other"

// NewExposure returns an accumulator with position weights w and at most
// maxGroups groups (plus OtherGroup).
func NewExposure(w Weights, maxGroups int) (*Exposure, error) {
	if len(w) == 0 {
		return nil, fmt.Errorf("fairness: NewExposure: weights: empty")
	}
	if maxGroups < 1 {
		return nil, fmt.Errorf("fairness: NewExposure: maxGroups: must be >= 1, got %d", maxGroups)
	}
	return &Exposure{w: w, maxGroups: maxGroups, groups: make(map[string]*GroupStats)}, nil
}

func (e *Exposure) group(g string) *GroupStats {
	s := e.groups[g]
	if s == nil {
		if len(e.groups) >= e.maxGroups {
			g = OtherGroup
			if s = e.groups[g]; s != nil {
				return s
			}
		}
		s = &GroupStats{}
		e.groups[g] = s
	}
	return s
}

// Observe adds one placement of an item of group at position with the
// given relevance (for example the model's probability of relevance). It
// does not allocate once the group exists.
func (e *Exposure) Observe(group string, position int, relevance float64) {
	s := e.group(group)
	s.Appearances++
	s.Exposure += e.w.At(position)
	s.Relevance += relevance
}

// Click adds a click on an item of group.
func (e *Exposure) Click(group string) { e.group(group).Clicks++ }

// Merge adds o's groups.
func (e *Exposure) Merge(o *Exposure) {
	for g, s := range o.groups {
		t := e.group(g)
		t.Appearances += s.Appearances
		t.Exposure += s.Exposure
		t.Relevance += s.Relevance
		t.Clicks += s.Clicks
	}
}

// GroupReport is one group's exposure compared with its relevance.
type GroupReport struct {
	Group string
	GroupStats
	// MeanExposure is Exposure/Appearances: the exposure of an average
	// placement of the group, Exposure(G) of Singh and Joachims amortized
	// over rankings.
	MeanExposure float64
	// MeanRelevance is Relevance/Appearances, U(G).
	MeanRelevance float64
	// ExposurePerRelevance is Exposure/Relevance = MeanExposure/MeanRelevance.
	ExposurePerRelevance float64
	// ClicksPerRelevance is Clicks/Relevance (realized impact per unit of
	// merit).
	ClicksPerRelevance float64
	CTR                float64 // Clicks/Appearances
}

// Ratio names a fairness ratio.
type Ratio uint8

// Ratios. Each is min over groups / max over groups of a per-group value,
// so 1 is parity and values fall in [0, 1]; for two groups it is the
// ratio of Singh and Joachims (2018) oriented to be <= 1.
const (
	// RatioDemographicParity compares MeanExposure (demographic parity of
	// exposure, section 3.1 of the paper).
	RatioDemographicParity Ratio = iota + 1
	// RatioDisparateTreatment compares ExposurePerRelevance (exposure
	// proportional to merit, section 3.2).
	RatioDisparateTreatment
	// RatioDisparateImpact compares ClicksPerRelevance (impact
	// proportional to merit, section 3.3); it needs joined clicks.
	RatioDisparateImpact
)

var ratioNames = [...]string{"", "demographic_parity", "disparate_treatment", "disparate_impact"}

// String returns the snake-case name of r.
func (r Ratio) String() string {
	if int(r) < len(ratioNames) && r != 0 {
		return ratioNames[r]
	}
	return "unknown"
}

// Ratios holds the three ratios; NaN when fewer than two groups qualify.
type Ratios struct {
	DemographicParity  float64
	DisparateTreatment float64
	DisparateImpact    float64
}

// Get returns the value of r.
func (rs Ratios) Get(r Ratio) float64 {
	switch r {
	case RatioDemographicParity:
		return rs.DemographicParity
	case RatioDisparateTreatment:
		return rs.DisparateTreatment
	case RatioDisparateImpact:
		return rs.DisparateImpact
	}
	return math.NaN()
}

// Report returns the groups (sorted by name) and the ratios over groups
// with at least minAppearances placements (and, for the merit ratios, a
// positive relevance sum).
func (e *Exposure) Report(minAppearances int64) ([]GroupReport, Ratios) {
	out := make([]GroupReport, 0, len(e.groups))
	for g, s := range e.groups {
		r := GroupReport{Group: g, GroupStats: *s}
		n := float64(s.Appearances)
		r.MeanExposure = div(s.Exposure, n)
		r.MeanRelevance = div(s.Relevance, n)
		r.ExposurePerRelevance = div(s.Exposure, s.Relevance)
		r.ClicksPerRelevance = div(float64(s.Clicks), s.Relevance)
		r.CTR = div(float64(s.Clicks), n)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b GroupReport) int { return strings.Compare(a.Group, b.Group) })
	rs := Ratios{
		DemographicParity:  minMax(out, minAppearances, func(r *GroupReport) float64 { return r.MeanExposure }),
		DisparateTreatment: minMax(out, minAppearances, func(r *GroupReport) float64 { return r.ExposurePerRelevance }),
		DisparateImpact:    minMax(out, minAppearances, func(r *GroupReport) float64 { return r.ClicksPerRelevance }),
	}
	return out, rs
}

func div(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

func minMax(rs []GroupReport, minN int64, f func(*GroupReport) float64) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	n := 0
	for i := range rs {
		if rs[i].Appearances < minN {
			continue
		}
		v := f(&rs[i])
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		n++
		lo, hi = min(lo, v), max(hi, v)
	}
	if n < 2 {
		return math.NaN()
	}
	if hi == 0 {
		return 1 // all zero: equal
	}
	return lo / hi
}
