package experiment

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/rankscope/rankscope/personalize"
)

// Variant is one arm of an experiment.
type Variant struct {
	Name string
	// Weight is the arm's relative share of enrolled units (> 0); weights
	// need not sum to 1.
	Weight float64
}

// Config describes an experiment. Required: Name and at least two Variants.
type Config struct {
	// Name is the experiment name carried in assignments and exposures.
	Name string
	// Salt seeds the assignment hash; default Name. Change it (never the
	// name) to re-randomize units for a new run of the experiment.
	Salt string
	// Variants with weights; the first is the control unless the analysis
	// names another.
	Variants []Variant
	// Traffic is the fraction of eligible units that enter, in (0,1]; 0
	// means 1. Raising it keeps every enrolled unit in its arm.
	Traffic float64
}

// Experiment assigns units to variants deterministically. It is immutable
// and safe for concurrent use.
type Experiment struct {
	name     string
	state    uint64
	traffic  uint64
	variants []string
	bounds   []uint64 // cumulative thresholds on the low 32 bits; last is 1<<32
	weights  []float64
}

// Reason says why a unit did or did not get a variant.
type Reason uint8

// Reasons.
const (
	ReasonAssigned  Reason = iota // in the experiment, variant set
	ReasonNoTraffic               // outside the experiment's traffic allocation
	ReasonHoldout                 // in the global holdout
	ReasonOtherSlot               // the layer gave the unit's bucket to another experiment (or none)
	ReasonEmptyUnit               // the unit id is empty
)

