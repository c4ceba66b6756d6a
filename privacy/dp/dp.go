package dp

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/google/differential-privacy/go/v3/dpagg"
	"github.com/google/differential-privacy/go/v3/noise"
)

// Noise selects the noise mechanism of a release.
type Noise int

// Noise mechanisms, both as implemented by the library's secure samplers
// (discretized to defeat floating-point attacks).
const (
	// NoiseLaplace: pure epsilon-DP; Laplace noise of scale
	// b = MaxPartitions × (per-partition sensitivity) / epsilon.
	NoiseLaplace Noise = iota
	// NoiseGaussian: (epsilon, delta)-DP; Gaussian noise whose sigma is
	// calibrated by the library after Balle and Wang (2018). Needs delta > 0.
	NoiseGaussian
)

func (n Noise) String() string {
	switch n {
	case NoiseLaplace:
		return "laplace"
	case NoiseGaussian:
		return "gaussian"
	}
	return fmt.Sprintf("Noise(%d)", int(n))
}

func (n Noise) mechanism() noise.Noise {
	if n == NoiseGaussian {
		return noise.Gaussian()
	}
	return noise.Laplace()
}

// Metric is an aggregate released per segment.
type Metric int

// Metrics.
const (
	// MetricCount counts contributions (after bounding).
	MetricCount Metric = iota
	// MetricSum sums contributed values, each clamped to [Lower, Upper].
	MetricSum
	// MetricMean averages contributed values, each clamped to [Lower, Upper].
	MetricMean
)

func (m Metric) String() string {
	switch m {
	case MetricCount:
		return "count"
	case MetricSum:
		return "sum"
	case MetricMean:
		return "mean"
	}
	return fmt.Sprintf("Metric(%d)", int(m))
}

// Defaults of [Config].
const (
	DefaultAlpha    = 0.05
	DefaultMaxUsers = 1 << 20
)

// Config configures an [Aggregator]. Budget, Epsilon, MaxPartitions and,
// for sums and means, Lower < Upper are required: a release without
// contribution bounds has no finite sensitivity, so nothing defaults them.
type Config struct {
	// Budget is charged (Epsilon, Delta) by every Release. Required.
	Budget *Budget
	// Epsilon and Delta are the privacy loss of one Release, all metrics
	// and segments together. Epsilon > 0. Delta must be > 0 with
	// NoiseGaussian or when segments are selected privately (Segments
	// nil), and 0 otherwise (Laplace with public segments: a delta would
	// buy nothing and is refused rather than silently wasted).
	Epsilon, Delta float64
	// Noise is the mechanism. Default NoiseLaplace.
	Noise Noise
	// Metrics to release per segment, each at most once. Default
	// {MetricCount}.
	Metrics []Metric
	// MaxPartitions is the number of segments one user may contribute to
	// (the L0 bound). A user who contributes to more keeps a uniformly
	// random subset of this size; the rest of their contributions are
	// dropped. Required, >= 1.
	MaxPartitions int
	// MaxContributions is the number of contributions one user may make to
	// one segment (the per-partition bound). Beyond it a uniformly random
	// subset is kept (reservoir sampling). Default 1.
	MaxContributions int
	// Lower and Upper clamp every value of a sum or mean. Required (Lower <
	// Upper, both finite) when Metrics has MetricSum or MetricMean.
	Lower, Upper float64
	// Segments, if set, is the public list of segments to release: every
	// one gets a row, even with no contribution, and contributions to any
	// other segment are dropped. If nil, segments are those seen in the
	// data, kept only if the library's private partition selection
	// (dpagg.PreAggSelectPartition) keeps them; that costs a share of
	// Epsilon and Delta, since which segments exist is itself data.
	Segments []string
	// Alpha sets the confidence level 1-Alpha of the intervals in the
	// released [Estimate]s. Default [DefaultAlpha] (95% intervals).
	Alpha float64
	// MaxUsers bounds memory: Add refuses a new user beyond it. Default
	// [DefaultMaxUsers]. The aggregator holds at most MaxUsers ×
	// MaxPartitions × MaxContributions values.
	MaxUsers int
}

// ErrTooManyUsers is returned by [Aggregator.Add] for a new user beyond
// Config.MaxUsers.
var ErrTooManyUsers = errors.New("dp: Config.MaxUsers reached")

