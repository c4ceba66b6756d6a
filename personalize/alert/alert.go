package alert

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"
)

// Severity says how urgently an alert needs a person.
type Severity uint8

// Severities.
const (
	SeverityRoutine  Severity = iota + 1 // a ticket or a dashboard entry
	SeverityCritical                     // page someone now
)

// String returns "routine" or "critical".
func (s Severity) String() string {
	switch s {
	case SeverityRoutine:
		return "routine"
	case SeverityCritical:
		return "critical"
	}
	return "unknown"
}

// Direction says on which side of the threshold a signal is bad.
type Direction uint8

// Directions.
const (
	// DirectionAbove: bad when the value is >= Enter, good again when <= Exit
	// (latency, drift, missing rate, lag).
	DirectionAbove Direction = iota
	// DirectionBelow: bad when the value is <= Enter, good again when >= Exit
	// (conversion rate, throughput).
	DirectionBelow
)

// State is where one (rule, key) pair stands.
type State uint8

// States.
const (
	StateOK        State = iota // within bounds
	StatePending                // past Enter for less than For
	StateFiring                 // fired, not resolved
	StateResolving              // firing, but past Exit for less than ResolveFor
)

var stateNames = [...]string{"ok", "pending", "firing", "resolving"}

// String returns the state's name.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Rule describes when a signal alerts. The zero Severity means
// [SeverityRoutine].
type Rule struct {
	// Name identifies the rule and the signal it watches, e.g.
	// "latency.p99_ms" or "drift.psi". Required.
	Name      string
	Severity  Severity
	Direction Direction
	// Enter is the threshold at which the signal becomes bad (inclusive).
	Enter float64
	// Exit is the threshold at which a firing alert becomes good again
	// (inclusive). It must be on the safe side of Enter: <= Enter for
	// DirectionAbove, >= Enter for DirectionBelow. Equal values disable
	// hysteresis.
	Exit float64
	// For is how long the value must stay past Enter, without a single
	// observation back inside, before the alert fires. 0 fires on the first
	// bad observation.
	For time.Duration
	// ResolveFor is how long the value must stay past Exit before a firing
	// alert resolves. 0 resolves on the first good observation.
	ResolveFor time.Duration
}

func (r Rule) validate() error {
	switch {
	case r.Name == "":
		return errors.New("alert: Rule.Name: must not be empty")
	case r.Severity > SeverityCritical:
		return fmt.Errorf("alert: Rule %q: Severity: unknown value %d", r.Name, r.Severity)
	case r.Direction > DirectionBelow:
		return fmt.Errorf("alert: Rule %q: Direction: unknown value %d", r.Name, r.Direction)
	case math.IsNaN(r.Enter) || math.IsInf(r.Enter, 0):
		return fmt.Errorf("alert: Rule %q: Enter: must be finite, got %v", r.Name, r.Enter)
	case math.IsNaN(r.Exit) || math.IsInf(r.Exit, 0):
		return fmt.Errorf("alert: Rule %q: Exit: must be finite, got %v", r.Name, r.Exit)
	case r.Direction == DirectionAbove && r.Exit > r.Enter:
		return fmt.Errorf("alert: Rule %q: Exit: must be <= Enter (%v) for DirectionAbove, got %v", r.Name, r.Enter, r.Exit)
	case r.Direction == DirectionBelow && r.Exit < r.Enter:
		return fmt.Errorf("alert: Rule %q: Exit: must be >= Enter (%v) for DirectionBelow, got %v", r.Name, r.Enter, r.Exit)
	case r.For < 0:
		return fmt.Errorf("alert: Rule %q: For: must be >= 0, got %v", r.Name, r.For)
	case r.ResolveFor < 0:
		return fmt.Errorf("alert: Rule %q: ResolveFor: must be >= 0, got %v", r.Name, r.ResolveFor)
	}
	return nil
}

func (r *Rule) bad(v float64) bool {
	if r.Direction == DirectionBelow {
		return v <= r.Enter
	}
	return v >= r.Enter
}

func (r *Rule) good(v float64) bool {
	if r.Direction == DirectionBelow {
		return v >= r.Exit
	}
	return v <= r.Exit
}

// Alert is a transition handed to a [Handler]: State is [StateFiring] when
// the alert fires and [StateOK] when it resolves.
type Alert struct {
	Rule     string
	Key      string
	Severity Severity
	State    State
	// Value is the observation that caused the transition.
	Value float64
	// Threshold is Enter when firing, Exit when resolving.
	Threshold float64
	// Since is when the value first crossed the threshold of this transition.
	Since time.Time
	// At is the time of the observation that caused the transition.
	At time.Time
}

