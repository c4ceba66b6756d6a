package drift

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/axiomhq/hyperloglog"

	"github.com/rankscope/rankscope/internal/statecodec"
)

// State is the mergeable part of a [Monitor]'s window: per feature the bin
// counts of the reference's histogram, the missing, out-of-range and seen
// counts and (categorical and id features) the HyperLogLog registers; per
// freshness source the log2 age histogram, the sum of ages in whole
// milliseconds, the count and the maximum; and the unknown-name count.
//
// Every part is an integer count or a register maximum, so merging the
// states of any split of the observations, in any order, equals one pass
// exactly (the HyperLogLog merge keeps each register's maximum, which is
// what one sketch of all the inputs holds). A fleet's workers each
// [Monitor.State], ship it ([State.MarshalBinary]), and one process
// [State.Merge]s the states and folds the result into a monitor of the
// same configuration with [Monitor.MergeState] to [Monitor.Report] it.
//
// # Not in the state: the live sample
//
// KS and Wasserstein need a sample of raw values. A monitor's reservoir
// is a uniform sample of its own stream, and two reservoirs can be
// combined into a uniform sample of the union, but not into the sample
// one pass would have drawn; rather than carry a part that merges only
// approximately, the state leaves the sample out. A report of a monitor
// fed only through MergeState therefore has no KS or Wasserstein values
// (NaN) and grades on PSI, Jensen-Shannon, missing and out-of-range rates.
type State struct {
	// Features, sorted by name.
	Features []FeatureState
	// Sources, sorted by name.
	Sources []SourceState
	// Unknown counts observations of names the monitor was not
	// configured with.
	Unknown uint64
}

// FeatureState is one feature's part of a [State].
type FeatureState struct {
	Feature string
	// Kind is KindNumeric, KindCategorical, or 0 for an id feature.
	Kind Kind
	// Edges and Categories are the reference's, and Min and Max its
	// range: states merge only when they were counted on the same bins.
	Edges      []float64
	Categories []string
	Min, Max   float64
	// Counts per bin (numeric: len(Edges)+1; categorical:
	// len(Categories)+1, the last for other values; id features: none).
	Counts []uint64
	// Missing counts NaN or "" observations, Seen the others, OutOfRange
	// the numeric values outside [Min, Max].
	Missing, Seen, OutOfRange uint64
	// HLL holds the distinct-count registers of a categorical or id
	// feature (precision 14); nil for numeric features.
	HLL *hyperloglog.Sketch
}

// SourceState is one freshness source's part of a [State]: Buckets[b]
// counts ages in [2^(b-1), 2^b) ms (bucket 0: under 1 ms).
type SourceState struct {
	Source  string
	Buckets [64]uint64
	SumMS   uint64
	MaxNS   int64
	N       uint64
}

// State returns the monitor's current window as a mergeable state. It
// reads the counters without stopping observers, as [Monitor.Report] does.
func (m *Monitor) State() *State {
	st := &State{Unknown: m.unknown.Load()}
	for _, name := range m.features {
		if f := m.numeric[name]; f != nil {
			fs := FeatureState{Feature: name, Kind: KindNumeric, Edges: slices.Clone(f.ref.Edges), Min: f.ref.Min, Max: f.ref.Max,
				Counts: make([]uint64, len(f.counts)), Missing: f.missing.Load(), OutOfRange: f.outOfRange.Load()}
			for i := range f.counts {
				fs.Counts[i] = f.counts[i].Load()
				fs.Seen += fs.Counts[i]
			}
			st.Features = append(st.Features, fs)
			continue
		}
		f := m.cat[name]
		fs := FeatureState{Feature: name, Missing: f.missing.Load(), Seen: f.seen.Load()}
		if f.ref != nil {
			fs.Kind = KindCategorical
			fs.Categories = slices.Clone(f.ref.Categories)
			fs.Counts = make([]uint64, len(f.counts))
			for i := range f.counts {
				fs.Counts[i] = f.counts[i].Load()
			}
		}
		f.mu.Lock()
		fs.HLL = f.hll.Clone()
		f.mu.Unlock()
		st.Features = append(st.Features, fs)
	}
	for _, name := range m.srcNames {
		h := m.sources[name]
		ss := SourceState{Source: name, SumMS: h.sumMS.Load(), MaxNS: h.maxNS.Load(), N: h.n.Load()}
		for i := range h.buckets {
			ss.Buckets[i] = h.buckets[i].Load()
		}
		st.Sources = append(st.Sources, ss)
	}
	return st
}

