package replay

import (
	"encoding/binary"
	"math"
	"slices"
	"sync"

	"github.com/rankscope/rankscope/personalize/experiment/stats"
	"github.com/rankscope/rankscope/personalize/segment"
)

// impSums are one impression's contributions, summed over its slots.
type impSums struct {
	n, r, w, w2, wr, cwr, dm, dr float64
	maxW                         float64
	noSupport                    float64
}

// sums are the additive accumulators behind every estimator.
type sums struct {
	n, r, w, wr, cwr, dm, dr float64
}

func (s *sums) add(im *impSums, k float64) {
	if k == 0 {
		return
	}
	s.n += k * im.n
	s.r += k * im.r
	s.w += k * im.w
	s.wr += k * im.wr
	s.cwr += k * im.cwr
	s.dm += k * im.dm
	s.dr += k * im.dr
}

// buckets is the number of hash buckets behind the bootstrap.
const buckets = 1024

// accum holds a segment's sums, whole and per bucket. Each impression
// lands in the bucket its event id hashes to; the bootstrap resamples
// buckets, not impressions, so the per-impression cost is one extra
// addition whatever the number of replicates.
type accum struct {
	impressions int64
	main        sums
	w2          float64
	maxW        float64
	noSupport   float64
	buckets     *[buckets]sums
}

func newAccum() *accum { return &accum{buckets: new([buckets]sums)} }

func (a *accum) add(im *impSums, h uint64) {
	a.impressions++
	a.main.add(im, 1)
	a.w2 += im.w2
	a.maxW = max(a.maxW, im.maxW)
	a.noSupport += im.noSupport
	a.buckets[h%buckets].add(im, 1)
}

// replicates returns b bootstrap replicates: replicate r weighs bucket j
// by a Poisson(1) draw that depends only on (seed, r, j).
func (a *accum) replicates(b int, seed uint64) []sums {
	table := poissonTable()
	reps := make([]sums, b)
	for r := range reps {
		for j := 0; j < buckets; j += 4 {
			u := mix64(seed ^ (uint64(r)<<32 | uint64(j)))
			for i := 0; i < 4; i++ {
				if k := table[uint16(u>>(16*i))]; k != 0 {
					reps[r].addSums(&a.buckets[j+i], float64(k))
				}
			}
		}
	}
	return reps
}

// addSums adds k times s to t.
func (t *sums) addSums(s *sums, k float64) {
	t.n += k * s.n
	t.r += k * s.r
	t.w += k * s.w
	t.wr += k * s.wr
	t.cwr += k * s.cwr
	t.dm += k * s.dm
	t.dr += k * s.dr
}

// poissonTable maps a 16-bit uniform u to the Poisson(1) draw k with
// P(K < k) <= u/65536 < P(K <= k): the inverse CDF at a resolution of
// 1/65536, ample for bootstrap weights.
var poissonTable = sync.OnceValue(func() *[1 << 16]uint8 {
	var t [1 << 16]uint8
	k, p := 0, math.Exp(-1)
	cdf := p
	for u := range t {
		for float64(u)/(1<<16) >= cdf && k < 255 {
			k++
			p /= float64(k)
			cdf += p
		}
		t[u] = uint8(k)
	}
	return &t
})

func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func hashID(id [16]byte) uint64 {
	return mix64(binary.LittleEndian.Uint64(id[:8]) ^ mix64(binary.LittleEndian.Uint64(id[8:])))
}

// Estimate is one estimator's value with its bootstrap interval. Values
// are expected rewards per evaluated slot (one logged action).
type Estimate struct {
	Value float64
	// Lower and Upper bound the percentile bootstrap interval at
	// Config.Confidence; NaN when the bootstrap is off.
	Lower, Upper float64
	// StdErr is the standard deviation of the bootstrap replicates.
	StdErr float64
}

// Diagnostics say how far to trust the estimates.
type Diagnostics struct {
	// EffectiveSampleSize is (sum w)^2 / sum w^2 over logged actions
	// (evaluated slots), w the importance weight (Kish's effective sample
	// size): how many logged actions the estimate is really worth. It is at
	// most Rounds, which is Impressions times the evaluated slots, so it
	// can exceed the impressions (and the events' count means nothing
	// here). Far below Rounds means a few heavy weights dominate.
	EffectiveSampleSize float64
	// MaxWeight is the largest importance weight.
	MaxWeight float64
	// MeanWeight is the average importance weight. With correct
	// propensities its expectation is the candidate's probability mass on
	// logged items (1 when the candidate only places logged items), so a
	// value far from that points at wrong propensities.
	MeanWeight float64
	// NoSupportShare is the share of logged actions the candidate would
	// never take (weight 0): they inform only the direct method, and IPS
	// and DR learn from the other 1-NoSupportShare. Near 1, the candidate
	// mostly chooses actions the log rarely shows, and the estimates rest
	// on few rounds (see EffectiveSampleSize).
	NoSupportShare float64
	// SkippedImpressions counts impressions skipped for missing or invalid
	// propensities (Config.SkipUnsupported).
	SkippedImpressions int64
	// UnjoinedOutcomes counts outcomes with no pending impression, outside
	// the join window, or for an item outside the evaluated slots.
	UnjoinedOutcomes int64
	// EarlyScored counts impressions scored before their window closed
	// because Config.MaxPending was reached.
	EarlyScored int64
	// DuplicateImpressions counts impressions whose request id was pending.
	DuplicateImpressions int64
	// SegmentOverflow counts impressions whose segment was beyond
	// Config.MaxSegments (they count in the all-traffic result only).
	SegmentOverflow int64
	// Pending is the impressions still waiting for their window.
	Pending int
}

