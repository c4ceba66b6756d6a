package experiment

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"slices"
	"time"

	"github.com/rankscope/rankscope/internal/exactsum"
	"github.com/rankscope/rankscope/personalize/experiment/stats"
)

// State is the mergeable partial analysis of a [Collector]: for each
// experiment, each arm's unit count and, per metric, the arm's sufficient
// statistics ([Sums]). It is everything [State.Analyze] needs, so a fleet
// can analyse an experiment without moving events: each worker feeds a
// Collector with its shard of the events, ships [Collector.State] (see
// [State.MarshalBinary]), and one process merges the states with
// [State.Merge] and analyses the result.
//
// # Exactness
//
// Sums hold their totals as exact fixed-point sums (no rounding until the
// statistics are read), so merging the states of any split of the units,
// in any order, gives bit for bit the state, and the report, of one pass
// over all events; [Collector.Analyze] itself goes through a State.
//
// # Shards must split by unit
//
// A unit's metric value is its outcomes after its first exposure, which
// needs all of the unit's events, in order, in one place. Events must
// therefore be split by unit (the pseudonymized user id, as the pipeline
// shards by user); a unit seen by two shards would count twice. A
// Collector's MaxUnits bounds each shard separately.
//
// Experiments are sorted by name and arms by variant; a State built by
// hand (for example from a warehouse's per-arm aggregates, with
// [NewSums]) must follow that order, which [State.Validate] checks.
type State struct {
	// Metrics are the collector's metrics; every arm has one Sums per
	// metric, in this order.
	Metrics []Metric
	// Experiments, sorted by name.
	Experiments []ExperimentState
}

// ExperimentState is one experiment's part of a [State].
type ExperimentState struct {
	Name string
	// FirstExposure and LastExposure bound the units' first exposures.
	FirstExposure, LastExposure time.Time
	// Conflicts counts units seen in more than one variant (excluded
	// from the arms).
	Conflicts int64
	// Arms, sorted by variant. An arm seen only through conflicting
	// units has zero units.
	Arms []ArmState
}

// ArmState is one arm of an [ExperimentState].
type ArmState struct {
	Variant string
	Units   int64
	// Metrics holds one Sums per State.Metrics entry; each has N = Units.
	Metrics []Sums
}

// Sums are the sufficient statistics of one metric over the units of one
// arm: the count n and the exact sums of the unit's outcome y, y², its
// pre-period covariate x (for CUPED), x² and x·y. For AggregateAny
// metrics y is 0 or 1, so the sum of y is the number of units with a
// success. The zero value is empty.
type Sums struct {
	n                int64
	y, yy, x, xx, xy exactsum.Sum
}

// NewSums returns the statistics of n units from the sum of their values
// and the sum of their squares, as a warehouse's GROUP BY computes them
// (COUNT(*), SUM(y), SUM(y*y)). There is no covariate: CUPED is not
// reported for such an arm. For an AggregateAny metric sum is the number
// of units with a success (and sumSquares equals it).
func NewSums(n int64, sum, sumSquares float64) Sums {
	s := Sums{n: n}
	s.y.Add(sum)
	s.yy.Add(sumSquares)
	return s
}

// SetCovariate sets the covariate's sums (SUM(x), SUM(x*x), SUM(x*y)) of
// statistics built with [NewSums].
func (s *Sums) SetCovariate(sum, sumSquares, sumProducts float64) {
	s.x, s.xx, s.xy = exactsum.FromFloat64(sum), exactsum.FromFloat64(sumSquares), exactsum.FromFloat64(sumProducts)
}

// Add adds one unit with outcome y and covariate x.
func (s *Sums) Add(y, x float64) {
	s.n++
	s.y.Add(y)
	s.yy.AddProduct(y, y)
	s.x.Add(x)
	s.xx.AddProduct(x, x)
	s.xy.AddProduct(x, y)
}

// Merge adds o's units to s exactly.
func (s *Sums) Merge(o *Sums) {
	s.n += o.n
	s.y.Merge(&o.y)
	s.yy.Merge(&o.yy)
	s.x.Merge(&o.x)
	s.xx.Merge(&o.xx)
	s.xy.Merge(&o.xy)
}

// N returns the number of units.
func (s *Sums) N() int64 { return s.n }

// Sum returns the sum of the outcome, rounded once.
func (s *Sums) Sum() float64 { return s.y.Float64() }

