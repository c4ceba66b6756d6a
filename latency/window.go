package latency

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Window is a sliding time window over which a [Tracker] answers. The zero
// Window is [WindowMinute].
//
// A window is built from slots: at time now, window W covers every
// observation made at or after floor(now, slot) - W, where slot is the
// window's slot length, so it spans between W and W + slot:
//
//	Window        slot    covers
//	WindowMinute  5 s     60..65 s
//	WindowHour    5 min   60..65 min
//	WindowDay     1 h     24..25 h
type Window uint8

// Windows.
const (
	WindowMinute Window = iota
	WindowHour
	WindowDay
)

var windowNames = [...]string{"minute", "hour", "day"}

// String returns "minute", "hour" or "day".
func (w Window) String() string {
	if int(w) < len(windowNames) {
		return windowNames[w]
	}
	return fmt.Sprintf("Window(%d)", uint8(w))
}

// Duration returns the nominal length of w (1 min, 1 h, 24 h), or 0 for an
// unknown window.
func (w Window) Duration() time.Duration {
	if !w.valid() {
		return 0
	}
	return time.Duration(levels[w].keep) * levels[w].slot
}

// Slot returns the granularity with which w slides.
func (w Window) Slot() time.Duration {
	if !w.valid() {
		return 0
	}
	return levels[w].slot
}

func (w Window) valid() bool { return w <= WindowDay }

// cutoff returns the Unix-ns start of w at now.
func (w Window) cutoff(now int64) int64 {
	lv := levels[w]
	return floorTo(now, int64(lv.slot)) - int64(lv.keep)*int64(lv.slot)
}

// levels describes the three rings: level 0 (live, lock-free) feeds the
// minute window, level 1 the hour window and level 2 the day window. Each
// level keeps `keep` completed slots plus the slot in progress; a slot that
// ages out of one level is merged into the slot of the next level that
// contains it, and dropped after the last.
var levels = [...]struct {
	slot time.Duration
	keep int
}{
	{5 * time.Second, 12},
	{5 * time.Minute, 12},
	{time.Hour, 24},
}

func floorTo(t, d int64) int64 {
	r := t % d
	if r < 0 {
		r += d
	}
	return t - r
}

// slot is a completed (or accumulating) slot of level 1 or 2.
type slot struct {
	start int64
	sk    Sketch
	st    [numStatus]uint64
}

type ring struct {
	acc   *slot   // slot in progress, nil until something was folded in
	slots []*slot // completed slots, oldest first, at most keep
}

// series is the windowed state of one stage.
type series struct {
	cur atomic.Pointer[liveSketch] // the hot path adds here

	mu    sync.Mutex // guards everything below; never taken by add
	m     *mapping
	ring0 []*liveSketch // completed level-0 slots, oldest first
	up    [2]ring       // levels 1 and 2
	free  []*slot       // recycled slots (bounded by the rings' sizes)
}

func newSeries(m *mapping, now int64) *series {
	s := &series{m: m}
	start := floorTo(now, int64(levels[0].slot))
	s.cur.Store(newLiveSketch(m, start, start+int64(levels[0].slot)))
	return s
}

// rotate moves the slot in progress to the ring once now has passed its
// end and returns the new slot in progress.
func (s *series) rotate(now int64) *liveSketch {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(now)
	return s.cur.Load()
}

func (s *series) advanceLocked(now int64) {
	cur := s.cur.Load()
	if now < cur.end.Load() {
		return
	}
	d := int64(levels[0].slot)
	start := floorTo(now, d)
	s.ring0 = append(s.ring0, cur)
	cut := start - int64(levels[0].keep)*d
	var next *liveSketch
	for len(s.ring0) > 0 && s.ring0[0].start.Load() < cut {
		old := s.ring0[0]
		copy(s.ring0, s.ring0[1:])
		s.ring0[len(s.ring0)-1] = nil
		s.ring0 = s.ring0[:len(s.ring0)-1]
		if !old.empty() {
			acc := s.accFor(0, old.start.Load())
			old.mergeInto(&acc.sk, &acc.st)
		}
		if next == nil {
			next = old // recycled: nothing has written to it for a minute
		}
	}
	if next == nil {
		next = newLiveSketch(s.m, start, start+d)
	} else {
		next.reset(start, start+d)
	}
	s.cur.Store(next)
}

// liveLocked reports whether l, whose start was start when taken, is
// still the level-0 slot it was: in progress or in the ring, and not
// recycled for another slot. s.mu is held.
func (s *series) liveLocked(l *liveSketch, start int64) bool {
	if l.start.Load() != start {
		return false
	}
	return l == s.cur.Load() || slices.Contains(s.ring0, l)
}

// accFor returns the slot in progress of upper level u (0 for level 1)
// that holds time t, completing and expiring older slots first. Slots are
// folded upward in time order, so t never precedes the slot in progress
// except after a wall-clock step back, in which case the data joins it.
func (s *series) accFor(u int, t int64) *slot {
	r := &s.up[u]
	lv := levels[u+1]
	d := int64(lv.slot)
	start := floorTo(t, d)
	if r.acc != nil && start > r.acc.start {
		r.slots = append(r.slots, r.acc)
		r.acc = nil
		cut := start - int64(lv.keep)*d
		for len(r.slots) > 0 && r.slots[0].start < cut {
			old := r.slots[0]
			copy(r.slots, r.slots[1:])
			r.slots[len(r.slots)-1] = nil
			r.slots = r.slots[:len(r.slots)-1]
			if u+1 < len(s.up) {
				dst := s.accFor(u+1, old.start)
				_ = dst.sk.Merge(&old.sk) // same mapping by construction
				for i, c := range old.st {
					dst.st[i] += c
				}
			}
			s.free = append(s.free, old)
		}
	}
	if r.acc == nil {
		r.acc = s.newSlot(start)
	}
	return r.acc
}

func (s *series) newSlot(start int64) *slot {
	if n := len(s.free); n > 0 {
		sl := s.free[n-1]
		s.free = s.free[:n-1]
		sl.start = start
		sl.sk.Reset()
		sl.st = [numStatus]uint64{}
		return sl
	}
	return &slot{start: start, sk: Sketch{m: s.m}}
}

// window merges everything in w at now into dst and st.
func (s *series) window(w Window, now int64, dst *Sketch, st *[numStatus]uint64) {
	cut := w.cutoff(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.ring0 {
		if l.start.Load() >= cut {
			l.mergeInto(dst, st)
		}
	}
	if cur := s.cur.Load(); cur.start.Load() >= cut {
		cur.mergeInto(dst, st)
	}
	for u := 0; u < int(w); u++ {
		r := &s.up[u]
		for _, sl := range r.slots {
			if sl.start >= cut {
				s.mergeSlot(dst, st, sl)
			}
		}
		if r.acc != nil && r.acc.start >= cut {
			s.mergeSlot(dst, st, r.acc)
		}
	}
}

func (s *series) mergeSlot(dst *Sketch, st *[numStatus]uint64, sl *slot) {
	_ = dst.Merge(&sl.sk) // same mapping by construction
	for i, c := range sl.st {
		st[i] += c
	}
}
