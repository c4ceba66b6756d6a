package drift

import (
	"fmt"
	"math"
	"math/bits"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/axiomhq/hyperloglog"

	"github.com/rankscope/rankscope/personalize"
)

// Config configures a [Monitor]. The zero value of every field but
// References means the documented default.
type Config struct {
	// References are the frozen references, one per feature; each is
	// validated and its feature name must be unique. Numeric references are
	// fed with [Monitor.Observe], categorical ones with
	// [Monitor.ObserveCategory].
	References []*Reference
	// IDs names identifier features (user ids, item ids) whose distinct
	// count alone is tracked, fed with [Monitor.ObserveID].
	IDs []string
	// Sources names the freshness sources fed with [Monitor.ObserveAge]
	// ("events", "user_features", ...).
	Sources []string
	// SampleSize bounds the reservoir of live values kept per numeric
	// feature for KS and Wasserstein (default 1024).
	SampleSize int
	// Seed makes the reservoir's choices reproducible for one observation
	// order (offline runs). Default 0, itself a fixed seed.
	Seed uint64
	// Thresholds grade the report; zero fields mean the defaults.
	Thresholds Thresholds
}

// Monitor compares live feature values with frozen references.
//
// Memory is fixed at construction: per numeric feature one counter per bin
// and SampleSize float64s; per categorical or id feature a 16 KiB
// HyperLogLog (precision 14, standard error 0.81%) plus one counter per
// category; per source 64 counters. Observations for names not configured
// are counted in Report.Unknown and otherwise ignored.
type Monitor struct {
	cfg      Config
	numeric  map[string]*numericFeature
	cat      map[string]*catFeature
	sources  map[string]*ageHist
	unknown  atomic.Uint64
	started  atomic.Int64 // unix ns of the window start
	features []string     // sorted names, for reports
	srcNames []string
	ev       eventHandles // features the event adapter feeds, resolved once
}

type numericFeature struct {
	ref        *Reference
	counts     []atomic.Uint64
	missing    atomic.Uint64
	outOfRange atomic.Uint64
	seen       atomic.Uint64 // non-missing observations; drives the reservoir
	sample     []atomic.Uint64
	seed       uint64
}

type catFeature struct {
	ref     *Reference // nil for id features
	index   map[string]int
	counts  []atomic.Uint64
	missing atomic.Uint64
	seen    atomic.Uint64
	mu      sync.Mutex
	hll     *hyperloglog.Sketch
}

// New validates cfg and returns a Monitor.
func New(cfg Config) (*Monitor, error) {
	if cfg.SampleSize < 0 || cfg.SampleSize > MaxSample {
		return nil, fmt.Errorf("drift: Config.SampleSize: must be in [0, %d], got %d", MaxSample, cfg.SampleSize)
	}
	if cfg.SampleSize == 0 {
		cfg.SampleSize = 1024
	}
	th, err := cfg.Thresholds.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg.Thresholds = th
	m := &Monitor{cfg: cfg, numeric: map[string]*numericFeature{}, cat: map[string]*catFeature{}, sources: map[string]*ageHist{}}
	taken := func(name string) bool {
		_, a := m.numeric[name]
		_, b := m.cat[name]
		return a || b
	}
	for i, r := range cfg.References {
		if r == nil {
			return nil, fmt.Errorf("drift: Config.References[%d]: nil", i)
		}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("%w (Config.References[%d])", err, i)
		}
		if taken(r.Feature) {
			return nil, fmt.Errorf("drift: Config.References[%d]: duplicate feature %q", i, r.Feature)
		}
		if r.Kind == KindNumeric {
			m.numeric[r.Feature] = &numericFeature{ref: r, counts: make([]atomic.Uint64, len(r.Edges)+1),
				sample: make([]atomic.Uint64, cfg.SampleSize), seed: cfg.Seed ^ hashString(r.Feature)}
		} else {
			c := &catFeature{ref: r, index: make(map[string]int, len(r.Categories)), counts: make([]atomic.Uint64, len(r.Categories)+1), hll: hyperloglog.NewNoSparse()}
			for j, v := range r.Categories {
				c.index[v] = j
			}
			m.cat[r.Feature] = c
		}
		m.features = append(m.features, r.Feature)
	}
	for i, id := range cfg.IDs {
		if id == "" || taken(id) {
			return nil, fmt.Errorf("drift: Config.IDs[%d]: empty or duplicate feature %q", i, id)
		}
		m.cat[id] = &catFeature{hll: hyperloglog.NewNoSparse()}
		m.features = append(m.features, id)
	}
	for i, s := range cfg.Sources {
		if s == "" {
			return nil, fmt.Errorf("drift: Config.Sources[%d]: empty", i)
		}
		if _, dup := m.sources[s]; dup {
			return nil, fmt.Errorf("drift: Config.Sources[%d]: duplicate %q", i, s)
		}
		m.sources[s] = &ageHist{}
		m.srcNames = append(m.srcNames, s)
	}
	sort.Strings(m.features)
	sort.Strings(m.srcNames)
	m.ev = m.resolveEventFeatures()
	m.started.Store(time.Now().UnixNano())
	return m, nil
}

