package attribution

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/rankscope/rankscope/personalize"
)

// ErrClosed is returned by [Engine.Add] after [Engine.Close].
var ErrClosed = errors.New("attribution: engine closed")

// Stats counts what the engine did with its input.
type Stats struct {
	Events      int64 // events accepted (after dedup and lateness)
	Impressions int64
	Engagements int64 // clicks, dwells and scrolls
	Conversions int64 // conversions attributed or reported unattributed
	Ignored     int64 // outcomes that are neither touchpoints nor configured conversions, and exposures/links without use
	Duplicates  int64 // events whose id was already seen
	Late        int64 // events older than the latest event time minus Lateness
	Invalid     int64 // events without a payload or a time

	Unattributed int64 // conversions without an eligible touchpoint
	NullJourneys int64 // non-converting journeys emitted at eviction

	Evicted            int64 // persons finalized after window + lateness
	EvictedEarly       int64 // persons or links finalized early because MaxPersons was reached
	TouchpointsDropped int64 // touchpoints dropped because MaxTouchpoints was reached
	KeysOverflowed     int64 // dimension values grouped under KeyOther
	LinkConflicts      int64 // links of a session to a second user (the first wins)
	Merges             int64 // anonymous session states merged into a user

	ActivePersons      int // persons tracked now
	PeakPersons        int // most persons tracked at once
	PendingConversions int // conversions waiting for the lateness bound
}

// Engine attributes conversions to touchpoints as events stream in.
//
// Feed it with [Engine.Add] (offline, one event at a time) or plug it into
// personalize.Config.Exporters: it implements [personalize.Exporter].
// [Engine.Report] returns the models' results so far; [Engine.Close] ends
// the stream, attributing pending conversions and finalizing every person.
//
// All methods are safe for concurrent use; they serialize on one lock.
//
// Memory is bounded by the configuration, not by the stream: at most
// MaxPersons persons and session links, MaxTouchpoints touchpoints each,
// MaxKeys values per dimension, the conversions and event ids of the last
// Lateness of event time, and the models' fixed-size summaries. Finished
// persons' states are kept for reuse (at most 4096, holding no events) and
// arm names in a table of at most 1024, so the warm event path does not
// allocate.
type Engine struct {
	mu  sync.Mutex
	cfg Config

	maxWin int64 // max(ClickWindow, ViewWindow) in ns
	late   int64
	view   int64
	click  int64

	dims [4]interner // channel, surface, item, arm

	persons persons
	free    []*person // finalized persons kept for reuse with their tps capacity
	pheap   minHeap[pkey]
	links   map[string]*link
	lheap   minHeap[string]
	seen    map[personalize.EventID]struct{}
	seenQ   minHeap[personalize.EventID]
	pending minHeap[pendingConv]
	seq     uint64
	maxT    int64
	started bool
	closed  bool

	rules        []ruleAgg
	chain        *chain
	coal         *coalitions
	spread       spread
	unattributed Credit

	reps       int
	wbuf       []float64
	chainReps  []chain
	coalReps   []coalitions
	unattrReps []float64

	lift     liftTracker
	stats    Stats
	armCache struct{ exp, variant, arm string } // the last arm armOf returned
	armNames map[[2]string]string               // arms built, at most maxArmNames
	journey  Journey
	rw       []float64
	ids      []int32
	counts   []int32
}

var _ personalize.Exporter = (*Engine)(nil)

// New returns an engine for cfg.
func New(cfg Config) (*Engine, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:      c,
		maxWin:   int64(max(c.ClickWindow, c.ViewWindow)),
		late:     int64(c.Lateness),
		view:     int64(c.ViewWindow),
		click:    int64(c.ClickWindow),
		persons:  persons{users: make(map[string]*person), anon: make(map[string]*person)},
		links:    make(map[string]*link),
		seen:     make(map[personalize.EventID]struct{}),
		armNames: make(map[[2]string]string),
		reps:     c.Bootstrap.Replicates,
	}
	for d := range e.dims {
		e.dims[d] = newInterner(c.MaxKeys, &e.stats.KeysOverflowed)
	}
	for _, r := range c.Rules {
		e.rules = append(e.rules, ruleAgg{rule: r, reps: repSums{b: e.reps}})
	}
	if !c.NoMarkov {
		e.chain = &chain{}
		e.chainReps = make([]chain, e.reps)
	}
	if !c.NoShapley {
		e.coal = &coalitions{}
		e.coalReps = make([]coalitions, e.reps)
	}
	e.wbuf = make([]float64, e.reps)
	e.lift = newLiftTracker(c.Lift, c.Level)
	return e, nil
}

// Add feeds one event. Events with ids already seen, or older than the
// latest event time minus Lateness, are counted and skipped. Add returns
// an error only for an event without a payload or time, or after Close.
func (e *Engine) Add(ev personalize.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.add(ev)
}