// Aggregator collects per-user contributions to segments, bounds them, and
// releases differentially private counts, sums and means per segment,
// charging its [Budget] for each release. It is safe for concurrent use.
type Aggregator struct {
	cfg    Config
	split  split
	public map[string]bool

	mu    sync.Mutex
	seed  maphash.Seed
	rng   *rand.Rand
	users map[string]*userState
	// dropped counts contributions removed by bounding.
	dropped int64
}

// split is the share of (Epsilon, Delta) of each metric and of partition
// selection.
type split struct {
	eps, delta       float64 // per metric
	selEps, selDelta float64 // partition selection (0 with public segments)
}

type userState struct {
	parts []*partState // at most MaxPartitions, the smallest keyed hashes
}

type partState struct {
	segment string
	h       uint64
	seen    int64     // contributions offered
	values  []float64 // reservoir of at most MaxContributions
}

// New validates cfg and returns an aggregator. Every misconfiguration is
// an error naming the field: a release is never made with bounds or noise
// other than those asked for.
func New(cfg Config) (*Aggregator, error) {
	if cfg.Budget == nil {
		return nil, errors.New("dp: Config.Budget: required")
	}
	if !(cfg.Epsilon > 0) || math.IsInf(cfg.Epsilon, 0) {
		return nil, fmt.Errorf("dp: Config.Epsilon: must be finite and > 0, got %g", cfg.Epsilon)
	}
	if !(cfg.Delta >= 0 && cfg.Delta < 1) {
		return nil, fmt.Errorf("dp: Config.Delta: must be in [0, 1), got %g", cfg.Delta)
	}
	if cfg.Noise != NoiseLaplace && cfg.Noise != NoiseGaussian {
		return nil, fmt.Errorf("dp: Config.Noise: unknown %v", cfg.Noise)
	}
	if len(cfg.Metrics) == 0 {
		cfg.Metrics = []Metric{MetricCount}
	}
	cfg.Metrics = slices.Clone(cfg.Metrics)
	bounded := false
	for i, m := range cfg.Metrics {
		if m < MetricCount || m > MetricMean {
			return nil, fmt.Errorf("dp: Config.Metrics[%d]: unknown %v", i, m)
		}
		if slices.Index(cfg.Metrics, m) != i {
			return nil, fmt.Errorf("dp: Config.Metrics[%d]: %v listed twice", i, m)
		}
		bounded = bounded || m != MetricCount
	}
	if cfg.MaxPartitions < 1 {
		return nil, fmt.Errorf("dp: Config.MaxPartitions: required, >= 1, got %d", cfg.MaxPartitions)
	}
	if cfg.MaxContributions == 0 {
		cfg.MaxContributions = 1
	}
	if cfg.MaxContributions < 1 {
		return nil, fmt.Errorf("dp: Config.MaxContributions: must be >= 1, got %d", cfg.MaxContributions)
	}
	if bounded {
		if math.IsNaN(cfg.Lower) || math.IsInf(cfg.Lower, 0) || math.IsNaN(cfg.Upper) || math.IsInf(cfg.Upper, 0) || !(cfg.Lower < cfg.Upper) {
			return nil, fmt.Errorf("dp: Config.Lower, Config.Upper: required for sum and mean, finite with Lower < Upper, got [%g, %g]", cfg.Lower, cfg.Upper)
		}
	}
	if cfg.Alpha == 0 {
		cfg.Alpha = DefaultAlpha
	}
	if !(cfg.Alpha > 0 && cfg.Alpha < 1) {
		return nil, fmt.Errorf("dp: Config.Alpha: must be in (0, 1), got %g", cfg.Alpha)
	}
	if cfg.MaxUsers == 0 {
		cfg.MaxUsers = DefaultMaxUsers
	}
	if cfg.MaxUsers < 0 {
		return nil, fmt.Errorf("dp: Config.MaxUsers: must be >= 0, got %d", cfg.MaxUsers)
	}
	a := &Aggregator{cfg: cfg, users: map[string]*userState{}, seed: maphash.MakeSeed()}
	if cfg.Segments != nil {
		a.public = make(map[string]bool, len(cfg.Segments))
		for i, s := range cfg.Segments {
			if a.public[s] {
				return nil, fmt.Errorf("dp: Config.Segments[%d]: %q listed twice", i, s)
			}
			a.public[s] = true
		}
	}
	var err error
	if a.split, err = splitBudget(cfg, a.public != nil); err != nil {
		return nil, err
	}
	// Check every mechanism's parameters now, so Release cannot fail on
	// them after charging the budget.
	if _, err := a.newSegment(); err != nil {
		return nil, fmt.Errorf("dp: Config: %w", err)
	}
	var s [32]byte
	_, _ = crand.Read(s[:])
	a.rng = rand.New(rand.NewChaCha8(s))
	return a, nil
}

