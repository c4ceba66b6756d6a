package latency

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"
)

// Range of durations a [Sketch] resolves with its relative accuracy.
// Shorter durations (including zero and negative ones, which count as zero)
// fall in the underflow bucket and longer ones in the overflow bucket; both
// are counted, and quantiles landing in them answer with the exact minimum
// or maximum observed.
const (
	SketchMin = 100 * time.Nanosecond
	SketchMax = 1000 * time.Second
)

// DefaultRelativeAccuracy is the relative accuracy of a zero [Sketch] and
// of a [Tracker] whose Config leaves RelativeAccuracy zero.
const DefaultRelativeAccuracy = 0.01

// Accepted range of relative accuracies. Below the minimum a sketch needs
// tens of thousands of buckets; above the maximum its answers are too
// coarse to compare latencies.
const (
	minRelativeAccuracy = 0.001
	maxRelativeAccuracy = 0.1
)

// mapping maps durations (in nanoseconds) to logarithmic bucket indexes.
//
// Bucket key k holds the values x with γ^(k-1) < x ≤ γ^k, where
// γ = (1+α)/(1-α), and answers with 2γ^k/(γ+1) = (1-α)γ^k, which is within
// a factor α of every value in the bucket (this is the DDSketch mapping of
// Masson, Rim and Lee, VLDB 2019). Index 0 is the key of SketchMin.
//
// Finding a bucket needs no logarithm. The float's exponent and top
// mantissa bits split every octave into sub-ranges narrower than half a
// bucket; a table gives the bucket of each sub-range's lowest value, and
// one comparison with the table of bucket bounds moves to the next bucket
// when the value is past it, so bucket edges are exactly those of the
// bounds table. At α = 1% the sub-range table has 128 entries per octave
// over 34 octaves (8.5 KiB); at α = 0.1%, 1,024 per octave (68 KiB).
type mapping struct {
	alpha   float64
	gamma   float64
	lnGamma float64
	invLn   float64
	minKey  int
	n       int       // number of buckets between SketchMin and SketchMax
	bounds  []float64 // bounds[i] = γ^(i+minKey), the upper bound of bucket i
	// sub[j] is the bucket of the lowest float64 whose bits, shifted
	// right by shift, are base+j: one octave in 2^(52-shift) sub-ranges.
	sub   []uint16
	shift uint
	base  uint64
}

func newMapping(alpha float64) *mapping {
	g := (1 + alpha) / (1 - alpha)
	m := &mapping{alpha: alpha, gamma: g, lnGamma: math.Log(g)}
	m.invLn = 1 / m.lnGamma
	m.minKey = m.key(float64(SketchMin))
	m.n = m.key(float64(SketchMax)) - m.minKey + 1
	m.bounds = make([]float64, m.n)
	for i := range m.bounds {
		m.bounds[i] = m.upper(i)
	}
	m.buildSub()
	return m
}

// buildSub fills the sub-range table: enough mantissa bits that a
// sub-range is under half a bucket wide, so it holds at most one bucket
// edge and index needs one comparison.
func (m *mapping) buildSub() {
	k := uint(1)
	for math.Ldexp(1, -int(k)) > (m.gamma-1)/2 {
		k++
	}
	m.shift = 52 - k
	lo := math.Float64bits(float64(SketchMin)) >> m.shift
	hi := math.Float64bits(float64(SketchMax)) >> m.shift
	m.base = lo
	m.sub = make([]uint16, hi-lo+1)
	for j := range m.sub {
		x := math.Float64frombits((lo + uint64(j)) << m.shift) // the sub-range's lowest value
		i, _ := slices.BinarySearch(m.bounds, x)
		m.sub[j] = uint16(min(i, m.n-1))
	}
}

var defaultMapping = newMapping(DefaultRelativeAccuracy)

func mappingFor(alpha float64) *mapping {
	if alpha == DefaultRelativeAccuracy {
		return defaultMapping
	}
	return newMapping(alpha)
}

func (m *mapping) key(x float64) int { return int(math.Ceil(math.Log(x) * m.invLn)) }

// index returns the bucket index of d: -1 for underflow, m.n for overflow.
func (m *mapping) index(d int64) int {
	if d < int64(SketchMin) {
		return -1
	}
	if d > int64(SketchMax) {
		return m.n
	}
	x := float64(d)
	i := int(m.sub[math.Float64bits(x)>>m.shift-m.base])
	for i < m.n-1 && x > m.bounds[i] {
		i++
	}
	return i
}

// upper is the inclusive upper bound of bucket i, in nanoseconds.
func (m *mapping) upper(i int) float64 { return math.Exp(float64(i+m.minKey) * m.lnGamma) }