// Firing reports whether the alert is firing (rather than resolved).
func (a Alert) Firing() bool { return a.State == StateFiring }

// String is a one-line human summary.
func (a Alert) String() string {
	verb := "resolved"
	if a.Firing() {
		verb = "firing"
	}
	key := ""
	if a.Key != "" {
		key = "[" + a.Key + "]"
	}
	return fmt.Sprintf("%s %s%s %s: value %g, threshold %g, since %s", a.Severity, a.Rule, key, verb, a.Value, a.Threshold, a.Since.UTC().Format(time.RFC3339))
}

// Handler receives alert transitions: per (rule, key) pair one at a time,
// in transition order; calls for different pairs may be concurrent. See
// the package doc's "Delivery order" for what a handler must not do.
type Handler interface {
	Handle(ctx context.Context, a Alert)
}

// HandlerFunc adapts a function to a [Handler].
type HandlerFunc func(ctx context.Context, a Alert)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, a Alert) { f(ctx, a) }

var _ Handler = HandlerFunc(nil)

// Discard is a [Handler] that ignores every alert.
var Discard Handler = HandlerFunc(func(context.Context, Alert) {})

// Config configures an [Evaluator]. The zero value of every field but
// Handler and Rules means the documented default.
type Config struct {
	// Handler receives every transition. Required (use [Discard] to only
	// read [Evaluator.Active]).
	Handler Handler
	// Rules are the rules the evaluator knows; names must be unique.
	Rules []Rule
	// MaxKeys bounds the (rule, key) pairs tracked. Default 4096.
	MaxKeys int
}

// DefaultMaxKeys is Config.MaxKeys's default.
const DefaultMaxKeys = 4096

// ErrTooManyKeys is returned by Observe when Config.MaxKeys pairs are
// already tracked and the observation names a new one.
var ErrTooManyKeys = errors.New("alert: too many (rule, key) pairs; raise Config.MaxKeys")

type pairKey struct{ rule, key string }

type track struct {
	rule  *Rule
	state State
	since time.Time // start of the current pending/resolving stretch, or firing start
	value float64
	last  time.Time

	// Delivery order: each transition takes the ticket issued (then
	// increments it) under the evaluator's lock; its handler call starts
	// once delivered equals its ticket, and delivered is incremented when
	// the call returns. turn, made on first need, is signalled then.
	issued, delivered uint64
	turn              *sync.Cond
}

// Evaluator tracks rules per key and calls the handler on transitions.
type Evaluator struct {
	handler Handler
	rules   map[string]*Rule
	maxKeys int

	mu      sync.Mutex
	tracks  map[pairKey]*track
	dropped uint64
}

// New validates cfg and returns an Evaluator.
func New(cfg Config) (*Evaluator, error) {
	if cfg.Handler == nil {
		return nil, errors.New("alert: Config.Handler: required (use alert.Discard to ignore transitions)")
	}
	if cfg.MaxKeys < 0 {
		return nil, fmt.Errorf("alert: Config.MaxKeys: must be >= 0, got %d", cfg.MaxKeys)
	}
	if cfg.MaxKeys == 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	e := &Evaluator{handler: cfg.Handler, rules: make(map[string]*Rule, len(cfg.Rules)), maxKeys: cfg.MaxKeys, tracks: make(map[pairKey]*track)}
	for i := range cfg.Rules {
		r := cfg.Rules[i]
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("%w (Config.Rules[%d])", err, i)
		}
		if r.Severity == 0 {
			r.Severity = SeverityRoutine
		}
		if _, dup := e.rules[r.Name]; dup {
			return nil, fmt.Errorf("alert: Config.Rules[%d].Name: duplicate rule %q", i, r.Name)
		}
		e.rules[r.Name] = &r
	}
	return e, nil
}

// Has reports whether the evaluator has a rule named name.
func (e *Evaluator) Has(rule string) bool { _, ok := e.rules[rule]; return ok }