// compatible reports which field keeps a and b (same feature) from
// merging and why; field is "" when they can merge.
func compatible(a, b *FeatureState) (field, why string) {
	switch {
	case a.Kind != b.Kind:
		return "Kind", fmt.Sprintf("%v vs %v", a.Kind, b.Kind)
	case !slices.EqualFunc(a.Edges, b.Edges, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }):
		return "Edges", "the states were counted on different bin edges (different references)"
	case !slices.Equal(a.Categories, b.Categories):
		return "Categories", "the states were counted on different categories (different references)"
	case math.Float64bits(a.Min) != math.Float64bits(b.Min) || math.Float64bits(a.Max) != math.Float64bits(b.Max):
		return "Min, Max", fmt.Sprintf("[%v, %v] vs [%v, %v]: different reference ranges", a.Min, a.Max, b.Min, b.Max)
	case len(a.Counts) != len(b.Counts):
		return "Counts", fmt.Sprintf("%d bins vs %d", len(a.Counts), len(b.Counts))
	case (a.HLL == nil) != (b.HLL == nil):
		return "HLL", "present in one state only"
	}
	return "", ""
}

// Validate checks that s is well formed: features and sources sorted by
// name and distinct, each feature's counts of the length its bins need,
// numeric features with finite increasing edges and no sketch,
// categorical and id features with a sketch, and source buckets adding up
// to N. Errors name the field.
func (s *State) Validate() error {
	for i := range s.Features {
		f := &s.Features[i]
		p := fmt.Sprintf("drift: State.Features[%d]", i)
		if f.Feature == "" {
			return fmt.Errorf("%s.Feature: must be set", p)
		}
		if i > 0 && s.Features[i-1].Feature >= f.Feature {
			return fmt.Errorf("%s.Feature: %q is not after %q (sorted, distinct)", p, f.Feature, s.Features[i-1].Feature)
		}
		switch f.Kind {
		case KindNumeric:
			if len(f.Counts) != len(f.Edges)+1 || len(f.Categories) != 0 || f.HLL != nil {
				return fmt.Errorf("%s.Counts: a numeric feature has len(Edges)+1 = %d bins, no categories and no HLL; got %d", p, len(f.Edges)+1, len(f.Counts))
			}
			for j, e := range f.Edges {
				if math.IsNaN(e) || math.IsInf(e, 0) || (j > 0 && e <= f.Edges[j-1]) {
					return fmt.Errorf("%s.Edges[%d]: must be finite and increasing, got %v", p, j, e)
				}
			}
			var n uint64
			for _, c := range f.Counts {
				n += c
			}
			if n != f.Seen {
				return fmt.Errorf("%s.Seen: %d, but the bins hold %d", p, f.Seen, n)
			}
			if f.OutOfRange > f.Seen {
				return fmt.Errorf("%s.OutOfRange: %d exceeds Seen %d", p, f.OutOfRange, f.Seen)
			}
		case KindCategorical, 0:
			want := 0
			if f.Kind == KindCategorical {
				want = len(f.Categories) + 1
			}
			if len(f.Counts) != want || len(f.Edges) != 0 || f.HLL == nil || (f.Kind == 0 && len(f.Categories) != 0) {
				return fmt.Errorf("%s.Counts: a %s feature has %d bins, no edges and an HLL; got %d bins", p, kindName(f.Kind), want, len(f.Counts))
			}
			if f.OutOfRange != 0 {
				return fmt.Errorf("%s.OutOfRange: only numeric features count it", p)
			}
			if f.Kind == KindCategorical {
				var n uint64
				for _, c := range f.Counts {
					n += c
				}
				if n != f.Seen {
					return fmt.Errorf("%s.Seen: %d, but the bins hold %d", p, f.Seen, n)
				}
			}
		default:
			return fmt.Errorf("%s.Kind: unknown kind %d", p, f.Kind)
		}
	}
	for i := range s.Sources {
		src := &s.Sources[i]
		p := fmt.Sprintf("drift: State.Sources[%d]", i)
		if src.Source == "" {
			return fmt.Errorf("%s.Source: must be set", p)
		}
		if i > 0 && s.Sources[i-1].Source >= src.Source {
			return fmt.Errorf("%s.Source: %q is not after %q (sorted, distinct)", p, src.Source, s.Sources[i-1].Source)
		}
		var n uint64
		for _, c := range src.Buckets {
			n += c
		}
		if n != src.N {
			return fmt.Errorf("%s.N: %d, but the buckets hold %d", p, src.N, n)
		}
		if src.MaxNS < 0 {
			return fmt.Errorf("%s.MaxNS: must be >= 0, got %d", p, src.MaxNS)
		}
	}
	return nil
}

