package relevance

import (
	"fmt"
	"slices"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/segment"
)

// JoinConfig configures a [Joiner]. The zero value means the defaults.
type JoinConfig struct {
	// Window is how long, in event time, an impression waits for its
	// outcomes before it is finalized (default 30 minutes). Event time is
	// the largest event time seen so far, so offline replays behave like
	// the live stream.
	Window time.Duration
	// MaxPending bounds the impressions waiting for outcomes (default
	// 100,000). When full, the oldest is finalized early.
	MaxPending int
	// Grades maps an outcome kind to the relevance grade it gives the item;
	// an item's grade is the largest grade among its outcomes (not the
	// sum). Nil means {click: 1, signup: 2, purchase: 3, custom: 1}; dwell
	// and scroll outcomes grade 0 unless listed (they feed engagement).
	Grades map[personalize.OutcomeKind]float64
}

// Joined is an impression with the outcomes joined to it by request id.
// Slices are indexed by display slot: slot 0 is the item with the smallest
// Position.
type Joined struct {
	Impression *personalize.Impression
	// Key is free for the caller (the Analyzer stores the segment here).
	Key segment.Key
	// Order maps display slot to the index in Impression.Items.
	Order []int
	// Grade is the relevance grade of each slot's item (0 without outcome).
	Grade []float64
	// Clicked reports whether each slot's item got an OutcomeClick.
	Clicked []bool
	// Outcomes counts the outcomes joined to the impression.
	Outcomes int

	seg *acc // the Analyzer's accumulator for Key, saving a map lookup per outcome
}

// JoinStats counts what a Joiner did.
type JoinStats struct {
	Impressions int64 // impressions accepted
	Duplicates  int64 // impressions whose request id was already pending
	Outcomes    int64 // outcomes joined to a pending impression
	// Unjoined counts outcomes with no pending impression for their request
	// id: unknown requests, requests finalized before the outcome arrived
	// (later than Window), or outcomes without a request id.
	Unjoined int64
	// UnknownItem counts joined outcomes naming an item not in the
	// impression (they still count toward the impression's Outcomes).
	UnknownItem int64
	// Evicted counts impressions finalized early because MaxPending was
	// reached.
	Evicted int64
	Pending int // impressions waiting now
}

// Joiner joins outcomes to impressions by request id in bounded memory.
// Impressions are finalized in arrival order once the head of the queue
// ended more than Window before the latest event time, so an impression
// arriving out of order waits behind newer ones (MaxPending still bounds
// the queue).
// It keeps each pending impression's pointer (events are read-only and may
// be kept) and finalizes an impression by calling done once it is older
// than the window. done must not keep the *Joined: it is reused.
//
// A Joiner is not safe for concurrent use.
type Joiner struct {
	window     time.Duration
	maxPending int
	grades     [personalize.OutcomeCustom + 1]float64
	done       func(*Joined)

	pending   map[personalize.RequestID]*Joined
	queue     []*Joined
	head      int
	free      []*Joined
	watermark time.Time
	stats     JoinStats
}

// NewJoiner validates cfg and returns a Joiner calling done for every
// finalized impression.
func NewJoiner(cfg JoinConfig, done func(*Joined)) (*Joiner, error) {
	if done == nil {
		return nil, fmt.Errorf("relevance: NewJoiner: done: must not be nil")
	}
	j := &Joiner{window: cfg.Window, maxPending: cfg.MaxPending, done: done, pending: make(map[string]*Joined)}
	if j.window == 0 {
		j.window = 30 * time.Minute
	}
	if j.window < 0 {
		return nil, fmt.Errorf("relevance: JoinConfig.Window: must be > 0, got %v", cfg.Window)
	}
	if j.maxPending == 0 {
		j.maxPending = 100_000
	}
	if j.maxPending < 0 {
		return nil, fmt.Errorf("relevance: JoinConfig.MaxPending: must be > 0, got %d", cfg.MaxPending)
	}
	if cfg.Grades == nil {
		j.grades[personalize.OutcomeClick] = 1
		j.grades[personalize.OutcomeSignup] = 2
		j.grades[personalize.OutcomePurchase] = 3
		j.grades[personalize.OutcomeCustom] = 1
	}
	for k, g := range cfg.Grades {
		if k == 0 || k > personalize.OutcomeCustom {
			return nil, fmt.Errorf("relevance: JoinConfig.Grades: unknown outcome kind %d", k)
		}
		if !(g >= 0) || g > 1e6 {
			return nil, fmt.Errorf("relevance: JoinConfig.Grades[%s]: must be in [0, 1e6], got %v", k, g)
		}
		j.grades[k] = g
	}
	return j, nil
}