// SumSquares returns the sum of the squared outcome, rounded once.
func (s *Sums) SumSquares() float64 { return s.yy.Float64() }

// Equal reports whether s and o hold exactly the same statistics.
func (s *Sums) Equal(o *Sums) bool {
	return s.n == o.n && s.y.Equal(&o.y) && s.yy.Equal(&o.yy) && s.x.Equal(&o.x) && s.xx.Equal(&o.xx) && s.xy.Equal(&o.xy)
}

// successes returns the sum of y as a count (AggregateAny metrics).
func (s *Sums) successes() (int64, bool) {
	k, ok := s.y.Int64()
	return k, ok && k >= 0 && k <= s.n
}

// bivariate converts the exact sums to means and centred moments, each
// rounded once: ss = (n Σy² - (Σy)²) / n computed exactly before the
// division, so no cancellation is lost whatever the mean.
func (s *Sums) bivariate() (stats.Bivariate, error) {
	if s.n == 0 {
		return stats.Bivariate{}, nil
	}
	const prec = 4 * 67 * 32
	n := new(big.Float).SetPrec(prec).SetInt64(s.n)
	y, yy, x, xx, xy := s.y.Big(), s.yy.Big(), s.x.Big(), s.xx.Big(), s.xy.Big()
	for _, f := range []*big.Float{y, yy, x, xx, xy} {
		f.SetPrec(prec)
	}
	mean := func(v *big.Float) float64 {
		f, _ := new(big.Float).SetPrec(prec).Quo(v, n).Float64()
		return f
	}
	centred := func(sab, sa, sb *big.Float) float64 {
		a := new(big.Float).SetPrec(prec).Mul(n, sab)
		b := new(big.Float).SetPrec(prec).Mul(sa, sb)
		a.Sub(a, b) // exact: prec covers both products
		f, _ := a.Quo(a, n).Float64()
		return f
	}
	for _, sp := range []*exactsum.Sum{&s.y, &s.yy, &s.x, &s.xx, &s.xy} {
		if v := sp.Float64(); math.IsNaN(v) || math.IsInf(v, 0) {
			return stats.Bivariate{}, fmt.Errorf("sums: not finite")
		}
	}
	ssY, ssX, spXY := max(centred(yy, y, y), 0), max(centred(xx, x, x), 0), centred(xy, x, y)
	if ssX == 0 {
		spXY = 0
	}
	return stats.BivariateFromMoments(s.n, mean(y), mean(x), ssY, ssX, spXY)
}

// State returns the collector's mergeable state (a copy; the collector
// keeps collecting).
func (c *Collector) State() *State {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := &State{Metrics: slices.Clone(c.metrics)}
	for ei := range c.exps {
		st.Experiments = append(st.Experiments, c.experimentState(ei))
	}
	slices.SortFunc(st.Experiments, func(a, b ExperimentState) int { return cmp.Compare(a.Name, b.Name) })
	return st
}

// experimentState folds the memberships of experiment ei into per-arm
// sums. c.mu is held.
func (c *Collector) experimentState(ei int) ExperimentState {
	e := c.exps[ei]
	es := ExperimentState{Name: e.name, FirstExposure: time.Unix(0, e.first).UTC(), LastExposure: time.Unix(0, e.last).UTC()}
	k, nm := len(c.sources), len(c.metrics)
	arms := make([]ArmState, len(e.variants))
	for i, v := range e.variants {
		arms[i] = ArmState{Variant: v, Metrics: make([]Sums, nm)}
	}
	srcIdx := make([]int, nm)
	for i, m := range c.metrics {
		srcIdx[i] = c.sourceOf(m.Kind, m.Custom)
	}
	for _, mi := range e.members {
		m := &c.members[mi]
		if m.conflict {
			es.Conflicts++
			continue
		}
		a := &arms[m.variant]
		a.Units++
		tot := c.tot[int(m.unit)*k : int(m.unit)*k+k]
		snap := c.snaps[int(mi)*k : int(mi)*k+k]
		for i, met := range c.metrics {
			s := srcIdx[i]
			pn, pv := tot[s].n-snap[s].n, tot[s].v-snap[s].v
			var y, x float64
			switch met.Aggregate {
			case AggregateAny:
				if pn > 0 {
					y = 1
				}
				if snap[s].n > 0 {
					x = 1
				}
			case AggregateCount:
				y, x = pn, snap[s].n
			case AggregateValue:
				y, x = pv, snap[s].v
			}
			a.Metrics[i].Add(y, x)
		}
	}
	slices.SortFunc(arms, func(a, b ArmState) int { return cmp.Compare(a.Variant, b.Variant) })
	es.Arms = arms
	return es
}

