package replay

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/join"
	"github.com/rankscope/rankscope/personalize/segment"
)

// Config configures an [Evaluator]. The zero value of every field but
// Policy means the documented default.
type Config struct {
	// Policy is the candidate policy. Required.
	Policy Policy
	// Model is the reward model of the direct method and doubly robust
	// estimators. Default: a fresh [PositionMean].
	Model RewardModel
	// Reward maps an outcome to the reward of its item; an item's reward is
	// the largest over its outcomes (a repeated click counts once). Default
	// [RewardClick].
	Reward func(o *personalize.Outcome) float64
	// Slots is how many top positions of each impression are evaluated
	// (each a logged action with its propensity). Default 10; at most 1000.
	Slots int
	// Clip is the largest importance weight the clipped IPS estimator
	// keeps (lambda in Open Bandit Pipeline). Default 10.
	Clip float64
	// Window is how long after an impression's end its outcomes are
	// joined; an impression is scored once an event later than End+Window
	// has been seen (event time, not wall time). Default 30 minutes.
	Window time.Duration
	// MaxPending bounds the impressions waiting for their window to close;
	// past it the oldest is scored early (counted in
	// Diagnostics.EarlyScored). Default 100,000.
	MaxPending int
	// Bootstrap is the number of Poisson bootstrap replicates behind each
	// interval. Default 200; negative disables intervals.
	Bootstrap int
	// Confidence is the interval's coverage. Default 0.95.
	Confidence float64
	// Seed seeds the bootstrap. Impressions fall in one of 1024 buckets by
	// a hash of the seed and their event id, and replicates weigh buckets
	// by Poisson(1) draws hashed from the seed, so results do not depend
	// on the order or the batching of events.
	Seed uint64
	// Keyer, if set, splits every result by segment as well.
	Keyer *segment.Keyer
	// MaxSegments bounds the segments tracked (default 64); impressions of
	// further segments count only in the all-traffic result and in
	// Diagnostics.SegmentOverflow.
	MaxSegments int
	// SkipUnsupported, when set, skips impressions whose evaluated items
	// lack a usable propensity (counting them in
	// Diagnostics.SkippedImpressions) instead of returning an error.
	SkipUnsupported bool
}

// Defaults.
const (
	DefaultSlots       = 10
	DefaultClip        = 10.0
	DefaultWindow      = 30 * time.Minute
	DefaultMaxPending  = 100_000
	DefaultBootstrap   = 200
	DefaultConfidence  = 0.95
	DefaultMaxSegments = 64
	maxSlots           = 1000
)

// RewardClick is the default reward: 1 for a click, 0 for anything else.
func RewardClick(o *personalize.Outcome) float64 {
	if o.Kind == personalize.OutcomeClick {
		return 1
	}
	return 0
}

// UnsupportedError says an impression cannot support an off-policy
// estimate, naming the event and the field.
type UnsupportedError struct {
	EventID   personalize.EventID
	RequestID string
	// Field is the schema path, e.g. "items[2].propensity".
	Field  string
	Reason string
}

func (e *UnsupportedError) Error() string {
	return "replay: impression " + e.EventID.String() + " (request " + strconv.Quote(e.RequestID) + "): " + e.Field + ": " + e.Reason
}

// ErrNoData is returned by [Evaluator.Result] when no impression has been
// scored.
var ErrNoData = errors.New("replay: no impression scored yet")

// Evaluator replays logged impressions through a candidate policy and
// estimates its value. Feed it events in roughly time order (Add, or
// Export as a personalize.Exporter); read results at any moment with
// Results; call Flush at the end of an offline run to score the
// impressions still waiting for outcomes.
//
// Memory: pending impressions are bounded by Config.MaxPending; each
// scored impression only updates fixed accumulators (1024 hash buckets of
// 7 sums, 56 KiB per segment), so memory does not grow with the log.
// Up to 1024 scored impressions' states are kept for reuse (holding no
// events), so the warm path does not allocate.
//
// It is safe for concurrent use; calls are serialized.
type Evaluator struct {
	cfg     Config
	learner Learner

	mu       sync.Mutex
	join     *join.Joiner[pendingImp] // pending impressions, reused once scored
	all      *accum
	segs     map[segment.Key]*accum
	segOrder []segment.Key
	diag     counters

	// scratch
	ctx  Context
	dist [][]float64
	q    [][]float64
}

type pendingImp struct {
	im     *personalize.Impression
	items  []personalize.Item // by position
	reward []float64          // per evaluated slot
	seg    segment.Key
	hasSeg bool
}

type counters struct {
	skipped, unjoined, overflow, duplicates int64
}