// Impression starts waiting for outcomes of im and returns its record, or
// nil when im's request id is already pending (a duplicate). The record is
// not finalized before the next call to the Joiner, so the caller can set
// its Key; an impression older than the window is finalized by that next
// call.
func (j *Joiner) Impression(im *personalize.Impression) *Joined {
	if _, dup := j.pending[im.RequestID]; dup {
		j.stats.Duplicates++
		return nil
	}
	// Advance first: the returned record must survive until the caller's
	// next call to the Joiner (it sets Key), even for an impression that
	// is already older than the window.
	j.advance(im.End)
	j.stats.Impressions++
	r := j.alloc()
	r.Impression = im
	n := len(im.Items)
	for i := range n {
		r.Order = append(r.Order, i)
		r.Grade = append(r.Grade, 0)
		r.Clicked = append(r.Clicked, false)
	}
	sorted := true
	for i := 1; i < n; i++ {
		if im.Items[i].Position < im.Items[i-1].Position {
			sorted = false
			break
		}
	}
	if !sorted {
		slices.SortFunc(r.Order, func(a, b int) int { return im.Items[a].Position - im.Items[b].Position })
	}
	j.pending[im.RequestID] = r
	j.queue = append(j.queue, r)
	for len(j.pending) > j.maxPending {
		j.stats.Evicted++
		j.finalizeHead()
	}
	return r
}

// Outcome joins o to its pending impression and returns the impression's
// record, or nil when there is none.
func (j *Joiner) Outcome(o *personalize.Outcome) *Joined {
	// Advance first: an outcome later than its impression's window closes
	// that window (the impression is finalized, the outcome unjoined), and
	// the record returned below stays pending until the next call.
	j.advance(o.Time)
	r := j.pending[o.RequestID]
	if r == nil || o.RequestID == "" {
		j.stats.Unjoined++
		return nil
	}
	j.stats.Outcomes++
	r.Outcomes++
	slot := -1
	if n := len(o.Item); n > 0 {
		last := o.Item[n-1]
		for s, i := range r.Order {
			// Length and last byte first: item ids often share a prefix
			// and length, and this saves a call per item.
			if id := r.Impression.Items[i].ID; len(id) == n && id[n-1] == last && id == o.Item {
				slot = s
				break
			}
		}
	}
	if slot < 0 {
		j.stats.UnknownItem++
	} else {
		if o.Kind <= personalize.OutcomeCustom {
			r.Grade[slot] = max(r.Grade[slot], j.grades[o.Kind])
		}
		if o.Kind == personalize.OutcomeClick {
			r.Clicked[slot] = true
		}
	}
	return r
}

// Advance moves event time to t (if later) and finalizes impressions that
// ended more than Window before it.
func (j *Joiner) Advance(t time.Time) { j.advance(t) }

func (j *Joiner) advance(t time.Time) {
	if t.After(j.watermark) {
		j.watermark = t
	}
	cut := j.watermark.Add(-j.window)
	for j.head < len(j.queue) && j.queue[j.head].Impression.End.Before(cut) {
		j.finalizeHead()
	}
}

// Flush finalizes every pending impression (end of an offline run, or
// shutdown).
func (j *Joiner) Flush() {
	for j.head < len(j.queue) {
		j.finalizeHead()
	}
}

// Stats returns the counters so far.
func (j *Joiner) Stats() JoinStats {
	s := j.stats
	s.Pending = len(j.pending)
	return s
}

func (j *Joiner) finalizeHead() {
	r := j.queue[j.head]
	j.queue[j.head] = nil
	j.head++
	if j.head > 1024 && j.head*2 > len(j.queue) {
		n := copy(j.queue, j.queue[j.head:])
		clear(j.queue[n:])
		j.queue = j.queue[:n]
		j.head = 0
	}
	delete(j.pending, r.Impression.RequestID)
	j.done(r)
	if len(j.free) < 1024 {
		r.Impression = nil
		r.Key = segment.Key{}
		r.seg = nil
		r.Order, r.Grade, r.Clicked = r.Order[:0], r.Grade[:0], r.Clicked[:0]
		r.Outcomes = 0
		j.free = append(j.free, r)
	}
}

func (j *Joiner) alloc() *Joined {
	if n := len(j.free); n > 0 {
		r := j.free[n-1]
		j.free = j.free[:n-1]
		return r
	}
	return &Joined{}
}