// splitBudget divides (Epsilon, Delta) evenly among the metrics and, with
// private segments, partition selection (basic composition).
func splitBudget(cfg Config, public bool) (split, error) {
	parts := len(cfg.Metrics)
	if !public {
		parts++
	}
	var sp split
	sp.eps = cfg.Epsilon / float64(parts)
	switch cfg.Noise {
	case NoiseGaussian:
		if cfg.Delta == 0 {
			return split{}, errors.New("dp: Config.Delta: must be > 0 with NoiseGaussian")
		}
		sp.delta = cfg.Delta / float64(parts)
		if !public {
			sp.selEps, sp.selDelta = sp.eps, sp.delta
		}
	case NoiseLaplace:
		switch {
		case public && cfg.Delta != 0:
			return split{}, fmt.Errorf("dp: Config.Delta: must be 0 with NoiseLaplace and public Config.Segments, got %g", cfg.Delta)
		case !public && cfg.Delta == 0:
			return split{}, errors.New("dp: Config.Delta: must be > 0 when segments are selected privately (Config.Segments nil)")
		case !public:
			sp.selEps, sp.selDelta = sp.eps, cfg.Delta
		}
	}
	return sp, nil
}

// Add records one contribution of user to segment. value is ignored by
// counts; sums and means clamp it to [Lower, Upper]. Bounding happens
// here: a user keeps at most MaxPartitions segments (a uniformly random
// subset, chosen by a hash keyed per aggregator) and MaxContributions
// values per segment (reservoir sampling); what is dropped is counted in
// [Aggregator.Dropped]. A contribution to a segment outside public
// Segments is dropped too.
func (a *Aggregator) Add(user, segment string, value float64) error {
	if user == "" {
		return errors.New("dp: Add user: required")
	}
	if math.IsNaN(value) || math.IsInf(value, 0) {
		return fmt.Errorf("dp: Add value: must be finite, got %g", value)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.public != nil && !a.public[segment] {
		a.dropped++
		return nil
	}
	u := a.users[user]
	if u == nil {
		if len(a.users) >= a.cfg.MaxUsers {
			return ErrTooManyUsers
		}
		u = &userState{}
		a.users[user] = u
	}
	var p *partState
	for _, q := range u.parts {
		if q.segment == segment {
			p = q
			break
		}
	}
	if p == nil {
		h := maphash.String(a.seed, user+"\x00"+segment)
		if len(u.parts) < a.cfg.MaxPartitions {
			p = &partState{segment: segment, h: h}
			u.parts = append(u.parts, p)
		} else {
			// Keep the MaxPartitions segments of smallest hash: a uniform
			// subset, decided online. A segment dropped once stays dropped,
			// since the largest kept hash only decreases.
			worst := 0
			for i, q := range u.parts {
				if q.h > u.parts[worst].h {
					worst = i
				}
			}
			if h >= u.parts[worst].h {
				a.dropped++
				return nil
			}
			a.dropped += int64(len(u.parts[worst].values))
			p = &partState{segment: segment, h: h}
			u.parts[worst] = p
		}
	}
	p.seen++
	switch {
	case len(p.values) < a.cfg.MaxContributions:
		p.values = append(p.values, value)
	default:
		a.dropped++
		if j := a.rng.Int64N(p.seen); j < int64(len(p.values)) {
			p.values[j] = value
		}
	}
	return nil
}

// Dropped returns the number of contributions removed by bounding so far.
func (a *Aggregator) Dropped() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dropped
}

// Users returns the number of distinct users added.
func (a *Aggregator) Users() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.users)
}