// New validates cfg and returns an Evaluator.
func New(cfg Config) (*Evaluator, error) {
	if cfg.Policy == nil {
		return nil, errors.New("replay: Config.Policy: required")
	}
	switch {
	case cfg.Slots < 0 || cfg.Slots > maxSlots:
		return nil, fmt.Errorf("replay: Config.Slots: must be in [0, %d], got %d", maxSlots, cfg.Slots)
	case cfg.Clip < 0 || math.IsNaN(cfg.Clip):
		return nil, fmt.Errorf("replay: Config.Clip: must be > 0 (or 0 for the default), got %v", cfg.Clip)
	case cfg.Window < 0:
		return nil, fmt.Errorf("replay: Config.Window: must be >= 0, got %v", cfg.Window)
	case cfg.MaxPending < 0:
		return nil, fmt.Errorf("replay: Config.MaxPending: must be >= 0, got %d", cfg.MaxPending)
	case cfg.Confidence < 0 || cfg.Confidence >= 1 || math.IsNaN(cfg.Confidence):
		return nil, fmt.Errorf("replay: Config.Confidence: must be in (0,1) (or 0 for the default), got %v", cfg.Confidence)
	case cfg.MaxSegments < 0:
		return nil, fmt.Errorf("replay: Config.MaxSegments: must be >= 0, got %d", cfg.MaxSegments)
	case cfg.Bootstrap > 10000:
		return nil, fmt.Errorf("replay: Config.Bootstrap: at most 10000 replicates, got %d", cfg.Bootstrap)
	}
	if cfg.Model == nil {
		cfg.Model = &PositionMean{}
	}
	if cfg.Reward == nil {
		cfg.Reward = RewardClick
	}
	if cfg.Slots == 0 {
		cfg.Slots = DefaultSlots
	}
	if cfg.Clip == 0 {
		cfg.Clip = DefaultClip
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.MaxPending == 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.Bootstrap == 0 {
		cfg.Bootstrap = DefaultBootstrap
	}
	if cfg.Bootstrap < 0 {
		cfg.Bootstrap = 0
	}
	if cfg.Confidence == 0 {
		cfg.Confidence = DefaultConfidence
	}
	if cfg.MaxSegments == 0 {
		cfg.MaxSegments = DefaultMaxSegments
	}
	e := &Evaluator{cfg: cfg, segs: map[segment.Key]*accum{}}
	var err error
	if e.join, err = join.New(join.Config{Window: cfg.Window, MaxPending: cfg.MaxPending}, e.finalize); err != nil {
		return nil, err
	}
	e.learner, _ = cfg.Model.(Learner)
	e.all = newAccum()
	e.dist = makeMatrix(cfg.Slots)
	e.q = makeMatrix(cfg.Slots)
	return e, nil
}

func makeMatrix(rows int) [][]float64 { return make([][]float64, rows) }

// Add feeds one event. Impressions wait for their outcomes; outcomes are
// joined to their impression by request id and item; every event's time
// advances the clock that closes join windows. An impression that cannot
// support the estimate returns an *UnsupportedError (unless
// Config.SkipUnsupported); an error of the policy while scoring an
// earlier impression is returned too. Either way the evaluator stays
// usable.
func (e *Evaluator) Add(ev personalize.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var err error
	switch {
	case ev.Impression != nil:
		err = e.addImpression(ev.Impression)
	case ev.Outcome != nil:
		err = e.addOutcome(ev.Outcome)
	}
	if ferr := e.join.Advance(ev.Time()); err == nil {
		err = ferr
	}
	return err
}

func (e *Evaluator) addImpression(im *personalize.Impression) error {
	if e.join.Pending(im.RequestID) {
		e.diag.duplicates++
		return nil
	}
	// Items by position; the usual already-sorted list is used as is (the
	// event is read only), an unsorted one is copied.
	items, idx := im.Items, []int(nil)
	if !slices.IsSortedFunc(items, func(a, b personalize.Item) int { return a.Position - b.Position }) {
		idx = make([]int, len(items)) // original index, for error messages
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return im.Items[a].Position - im.Items[b].Position })
		items = make([]personalize.Item, len(idx))
		for k, i := range idx {
			items[k] = im.Items[i]
		}
	}
	n := min(len(items), e.cfg.Slots)
	if n == 0 {
		return e.unsupported(im, "items", "no items to evaluate")
	}
	for k := 0; k < n; k++ {
		p := items[k].Propensity
		orig := k
		if idx != nil {
			orig = idx[k]
		}
		field := func() string { return "items[" + strconv.Itoa(orig) + "].propensity" }
		switch {
		case p == 0:
			return e.unsupported(im, field(), "missing (0 means unknown): off-policy estimates need the logging policy's probability of every evaluated item")
		case !(p > 0 && p <= 1):
			return e.unsupported(im, field(), "must be in (0,1], got "+strconv.FormatFloat(p, 'g', -1, 64))
		}
	}
	en, err := e.join.Impression(im)
	p := &en.Value // a reused entry keeps its reward slice
	if cap(p.reward) >= n {
		p.reward = p.reward[:n]
		clear(p.reward)
	} else {
		p.reward = make([]float64, n)
	}
	p.items = items
	p.seg, p.hasSeg = segment.Key{}, false
	if e.cfg.Keyer != nil {
		p.seg = e.cfg.Keyer.Key(im)
		p.hasSeg = !p.seg.IsZero()
	}
	return err
}