func kindName(k Kind) string {
	if k == 0 {
		return "id"
	}
	return k.String()
}

// Merge adds o to s. Features and sources are matched by name; a feature
// present in both must have been counted on the same reference (kind,
// edges, categories, range), else Merge fails naming it and leaves s
// unchanged. Merging is commutative and associative.
func (s *State) Merge(o *State) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("drift: State.Merge: receiver: %w", err)
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("drift: State.Merge: argument: %w", err)
	}
	// Check everything before changing anything.
	for i := range o.Features {
		of := &o.Features[i]
		if j, ok := slices.BinarySearchFunc(s.Features, of.Feature, byFeature); ok {
			if field, why := compatible(&s.Features[j], of); field != "" {
				return fmt.Errorf("drift: State.Merge: feature %q: %s: %s", of.Feature, field, why)
			}
		}
	}
	for i := range o.Features {
		of := &o.Features[i]
		j, ok := slices.BinarySearchFunc(s.Features, of.Feature, byFeature)
		if !ok {
			s.Features = slices.Insert(s.Features, j, cloneFeature(of))
			continue
		}
		f := &s.Features[j]
		for b := range f.Counts {
			f.Counts[b] += of.Counts[b]
		}
		f.Missing += of.Missing
		f.Seen += of.Seen
		f.OutOfRange += of.OutOfRange
		if f.HLL != nil {
			if err := f.HLL.Merge(of.HLL); err != nil {
				// Unreachable for validated states of this package (all
				// precision 14); reported rather than ignored.
				return fmt.Errorf("drift: State.Merge: feature %q: HLL: %w", of.Feature, err)
			}
		}
	}
	for i := range o.Sources {
		os := &o.Sources[i]
		j, ok := slices.BinarySearchFunc(s.Sources, os.Source, func(a SourceState, n string) int { return cmp.Compare(a.Source, n) })
		if !ok {
			s.Sources = slices.Insert(s.Sources, j, *os)
			continue
		}
		src := &s.Sources[j]
		for b := range src.Buckets {
			src.Buckets[b] += os.Buckets[b]
		}
		src.SumMS += os.SumMS
		src.N += os.N
		src.MaxNS = max(src.MaxNS, os.MaxNS)
	}
	s.Unknown += o.Unknown
	return nil
}

func byFeature(a FeatureState, name string) int { return cmp.Compare(a.Feature, name) }

func cloneFeature(f *FeatureState) FeatureState {
	c := *f
	c.Edges = slices.Clone(f.Edges)
	c.Categories = slices.Clone(f.Categories)
	c.Counts = slices.Clone(f.Counts)
	if f.HLL != nil {
		c.HLL = f.HLL.Clone()
	}
	return c
}