// value is the representative of bucket i, in nanoseconds.
func (m *mapping) value(i int) float64 { return (1 - m.alpha) * m.upper(i) }

func validAccuracy(alpha float64) error {
	if math.IsNaN(alpha) || alpha < minRelativeAccuracy || alpha > maxRelativeAccuracy {
		return fmt.Errorf("must be in [%g, %g], got %v", minRelativeAccuracy, maxRelativeAccuracy, alpha)
	}
	return nil
}

// Sketch is a mergeable quantile sketch of durations with relative
// accuracy: for any q, Quantile(q) is within a factor α (its
// RelativeAccuracy) of the exact q-quantile of the added durations, as long
// as that quantile lies in [SketchMin, SketchMax], plus rounding to whole
// nanoseconds. The exact quantile is the order statistic of rank
// ⌊q·(n-1)⌋ (0-based) of the n added durations.
//
// Durations are counted in logarithmic buckets of relative width 2α/(1-α)
// (the DDSketch mapping); only the range of buckets in use is stored, so
// memory is 8 bytes per bucket between the smallest and the largest
// duration added: 115 buckets per decade at α = 1%, so at most 9 KiB for
// the 1152 buckets between SketchMin and SketchMax. Merging two sketches of the same
// accuracy adds their bucket counts, so the merge of sketches equals the
// sketch of the union of their inputs exactly.
//
// The zero Sketch is empty with [DefaultRelativeAccuracy]. A Sketch is not
// safe for concurrent use; [Tracker] keeps its own lock-free sketches and
// hands out Sketch copies.
type Sketch struct {
	m      *mapping
	off    int      // bucket index of counts[0]
	counts []uint64 // buckets off .. off+len(counts)-1
	under  uint64
	over   uint64
	count  uint64
	sum    float64 // nanoseconds; exact while below 2^53 ns (104 days)
	min    int64
	max    int64
}

// NewSketch returns an empty sketch with the given relative accuracy, which
// must be in [0.001, 0.1].
func NewSketch(relativeAccuracy float64) (*Sketch, error) {
	if err := validAccuracy(relativeAccuracy); err != nil {
		return nil, fmt.Errorf("latency: NewSketch: relativeAccuracy: %w", err)
	}
	return &Sketch{m: mappingFor(relativeAccuracy)}, nil
}

func (s *Sketch) mapping() *mapping {
	if s.m == nil {
		s.m = defaultMapping
	}
	return s.m
}

// RelativeAccuracy returns α.
func (s *Sketch) RelativeAccuracy() float64 { return s.mapping().alpha }

// Add counts one duration. Negative durations count as zero.
func (s *Sketch) Add(d time.Duration) {
	v := max(int64(d), 0)
	s.addBucket(s.mapping().index(v), 1)
	s.addStats(1, float64(v), v, v)
}

func (s *Sketch) addStats(n uint64, sum float64, lo, hi int64) {
	if s.count == 0 || lo < s.min {
		s.min = lo
	}
	if s.count == 0 || hi > s.max {
		s.max = hi
	}
	s.count += n
	s.sum += sum
}

func (s *Sketch) addBucket(i int, c uint64) {
	switch {
	case c == 0:
	case i < 0:
		s.under += c
	case i >= s.m.n:
		s.over += c
	default:
		s.cover(i, i)
		s.counts[i-s.off] += c
	}
}

// cover grows the stored bucket range to include lo..hi.
func (s *Sketch) cover(lo, hi int) {
	if len(s.counts) == 0 {
		s.off = lo
		s.counts = append(s.counts[:0], make([]uint64, hi-lo+1)...)
		return
	}
	curLo, curHi := s.off, s.off+len(s.counts)-1
	if lo >= curLo && hi <= curHi {
		return
	}
	newLo, newHi := min(lo, curLo), max(hi, curHi)
	n := newHi - newLo + 1
	shift := curLo - newLo
	if n <= cap(s.counts) {
		old := len(s.counts)
		s.counts = s.counts[:n]
		copy(s.counts[shift:], s.counts[:old])
		clear(s.counts[:shift])
		clear(s.counts[shift+old:])
	} else {
		grown := make([]uint64, n, min(n+n/4, s.m.n))
		copy(grown[shift:], s.counts)
		s.counts = grown
	}
	s.off = newLo
}

