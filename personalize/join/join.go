// Package join joins outcomes to the impressions they follow, by request
// id and item, in event time and bounded memory. It is the one join of the
// measurement packages: relevance grades ranked items by their outcomes
// and replay rewards logged slots through it.
//
// Impressions wait in arrival order. Event time is the largest event time
// seen (so an offline replay of files behaves like the live stream); an
// impression is finalized (handed to the done callback) once it ended more
// than Config.Window before event time, or early when more than
// Config.MaxPending impressions wait. An outcome joins its impression when
// that impression is pending and the outcome happened within Window of the
// impression's end; otherwise it is counted as unjoined (Late when the
// impression was still pending but the outcome came after its window).
//
// Attribution joins differently (conversions to a user's journey across
// requests, not outcomes to one request) and keeps its own engine.
package join

import (
	"fmt"
	"slices"
	"time"

	"github.com/rankscope/rankscope/personalize/schema"
)

// Defaults of [Config].
const (
	DefaultWindow     = 30 * time.Minute
	DefaultMaxPending = 100_000
	// maxFree bounds the finalized entries kept for reuse.
	maxFree = 1024
)

// Config bounds a [Joiner]. The zero value means the defaults.
type Config struct {
	// Window is how long, in event time, an impression waits for its
	// outcomes (default [DefaultWindow]).
	Window time.Duration
	// MaxPending bounds the impressions waiting (default
	// [DefaultMaxPending]); when it is exceeded the oldest is finalized
	// early.
	MaxPending int
}

// Check validates c; errors name the field with prefix (the caller's
// package and config type, e.g. "relevance: JoinConfig").
func (c Config) Check(prefix string) error {
	if c.Window < 0 {
		return fmt.Errorf("%s.Window: must be >= 0 (0 for the default), got %v", prefix, c.Window)
	}
	if c.MaxPending < 0 {
		return fmt.Errorf("%s.MaxPending: must be >= 0 (0 for the default), got %d", prefix, c.MaxPending)
	}
	return nil
}

// Stats counts what a Joiner did.
type Stats struct {
	Impressions int64 // impressions accepted
	Duplicates  int64 // impressions whose request id was already pending
	Outcomes    int64 // outcomes joined to a pending impression
	// Unjoined counts outcomes joined to nothing: no request id, no
	// pending impression with it (unknown, or finalized already), or
	// Late.
	Unjoined int64
	// Late counts the unjoined outcomes whose impression was still
	// pending but which happened more than Window after its end.
	Late int64
	// Evicted counts impressions finalized early because MaxPending was
	// exceeded.
	Evicted int64
	Pending int // impressions waiting now
}

// Entry is one pending impression and the caller's state for it.
type Entry[T any] struct {
	Impression *schema.Impression
	// Order maps display slot to the index in Impression.Items: slot 0 is
	// the item with the smallest Position.
	Order []int
	// Outcomes counts the outcomes joined to the impression.
	Outcomes int
	// Value is the caller's. Entries are reused after they are finalized
	// and Value is kept, so a caller can reuse what it holds (slices);
	// it must reset it when Impression returns the entry.
	Value T
}

// Slot returns the display slot of the item with id item, or -1.
func (e *Entry[T]) Slot(item string) int {
	n := len(item)
	if n == 0 {
		return -1
	}
	last := item[n-1]
	items := e.Impression.Items
	for s, i := range e.Order {
		// Length and last byte first: item ids often share a prefix and
		// length, and this saves a call per item.
		if id := items[i].ID; len(id) == n && id[n-1] == last && id == item {
			return s
		}
	}
	return -1
}

// Joiner joins outcomes to pending impressions. It keeps each pending
// impression's pointer (exported events are read-only and may be kept).
// It is not safe for concurrent use.
type Joiner[T any] struct {
	window     time.Duration
	maxPending int
	done       func(*Entry[T]) error

	pending   map[schema.RequestID]*Entry[T]
	queue     []*Entry[T]
	head      int
	free      []*Entry[T]
	watermark time.Time
	stats     Stats
}