// Validate checks that s is a well-formed state: valid, distinct metrics;
// experiments sorted by name and arms by variant, without duplicates;
// one Sums per metric per arm with N equal to the arm's units;
// AggregateAny sums whole numbers of successes in [0, N]; no negative
// counts. Errors name the field.
func (s *State) Validate() error {
	if err := validateMetrics(s.Metrics, "State.Metrics"); err != nil {
		return err
	}
	for i := range s.Experiments {
		e := &s.Experiments[i]
		f := fmt.Sprintf("experiment: State.Experiments[%d]", i)
		if e.Name == "" {
			return fmt.Errorf("%s.Name: must be set", f)
		}
		if i > 0 && s.Experiments[i-1].Name >= e.Name {
			return fmt.Errorf("%s.Name: %q is not after %q (sorted, distinct)", f, e.Name, s.Experiments[i-1].Name)
		}
		if e.Conflicts < 0 {
			return fmt.Errorf("%s.Conflicts: must be >= 0, got %d", f, e.Conflicts)
		}
		if e.LastExposure.Before(e.FirstExposure) {
			return fmt.Errorf("%s.LastExposure: before FirstExposure", f)
		}
		for j := range e.Arms {
			a := &e.Arms[j]
			fa := fmt.Sprintf("%s.Arms[%d]", f, j)
			if a.Variant == "" {
				return fmt.Errorf("%s.Variant: must be set", fa)
			}
			if j > 0 && e.Arms[j-1].Variant >= a.Variant {
				return fmt.Errorf("%s.Variant: %q is not after %q (sorted, distinct)", fa, a.Variant, e.Arms[j-1].Variant)
			}
			if a.Units < 0 {
				return fmt.Errorf("%s.Units: must be >= 0, got %d", fa, a.Units)
			}
			if len(a.Metrics) != len(s.Metrics) {
				return fmt.Errorf("%s.Metrics: %d sums for %d metrics", fa, len(a.Metrics), len(s.Metrics))
			}
			for m := range a.Metrics {
				sm := &a.Metrics[m]
				if sm.n != a.Units {
					return fmt.Errorf("%s.Metrics[%d].N: %d differs from Units %d", fa, m, sm.n, a.Units)
				}
				if s.Metrics[m].Aggregate == AggregateAny {
					if _, ok := sm.successes(); !ok {
						return fmt.Errorf("%s.Metrics[%d].Sum: %v is not a count of successes in [0, %d]", fa, m, sm.Sum(), sm.n)
					}
				}
			}
		}
	}
	return nil
}

// Merge adds o to s: experiments and arms are matched by name, counts and
// sums added exactly, exposure bounds widened. Merging is commutative and
// associative, and the zero State is its identity (merging into it
// adopts o's metrics). It fails, leaving s unchanged, when the states were
// computed with different metrics (names, kinds, aggregates, order), or
// when either is invalid.
func (s *State) Merge(o *State) error {
	if len(o.Metrics) == 0 && len(o.Experiments) == 0 {
		return nil // the zero State is empty
	}
	if len(s.Metrics) == 0 && len(s.Experiments) == 0 {
		if err := o.Validate(); err != nil {
			return fmt.Errorf("experiment: State.Merge: argument: %w", err)
		}
		s.Metrics = slices.Clone(o.Metrics)
		for i := range o.Experiments {
			s.Experiments = append(s.Experiments, cloneExperiment(&o.Experiments[i]))
		}
		return nil
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("experiment: State.Merge: receiver: %w", err)
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("experiment: State.Merge: argument: %w", err)
	}
	if len(s.Metrics) != len(o.Metrics) {
		return fmt.Errorf("experiment: State.Merge: Metrics: %d metrics vs %d: states of different collector configurations", len(s.Metrics), len(o.Metrics))
	}
	for i := range s.Metrics {
		if s.Metrics[i] != o.Metrics[i] {
			return fmt.Errorf("experiment: State.Merge: Metrics[%d]: %+v vs %+v: states of different collector configurations", i, s.Metrics[i], o.Metrics[i])
		}
	}
	out := make([]ExperimentState, 0, len(s.Experiments)+len(o.Experiments))
	i, j := 0, 0
	for i < len(s.Experiments) || j < len(o.Experiments) {
		switch {
		case j == len(o.Experiments) || (i < len(s.Experiments) && s.Experiments[i].Name < o.Experiments[j].Name):
			out = append(out, s.Experiments[i])
			i++
		case i == len(s.Experiments) || o.Experiments[j].Name < s.Experiments[i].Name:
			out = append(out, cloneExperiment(&o.Experiments[j]))
			j++
		default:
			out = append(out, mergeExperiment(&s.Experiments[i], &o.Experiments[j]))
			i++
			j++
		}
	}
	s.Experiments = out
	return nil
}