var reasonNames = [...]string{"assigned", "no_traffic", "holdout", "other_slot", "empty_unit"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// New validates cfg and returns the experiment.
func New(cfg Config) (*Experiment, error) {
	if cfg.Name == "" {
		return nil, fmt.Errorf("experiment: Config.Name: must be set")
	}
	if cfg.Salt == "" {
		cfg.Salt = cfg.Name
	}
	if !utf8.ValidString(cfg.Salt) {
		return nil, fmt.Errorf("experiment: Config.Salt: must be valid UTF-8")
	}
	if cfg.Traffic == 0 {
		cfg.Traffic = 1
	}
	if !(cfg.Traffic > 0 && cfg.Traffic <= 1) {
		return nil, fmt.Errorf("experiment: Config.Traffic: must be in (0,1], got %v", cfg.Traffic)
	}
	if len(cfg.Variants) < 2 {
		return nil, fmt.Errorf("experiment: Config.Variants: need at least 2, got %d", len(cfg.Variants))
	}
	e := &Experiment{name: cfg.Name, state: saltState(cfg.Salt), traffic: fraction32(cfg.Traffic)}
	var total float64
	seen := map[string]bool{}
	for i, v := range cfg.Variants {
		if v.Name == "" {
			return nil, fmt.Errorf("experiment: Config.Variants[%d].Name: must be set", i)
		}
		if seen[v.Name] {
			return nil, fmt.Errorf("experiment: Config.Variants[%d].Name: duplicate %q", i, v.Name)
		}
		seen[v.Name] = true
		if !(v.Weight > 0) || math.IsInf(v.Weight, 0) {
			return nil, fmt.Errorf("experiment: Config.Variants[%d].Weight: must be finite and > 0, got %v", i, v.Weight)
		}
		total += v.Weight
	}
	var cum float64
	for _, v := range cfg.Variants {
		cum += v.Weight
		e.variants = append(e.variants, v.Name)
		e.weights = append(e.weights, v.Weight/total)
		e.bounds = append(e.bounds, fraction32(cum/total))
	}
	e.bounds[len(e.bounds)-1] = 1 << 32
	return e, nil
}

// Name returns the experiment name.
func (e *Experiment) Name() string { return e.name }

// Variants returns the variant names in configuration order.
func (e *Experiment) Variants() []string { return append([]string(nil), e.variants...) }

// Weights returns the normalised weights, in the order of [Experiment.Variants].
func (e *Experiment) Weights() []float64 { return append([]float64(nil), e.weights...) }

// Assign returns the unit's variant, or "" and why not. The same
// (salt, unit) always gives the same answer, in every process. It does not
// allocate.
func (e *Experiment) Assign(unit string) (string, Reason) {
	if unit == "" {
		return "", ReasonEmptyUnit
	}
	h := hashFrom(e.state, unit)
	if h>>32 >= e.traffic {
		return "", ReasonNoTraffic
	}
	lo := h & 0xFFFFFFFF
	for i, b := range e.bounds {
		if lo < b {
			return e.variants[i], ReasonAssigned
		}
	}
	return e.variants[len(e.variants)-1], ReasonAssigned // unreachable: last bound is 1<<32
}

// Holdout is a fraction of units kept out of every experiment of an
// [Assigner], to measure the combined effect of all launches.
type Holdout struct {
	// Name is the variant name recorded for held-out units ("holdout").
	Name     string
	Salt     string  // required; keep it stable for the holdout's lifetime
	Fraction float64 // in (0,1)
}

// Slot gives an experiment a share of a layer's buckets.
type Slot struct {
	Experiment *Experiment
	Buckets    int // number of buckets, > 0
}

// LayerConfig describes a layer: a namespace whose experiments are
// mutually exclusive. A unit falls in exactly one bucket of the layer and
// each bucket belongs to at most one experiment. Experiments in different
// layers are independent (crossed), which is what a factorial design needs.
type LayerConfig struct {
	Name    string
	Salt    string // default Name
	Buckets int    // default 1000
	// Slots take consecutive bucket ranges in order; buckets left over
	// belong to no experiment.
	Slots []Slot
}

// Layer is an immutable, concurrency-safe set of mutually exclusive experiments.
type Layer struct {
	name    string
	state   uint64
	buckets uint64
	ends    []uint64 // exclusive end bucket of each slot
	exps    []*Experiment
}

// NewLayer validates cfg and returns the layer.
func NewLayer(cfg LayerConfig) (*Layer, error) {
	if cfg.Name == "" {
		return nil, fmt.Errorf("experiment: LayerConfig.Name: must be set")
	}
	if cfg.Salt == "" {
		cfg.Salt = cfg.Name
	}
	if !utf8.ValidString(cfg.Salt) {
		return nil, fmt.Errorf("experiment: LayerConfig.Salt: must be valid UTF-8")
	}
	if cfg.Buckets == 0 {
		cfg.Buckets = 1000
	}
	if cfg.Buckets < 1 || cfg.Buckets > 1<<20 {
		return nil, fmt.Errorf("experiment: LayerConfig.Buckets: must be in [1, 1048576], got %d", cfg.Buckets)
	}
	l := &Layer{name: cfg.Name, state: saltState(cfg.Salt), buckets: uint64(cfg.Buckets)}
	var end int
	for i, s := range cfg.Slots {
		if s.Experiment == nil {
			return nil, fmt.Errorf("experiment: LayerConfig.Slots[%d].Experiment: must be set", i)
		}
		if s.Buckets <= 0 {
			return nil, fmt.Errorf("experiment: LayerConfig.Slots[%d].Buckets: must be > 0, got %d", i, s.Buckets)
		}
		end += s.Buckets
		if end > cfg.Buckets {
			return nil, fmt.Errorf("experiment: LayerConfig.Slots[%d].Buckets: slots need %d buckets, layer has %d", i, end, cfg.Buckets)
		}
		l.ends = append(l.ends, uint64(end))
		l.exps = append(l.exps, s.Experiment)
	}
	return l, nil
}

// Bucket returns the unit's bucket in [0, Buckets).
func (l *Layer) Bucket(unit string) int {
	h := hashFrom(l.state, unit)
	return int((h >> 32) * l.buckets >> 32)
}

// Assign returns the experiment owning the unit's bucket and the unit's
// variant in it.
func (l *Layer) Assign(unit string) (*Experiment, string, Reason) {
	if unit == "" {
		return nil, "", ReasonEmptyUnit
	}
	b := uint64(l.Bucket(unit))
	for i, end := range l.ends {
		if b < end {
			v, r := l.exps[i].Assign(unit)
			return l.exps[i], v, r
		}
	}
	return nil, "", ReasonOtherSlot
}

// Assigner combines an optional global holdout with layers. It is
// immutable and safe for concurrent use.
type Assigner struct {
	holdout      *Holdout
	holdState    uint64
	holdFraction uint64
	layers       []*Layer
}

// NewAssigner returns an assigner over layers; holdout may be nil.
func NewAssigner(holdout *Holdout, layers ...*Layer) (*Assigner, error) {
	a := &Assigner{layers: layers}
	if holdout != nil {
		h := *holdout
		if h.Salt == "" || !utf8.ValidString(h.Salt) {
			return nil, fmt.Errorf("experiment: Holdout.Salt: must be set and valid UTF-8")
		}
		if !(h.Fraction > 0 && h.Fraction < 1) {
			return nil, fmt.Errorf("experiment: Holdout.Fraction: must be in (0,1), got %v", h.Fraction)
		}
		if h.Name == "" {
			h.Name = "holdout"
		}
		a.holdout, a.holdState, a.holdFraction = &h, saltState(h.Salt), fraction32(h.Fraction)
	}
	names := map[string]bool{}
	for i, l := range layers {
		if l == nil {
			return nil, fmt.Errorf("experiment: layers[%d]: is nil", i)
		}
		for _, e := range l.exps {
			if names[e.name] {
				return nil, fmt.Errorf("experiment: layers[%d]: experiment %q appears twice", i, e.name)
			}
			names[e.name] = true
		}
	}
	return a, nil
}

// InHoldout reports whether the unit is in the global holdout.
func (a *Assigner) InHoldout(unit string) bool {
	return a.holdout != nil && hashFrom(a.holdState, unit)>>32 < a.holdFraction
}

// Append appends the unit's assignments, one per layer that has an
// experiment for it, to dst and returns it; pass the result as
// personalize.Request.Experiments so impressions carry the arms. A unit in
// the holdout gets a single assignment {Experiment: Holdout.Name,
// Variant: Holdout.Name}. With enough capacity in dst it does not allocate.
func (a *Assigner) Append(dst []personalize.Assignment, unit string) []personalize.Assignment {
	if unit == "" {
		return dst
	}
	if a.InHoldout(unit) {
		return append(dst, personalize.Assignment{Experiment: a.holdout.Name, Variant: a.holdout.Name})
	}
	for _, l := range a.layers {
		if e, v, r := l.Assign(unit); r == ReasonAssigned {
			dst = append(dst, personalize.Assignment{Experiment: e.name, Variant: v})
		}
	}
	return dst
}