// Observe records one value of a numeric feature seen at inference. NaN
// means missing. It never allocates and is safe for concurrent use.
func (m *Monitor) Observe(feature string, v float64) {
	f := m.numeric[feature]
	if f == nil {
		m.unknown.Add(1)
		return
	}
	f.observe(v)
}

func (f *numericFeature) observe(v float64) {
	if v != v {
		f.missing.Add(1)
		return
	}
	if v < f.ref.Min || v > f.ref.Max {
		f.outOfRange.Add(1)
	}
	f.counts[binOf(f.ref.Edges, v)].Add(1)
	n := f.seen.Add(1)
	if math.IsInf(v, 0) {
		return // counted and binned, but KS and Wasserstein need finite values
	}
	k := uint64(len(f.sample))
	switch {
	case n <= k:
		f.sample[n-1].Store(math.Float64bits(v))
	default:
		// Algorithm R: keep the n-th value with probability k/n.
		if j := below(mix64(f.seed+n), n); j < k {
			f.sample[j].Store(math.Float64bits(v))
		}
	}
}

// below maps a uniform 64-bit hash to [0, n) by a multiply-high (Lemire's
// reduction) instead of a division: the same uniformity, a fraction of the
// cost of a 64-bit modulo on the per-observation path.
func below(h, n uint64) uint64 {
	hi, _ := bits.Mul64(h, n)
	return hi
}

// maxLocalBins bounds the bins observeScores counts on the stack.
const maxLocalBins = 64

// observeScores observes the score of every item, as observe would one
// after the other, with fewer atomic operations: the list's sequence
// numbers are reserved with one add, and bins are counted locally and
// added once per bin touched.
func (f *numericFeature) observeScores(items []personalize.Item) {
	if len(f.counts) > maxLocalBins {
		for i := range items {
			f.observe(items[i].Score)
		}
		return
	}
	var valid uint64
	for i := range items {
		if v := items[i].Score; v == v {
			valid++
		}
	}
	if missing := uint64(len(items)) - valid; missing > 0 {
		f.missing.Add(missing)
	}
	if valid == 0 {
		return
	}
	n := f.seen.Add(valid) - valid // the sequence number before this list
	var local [maxLocalBins]uint32
	var outOfRange uint64
	k := uint64(len(f.sample))
	for i := range items {
		v := items[i].Score
		if v != v {
			continue
		}
		if v < f.ref.Min || v > f.ref.Max {
			outOfRange++
		}
		local[binOf(f.ref.Edges, v)]++
		n++
		if math.IsInf(v, 0) {
			continue
		}
		switch {
		case n <= k:
			f.sample[n-1].Store(math.Float64bits(v))
		default:
			if j := below(mix64(f.seed+n), n); j < k {
				f.sample[j].Store(math.Float64bits(v))
			}
		}
	}
	if outOfRange > 0 {
		f.outOfRange.Add(outOfRange)
	}
	for b, c := range local[:len(f.counts)] {
		if c > 0 {
			f.counts[b].Add(uint64(c))
		}
	}
}