func (e *Evaluator) unsupported(im *personalize.Impression, field, reason string) error {
	if e.cfg.SkipUnsupported {
		e.diag.skipped++
		return nil
	}
	return &UnsupportedError{EventID: im.EventID, RequestID: im.RequestID, Field: field, Reason: reason}
}

func (e *Evaluator) addOutcome(o *personalize.Outcome) error {
	en, err := e.join.Outcome(o) // nil: no pending impression, or too late
	if en == nil {
		e.diag.unjoined++
		return err
	}
	p := &en.Value
	if k := en.Slot(o.Item); k >= 0 && k < len(p.reward) {
		p.reward[k] = max(p.reward[k], e.cfg.Reward(o))
		return err
	}
	e.diag.unjoined++ // item not among the evaluated slots
	return err
}

// finalize scores an impression whose window closed (or that MaxPending
// pushed out early) and lets go of its event.
func (e *Evaluator) finalize(en *join.Entry[pendingImp]) error {
	p := &en.Value
	p.im = en.Impression
	err := e.score(p)
	p.im, p.items = nil, nil // hold no event
	return err
}

// Flush scores every pending impression with the outcomes seen so far:
// the end of an offline run.
func (e *Evaluator) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.join.Flush()
}

// score runs the policy and the model on one impression and adds its
// slots to the accumulators.
func (e *Evaluator) score(p *pendingImp) error {
	n := len(p.reward)
	e.ctx = Context{Impression: p.im, Items: p.items}
	dist, q := e.dist[:n], e.q[:n]
	for k := 0; k < n; k++ {
		dist[k] = resize(dist[k], len(p.items)+1) // + an item not in the log
		q[k] = resize(q[k], len(p.items)+1)
	}
	if err := e.cfg.Policy.Distribution(&e.ctx, dist); err != nil {
		return fmt.Errorf("replay: policy on impression %s: %w", p.im.EventID, err)
	}
	for k := 0; k < n; k++ {
		var s float64
		for i, v := range dist[k] {
			if !(v >= 0 && v <= 1) {
				return fmt.Errorf("replay: policy on impression %s: dist[%d][%d]: must be in [0,1], got %v", p.im.EventID, k, i, v)
			}
			s += v
		}
		if s > 1+1e-9 {
			return fmt.Errorf("replay: policy on impression %s: dist[%d]: probabilities sum to %v > 1", p.im.EventID, k, s)
		}
	}
	e.cfg.Model.Predict(&e.ctx, q)
	var im impSums
	for k := 0; k < n; k++ {
		pb := p.items[k].Propensity
		pi := dist[k][k]
		w := pi / pb
		r := p.reward[k]
		var dm float64
		for i := range dist[k] {
			dm += dist[k][i] * q[k][i]
		}
		im.n++
		im.r += r
		im.w += w
		im.w2 += w * w
		im.wr += w * r
		im.cwr += min(w, e.cfg.Clip) * r
		im.dm += dm
		im.dr += dm + w*(r-q[k][k])
		im.maxW = max(im.maxW, w)
		if pi == 0 {
			im.noSupport++
		}
	}
	if math.IsNaN(im.dr) || math.IsInf(im.dr, 0) || math.IsNaN(im.dm) {
		return fmt.Errorf("replay: reward model on impression %s: predictions must be finite", p.im.EventID)
	}
	h := e.cfg.Seed ^ hashID(p.im.EventID)
	e.all.add(&im, h)
	if p.hasSeg {
		a := e.segs[p.seg]
		if a == nil && len(e.segs) < e.cfg.MaxSegments {
			a = newAccum()
			e.segs[p.seg] = a
			e.segOrder = append(e.segOrder, p.seg)
		}
		if a != nil {
			a.add(&im, h)
		} else {
			e.diag.overflow++
		}
	}
	if e.learner != nil {
		for k := 0; k < n; k++ {
			e.learner.Learn(&e.ctx, k, p.reward[k])
		}
	}
	e.ctx = Context{}
	return nil
}

func resize(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// Export feeds a batch (personalize.Exporter). It returns the first error
// of the batch after feeding all of it.
func (e *Evaluator) Export(_ context.Context, batch []personalize.Event) error {
	var first error
	for i := range batch {
		if err := e.Add(batch[i]); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// ForceFlush does nothing: pending impressions wait for their window.
func (e *Evaluator) ForceFlush(context.Context) error { return nil }

// Shutdown scores the pending impressions.
func (e *Evaluator) Shutdown(context.Context) error { return e.Flush() }

// Name implements personalize.Named.
func (e *Evaluator) Name() string { return "replay" }

var _ personalize.Exporter = (*Evaluator)(nil)