// Merge adds o's counts to s. Both must have the same relative accuracy.
func (s *Sketch) Merge(o *Sketch) error {
	if s.mapping().alpha != o.mapping().alpha {
		return fmt.Errorf("latency: Sketch.Merge: relative accuracy %v differs from %v", o.m.alpha, s.m.alpha)
	}
	if o.count == 0 {
		return nil
	}
	if len(o.counts) > 0 {
		s.cover(o.off, o.off+len(o.counts)-1)
		d := s.counts[o.off-s.off:]
		for i, c := range o.counts {
			d[i] += c
		}
	}
	s.under += o.under
	s.over += o.over
	s.addStats(o.count, o.sum, o.min, o.max)
	return nil
}

// Reset empties s, keeping its accuracy and storage.
func (s *Sketch) Reset() {
	m, c := s.mapping(), s.counts[:0]
	*s = Sketch{m: m, counts: c}
}

// Clone returns an independent copy of s.
func (s *Sketch) Clone() *Sketch {
	c := *s
	c.m = s.mapping()
	c.counts = append([]uint64(nil), s.counts...)
	return &c
}

// Count returns the number of durations added.
func (s *Sketch) Count() uint64 { return s.count }

// Sum returns the exact sum of the durations added (negative ones as zero).
func (s *Sketch) Sum() time.Duration { return durationOf(s.sum) }

// Mean returns the exact mean, or 0 for an empty sketch.
func (s *Sketch) Mean() time.Duration {
	if s.count == 0 {
		return 0
	}
	return durationOf(math.Round(s.sum / float64(s.count)))
}

// Min returns the exact smallest duration added, or 0 for an empty sketch.
func (s *Sketch) Min() time.Duration { return time.Duration(s.min) }

// Max returns the exact largest duration added, or 0 for an empty sketch.
func (s *Sketch) Max() time.Duration { return time.Duration(s.max) }

// Underflow returns how many durations were below [SketchMin].
func (s *Sketch) Underflow() uint64 { return s.under }

// Overflow returns how many durations were above [SketchMax].
func (s *Sketch) Overflow() uint64 { return s.over }

var errQuantile = errors.New("latency: Sketch.Quantile: q must be in [0, 1]")

// Quantile returns the estimated q-quantile, 0 ≤ q ≤ 1, within the
// relative accuracy documented on [Sketch]. It returns 0 for an empty
// sketch, and an error for q outside [0, 1] or NaN. Estimates are clamped
// to [Min, Max], so Quantile(0) and Quantile(1) are exact.
func (s *Sketch) Quantile(q float64) (time.Duration, error) {
	if !(q >= 0 && q <= 1) {
		return 0, fmt.Errorf("%w, got %v", errQuantile, q)
	}
	return s.quantile(q), nil
}

func (s *Sketch) quantile(q float64) time.Duration {
	if s.count == 0 {
		return 0
	}
	rank := float64(q * float64(s.count-1))
	var v float64
	seen := float64(s.under)
	switch {
	case rank < seen:
		return time.Duration(s.min)
	default:
		v = float64(s.max)
		for i, c := range s.counts {
			seen += float64(c)
			if rank < seen {
				v = s.m.value(i + s.off)
				break
			}
		}
	}
	switch v = math.Round(v); {
	case v <= float64(s.min):
		return time.Duration(s.min)
	case v >= float64(s.max):
		return time.Duration(s.max)
	}
	return time.Duration(v)
}

