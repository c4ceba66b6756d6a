package relevance

import (
	"fmt"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/join"
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
	// (later than Window), outcomes without a request id, and Late ones.
	Unjoined int64
	// Late counts unjoined outcomes whose impression was still pending
	// (it arrived out of order) but which came after its window.
	Late int64
	// UnknownItem counts joined outcomes naming an item not in the
	// impression (they still count toward the impression's Outcomes).
	UnknownItem int64
	// Evicted counts impressions finalized early because MaxPending was
	// reached.
	Evicted int64
	Pending int // impressions waiting now
}

// Joiner joins outcomes to impressions by request id in bounded memory,
// through the shared join of package join (see it for the event-time and
// window rules): an outcome later than Window after its impression's end
// never joins. It grades each slot's item by its outcomes and calls done
// for every finalized impression. It keeps each pending impression's
// pointer (events are read-only and may be kept). done must not keep the
// *Joined: it is reused.
//
// A Joiner is not safe for concurrent use.
type Joiner struct {
	j           *join.Joiner[*Joined]
	grades      [personalize.OutcomeCustom + 1]float64
	unknownItem int64
}

// NewJoiner validates cfg and returns a Joiner calling done for every
// finalized impression.
func NewJoiner(cfg JoinConfig, done func(*Joined)) (*Joiner, error) {
	if done == nil {
		return nil, fmt.Errorf("relevance: NewJoiner: done: must not be nil")
	}
	jc := join.Config{Window: cfg.Window, MaxPending: cfg.MaxPending}
	if err := jc.Check("relevance: JoinConfig"); err != nil {
		return nil, err
	}
	j := &Joiner{}
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
	var err error
	j.j, err = join.New(jc, func(e *join.Entry[*Joined]) error {
		done(e.Value)
		return nil
	})
	return j, err
}

// Impression starts waiting for outcomes of im and returns its record, or
// nil when im's request id is already pending (a duplicate). The record is
// not finalized before the next call to the Joiner, so the caller can set
// its Key; an impression older than the window is finalized by that next
// call.
func (j *Joiner) Impression(im *personalize.Impression) *Joined {
	e, _ := j.j.Impression(im) // done returns no error
	if e == nil {
		return nil
	}
	r := e.Value
	if r == nil {
		r = &Joined{}
		e.Value = r
	}
	r.Impression, r.Key, r.seg, r.Outcomes = im, segment.Key{}, nil, 0
	r.Order = e.Order
	r.Grade, r.Clicked = r.Grade[:0], r.Clicked[:0]
	for range e.Order {
		r.Grade = append(r.Grade, 0)
		r.Clicked = append(r.Clicked, false)
	}
	return r
}

// Outcome joins o to its pending impression and returns the impression's
// record, or nil when there is none.
func (j *Joiner) Outcome(o *personalize.Outcome) *Joined {
	e, _ := j.j.Outcome(o)
	if e == nil {
		return nil
	}
	r := e.Value
	r.Outcomes = e.Outcomes
	slot := e.Slot(o.Item)
	if slot < 0 {
		j.unknownItem++
		return r
	}
	if o.Kind <= personalize.OutcomeCustom {
		r.Grade[slot] = max(r.Grade[slot], j.grades[o.Kind])
	}
	if o.Kind == personalize.OutcomeClick {
		r.Clicked[slot] = true
	}
	return r
}

// Advance moves event time to t (if later) and finalizes impressions that
// ended more than Window before it.
func (j *Joiner) Advance(t time.Time) { _ = j.j.Advance(t) }

// Flush finalizes every pending impression (end of an offline run, or
// shutdown).
func (j *Joiner) Flush() { _ = j.j.Flush() }

// Stats returns the counters so far.
func (j *Joiner) Stats() JoinStats {
	s := j.j.Stats()
	return JoinStats{Impressions: s.Impressions, Duplicates: s.Duplicates, Outcomes: s.Outcomes,
		Unjoined: s.Unjoined, Late: s.Late, UnknownItem: j.unknownItem, Evicted: s.Evicted, Pending: s.Pending}
}