// ObserveCategory records one value of a categorical feature; "" means
// missing. Values outside the reference's categories count in its "other"
// bin. It never allocates and is safe for concurrent use.
func (m *Monitor) ObserveCategory(feature, v string) {
	f := m.cat[feature]
	if f == nil || f.ref == nil {
		m.unknown.Add(1)
		return
	}
	f.observe(v)
}

// ObserveID records one identifier for a feature listed in Config.IDs
// (only its distinct count and missing rate are tracked).
func (m *Monitor) ObserveID(feature, id string) {
	f := m.cat[feature]
	if f == nil || f.ref != nil {
		m.unknown.Add(1)
		return
	}
	f.observe(id)
}

func (f *catFeature) observe(v string) {
	if v == "" {
		f.missing.Add(1)
		return
	}
	f.count(v)
	f.mu.Lock()
	f.hll.Insert(unsafe.Slice(unsafe.StringData(v), len(v))) // read only; Insert does not keep it
	f.mu.Unlock()
}

// count counts a non-missing value in its bin (no sketch).
func (f *catFeature) count(v string) {
	f.seen.Add(1)
	if f.ref != nil {
		i, ok := f.index[v]
		if !ok {
			i = len(f.counts) - 1
		}
		f.counts[i].Add(1)
	}
}

// ObserveAge records how old the data from source was when used: an
// event's age at export, a feature's age since its last refresh. Negative
// ages (clock skew) count as 0. It never allocates.
func (m *Monitor) ObserveAge(source string, age time.Duration) {
	h := m.sources[source]
	if h == nil {
		m.unknown.Add(1)
		return
	}
	h.observe(age)
}

// ageHist is a log2 histogram of ages in milliseconds: bucket b holds ages
// in [2^(b-1), 2^b) ms, bucket 0 ages under 1 ms.
type ageHist struct {
	buckets [64]atomic.Uint64
	sumMS   atomic.Uint64
	maxNS   atomic.Int64
	n       atomic.Uint64
}

func (h *ageHist) observe(age time.Duration) {
	if age < 0 {
		age = 0
	}
	ms := uint64(age / time.Millisecond)
	h.buckets[bits.Len64(ms)].Add(1)
	h.sumMS.Add(ms)
	h.n.Add(1)
	for {
		cur := h.maxNS.Load()
		if int64(age) <= cur || h.maxNS.CompareAndSwap(cur, int64(age)) {
			break
		}
	}
}

// quantile returns the upper bound of the bucket holding quantile q.
func (h *ageHist) quantile(counts *[64]uint64, n uint64, q float64) time.Duration {
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	var c uint64
	for b := range counts {
		c += counts[b]
		if c >= rank {
			if b == 0 {
				return time.Millisecond
			}
			return time.Duration(uint64(1)<<b) * time.Millisecond
		}
	}
	return time.Duration(h.maxNS.Load())
}

// Reset starts a new window: every count, sample and sketch is cleared.
// Observations racing with Reset land in either window.
func (m *Monitor) Reset() {
	for _, f := range m.numeric {
		for i := range f.counts {
			f.counts[i].Store(0)
		}
		f.missing.Store(0)
		f.outOfRange.Store(0)
		f.seen.Store(0)
	}
	for _, f := range m.cat {
		for i := range f.counts {
			f.counts[i].Store(0)
		}
		f.missing.Store(0)
		f.seen.Store(0)
		f.mu.Lock()
		f.hll.Reset()
		f.mu.Unlock()
	}
	for _, h := range m.sources {
		for i := range h.buckets {
			h.buckets[i].Store(0)
		}
		h.sumMS.Store(0)
		h.maxNS.Store(0)
		h.n.Store(0)
	}
	m.unknown.Store(0)
	m.started.Store(time.Now().UnixNano())
}

// Sketch returns a copy of the HyperLogLog sketch of a categorical or id
// feature, to merge with other monitors' (hyperloglog.Sketch.Merge): the
// distinct count across processes or segments is the merged estimate.
func (m *Monitor) Sketch(feature string) (*hyperloglog.Sketch, error) {
	f := m.cat[feature]
	if f == nil {
		return nil, fmt.Errorf("drift: Sketch: %q is not a categorical or id feature", feature)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hll.Clone(), nil
}

// mix64 is the splitmix64 finalizer: a cheap, well-mixed hash of x.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