// New validates cfg and returns a Joiner that calls done for every
// finalized entry. done must not keep the *Entry: it is reused. An error
// done returns is returned by the call that finalized the entry (the
// first one, when several are finalized); the Joiner stays usable.
func New[T any](cfg Config, done func(*Entry[T]) error) (*Joiner[T], error) {
	if err := cfg.Check("join: Config"); err != nil {
		return nil, err
	}
	if done == nil {
		return nil, fmt.Errorf("join: New: done: must not be nil")
	}
	j := &Joiner[T]{window: cfg.Window, maxPending: cfg.MaxPending, done: done,
		pending: make(map[schema.RequestID]*Entry[T])}
	if j.window == 0 {
		j.window = DefaultWindow
	}
	if j.maxPending == 0 {
		j.maxPending = DefaultMaxPending
	}
	return j, nil
}

// Pending reports whether an impression with request id req is waiting.
func (j *Joiner[T]) Pending(req schema.RequestID) bool {
	_, ok := j.pending[req]
	return ok
}

// Window returns the join window in use.
func (j *Joiner[T]) Window() time.Duration { return j.window }

// Impression starts waiting for the outcomes of im and returns its entry,
// or nil when im's request id is already pending (a duplicate). Event time
// advances to im.End first, so the returned entry is not finalized before
// the next call to the Joiner and the caller can fill its Value.
func (j *Joiner[T]) Impression(im *schema.Impression) (*Entry[T], error) {
	if _, dup := j.pending[im.RequestID]; dup {
		j.stats.Duplicates++
		return nil, nil
	}
	err := j.Advance(im.End)
	j.stats.Impressions++
	e := j.alloc()
	e.Impression = im
	n := len(im.Items)
	for i := range n {
		e.Order = append(e.Order, i)
	}
	for i := 1; i < n; i++ {
		if im.Items[i].Position < im.Items[i-1].Position {
			slices.SortStableFunc(e.Order, func(a, b int) int { return im.Items[a].Position - im.Items[b].Position })
			break
		}
	}
	j.pending[im.RequestID] = e
	j.queue = append(j.queue, e)
	for len(j.pending) > j.maxPending {
		j.stats.Evicted++
		if ferr := j.finalizeHead(); err == nil {
			err = ferr
		}
	}
	return e, err
}

// Outcome joins o to its pending impression and returns the entry, or nil
// when it joins none. Event time advances to o.Time first.
func (j *Joiner[T]) Outcome(o *schema.Outcome) (*Entry[T], error) {
	err := j.Advance(o.Time)
	e := j.pending[o.RequestID]
	if e == nil || o.RequestID == "" {
		j.stats.Unjoined++
		return nil, err
	}
	if o.Time.After(e.Impression.End.Add(j.window)) {
		// Still pending only because it arrived out of order.
		j.stats.Unjoined++
		j.stats.Late++
		return nil, err
	}
	j.stats.Outcomes++
	e.Outcomes++
	return e, err
}

// Advance moves event time to t (if later) and finalizes the impressions
// at the head of the queue that ended more than Window before it.
func (j *Joiner[T]) Advance(t time.Time) error {
	if t.After(j.watermark) {
		j.watermark = t
	}
	var first error
	cut := j.watermark.Add(-j.window)
	for j.head < len(j.queue) && j.queue[j.head].Impression.End.Before(cut) {
		if err := j.finalizeHead(); first == nil {
			first = err
		}
	}
	return first
}

// Flush finalizes every pending impression (the end of an offline run, or
// shutdown).
func (j *Joiner[T]) Flush() error {
	var first error
	for j.head < len(j.queue) {
		if err := j.finalizeHead(); first == nil {
			first = err
		}
	}
	return first
}

// Stats returns the counters so far.
func (j *Joiner[T]) Stats() Stats {
	s := j.stats
	s.Pending = len(j.pending)
	return s
}

func (j *Joiner[T]) finalizeHead() error {
	e := j.queue[j.head]
	j.queue[j.head] = nil
	j.head++
	if j.head > 1024 && j.head*2 > len(j.queue) {
		n := copy(j.queue, j.queue[j.head:])
		clear(j.queue[n:])
		j.queue = j.queue[:n]
		j.head = 0
	}
	delete(j.pending, e.Impression.RequestID)
	err := j.done(e)
	if len(j.free) < maxFree {
		e.Impression = nil // hold no event
		e.Order = e.Order[:0]
		e.Outcomes = 0
		j.free = append(j.free, e)
	}
	return err
}

func (j *Joiner[T]) alloc() *Entry[T] {
	if n := len(j.free); n > 0 {
		e := j.free[n-1]
		j.free = j.free[:n-1]
		return e
	}
	return &Entry[T]{}
}