// MergeState adds a state's counts and sketches to the monitor's window,
// as if the monitor had seen those observations (except for the live
// sample: see [State]). Every feature and source of s must be configured
// in m with the same reference; otherwise MergeState fails naming the
// first mismatch and changes nothing.
func (m *Monitor) MergeState(s *State) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("drift: Monitor.MergeState: %w", err)
	}
	mine := m.State()
	for i := range s.Features {
		f := &s.Features[i]
		j, ok := slices.BinarySearchFunc(mine.Features, f.Feature, byFeature)
		if !ok {
			return fmt.Errorf("drift: Monitor.MergeState: feature %q: not configured in this monitor", f.Feature)
		}
		if field, why := compatible(&mine.Features[j], f); field != "" {
			return fmt.Errorf("drift: Monitor.MergeState: feature %q: %s: %s", f.Feature, field, why)
		}
	}
	for i := range s.Sources {
		if m.sources[s.Sources[i].Source] == nil {
			return fmt.Errorf("drift: Monitor.MergeState: source %q: not configured in this monitor", s.Sources[i].Source)
		}
	}
	for i := range s.Features {
		f := &s.Features[i]
		if nf := m.numeric[f.Feature]; nf != nil {
			for b, c := range f.Counts {
				nf.counts[b].Add(c)
			}
			nf.missing.Add(f.Missing)
			nf.outOfRange.Add(f.OutOfRange)
			continue // seen drives the reservoir of this monitor's own values
		}
		cf := m.cat[f.Feature]
		for b, c := range f.Counts {
			cf.counts[b].Add(c)
		}
		cf.missing.Add(f.Missing)
		cf.seen.Add(f.Seen)
		cf.mu.Lock()
		err := cf.hll.Merge(f.HLL)
		cf.mu.Unlock()
		if err != nil {
			return fmt.Errorf("drift: Monitor.MergeState: feature %q: HLL: %w", f.Feature, err)
		}
	}
	for i := range s.Sources {
		src := &s.Sources[i]
		h := m.sources[src.Source]
		for b, c := range src.Buckets {
			h.buckets[b].Add(c)
		}
		h.sumMS.Add(src.SumMS)
		h.n.Add(src.N)
		for {
			cur := h.maxNS.Load()
			if src.MaxNS <= cur || h.maxNS.CompareAndSwap(cur, src.MaxNS) {
				break
			}
		}
	}
	m.unknown.Add(s.Unknown)
	return nil
}

// The binary encoding of a State: magic "RSDR", version byte, then the
// features (name, kind, edges as float64 bits, categories, min, max,
// counts, missing, seen, out of range, and a length-prefixed HyperLogLog
// in github.com/axiomhq/hyperloglog's own binary format), the sources and
// the unknown count.
const (
	stateMagic   = "RSDR"
	stateVersion = 1
	maxStateName = 1 << 12
	maxStateHLL  = 1 << 20
)

// MarshalBinary encodes the state. It fails on an invalid state.
func (s *State) MarshalBinary() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	w := statecodec.Writer{}
	w.Header(stateMagic, stateVersion)
	w.Uint(uint64(len(s.Features)))
	for i := range s.Features {
		f := &s.Features[i]
		w.String(f.Feature)
		w.Uint(uint64(f.Kind))
		w.Uint(uint64(len(f.Edges)))
		for _, e := range f.Edges {
			w.Float(e)
		}
		w.Uint(uint64(len(f.Categories)))
		for _, c := range f.Categories {
			w.String(c)
		}
		w.Float(f.Min)
		w.Float(f.Max)
		for _, c := range f.Counts {
			w.Uint(c)
		}
		w.Uint(f.Missing)
		w.Uint(f.Seen)
		w.Uint(f.OutOfRange)
		if f.HLL != nil {
			b, err := f.HLL.MarshalBinary()
			if err != nil {
				return nil, fmt.Errorf("drift: State.Features[%d].HLL: %w", i, err)
			}
			w.String(string(b))
		}
	}
	w.Uint(uint64(len(s.Sources)))
	for i := range s.Sources {
		src := &s.Sources[i]
		w.String(src.Source)
		for _, c := range src.Buckets {
			w.Uint(c)
		}
		w.Uint(src.SumMS)
		w.Int(src.MaxNS)
		w.Uint(src.N)
	}
	w.Uint(s.Unknown)
	return w.B, nil
}