// Result is the evaluation of the candidate policy on one segment.
type Result struct {
	// Segment is the zero key for all traffic.
	Segment     segment.Key
	Impressions int64
	// Rounds is the number of logged actions (evaluated slots).
	Rounds int64
	// Logged is the mean observed reward of the logging policy.
	Logged Estimate
	// IPS: mean of w*r. ClippedIPS: mean of min(w, Clip)*r. SNIPS: sum
	// w*r / sum w. DM: mean over slots of sum_a pi(a) q(a). DR: DM plus
	// the mean of w*(r - q(logged action)).
	IPS, ClippedIPS, SNIPS, DM, DR Estimate
	// SNDR is the self-normalized doubly robust estimate: DM plus
	// sum w*(r - q(logged action)) / sum w, DR with its correction term
	// self-normalized as SNIPS is (obp's SelfNormalizedDoublyRobust).
	SNDR        Estimate
	Diagnostics Diagnostics
}

// Results returns the all-traffic result first, then one per segment in
// the order first seen. Segment results share the evaluator-wide
// counters of Diagnostics except the weight statistics.
func (e *Evaluator) Results() ([]Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.all.impressions == 0 {
		return nil, ErrNoData
	}
	out := []Result{e.result(segment.Key{}, e.all)}
	for _, k := range e.segOrder {
		out = append(out, e.result(k, e.segs[k]))
	}
	return out, nil
}

// Result returns the all-traffic result.
func (e *Evaluator) Result() (Result, error) {
	rs, err := e.Results()
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}

func (e *Evaluator) result(k segment.Key, a *accum) Result {
	r := Result{Segment: k, Impressions: a.impressions, Rounds: int64(a.main.n)}
	var reps []sums
	if e.cfg.Bootstrap > 0 {
		reps = a.replicates(e.cfg.Bootstrap, e.cfg.Seed)
	}
	est := func(f func(s *sums) float64) Estimate {
		v := Estimate{Value: f(&a.main), Lower: math.NaN(), Upper: math.NaN(), StdErr: math.NaN()}
		if len(reps) == 0 {
			return v
		}
		vals := make([]float64, 0, len(reps))
		for i := range reps {
			if x := f(&reps[i]); !math.IsNaN(x) {
				vals = append(vals, x)
			}
		}
		if len(vals) < 2 {
			return v
		}
		slices.Sort(vals)
		alpha := (1 - e.cfg.Confidence) / 2
		v.Lower = stats.Quantile(vals, alpha)
		v.Upper = stats.Quantile(vals, 1-alpha)
		var mean, ss float64
		for _, x := range vals {
			mean += x
		}
		mean /= float64(len(vals))
		for _, x := range vals {
			ss += (x - mean) * (x - mean)
		}
		v.StdErr = math.Sqrt(ss / float64(len(vals)-1))
		return v
	}
	div := func(a, b float64) float64 {
		if b == 0 {
			return math.NaN()
		}
		return a / b
	}
	r.Logged = est(func(s *sums) float64 { return div(s.r, s.n) })
	r.IPS = est(func(s *sums) float64 { return div(s.wr, s.n) })
	r.ClippedIPS = est(func(s *sums) float64 { return div(s.cwr, s.n) })
	r.SNIPS = est(func(s *sums) float64 { return div(s.wr, s.w) })
	r.DM = est(func(s *sums) float64 { return div(s.dm, s.n) })
	r.DR = est(func(s *sums) float64 { return div(s.dr, s.n) })
	// s.dr - s.dm is sum w (r - q): the correction DR adds to DM.
	r.SNDR = est(func(s *sums) float64 { return div(s.dm, s.n) + div(s.dr-s.dm, s.w) })
	r.Diagnostics = Diagnostics{
		EffectiveSampleSize:  div(a.main.w*a.main.w, a.w2),
		MaxWeight:            a.maxW,
		MeanWeight:           div(a.main.w, a.main.n),
		NoSupportShare:       div(a.noSupport, a.main.n),
		SkippedImpressions:   e.diag.skipped,
		UnjoinedOutcomes:     e.diag.unjoined,
		EarlyScored:          e.join.Stats().Evicted,
		DuplicateImpressions: e.diag.duplicates,
		SegmentOverflow:      e.diag.overflow,
		Pending:              e.join.Stats().Pending,
	}
	if a.w2 == 0 {
		r.Diagnostics.EffectiveSampleSize = 0
	}
	return r
}