// Export implements [personalize.Exporter]: it adds every event of batch.
// It never retains batch; it keeps payload pointers of impressions for
// reading while their person is tracked.
func (e *Engine) Export(ctx context.Context, batch []personalize.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var bad int
	var first error
	for _, ev := range batch {
		if err := e.add(ev); err != nil {
			if errors.Is(err, ErrClosed) {
				return err
			}
			if bad == 0 {
				first = err
			}
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("attribution: %d invalid events in batch, first: %w", bad, first)
	}
	return nil
}

// ForceFlush implements [personalize.Exporter]. Attribution waits for the
// lateness bound by design, so there is nothing to flush early.
func (e *Engine) ForceFlush(context.Context) error { return nil }

// Shutdown implements [personalize.Exporter] by calling [Engine.Close].
func (e *Engine) Shutdown(context.Context) error {
	e.Close()
	return nil
}

// Close ends the stream: pending conversions are attributed and every
// tracked person is finalized (its non-converting tail becomes a null
// journey, its lift counts are added). Later Adds fail with ErrClosed.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	for len(e.pending) > 0 {
		e.convert(e.pending.pop().v)
	}
	for len(e.pheap) > 0 {
		k := e.pheap.pop().v
		if p := e.persons.get(k); p != nil {
			e.finalize(p)
			e.stats.Evicted++
		}
	}
	clear(e.links)
	e.lheap = nil
	clear(e.seen)
	e.seenQ = nil
	e.closed = true
}

// Stats returns the counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.snapshotStats()
}

func (e *Engine) snapshotStats() Stats {
	s := e.stats
	s.ActivePersons = e.persons.len()
	s.PendingConversions = len(e.pending)
	return s
}

func (e *Engine) add(ev personalize.Event) error {
	if e.closed {
		return ErrClosed
	}
	t := ev.Time()
	if t.IsZero() {
		e.stats.Invalid++
		if ev.Impression == nil && ev.Outcome == nil && ev.Exposure == nil && ev.Link == nil {
			return errors.New("attribution: event has no payload")
		}
		return fmt.Errorf("attribution: %s event %s has no time", ev.Type, ev.ID())
	}
	tn := t.UnixNano()
	if !e.started || tn > e.maxT {
		e.maxT, e.started = tn, true
	}
	if tn < e.maxT-e.late {
		e.stats.Late++
		return nil
	}
	if id := ev.ID(); !id.IsZero() {
		if _, dup := e.seen[id]; dup {
			e.stats.Duplicates++
			return nil
		}
		e.seen[id] = struct{}{}
		e.seenQ.push(tn, id)
	}
	e.stats.Events++
	// Conversions before the new watermark are complete: attribute them
	// before this (later) event can change their person's state.
	e.advance()
	switch {
	case ev.Impression != nil:
		e.impression(ev.Impression, tn)
	case ev.Outcome != nil:
		e.outcome(ev.Outcome, tn)
	case ev.Exposure != nil:
		x := ev.Exposure
		p := e.person(e.identify(x.UserID, personalize.Pseudonym{}, tn), tn)
		p.lift.assign(x.Experiment, x.Variant, tn)
	case ev.Link != nil:
		l := ev.Link
		if l.UserID.IsZero() || l.SessionID.IsZero() {
			e.stats.Ignored++
		} else {
			e.link(l.SessionID.ID, l.UserID.ID, tn)
		}
	}
	return nil
}

// advance attributes conversions older than the watermark and evicts
// state no pending or future conversion can use.
func (e *Engine) advance() {
	wm := e.maxT - e.late
	for len(e.pending) > 0 && e.pending[0].at < wm {
		e.convert(e.pending.pop().v)
	}
	for len(e.seenQ) > 0 && e.seenQ[0].at < wm {
		delete(e.seen, e.seenQ.pop().v)
	}
	horizon := wm - e.maxWin
	for len(e.pheap) > 0 && e.pheap[0].at < horizon {
		ent := e.pheap.pop()
		p := e.persons.get(ent.v)
		if p == nil {
			continue // merged away
		}
		if p.last > ent.at {
			e.pheap.push(p.last, p.key)
			continue
		}
		e.finalize(p)
		e.stats.Evicted++
	}
	for len(e.lheap) > 0 && e.lheap[0].at < horizon {
		ent := e.lheap.pop()
		l := e.links[ent.v]
		if l == nil {
			continue
		}
		if l.last > ent.at {
			e.lheap.push(l.last, ent.v)
			continue
		}
		delete(e.links, ent.v)
	}
}

// AddJourney attributes a journey built elsewhere (for example by another
// identity system), bypassing identity resolution, windows and lateness:
// every touchpoint is credited. Touchpoints must be in time order; a
// converting journey may have none (it is then unattributed). The
// journey is not retained. Lift is not updated.
func (e *Engine) AddJourney(j *Journey) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if !j.Converted && len(j.Touchpoints) == 0 {
		return errors.New("attribution: AddJourney: a non-converting journey needs touchpoints")
	}
	if math.IsNaN(j.Value) || math.IsInf(j.Value, 0) || j.Value < 0 {
		return fmt.Errorf("attribution: AddJourney: Journey.Value: must be finite and >= 0, got %v", j.Value)
	}
	for i := range j.Touchpoints {
		tp := &j.Touchpoints[i]
		if i > 0 && tp.Time.Before(j.Touchpoints[i-1].Time) {
			return fmt.Errorf("attribution: AddJourney: Journey.Touchpoints[%d].Time: before the previous touchpoint", i)
		}
		e.intern(tp)
	}
	if j.Converted {
		e.stats.Conversions++
	} else {
		e.stats.NullJourneys++
	}
	if j.EventID.IsZero() && len(j.Touchpoints) > 0 {
		j.EventID = nullID(j)
	}
	e.emit(j)
	return nil
}

// Name implements personalize.Named: the pipeline's stats and metrics call
// this exporter "attribution".
func (e *Engine) Name() string { return "attribution" }