// segmentAgg holds the library's aggregations of one segment.
type segmentAgg struct {
	count *dpagg.BoundedSumInt64
	sum   *dpagg.BoundedSumFloat64
	mean  *dpagg.BoundedMean
	sel   *dpagg.PreAggSelectPartition
}

// newSegment builds one segment's aggregations with the configured
// parameters.
//
// The library's Count has a per-partition sensitivity fixed at 1 (its
// option for more is unexported), so a count with MaxContributions > 1 is
// a BoundedSumInt64 of each user's contribution count, clamped to [0,
// MaxContributions]: the same sensitivity a count would need.
func (a *Aggregator) newSegment() (*segmentAgg, error) {
	c := a.cfg
	l0, m := int64(c.MaxPartitions), int64(c.MaxContributions)
	nz := c.Noise.mechanism()
	s := &segmentAgg{}
	var err error
	for _, met := range c.Metrics {
		switch met {
		case MetricCount:
			s.count, err = dpagg.NewBoundedSumInt64(&dpagg.BoundedSumInt64Options{
				Epsilon: a.split.eps, Delta: a.split.delta, MaxPartitionsContributed: l0,
				Lower: 0, Upper: m, Noise: nz})
		case MetricSum:
			lo, hi := userSumBounds(c.Lower, c.Upper, m)
			s.sum, err = dpagg.NewBoundedSumFloat64(&dpagg.BoundedSumFloat64Options{
				Epsilon: a.split.eps, Delta: a.split.delta, MaxPartitionsContributed: l0,
				Lower: lo, Upper: hi, Noise: nz})
		case MetricMean:
			s.mean, err = dpagg.NewBoundedMean(&dpagg.BoundedMeanOptions{
				Epsilon: a.split.eps, Delta: a.split.delta, MaxPartitionsContributed: l0,
				MaxContributionsPerPartition: m, Lower: c.Lower, Upper: c.Upper, Noise: nz})
		}
		if err != nil {
			return nil, fmt.Errorf("%v: %w", met, err)
		}
	}
	if a.public == nil {
		s.sel, err = dpagg.NewPreAggSelectPartition(&dpagg.PreAggSelectPartitionOptions{
			Epsilon: a.split.selEps, Delta: a.split.selDelta, MaxPartitionsContributed: l0})
		if err != nil {
			return nil, fmt.Errorf("partition selection: %w", err)
		}
	}
	return s, nil
}

// userSumBounds returns the range of one user's sum of 1..m values in
// [lo, hi]: the library's BoundedSum takes one value per user and
// partition (its per-partition contribution option is unexported), so a
// user's values are summed first and the sum clamped to this range.
func userSumBounds(lo, hi float64, m int64) (float64, float64) {
	fm := float64(m)
	return min(lo, fm*lo), max(hi, fm*hi)
}

