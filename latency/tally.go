package latency

import "math"

// A Tally holds the observations of one goroutine and adds them to its
// Tracker's windows in bulk, when Flush is called. It is for a goroutine
// that records many observations a second, such as package personalize's
// batchers: [Tracker.ObserveWindows] makes two or three atomic
// read-modify-writes per observation on counters any goroutine may write,
// while a Tally counts in memory only its goroutine writes, and its Flush
// makes one atomic add per bucket touched since the last one.
//
// Observations held by a Tally are not in the windows until Flush; its
// owner decides the delay (personalize flushes with every batch it hands
// to the exporters, so at least every Config.BatchTimeout). Each stage's
// observations go to the 5-second slot they ended in, as with
// ObserveWindows; a Tally flushed so late that its slot was recycled for a
// later one adds them to the slot in progress, like any late observation.
//
// A Tally holds at most 16 stages (further ones are recorded through
// ObserveWindows at once), each with one 4-byte counter per bucket (4.5
// KiB at α = 1%) and a list of the buckets touched: under 150 KiB at
// α = 1%, ten times that at α = 0.1%. It is not safe for concurrent use.
type Tally struct {
	t      *Tracker
	stages []*tallyStage
}

// maxTallyStages bounds the stages a Tally holds.
const maxTallyStages = 16

// tallyMaxHeld bounds the observations a stage holds before it is
// flushed on its own, so no held counter can wrap.
const tallyMaxHeld = 1 << 24

// tallyStage holds one stage's observations since the last flush, all of
// them for the live sketch l.
type tallyStage struct {
	s       *stage
	l       *liveSketch // the slot the held observations belong to; nil when none
	start   int64       // l's start when it was taken
	end     int64       // l's end when it was taken
	held    int
	counts  []uint32 // by bucket index
	touched []int32  // the indexes whose count is not zero
	under   uint64
	over    uint64
	status  [numStatus]uint64
	sum     uint64
	min     int64
	max     int64
}

// NewTally returns an empty Tally of t.
func (t *Tracker) NewTally() *Tally { return &Tally{t: t} }

// ObserveWindows holds o for t's windows until the next Flush. It counts
// o as [Tracker.ObserveWindows] does: by stage (OtherStage past
// MaxStages), clamped duration, status and the slot o ended in.
func (y *Tally) ObserveWindows(o Observation) {
	t := y.t
	s := t.lookup(o.Stage)
	ts := y.stage(s)
	if ts == nil {
		t.observeWindows(s, o)
		return
	}
	st := o.Status
	if st > StatusFallback {
		st = StatusError
	}
	d := min(max(int64(o.Duration), 0), maxObserved)
	if o.Start.IsZero() || o.Start.UnixNano()+d >= ts.end {
		// The slot held may be over: find the slot in progress as
		// observeWindows does, trusting the tracker's clock.
		ts.target(t, o, d)
	}
	ts.add(t.m, d, st)
}

// stage returns s's tallyStage, or nil when the Tally is full.
func (y *Tally) stage(s *stage) *tallyStage {
	for _, ts := range y.stages {
		if ts.s == s {
			return ts
		}
	}
	if len(y.stages) == maxTallyStages {
		return nil
	}
	ts := &tallyStage{s: s, counts: make([]uint32, y.t.m.n), min: math.MaxInt64, max: math.MinInt64}
	y.stages = append(y.stages, ts)
	return ts
}

// target points ts at the slot in progress for o, which took d, flushing
// what ts held for another slot.
func (ts *tallyStage) target(t *Tracker, o Observation, d int64) {
	cur := t.slotFor(ts.s, o, d)
	if cur != ts.l {
		ts.flush()
		ts.l, ts.start = cur, cur.start.Load()
	}
	// An observation past this end (the tracker's clock not there yet)
	// comes back here, as it reads the clock in observeWindows.
	ts.end = cur.end.Load()
}

// add holds d, in [0, 2^50], with status st.
func (ts *tallyStage) add(m *mapping, d int64, st Status) {
	switch i := m.index(d); {
	case i < 0:
		ts.under++
	case i >= len(ts.counts):
		ts.over++
	default:
		if ts.counts[i] == 0 {
			ts.touched = append(ts.touched, int32(i))
		}
		ts.counts[i]++
	}
	if st != StatusOK {
		ts.status[st]++
	}
	ts.sum += uint64(d)
	ts.min = min(ts.min, d)
	ts.max = max(ts.max, d)
	if ts.held++; ts.held >= tallyMaxHeld {
		ts.flush()
	}
}

// Flush adds every held observation to the tracker's windows.
func (y *Tally) Flush() {
	for _, ts := range y.stages {
		ts.flush()
	}
}

// flush adds what ts holds to its slot. It holds the series' lock, which
// the tracker takes to move slots on, so the slot cannot be merged, reset
// or dropped while the counts go in; a slot that has left the level-0
// ring (merged upward, then recycled for a later slot or dropped) is
// replaced by the slot in progress.
func (ts *tallyStage) flush() {
	if ts.held == 0 {
		return
	}
	ser := ts.s.series
	ser.mu.Lock()
	l := ts.l
	if !ser.liveLocked(l, ts.start) {
		l = ser.cur.Load()
	}
	for _, i := range ts.touched {
		l.counts[i].Add(ts.counts[i])
		ts.counts[i] = 0
	}
	ts.touched = ts.touched[:0]
	if ts.under != 0 {
		l.under.Add(ts.under)
	}
	if ts.over != 0 {
		l.over.Add(ts.over)
	}
	for i, c := range ts.status {
		if c != 0 {
			l.status[i].Add(c)
		}
	}
	l.sums[0].Add(ts.sum)
	for cur := l.max.Load(); ts.max > cur && !l.max.CompareAndSwap(cur, ts.max); cur = l.max.Load() {
	}
	for cur := l.min.Load(); ts.min < cur && !l.min.CompareAndSwap(cur, ts.min); cur = l.min.Load() {
	}
	ser.mu.Unlock()
	ts.under, ts.over, ts.status, ts.sum = 0, 0, [numStatus]uint64{}, 0
	ts.min, ts.max, ts.held = math.MaxInt64, math.MinInt64, 0
}
