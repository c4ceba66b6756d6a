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

type pkey struct {
	anon bool // id is a session pseudonym not linked to a user
	id   string
}

type person struct {
	key      pkey
	tps      []Touchpoint // sorted by time
	last     int64        // latest activity (unix ns)
	lastConv int64        // latest conversion processed; 0 none
	orphans  int32        // engagements in tps still waiting for their impression
	lift     personLift
}

// persons maps person keys to their state. Users and anonymous sessions
// live in two string-keyed maps: a string key hashes faster than a struct.
type persons struct {
	users, anon map[string]*person
}

func (m *persons) get(k pkey) *person {
	if k.anon {
		return m.anon[k.id]
	}
	return m.users[k.id]
}

func (m *persons) set(k pkey, p *person) {
	if k.anon {
		m.anon[k.id] = p
	} else {
		m.users[k.id] = p
	}
}

func (m *persons) del(k pkey) {
	if k.anon {
		delete(m.anon, k.id)
	} else {
		delete(m.users, k.id)
	}
}

func (m *persons) len() int { return len(m.users) + len(m.anon) }

// maxArmNames bounds the engine's table of arm names.
const maxArmNames = 1024

// maxFree bounds the engine's free lists of person states.
const maxFree = 4096

type link struct {
	user string
	last int64
}

