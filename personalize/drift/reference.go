package drift

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Kind says whether a feature is numeric or categorical.
type Kind uint8

// Kinds.
const (
	KindNumeric     Kind = iota + 1 // float values, binned by frozen edges
	KindCategorical                 // string values from a known set
)

var kindNames = [...]string{"", "numeric", "categorical"}

// String returns "numeric" or "categorical".
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) {
	if k == 0 || int(k) >= len(kindNames) {
		return nil, fmt.Errorf("drift: unknown kind %d", k)
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	for i := 1; i < len(kindNames); i++ {
		if kindNames[i] == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("drift: unknown kind %q", b)
}

// Limits on a [Reference], checked by [Reference.Validate] so a decoded
// reference cannot make a monitor allocate without bound.
const (
	MaxBins       = 1000
	MaxCategories = 10000
	MaxSample     = 1 << 20
)

// Reference is the frozen picture of one feature that live traffic is
// compared with. Build it with [NewNumericReference] or
// [NewCategoricalReference] from a reference period, store it as JSON,
// and load it unchanged: the bin edges never move, so PSI values from
// different days are comparable.
//
// Numeric bins are left-closed: bin 0 is (-Inf, Edges[0]), bin i is
// [Edges[i-1], Edges[i]), the last bin is [Edges[len-1], +Inf).
// Categorical bins are the Categories in order, then one bin for every
// other value.
type Reference struct {
	Feature string `json:"feature"`
	Kind    Kind   `json:"kind"`
	// Edges are the strictly increasing, finite inner bin edges (numeric).
	Edges []float64 `json:"edges,omitempty"`
	// Categories are the known values (categorical), unique and non-empty.
	Categories []string `json:"categories,omitempty"`
	// Proportions are the reference shares of each bin: len(Edges)+1 or
	// len(Categories)+1 entries summing to 1.
	Proportions []float64 `json:"proportions"`
	// Sample is a sorted random sample of the reference values (numeric),
	// used by KS and Wasserstein.
	Sample []float64 `json:"sample,omitempty"`
	// Min and Max bound the values seen in the reference (numeric); live
	// values outside [Min, Max] count as out of range.
	Min float64 `json:"min,omitempty"`
	Max float64 `json:"max,omitempty"`
	// Std is the population standard deviation of the reference values,
	// the unit of the normalized Wasserstein distance.
	Std float64 `json:"std,omitempty"`
	// Count is the number of reference observations, MissingRate the share
	// of them that were missing (NaN or "").
	Count       int64   `json:"count"`
	MissingRate float64 `json:"missing_rate"`
}

// ReferenceConfig tunes reference building. The zero value means the
// documented defaults.
type ReferenceConfig struct {
	// Bins is the number of equal-mass bins for numeric features (default
	// 10). Heavy ties can merge edges, giving fewer bins.
	Bins int
	// SampleSize bounds the stored sample (default 2048).
	SampleSize int
	// MaxCategories keeps the most frequent categories (default 64); the
	// rest share the "other" bin.
	MaxCategories int
	// Seed seeds the sample selection (deterministic for a given input).
	Seed uint64
}

func (c *ReferenceConfig) defaults() error {
	switch {
	case c.Bins < 0 || c.Bins > MaxBins:
		return fmt.Errorf("drift: ReferenceConfig.Bins: must be in [0, %d], got %d", MaxBins, c.Bins)
	case c.SampleSize < 0 || c.SampleSize > MaxSample:
		return fmt.Errorf("drift: ReferenceConfig.SampleSize: must be in [0, %d], got %d", MaxSample, c.SampleSize)
	case c.MaxCategories < 0 || c.MaxCategories > MaxCategories:
		return fmt.Errorf("drift: ReferenceConfig.MaxCategories: must be in [0, %d], got %d", MaxCategories, c.MaxCategories)
	}
	if c.Bins == 0 {
		c.Bins = 10
	}
	if c.SampleSize == 0 {
		c.SampleSize = 2048
	}
	if c.MaxCategories == 0 {
		c.MaxCategories = 64
	}
	return nil
}

// NewNumericReference builds a reference from values; NaN values count as
// missing. Inner edges sit at the 1/Bins, 2/Bins, ... quantiles (the
// order statistic at rank floor(k*n/Bins)); when ties make an edge repeat,
// the next distinct value is used instead, and edges stop at the maximum.
func NewNumericReference(feature string, values []float64, cfg ReferenceConfig) (*Reference, error) {
	if feature == "" {
		return nil, errors.New("drift: NewNumericReference: feature: must not be empty")
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	xs := make([]float64, 0, len(values))
	for i, v := range values {
		if math.IsNaN(v) {
			continue
		}
		if math.IsInf(v, 0) {
			return nil, fmt.Errorf("drift: NewNumericReference %q: values[%d]: infinite", feature, i)
		}
		xs = append(xs, v)
	}
	if len(xs) == 0 {
		return nil, fmt.Errorf("drift: NewNumericReference %q: no non-missing values", feature)
	}
	slices.Sort(xs)
	n := len(xs)
	r := &Reference{Feature: feature, Kind: KindNumeric, Count: int64(len(values)),
		MissingRate: float64(len(values)-n) / float64(len(values)), Min: xs[0], Max: xs[n-1], Std: stddev(xs)}
	prev := xs[0]
	for k := 1; k < cfg.Bins; k++ {
		e := xs[k*n/cfg.Bins]
		if e <= prev {
			// A heavy tie: the next distinct value becomes the edge so
			// the values above the tie keep a bin of their own.
			j := binOf(xs, prev)
			if j == n {
				break
			}
			e = xs[j]
		}
		r.Edges = append(r.Edges, e)
		prev = e
	}
	counts := make([]float64, len(r.Edges)+1)
	for _, v := range xs {
		counts[binOf(r.Edges, v)]++
	}
	r.Proportions = counts
	for i := range counts {
		r.Proportions[i] /= float64(n)
	}
	if n <= cfg.SampleSize {
		r.Sample = xs
	} else {
		rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
		idx := rng.Perm(n)[:cfg.SampleSize]
		r.Sample = make([]float64, cfg.SampleSize)
		for i, j := range idx {
			r.Sample[i] = xs[j]
		}
		slices.Sort(r.Sample)
	}
	return r, nil
}

// binOf returns the left-closed bin of v for inner edges.
func binOf(edges []float64, v float64) int {
	// sort.SearchFloat64s-like, inlined for the hot path: first edge > v.
	lo, hi := 0, len(edges)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if edges[mid] <= v {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// NewCategoricalReference builds a reference from values; "" counts as
// missing. The MaxCategories most frequent values (ties broken by value)
// become Categories; the rest share the "other" bin.
func NewCategoricalReference(feature string, values []string, cfg ReferenceConfig) (*Reference, error) {
	if feature == "" {
		return nil, errors.New("drift: NewCategoricalReference: feature: must not be empty")
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	freq := map[string]int{}
	n := 0
	for _, v := range values {
		if v == "" {
			continue
		}
		freq[v]++
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("drift: NewCategoricalReference %q: no non-missing values", feature)
	}
	cats := make([]string, 0, len(freq))
	for c := range freq {
		cats = append(cats, c)
	}
	sort.Slice(cats, func(i, j int) bool {
		if freq[cats[i]] != freq[cats[j]] {
			return freq[cats[i]] > freq[cats[j]]
		}
		return cats[i] < cats[j]
	})
	if len(cats) > cfg.MaxCategories {
		cats = cats[:cfg.MaxCategories]
	}
	r := &Reference{Feature: feature, Kind: KindCategorical, Categories: cats, Count: int64(len(values)),
		MissingRate: float64(len(values)-n) / float64(len(values))}
	r.Proportions = make([]float64, len(cats)+1)
	rest := n
	for i, c := range cats {
		r.Proportions[i] = float64(freq[c]) / float64(n)
		rest -= freq[c]
	}
	r.Proportions[len(cats)] = float64(rest) / float64(n)
	return r, nil
}

// Validate checks the invariants a monitor relies on, naming the field at
// fault.
func (r *Reference) Validate() error {
	f := func(field, format string, args ...any) error {
		return fmt.Errorf("drift: Reference %q: %s: %s", r.Feature, field, fmt.Sprintf(format, args...))
	}
	if r.Feature == "" {
		return errors.New("drift: Reference.Feature: must not be empty")
	}
	switch r.Kind {
	case KindNumeric:
		if len(r.Edges) > MaxBins {
			return f("edges", "at most %d, got %d", MaxBins, len(r.Edges))
		}
		for i, e := range r.Edges {
			if math.IsNaN(e) || math.IsInf(e, 0) {
				return f(fmt.Sprintf("edges[%d]", i), "must be finite, got %v", e)
			}
			if i > 0 && e <= r.Edges[i-1] {
				return f(fmt.Sprintf("edges[%d]", i), "must be > edges[%d] (%v), got %v", i-1, r.Edges[i-1], e)
			}
		}
		if len(r.Categories) != 0 {
			return f("categories", "must be empty for a numeric feature")
		}
		if len(r.Proportions) != len(r.Edges)+1 {
			return f("proportions", "want %d entries (edges+1), got %d", len(r.Edges)+1, len(r.Proportions))
		}
		if len(r.Sample) > MaxSample {
			return f("sample", "at most %d values, got %d", MaxSample, len(r.Sample))
		}
		for i, v := range r.Sample {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return f(fmt.Sprintf("sample[%d]", i), "must be finite, got %v", v)
			}
			if i > 0 && v < r.Sample[i-1] {
				return f(fmt.Sprintf("sample[%d]", i), "must be sorted")
			}
		}
		if math.IsNaN(r.Min) || math.IsNaN(r.Max) || r.Min > r.Max || math.IsInf(r.Min, 0) || math.IsInf(r.Max, 0) {
			return f("min/max", "must be finite with min <= max, got [%v, %v]", r.Min, r.Max)
		}
		if math.IsNaN(r.Std) || math.IsInf(r.Std, 0) || r.Std < 0 {
			return f("std", "must be finite and >= 0, got %v", r.Std)
		}
	case KindCategorical:
		if len(r.Categories) == 0 || len(r.Categories) > MaxCategories {
			return f("categories", "want 1..%d, got %d", MaxCategories, len(r.Categories))
		}
		seen := make(map[string]struct{}, len(r.Categories))
		for i, c := range r.Categories {
			if c == "" {
				return f(fmt.Sprintf("categories[%d]", i), "must not be empty")
			}
			if _, dup := seen[c]; dup {
				return f(fmt.Sprintf("categories[%d]", i), "duplicate %q", c)
			}
			seen[c] = struct{}{}
		}
		if len(r.Edges) != 0 || len(r.Sample) != 0 {
			return f("edges", "must be empty for a categorical feature")
		}
		if len(r.Proportions) != len(r.Categories)+1 {
			return f("proportions", "want %d entries (categories+1), got %d", len(r.Categories)+1, len(r.Proportions))
		}
	default:
		return f("kind", "unknown kind %d", r.Kind)
	}
	var sum float64
	for i, p := range r.Proportions {
		if math.IsNaN(p) || p < 0 || p > 1 {
			return f(fmt.Sprintf("proportions[%d]", i), "must be in [0,1], got %v", p)
		}
		sum += p
	}
	if math.Abs(sum-1) > 1e-6 {
		return f("proportions", "must sum to 1, got %v", sum)
	}
	if r.Count < 0 {
		return f("count", "must be >= 0, got %d", r.Count)
	}
	if math.IsNaN(r.MissingRate) || r.MissingRate < 0 || r.MissingRate > 1 {
		return f("missing_rate", "must be in [0,1], got %v", r.MissingRate)
	}
	return nil
}

// UnmarshalReference decodes and validates a reference written with
// encoding/json.
func UnmarshalReference(data []byte) (*Reference, error) {
	var r Reference
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("drift: decode reference: %w", err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}