func cloneExperiment(e *ExperimentState) ExperimentState {
	c := *e
	c.Arms = make([]ArmState, len(e.Arms))
	for i, a := range e.Arms {
		c.Arms[i] = ArmState{Variant: a.Variant, Units: a.Units, Metrics: slices.Clone(a.Metrics)}
	}
	return c
}

func mergeExperiment(a, b *ExperimentState) ExperimentState {
	r := ExperimentState{Name: a.Name, Conflicts: a.Conflicts + b.Conflicts, FirstExposure: a.FirstExposure, LastExposure: a.LastExposure}
	if b.FirstExposure.Before(r.FirstExposure) {
		r.FirstExposure = b.FirstExposure
	}
	if b.LastExposure.After(r.LastExposure) {
		r.LastExposure = b.LastExposure
	}
	i, j := 0, 0
	for i < len(a.Arms) || j < len(b.Arms) {
		switch {
		case j == len(b.Arms) || (i < len(a.Arms) && a.Arms[i].Variant < b.Arms[j].Variant):
			r.Arms = append(r.Arms, a.Arms[i])
			i++
		case i == len(a.Arms) || b.Arms[j].Variant < a.Arms[i].Variant:
			r.Arms = append(r.Arms, ArmState{Variant: b.Arms[j].Variant, Units: b.Arms[j].Units, Metrics: slices.Clone(b.Arms[j].Metrics)})
			j++
		default:
			m := ArmState{Variant: a.Arms[i].Variant, Units: a.Arms[i].Units + b.Arms[j].Units, Metrics: slices.Clone(a.Arms[i].Metrics)}
			for k := range m.Metrics {
				m.Metrics[k].Merge(&b.Arms[j].Metrics[k])
			}
			r.Arms = append(r.Arms, m)
			i++
			j++
		}
	}
	return r
}

// Equal reports whether s and o hold exactly the same state.
func (s *State) Equal(o *State) bool {
	if !slices.Equal(s.Metrics, o.Metrics) || len(s.Experiments) != len(o.Experiments) {
		return false
	}
	for i := range s.Experiments {
		a, b := &s.Experiments[i], &o.Experiments[i]
		if a.Name != b.Name || a.Conflicts != b.Conflicts || !a.FirstExposure.Equal(b.FirstExposure) ||
			!a.LastExposure.Equal(b.LastExposure) || len(a.Arms) != len(b.Arms) {
			return false
		}
		for j := range a.Arms {
			x, y := &a.Arms[j], &b.Arms[j]
			if x.Variant != y.Variant || x.Units != y.Units || len(x.Metrics) != len(y.Metrics) {
				return false
			}
			for k := range x.Metrics {
				if !x.Metrics[k].Equal(&y.Metrics[k]) {
					return false
				}
			}
		}
	}
	return true
}

// Analyze analyses one experiment of the state, exactly as
// [Collector.Analyze] does for a collector that saw all the events.
func (s *State) Analyze(cfg AnalysisConfig) (*Report, error) {
	a, err := prepareAnalysis(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	i, ok := slices.BinarySearchFunc(s.Experiments, cfg.Experiment, func(e ExperimentState, name string) int { return cmp.Compare(e.Name, name) })
	if !ok {
		return nil, fmt.Errorf("experiment: AnalysisConfig.Experiment: no exposure or impression of %q was seen", cfg.Experiment)
	}
	return a.finish(cfg, s.Metrics, &s.Experiments[i])
}