// Observe feeds one value of the signal watched by rule, for key (may be
// ""), observed at now. Observations of one pair should come in time
// order; an observation older than the previous one is ignored. It returns
// an error for an unknown rule, a NaN value, or [ErrTooManyKeys].
//
// When the observation causes a transition, Observe calls the handler
// before returning, first waiting for the handler calls of the pair's
// earlier transitions to return (see the package doc's "Delivery order").
func (e *Evaluator) Observe(ctx context.Context, now time.Time, rule, key string, value float64) error {
	r, ok := e.rules[rule]
	if !ok {
		return fmt.Errorf("alert: Observe: unknown rule %q", rule)
	}
	if math.IsNaN(value) {
		return fmt.Errorf("alert: Observe: rule %q key %q: value is NaN", rule, key)
	}
	e.mu.Lock()
	pk := pairKey{rule, key}
	t := e.tracks[pk]
	if t == nil {
		if len(e.tracks) >= e.maxKeys {
			e.dropped++
			e.mu.Unlock()
			return ErrTooManyKeys
		}
		t = &track{rule: r}
		e.tracks[pk] = t
	}
	if !t.last.IsZero() && now.Before(t.last) {
		e.mu.Unlock()
		return nil
	}
	t.last = now
	t.value = value
	var out Alert
	notify := false
	switch t.state {
	case StateOK:
		if r.bad(value) {
			t.state, t.since = StatePending, now
			if r.For == 0 {
				t.state = StateFiring
				out, notify = Alert{Rule: rule, Key: key, Severity: r.Severity, State: StateFiring, Value: value, Threshold: r.Enter, Since: now, At: now}, true
			}
		}
	case StatePending:
		switch {
		case !r.bad(value):
			t.state = StateOK
		case now.Sub(t.since) >= r.For:
			t.state = StateFiring
			out, notify = Alert{Rule: rule, Key: key, Severity: r.Severity, State: StateFiring, Value: value, Threshold: r.Enter, Since: t.since, At: now}, true
		}
	case StateFiring:
		if r.good(value) {
			t.state, t.since = StateResolving, now
			if r.ResolveFor == 0 {
				t.state = StateOK
				out, notify = Alert{Rule: rule, Key: key, Severity: r.Severity, State: StateOK, Value: value, Threshold: r.Exit, Since: now, At: now}, true
			}
		}
	case StateResolving:
		switch {
		case !r.good(value):
			t.state = StateFiring
		case now.Sub(t.since) >= r.ResolveFor:
			t.state = StateOK
			out, notify = Alert{Rule: rule, Key: key, Severity: r.Severity, State: StateOK, Value: value, Threshold: r.Exit, Since: t.since, At: now}, true
		}
	}
	if !notify {
		e.mu.Unlock()
		return nil
	}
	// Deliver in transition order: wait (the lock released while
	// waiting) for the transitions of this pair decided before this one
	// to be handled. The handler runs without the lock.
	ticket := t.issued
	t.issued++
	for t.delivered != ticket {
		if t.turn == nil {
			t.turn = sync.NewCond(&e.mu)
		}
		t.turn.Wait()
	}
	e.mu.Unlock()
	e.deliver(ctx, t, out)
	return nil
}

// deliver calls the handler for t's transition whose turn it is, then
// passes the turn on, even if the handler panics.
func (e *Evaluator) deliver(ctx context.Context, t *track, a Alert) {
	defer func() {
		e.mu.Lock()
		t.delivered++
		if t.turn != nil {
			t.turn.Broadcast()
		}
		e.mu.Unlock()
	}()
	e.handler.Handle(ctx, a)
}

// State returns the state of (rule, key); StateOK for a pair never seen.
func (e *Evaluator) State(rule, key string) State {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t := e.tracks[pairKey{rule, key}]; t != nil {
		return t.state
	}
	return StateOK
}

// Active returns the alerts currently firing or resolving, sorted by
// severity (critical first), rule and key. Value is the latest
// observation.
func (e *Evaluator) Active() []Alert {
	e.mu.Lock()
	var out []Alert
	for pk, t := range e.tracks {
		if t.state == StateFiring || t.state == StateResolving {
			out = append(out, Alert{Rule: pk.rule, Key: pk.key, Severity: t.rule.Severity, State: t.state, Value: t.value, Threshold: t.rule.Enter, Since: t.since, At: t.last})
		}
	}
	e.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Key < b.Key
	})
	return out
}

// Forget stops tracking key under every rule (for a segment or feature that
// went away) without notifying.
func (e *Evaluator) Forget(key string) {
	e.mu.Lock()
	for pk := range e.tracks {
		if pk.key == key {
			delete(e.tracks, pk)
		}
	}
	e.mu.Unlock()
}

// Dropped returns how many observations were refused with ErrTooManyKeys.
func (e *Evaluator) Dropped() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dropped
}

// DropZ returns the one-sided z statistic for a rate falling below its
// baseline: (base - successes/trials) / sqrt(base*(1-base)/trials), the
// normal approximation to the binomial. Large positive values mean the
// observed rate is lower than the baseline by more than sampling noise
// explains; feed it to a DirectionAbove rule (e.g. routine at 3, critical
// at 5). It returns 0 when trials is 0 or base is not in (0,1).
func DropZ(base float64, successes, trials int64) float64 {
	if trials <= 0 || !(base > 0 && base < 1) || successes < 0 {
		return 0
	}
	p := float64(successes) / float64(trials)
	return (base - p) / math.Sqrt(base*(1-base)/float64(trials))
}