// UnmarshalBinary replaces s with the state encoded in data, rejecting
// truncated, oversized or invalid input, another magic or version, and
// sketches of another precision, with an error naming the field.
func (s *State) UnmarshalBinary(data []byte) error {
	r, err := statecodec.NewReader(data, "drift.State", stateMagic, stateVersion)
	if err != nil {
		return err
	}
	var st State
	nf := r.Count("Features", 8, MaxCategories)
	for i := 0; i < nf && r.Err() == nil; i++ {
		p := fmt.Sprintf("Features[%d]", i)
		f := FeatureState{Feature: r.String(p+".Feature", maxStateName)}
		f.Kind = Kind(min(r.Uint(p+".Kind"), 255))
		ne := r.Count(p+".Edges", 8, MaxBins)
		for j := 0; j < ne && r.Err() == nil; j++ {
			f.Edges = append(f.Edges, r.Float(fmt.Sprintf("%s.Edges[%d]", p, j)))
		}
		nc := r.Count(p+".Categories", 1, MaxCategories)
		for j := 0; j < nc && r.Err() == nil; j++ {
			f.Categories = append(f.Categories, r.String(fmt.Sprintf("%s.Categories[%d]", p, j), maxStateName))
		}
		f.Min = r.Float(p + ".Min")
		f.Max = r.Float(p + ".Max")
		var bins int
		switch f.Kind {
		case KindNumeric:
			bins = ne + 1
		case KindCategorical:
			bins = nc + 1
		}
		if bins > 0 && r.Err() == nil {
			f.Counts = make([]uint64, bins)
			for j := range f.Counts {
				f.Counts[j] = r.Uint(fmt.Sprintf("%s.Counts[%d]", p, j))
			}
		}
		f.Missing = r.Uint(p + ".Missing")
		f.Seen = r.Uint(p + ".Seen")
		f.OutOfRange = r.Uint(p + ".OutOfRange")
		if f.Kind != KindNumeric && r.Err() == nil {
			raw := r.String(p+".HLL", maxStateHLL)
			if r.Err() == nil {
				var h hyperloglog.Sketch
				if err := h.UnmarshalBinary([]byte(raw)); err != nil {
					r.Fail(p+".HLL", "%v", err)
				} else {
					f.HLL = hyperloglog.NewNoSparse()
					if err := f.HLL.Merge(&h); err != nil {
						r.Fail(p+".HLL", "%v (the monitor's sketches have precision 14)", err)
					}
				}
			}
		}
		st.Features = append(st.Features, f)
	}
	ns := r.Count("Sources", 66, 1<<16)
	for i := 0; i < ns && r.Err() == nil; i++ {
		p := fmt.Sprintf("Sources[%d]", i)
		src := SourceState{Source: r.String(p+".Source", maxStateName)}
		for j := range src.Buckets {
			src.Buckets[j] = r.Uint(fmt.Sprintf("%s.Buckets[%d]", p, j))
		}
		src.SumMS = r.Uint(p + ".SumMS")
		src.MaxNS = r.Int(p + ".MaxNS")
		src.N = r.Uint(p + ".N")
		st.Sources = append(st.Sources, src)
	}
	st.Unknown = r.Uint("Unknown")
	if err := r.End(); err != nil {
		return err
	}
	if err := st.Validate(); err != nil {
		return err
	}
	*s = st
	return nil
}