type pendingConv struct {
	o   *personalize.Outcome
	seq uint64
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

const (
	dimChannel = iota
	dimSurface
	dimItem
	dimArm
)

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

// identify resolves the person of an event. The rule: a user pseudonym is
// the person; a session pseudonym linked to a user (by a link event, or by
// an earlier event carrying both) is that user; otherwise the session is
// an anonymous person of its own. An event carrying both links them.
func (e *Engine) identify(user, session personalize.Pseudonym, tn int64) pkey {
	if !user.IsZero() {
		if !session.IsZero() {
			e.link(session.ID, user.ID, tn)
		}
		return pkey{id: user.ID}
	}
	if l := e.links[session.ID]; l != nil {
		l.last = max(l.last, tn)
		return pkey{id: l.user}
	}
	return pkey{anon: true, id: session.ID}
}

func (e *Engine) resolve(user, session personalize.Pseudonym) pkey {
	if !user.IsZero() {
		return pkey{id: user.ID}
	}
	if l := e.links[session.ID]; l != nil {
		return pkey{id: l.user}
	}
	return pkey{anon: true, id: session.ID}
}

func (e *Engine) link(session, user string, tn int64) {
	if l := e.links[session]; l != nil {
		if l.user != user {
			e.stats.LinkConflicts++
		}
		l.last = max(l.last, tn)
		return
	}
	for len(e.links) >= e.cfg.MaxPersons && len(e.lheap) > 0 {
		ent := e.lheap.pop()
		if e.links[ent.v] != nil {
			delete(e.links, ent.v)
			e.stats.EvictedEarly++
		}
	}
	e.links[session] = &link{user: user, last: tn}
	e.lheap.push(tn, session)
	if src := e.persons.anon[session]; src != nil {
		e.merge(src, pkey{id: user})
	}
}

// merge moves an anonymous session's state into its user.
func (e *Engine) merge(src *person, to pkey) {
	e.persons.del(src.key)
	dst := e.person(to, src.last)
	e.stats.Merges++
	merged := make([]Touchpoint, 0, len(src.tps)+len(dst.tps))
	a, b := src.tps, dst.tps
	for len(a) > 0 && len(b) > 0 {
		if a[0].at < b[0].at {
			merged, a = append(merged, a[0]), a[1:]
		} else {
			merged, b = append(merged, b[0]), b[1:]
		}
	}
	merged = append(append(merged, a...), b...)
	if over := len(merged) - e.cfg.MaxTouchpoints; over > 0 {
		e.stats.TouchpointsDropped += int64(over)
		merged = merged[over:]
	}
	dst.tps = merged
	dst.last = max(dst.last, src.last)
	dst.lastConv = max(dst.lastConv, src.lastConv)
	dst.orphans += src.orphans
	dst.lift.merge(&src.lift)
	e.recycle(src)
}

func (e *Engine) person(k pkey, tn int64) *person {
	p := e.persons.get(k)
	if p != nil {
		p.last = max(p.last, tn)
		return p
	}
	for e.persons.len() >= e.cfg.MaxPersons && len(e.pheap) > 0 {
		old := e.persons.get(e.pheap.pop().v)
		if old != nil {
			e.finalize(old)
			e.stats.EvictedEarly++
		}
	}
	if n := len(e.free); n > 0 {
		p = e.free[n-1]
		e.free = e.free[:n-1]
		*p = person{key: k, last: tn, tps: p.tps[:0], lift: personLift{arms: p.lift.arms[:0]}}
	} else {
		p = &person{key: k, last: tn}
	}
	e.persons.set(k, p)
	e.pheap.push(tn, k)
	if n := e.persons.len(); n > e.stats.PeakPersons {
		e.stats.PeakPersons = n
	}
	return p
}

func (e *Engine) armOf(im *personalize.Impression) string {
	if e.cfg.Experiment != "" {
		return im.Variant(e.cfg.Experiment)
	}
	if len(im.Experiments) > 0 {
		a := im.Experiments[0]
		// Arms repeat: reuse the "experiment:variant" strings built rather
		// than allocate one per impression (the last one first, then a
		// table of at most maxArmNames, emptied when full).
		c := &e.armCache
		if c.arm != "" && a.Experiment == c.exp && a.Variant == c.variant {
			return c.arm
		}
		k := [2]string{a.Experiment, a.Variant}
		arm, ok := e.armNames[k]
		if !ok {
			if len(e.armNames) >= maxArmNames {
				clear(e.armNames)
			}
			arm = a.Experiment + ":" + a.Variant
			e.armNames[k] = arm
		}
		c.exp, c.variant, c.arm = a.Experiment, a.Variant, arm
		return arm
	}
	return ""
}

func (e *Engine) intern(tp *Touchpoint) {
	tp.Channel = e.cfg.Channel(tp)
	tp.ch = e.dims[dimChannel].id(tp.Channel)
	tp.surf = e.dims[dimSurface].id(tp.Surface)
	tp.it = e.dims[dimItem].id(tp.Item)
	tp.arm = e.dims[dimArm].id(tp.Arm)
}

func (e *Engine) impression(im *personalize.Impression, tn int64) {
	e.stats.Impressions++
	p := e.person(e.identify(im.User, im.Session, tn), tn)
	// The touchpoint is built in its slot: a local would escape through
	// Config.Channel and cost an allocation per event.
	tp := e.slot(p)
	*tp = Touchpoint{EventID: im.EventID, Time: im.End, Kind: TouchImpression, Channel: im.Channel,
		Surface: im.Surface, RequestID: im.RequestID, imp: im, at: tn, Arm: e.armOf(im), items: itemBloom(im)}
	e.intern(tp)
	surface, arm := tp.Surface, tp.Arm
	e.place(p)
	// Engagements that arrived before their impression inherit from it now.
	for i := 0; p.orphans > 0 && i < len(p.tps); i++ {
		c := &p.tps[i]
		if c.Kind != TouchImpression && !c.inherited && c.RequestID == im.RequestID {
			e.inherit(c, im, surface, arm)
			e.intern(c)
			p.orphans--
		}
	}
	p.lift.impressions++
	for _, a := range im.Experiments {
		p.lift.assign(a.Experiment, a.Variant, tn)
	}
}

func (e *Engine) outcome(o *personalize.Outcome, tn int64) {
	if o.Kind.IsConversion() {
		if !e.cfg.isConversion(o) {
			e.stats.Ignored++
			return
		}
		e.person(e.identify(o.UserID, o.SessionID, tn), tn) // keeps the person alive until attributed
		e.seq++
		e.pending.push(tn, pendingConv{o: o, seq: e.seq})
		return
	}
	e.stats.Engagements++
	p := e.person(e.identify(o.UserID, o.SessionID, tn), tn)
	kind := TouchEngagement
	if o.Kind == personalize.OutcomeClick {
		kind = TouchClick
		p.lift.clicks++
	}
	// The impression it follows, looked up before slot may drop old
	// touchpoints.
	var (
		srcImp          *personalize.Impression
		srcSurf, srcArm string
	)
	for i := len(p.tps) - 1; i >= 0; i-- {
		src := &p.tps[i]
		if src.imp == nil || src.RequestID != o.RequestID {
			continue
		}
		srcImp, srcSurf, srcArm = src.imp, src.Surface, src.Arm
		break
	}
	tp := e.slot(p)
	*tp = Touchpoint{EventID: o.EventID, Time: o.Time, Kind: kind, Channel: o.Channel,
		Surface: o.Surface, Item: o.Item, RequestID: o.RequestID, at: tn,
		rawChannel: o.Channel, rawSurface: o.Surface}
	if srcImp != nil {
		e.inherit(tp, srcImp, srcSurf, srcArm)
	}
	e.intern(tp)
	e.place(p)
}

// inherit fills an engagement's missing fields from its impression. The
// engagement's own channel and surface, when the outcome named them, win.
func (e *Engine) inherit(tp *Touchpoint, im *personalize.Impression, surface, arm string) {
	tp.inherited = true
	tp.Surface, tp.Channel = tp.rawSurface, tp.rawChannel
	if tp.Surface == "" {
		tp.Surface = surface
	}
	if tp.Channel == "" {
		tp.Channel = im.Channel
	}
	tp.Arm = arm
	tp.Position = position(im, tp.Item)
}

// itemBit is a one-bit fingerprint of an item id from its length and
// last two bytes: cheap enough to take for every item of an impression
// while its items are fresh from decoding, and enough to skip most
// rankings without the converting item when a conversion looks back
// through a journey, instead of reading their items again from memory.
func itemBit(id string) uint64 {
	n := uint(len(id))
	if n == 0 {
		return 1
	}
	h := n*0x9e + uint(id[n-1])*0x3d
	if n > 1 {
		h += uint(id[n-2]) * 0x1f
	}
	return 1 << ((h ^ h>>6) & 63)
}

// itemBloom is the union of the ranking's item fingerprints (a 64-bit
// Bloom filter with one hash): a zero bit means the item is not there.
func itemBloom(im *personalize.Impression) uint64 {
	var b uint64
	for i := range im.Items {
		b |= itemBit(im.Items[i].ID)
	}
	return b
}

func position(im *personalize.Impression, item string) int {
	n := len(item)
	if n == 0 {
		return 0
	}
	last := item[n-1]
	for i := range im.Items {
		// Length and last byte first: ids of one catalog often share a
		// prefix, and this avoids a call per item.
		if id := im.Items[i].ID; len(id) == n && id[n-1] == last && id == item {
			return im.Items[i].Position
		}
	}
	return 0
}

// slot makes room for one more touchpoint of p (dropping the oldest when
// MaxTouchpoints is reached) and returns it, zero, at the end of p.tps.
// The caller fills it and calls place.
func (e *Engine) slot(p *person) *Touchpoint {
	if len(p.tps) >= e.cfg.MaxTouchpoints {
		horizon := e.maxT - e.late - e.maxWin
		n := 0
		for n < len(p.tps) && p.tps[n].at < horizon {
			n++
		}
		if n == 0 {
			n = 1
			e.stats.TouchpointsDropped++
		}
		p.tps = append(p.tps[:0], p.tps[n:]...)
		clear(p.tps[len(p.tps):cap(p.tps)][:n])
		// Dropped touchpoints may have been orphans: recount.
		p.orphans = 0
		for i := range p.tps {
			if c := &p.tps[i]; c.Kind != TouchImpression && !c.inherited {
				p.orphans++
			}
		}
	}
	if n := len(p.tps); n < cap(p.tps) {
		// The caller assigns the whole slot, so it needs no clearing
		// (clearing costs write barriers while the GC runs). The spare
		// capacity holds no pointers anyway (new, or cleared by recycle
		// and by the drop above), so it keeps no impression alive.
		p.tps = p.tps[:n+1]
	} else {
		p.tps = append(p.tps, Touchpoint{})
	}
	return &p.tps[len(p.tps)-1]
}

// place counts and sorts the touchpoint slot returned, now filled.
func (e *Engine) place(p *person) {
	if tp := &p.tps[len(p.tps)-1]; tp.Kind != TouchImpression && !tp.inherited {
		p.orphans++
	}
	for i := len(p.tps) - 1; i > 0 && p.tps[i-1].at > p.tps[i].at; i-- {
		p.tps[i-1], p.tps[i] = p.tps[i], p.tps[i-1]
	}
}

// convert attributes one conversion whose lateness bound has passed.
func (e *Engine) convert(pc pendingConv) {
	o := pc.o
	tn := o.Time.UnixNano()
	e.stats.Conversions++
	j := &e.journey
	*j = Journey{Touchpoints: j.Touchpoints[:0], Converted: true, Time: o.Time, Kind: o.Kind,
		Name: o.Name, Value: o.Value, EventID: o.EventID}
	k := e.resolve(o.UserID, o.SessionID)
	j.Person = k.id
	bit := itemBit(o.Item)
	if p := e.persons.get(k); p != nil {
		for i := range p.tps {
			tp := &p.tps[i]
			if tp.at > tn {
				break
			}
			win := e.click
			if tp.Kind == TouchImpression {
				win = e.view
			}
			if tn-tp.at > win {
				continue
			}
			j.Touchpoints = append(j.Touchpoints, *tp)
			if tp.Kind == TouchImpression && o.Item != "" {
				c := &j.Touchpoints[len(j.Touchpoints)-1]
				if tp.items&bit == 0 {
					continue // not in the ranking: skip reading its items
				}
				if pos := position(tp.imp, o.Item); pos > 0 {
					c.Item, c.Position = o.Item, pos
					c.it = e.dims[dimItem].id(o.Item)
				}
			}
		}
		p.lastConv = max(p.lastConv, tn)
		p.lift.conversions++
		p.lift.value += o.Value
	}
	e.emit(j)
}

// finalize emits a person's non-converting tail and lift, and forgets it.
func (e *Engine) finalize(p *person) {
	e.persons.del(p.key)
	defer e.recycle(p)
	e.lift.add(&p.lift)
	j := &e.journey
	*j = Journey{Touchpoints: j.Touchpoints[:0], Person: p.key.id}
	for i := range p.tps {
		if p.tps[i].at > p.lastConv {
			j.Touchpoints = append(j.Touchpoints, p.tps[i])
		}
	}
	if len(j.Touchpoints) == 0 {
		return
	}
	j.Time = j.Touchpoints[len(j.Touchpoints)-1].Time
	j.EventID = nullID(j)
	e.stats.NullJourneys++
	e.emit(j)
}

// recycle keeps a forgotten person's state, with its touchpoint capacity,
// for the next new person (at most maxFree of them). Touchpoints are
// cleared so recycled states hold no impressions alive.
func (e *Engine) recycle(p *person) {
	clear(p.tps)
	if len(e.free) < maxFree {
		e.free = append(e.free, p)
	}
}

func (e *Engine) emit(j *Journey) {
	if j.Converted && len(j.Touchpoints) == 0 {
		e.stats.Unattributed++
		e.unattributed.add(1, j.Value)
		if e.reps > 0 {
			e.cfg.Bootstrap.weights(j.EventID, e.wbuf)
			if e.unattrReps == nil {
				e.unattrReps = make([]float64, e.reps)
			}
			for b, w := range e.wbuf {
				e.unattrReps[b] += w
			}
		}
		if e.cfg.OnJourney != nil {
			e.cfg.OnJourney(j)
		}
		return
	}
	if e.reps > 0 {
		e.cfg.Bootstrap.weights(j.EventID, e.wbuf)
	}
	e.ids = e.ids[:0]
	for i := range j.Touchpoints {
		e.ids = append(e.ids, j.Touchpoints[i].ch)
	}
	if j.Converted {
		if cap(e.rw) < len(j.Touchpoints) {
			e.rw = make([]float64, len(j.Touchpoints))
		}
		w := e.rw[:len(j.Touchpoints)]
		for r := range e.rules {
			ra := &e.rules[r]
			ra.rule.Weights(j, w)
			for i := range j.Touchpoints {
				tp := &j.Touchpoints[i]
				ra.add(tp, w[i], w[i]*j.Value)
				if e.reps > 0 {
					ra.reps.add(tp.ch, e.wbuf, w[i])
				}
			}
		}
		if e.coal != nil || e.chain != nil {
			e.spreadJourney(j)
		}
		if e.coal != nil {
			e.coal.observe(e.ids, j.Value, 1)
			for b, w := range e.wbuf {
				e.coalReps[b].observe(e.ids, j.Value, w)
			}
		}
	}
	if e.chain != nil {
		e.chain.observe(e.ids, j.Converted, j.Value, 1)
		for b, w := range e.wbuf {
			e.chainReps[b].observe(e.ids, j.Converted, j.Value, w)
		}
	}
	if e.cfg.OnJourney != nil {
		e.cfg.OnJourney(j)
	}
}

// spreadJourney records, per channel, how the channel's touchpoints in
// converting journeys fall on surfaces, items and arms; the global models'
// channel credit is spread over those in the same proportions.
func (e *Engine) spreadJourney(j *Journey) {
	n := len(e.dims[dimChannel].names)
	if len(e.counts) < n {
		e.counts = make([]int32, n)
	}
	for _, id := range e.ids {
		e.counts[id]++
	}
	for i := range j.Touchpoints {
		tp := &j.Touchpoints[i]
		e.spread.add(tp, 1/float64(e.counts[tp.ch]))
	}
	for _, id := range e.ids {
		e.counts[id] = 0
	}
}

type ruleAgg struct {
	rule Rule
	dims [4][]Credit
	reps repSums
}

func (r *ruleAgg) add(tp *Touchpoint, conv, val float64) {
	for d, id := range [4]int32{tp.ch, tp.surf, tp.it, tp.arm} {
		s := r.dims[d]
		if int(id) >= len(s) {
			s = append(s, make([]Credit, int(id)+1-len(s))...)
			r.dims[d] = s
		}
		s[id].Conversions += conv
		s[id].Value += val
	}
}

// spread holds, per channel and dimension value, the fraction of the
// channel's converting presence.
type spread struct {
	total []float64          // per channel: converting journeys containing it
	share map[uint64]float64 // (channel, dim, id) -> presence
}

func spreadKey(ch int32, d int, id int32) uint64 {
	return uint64(ch)<<34 | uint64(d)<<32 | uint64(uint32(id))
}

func (s *spread) add(tp *Touchpoint, f float64) {
	if s.share == nil {
		s.share = make(map[uint64]float64)
	}
	if int(tp.ch) >= len(s.total) {
		s.total = append(s.total, make([]float64, int(tp.ch)+1-len(s.total))...)
	}
	s.total[tp.ch] += f
	s.share[spreadKey(tp.ch, dimSurface, tp.surf)] += f
	s.share[spreadKey(tp.ch, dimItem, tp.it)] += f
	s.share[spreadKey(tp.ch, dimArm, tp.arm)] += f
}

// interner maps the values of one dimension to dense ids, up to max
// values; the rest share the id of KeyOther.
type interner struct {
	index    map[string]int32
	names    []string
	max      int
	overflow *int64
	none     int32 // id of KeyNone, -1 until seen
	// cache is a direct-mapped cache in front of index: most values
	// repeat, and the decoder's interned strings share their bytes, so a
	// hit costs a string compare that stops at the pointer.
	cache [64]internSlot
}

type internSlot struct {
	s  string
	id int32
}

func newInterner(maxKeys int, overflow *int64) interner {
	in := interner{index: make(map[string]int32), max: maxKeys, overflow: overflow, none: -1}
	for i := range in.cache {
		in.cache[i].id = -1
	}
	return in
}

func (in *interner) id(s string) int32 {
	if s == "" {
		if in.none < 0 {
			in.none = in.lookup(KeyNone)
		}
		return in.none
	}
	c := &in.cache[(uint(len(s))*31+uint(s[0])*7+uint(s[len(s)-1])+uint(s[len(s)/2])*131)%uint(len(in.cache))]
	if c.id >= 0 && c.s == s {
		return c.id
	}
	id := in.lookup(s)
	if in.names[id] == s { // not grouped under KeyOther: overflows count per use
		c.s, c.id = s, id
	}
	return id
}

func (in *interner) lookup(s string) int32 {
	if id, ok := in.index[s]; ok {
		return id
	}
	if len(in.names) >= in.max && s != KeyOther {
		*in.overflow++
		return in.lookup(KeyOther)
	}
	id := int32(len(in.names))
	in.index[s] = id
	in.names = append(in.names, s)
	return id
}

// minHeap is a binary min-heap on at.
type minHeap[T any] []heapEntry[T]

type heapEntry[T any] struct {
	at int64
	v  T
}

func (h *minHeap[T]) push(at int64, v T) {
	*h = append(*h, heapEntry[T]{at, v})
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].at <= s[i].at {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *minHeap[T]) pop() heapEntry[T] {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	var zero heapEntry[T]
	s[n] = zero
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[r].at < s[l].at {
			m = r
		}
		if s[i].at <= s[m].at {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
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