// Release charges the budget (Epsilon, Delta) and returns a table of
// noisy aggregates per segment. If the budget refuses, the error is a
// [*BudgetError] and nothing is computed. Each Release draws fresh noise
// and charges again: averaging many releases of the same data is exactly
// what the budget exists to limit. Contributions stay in the aggregator,
// so later Adds are included in later releases.
func (a *Aggregator) Release() (*Table, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.cfg.Budget.Charge(a.cfg.Epsilon, a.cfg.Delta); err != nil {
		return nil, err
	}
	segs := map[string]*segmentAgg{}
	get := func(name string) *segmentAgg {
		s := segs[name]
		if s == nil {
			s, _ = a.newSegment() // parameters checked in New
			segs[name] = s
		}
		return s
	}
	for name := range a.public {
		get(name)
	}
	for _, u := range a.users {
		for _, p := range u.parts {
			if len(p.values) == 0 {
				continue
			}
			s := get(p.segment)
			if s.count != nil {
				_ = s.count.Add(int64(len(p.values)))
			}
			if s.sum != nil || s.mean != nil {
				total := 0.0
				for _, v := range p.values {
					v = min(max(v, a.cfg.Lower), a.cfg.Upper)
					total += v
					if s.mean != nil {
						_ = s.mean.Add(v)
					}
				}
				if s.sum != nil {
					_ = s.sum.Add(total)
				}
			}
			if s.sel != nil {
				_ = s.sel.Increment()
			}
		}
	}
	t := &Table{Dataset: a.cfg.Budget.Dataset(), Epsilon: a.cfg.Epsilon, Delta: a.cfg.Delta,
		Noise: a.cfg.Noise, Alpha: a.cfg.Alpha, Metrics: slices.Clone(a.cfg.Metrics),
		MaxPartitions: a.cfg.MaxPartitions, MaxContributions: a.cfg.MaxContributions,
		Lower: a.cfg.Lower, Upper: a.cfg.Upper}
	names := make([]string, 0, len(segs))
	for name := range segs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		s := segs[name]
		if s.sel != nil {
			keep, err := s.sel.ShouldKeepPartition()
			if err != nil {
				return nil, fmt.Errorf("dp: segment %q: partition selection: %w", name, err)
			}
			if !keep {
				t.Suppressed++
				continue
			}
		}
		row, err := a.release(name, s)
		if err != nil {
			return nil, err
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// release computes one segment's noisy results.
func (a *Aggregator) release(name string, s *segmentAgg) (Row, error) {
	row := Row{Segment: name}
	l0, m := int64(a.cfg.MaxPartitions), float64(a.cfg.MaxContributions)
	if s.count != nil {
		v, err := s.count.Result()
		if err != nil {
			return Row{}, fmt.Errorf("dp: segment %q: count: %w", name, err)
		}
		ci, err := s.count.ComputeConfidenceInterval(a.cfg.Alpha)
		if err != nil {
			return Row{}, fmt.Errorf("dp: segment %q: count interval: %w", name, err)
		}
		row.Count = a.estimate(float64(v), l0, m, ci)
	}
	if s.sum != nil {
		v, err := s.sum.Result()
		if err != nil {
			return Row{}, fmt.Errorf("dp: segment %q: sum: %w", name, err)
		}
		ci, err := s.sum.ComputeConfidenceInterval(a.cfg.Alpha)
		if err != nil {
			return Row{}, fmt.Errorf("dp: segment %q: sum interval: %w", name, err)
		}
		lo, hi := userSumBounds(a.cfg.Lower, a.cfg.Upper, int64(a.cfg.MaxContributions))
		row.Sum = a.estimate(v, l0, max(math.Abs(lo), math.Abs(hi)), ci)
	}
	if s.mean != nil {
		v, err := s.mean.Result()
		if err != nil {
			return Row{}, fmt.Errorf("dp: segment %q: mean: %w", name, err)
		}
		ci, err := s.mean.ComputeConfidenceInterval(a.cfg.Alpha)
		if err != nil {
			return Row{}, fmt.Errorf("dp: segment %q: mean interval: %w", name, err)
		}
		row.Mean = &Estimate{Value: v, Lower: ci.LowerBound, Upper: ci.UpperBound}
	}
	return row, nil
}

// estimate fills an Estimate of a sum-like aggregate with L0 sensitivity
// l0 and per-partition sensitivity linf.
func (a *Aggregator) estimate(v float64, l0 int64, linf float64, ci noise.ConfidenceInterval) *Estimate {
	e := &Estimate{Value: v, Lower: ci.LowerBound, Upper: ci.UpperBound}
	e.Scale, e.StdDev = NoiseScale(a.cfg.Noise, l0, linf, a.split.eps, a.split.delta)
	return e
}

// NoiseScale returns the scale parameter and the standard deviation of the
// noise the library adds to a sum-like aggregate with L0 sensitivity l0,
// per-partition (L∞) sensitivity linf, and the privacy parameters of that
// aggregate: for Laplace b = l0·linf/epsilon and sd = √2·b (Dwork and
// Roth 2014, Definition 3.3 and the Laplace mechanism, Theorem 3.6, with
// L1 sensitivity l0·linf); for Gaussian sigma from the library's
// noise.SigmaForGaussian (Balle and Wang 2018), sd = sigma.
func NoiseScale(n Noise, l0 int64, linf, epsilon, delta float64) (scale, sd float64) {
	if n == NoiseGaussian {
		s := noise.SigmaForGaussian(l0, linf, epsilon, delta)
		return s, s
	}
	b := float64(l0) * linf / epsilon
	return b, math.Sqrt2 * b
}