// durationOf converts nanoseconds to a Duration, saturating.
func durationOf(ns float64) time.Duration {
	switch {
	case ns >= math.MaxInt64:
		return math.MaxInt64
	case ns <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(ns)
}

// Bucket is one bucket of a [Sketch]: Count durations d with
// Lower < d ≤ Upper. The underflow bucket holds [0, SketchMin) and is
// reported with Lower 0 and Upper SketchMin; the first regular bucket
// starts at SketchMin inclusive and the last ends at SketchMax; the
// overflow bucket has Lower SketchMax and Upper the largest duration seen.
// Bounds are rounded to whole nanoseconds.
type Bucket struct {
	Lower, Upper time.Duration
	Count        uint64
}

// Buckets returns the non-empty buckets of s in increasing order: the
// distribution a dashboard draws.
func (s *Sketch) Buckets() []Bucket {
	m := s.mapping()
	var out []Bucket
	if s.under > 0 {
		out = append(out, Bucket{0, SketchMin, s.under})
	}
	for i, c := range s.counts {
		if c == 0 {
			continue
		}
		k := i + s.off
		lo := max(math.Exp(float64(k+m.minKey-1)*m.lnGamma), float64(SketchMin))
		hi := min(m.upper(k), float64(SketchMax))
		out = append(out, Bucket{time.Duration(math.Round(lo)), time.Duration(math.Round(hi)), c})
	}
	if s.over > 0 {
		out = append(out, Bucket{SketchMax, time.Duration(s.max), s.over})
	}
	return out
}

// liveSketch is the lock-free sketch the hot path writes: fixed dense
// uint32 buckets over SketchMin..SketchMax (one live sketch covers one
// 5-second slot, so uint32 cannot overflow below 850 million observations
// per second), counts of non-OK statuses, and exact sum, min and max.
//
// Layout keeps contention low when many cores add at once: the OK count is
// not stored (it is the bucket total minus the other statuses), the sum is
// striped over cache lines chosen by bucket, and the read-mostly fields
// sit on their own line.
type liveSketch struct {
	start  atomic.Int64 // slot start, Unix ns
	end    atomic.Int64 // slot end (exclusive)
	min    atomic.Int64
	max    atomic.Int64
	counts []atomic.Uint32
	_      [cacheLine]byte
	under  atomic.Uint64
	over   atomic.Uint64
	status [numStatus]atomic.Uint64 // StatusOK unused
	sums   [sumStripes]paddedUint64 // nanoseconds
}

const (
	numStatus  = int(StatusFallback) + 1
	cacheLine  = 64
	sumStripes = 8
)

type paddedUint64 struct {
	atomic.Uint64
	_ [cacheLine - 8]byte
}

func newLiveSketch(m *mapping, start, end int64) *liveSketch {
	l := &liveSketch{counts: make([]atomic.Uint32, m.n)}
	l.reset(start, end)
	return l
}

// reset empties l for a new slot. It must not race with add; the tracker
// only resets sketches that left the write path a minute earlier.
func (l *liveSketch) reset(start, end int64) {
	for i := range l.counts {
		l.counts[i].Store(0)
	}
	l.under.Store(0)
	l.over.Store(0)
	for i := range l.status {
		l.status[i].Store(0)
	}
	for i := range l.sums {
		l.sums[i].Store(0)
	}
	l.min.Store(math.MaxInt64)
	l.max.Store(math.MinInt64)
	l.start.Store(start)
	l.end.Store(end)
}

// add counts d, which must be in [0, 2^50].
func (l *liveSketch) add(m *mapping, d int64, st Status) {
	i := m.index(d)
	switch {
	case i < 0:
		l.under.Add(1)
	case i >= len(l.counts):
		l.over.Add(1)
	default:
		l.counts[i].Add(1)
	}
	if st != StatusOK {
		l.status[st].Add(1)
	}
	l.sums[i&(sumStripes-1)].Add(uint64(d))
	for {
		cur := l.max.Load()
		if d <= cur || l.max.CompareAndSwap(cur, d) {
			break
		}
	}
	for {
		cur := l.min.Load()
		if d >= cur || l.min.CompareAndSwap(cur, d) {
			break
		}
	}
}

func (l *liveSketch) empty() bool { return l.max.Load() == math.MinInt64 }

// mergeInto adds a snapshot of l to s and st. Under concurrent adds the
// snapshot is not atomic across fields; the count is taken from the
// buckets so quantile ranks stay consistent.
func (l *liveSketch) mergeInto(s *Sketch, st *[numStatus]uint64) {
	if l.empty() {
		return
	}
	m := s.mapping()
	lo, hi := -1, -1
	for i := range l.counts {
		if l.counts[i].Load() != 0 {
			if lo < 0 {
				lo = i
			}
			hi = i
		}
	}
	var n uint64
	if lo >= 0 {
		s.cover(lo, hi)
		d := s.counts[lo-s.off:]
		for i := lo; i <= hi; i++ {
			c := uint64(l.counts[i].Load())
			d[i-lo] += c
			n += c
		}
	}
	under, over := l.under.Load(), l.over.Load()
	s.under += under
	s.over += over
	n += under + over
	if n == 0 {
		return
	}
	var notOK uint64
	for i := int(StatusOK) + 1; i < numStatus; i++ {
		c := l.status[i].Load()
		st[i] += c
		notOK += c
	}
	if n > notOK {
		st[StatusOK] += n - notOK
	}
	var sum uint64
	for i := range l.sums {
		sum += l.sums[i].Load()
	}
	lmin, lmax := l.min.Load(), l.max.Load()
	if lmin > lmax { // racing adds counted before publishing min and max
		lmin, lmax = int64(SketchMin), int64(SketchMax)
		if lo >= 0 {
			lmin, lmax = int64(m.value(lo)), int64(m.value(hi))
		}
	}
	s.addStats(n, float64(sum), lmin, lmax)
}
