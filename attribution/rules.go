package attribution

import (
	"fmt"
	"math"
	"time"
)

// Rule is a rule-based model: it splits the credit of one conversion over
// the journey's touchpoints. Weights writes one non-negative weight per
// touchpoint into w (len(w) == len(j.Touchpoints) >= 1) summing to 1.
// Implementations must be safe for concurrent use and must not retain j.
type Rule interface {
	Name() string
	Weights(j *Journey, w []float64)
}

// LastTouch gives all credit to the last eligible touchpoint.
type LastTouch struct{}

// FirstTouch gives all credit to the first eligible touchpoint.
type FirstTouch struct{}

// Linear splits credit equally over the eligible touchpoints.
type Linear struct{}

// TimeDecay gives a touchpoint d before the conversion a weight of
// 2^(-d/HalfLife), normalized over the journey. A zero HalfLife means
// [DefaultHalfLife] (7 days, as Google's time-decay model).
type TimeDecay struct {
	HalfLife time.Duration
}

// PositionBased gives First of the credit to the first touchpoint, Last to
// the last and the rest equally to those between. With two touchpoints the
// middle share is split between them in proportion First:Last; with one it
// gets everything. Zero First and Last mean 0.4 and 0.4.
type PositionBased struct {
	First, Last float64
}

// DefaultHalfLife is the half-life of [TimeDecay] when none is set.
const DefaultHalfLife = 7 * 24 * time.Hour

// Name returns "last_touch".
func (LastTouch) Name() string { return "last_touch" }

// Name returns "first_touch".
func (FirstTouch) Name() string { return "first_touch" }

// Name returns "linear".
func (Linear) Name() string { return "linear" }

// Name returns "time_decay".
func (TimeDecay) Name() string { return "time_decay" }

// Name returns "position_based".
func (PositionBased) Name() string { return "position_based" }

// Weights implements [Rule].
func (LastTouch) Weights(j *Journey, w []float64) {
	clear(w)
	w[len(w)-1] = 1
}

// Weights implements [Rule].
func (FirstTouch) Weights(j *Journey, w []float64) {
	clear(w)
	w[0] = 1
}

// Weights implements [Rule].
func (Linear) Weights(j *Journey, w []float64) {
	v := 1 / float64(len(w))
	for i := range w {
		w[i] = v
	}
}

// Weights implements [Rule].
func (r TimeDecay) Weights(j *Journey, w []float64) {
	h := r.HalfLife
	if h <= 0 {
		h = DefaultHalfLife
	}
	var sum float64
	for i := range w {
		d := j.Time.Sub(j.Touchpoints[i].Time)
		if d < 0 {
			d = 0
		}
		w[i] = math.Exp2(-float64(d) / float64(h))
		sum += w[i]
	}
	if sum == 0 || math.IsInf(sum, 0) || math.IsNaN(sum) { // all underflowed
		Linear{}.Weights(j, w)
		return
	}
	for i := range w {
		w[i] /= sum
	}
}

func (r PositionBased) shares() (first, last float64) {
	if r.First == 0 && r.Last == 0 {
		return 0.4, 0.4
	}
	return r.First, r.Last
}

// Weights implements [Rule].
func (r PositionBased) Weights(j *Journey, w []float64) {
	first, last := r.shares()
	n := len(w)
	switch n {
	case 1:
		w[0] = 1
		return
	case 2:
		if first+last == 0 {
			w[0], w[1] = 0.5, 0.5
			return
		}
		w[0] = first / (first + last)
		w[1] = last / (first + last)
		return
	}
	mid := (1 - first - last) / float64(n-2)
	for i := range w {
		w[i] = mid
	}
	w[0], w[n-1] = first, last
}

func (r PositionBased) validate() error {
	first, last := r.shares()
	if first < 0 || last < 0 || first+last > 1 || math.IsNaN(first+last) {
		return fmt.Errorf("attribution: PositionBased: First and Last must be >= 0 with First+Last <= 1, got %v and %v", r.First, r.Last)
	}
	return nil
}

// DefaultRules returns the five rule-based models.
func DefaultRules() []Rule {
	return []Rule{LastTouch{}, FirstTouch{}, Linear{}, TimeDecay{}, PositionBased{}}
}
