package latency

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/rankscope/rankscope/internal/tsc"
)

// Now returns the current time like time.Now, with a monotonic reading,
// for less. It reads the system clock (wall and monotonic) about once a
// second per process and in between extends that reading:
//
//   - by the processor's time-stamp counter, scaled by the rate it kept
//     against the system's monotonic clock over the previous second,
//     where the counter is a reliable clock (linux/amd64 with an invariant
//     counter that the kernel itself uses as its clocksource; about 9 ns
//     a reading instead of 23 on the project's VM);
//   - elsewhere, and for the first second, by the monotonic time elapsed
//     (time.Since, which skips the slower wall-clock read).
//
// The wall-clock part can lag a clock step (an NTP jump) by up to a
// second. Durations between two readings are the monotonic clock's, to
// within the counter's drift against it over a second (under a
// microsecond on a counter the kernel accepted; a second whose rate moved
// by more than 0.1% uses the system clock instead). Readings do not go
// backwards while the counter does not: where the counter ran ahead of
// the system clock by the next reading of it, Now keeps that lead and
// absorbs it over the following second by running that much slower. The
// request path of this module uses it for stage and inference timestamps.
func Now() time.Time { return sysClock.read() }

// anchorTTL bounds how long Now extends one reading of the system clock.
const anchorTTL = time.Second

// Bounds on trusting the counter (see clock.reanchor).
const (
	// maxRateChange is the largest relative change of the counter's rate
	// against the system clock from one second to the next that is
	// trusted; NTP slews the kernel's clock by at most 500 ppm.
	maxRateChange = 1e-3
	// maxPairGap is the widest gap between the two counter reads around
	// a system clock reading that pairs them (the goroutine was not
	// descheduled in between).
	maxPairGap = 5 * time.Microsecond
	// maxLead is the largest lead over the system clock Now keeps to stay
	// monotonic; a larger one means the counter misbehaved and Now steps
	// back to the system clock.
	maxLead = 10 * time.Millisecond
)

// clock is Now's state and sources: the system clock and, when usable,
// the counter. Tests build their own with simulated sources.
type clock struct {
	anchor atomic.Pointer[clockAnchor]
	now    func() time.Time              // the system clock
	since  func(time.Time) time.Duration // monotonic time elapsed since a system reading
	// counter returns the counter's reader, or nil where it is no
	// clock; it is asked at each reading of the system clock, and an
	// anchor keeps its answer.
	counter func() func() uint64
}

// clockAnchor is one reading of the system clock and what Now extends it
// with until the next. It is never modified once stored.
type clockAnchor struct {
	t   time.Time // Now at the anchor: sys plus the lead kept
	sys time.Time // the system clock's reading
	c   uint64    // the counter at sys, or 0 when there is none
	// rate is the system clock's nanoseconds per counter tick over the
	// interval before the anchor, or 0 while unknown.
	rate float64
	// step is Now's nanoseconds per tick until the next anchor (rate
	// slowed by absorb), or 0: Now follows since(sys) instead.
	step float64
	// absorb is the fraction of elapsed time Now holds back to absorb
	// the lead t−sys within anchorTTL.
	absorb float64
	// ticks reads the counter; set when c is.
	ticks func() uint64
}

// sysClock is Now's clock. Whether the counter is usable is decided at
// the first reading of the system clock (a read of the kernel's
// clocksource file), not when the package is loaded.
var sysClock = &clock{now: time.Now, since: time.Since, counter: sync.OnceValue(usableTicks)}

// usableTicks returns the counter's reader, or nil where it is no clock.
func usableTicks() func() uint64 {
	if tsc.Usable() {
		return tsc.Ticks
	}
	return nil
}

func (k *clock) read() time.Time {
	a := k.anchor.Load()
	if a != nil {
		if a.step != 0 {
			if n := int64(a.ticks() - a.c); n >= 0 {
				if d := time.Duration(float64(n) * a.step); d < anchorTTL {
					return a.t.Add(d)
				}
			}
		} else if d := k.since(a.sys); d >= 0 && d < anchorTTL {
			if a.absorb != 0 {
				d -= time.Duration(float64(d) * a.absorb)
			}
			return a.t.Add(d)
		}
	}
	return k.reanchor(a)
}

// reanchor reads the system clock, with the counter when there is one,
// stores the anchor extending it, and returns Now's reading. prev is the
// anchor the caller found expired, nil at the first reading.
func (k *clock) reanchor(prev *clockAnchor) time.Time {
	ticks := k.counter()
	sys, c, last := k.pair(prev, ticks)
	next := &clockAnchor{t: sys, sys: sys, c: c}
	if c != 0 {
		next.ticks = ticks
	}
	if prev != nil {
		// Never behind what prev read up to now: where it stood at the
		// last counter read (or by the monotonic time elapsed).
		var at time.Time
		if prev.step != 0 && last != 0 && int64(last-prev.c) >= 0 {
			at = prev.t.Add(time.Duration(float64(int64(last-prev.c)) * prev.step))
		} else {
			d := sys.Sub(prev.sys)
			at = prev.t.Add(d - time.Duration(float64(d)*prev.absorb))
		}
		if lead := at.Sub(sys); lead > 0 && lead <= maxLead {
			next.t = sys.Add(lead)
			next.absorb = float64(lead) / float64(anchorTTL)
		}
		if c != 0 && prev.c != 0 {
			next.rate, next.step = calibrate(prev, sys, c, next.absorb)
		}
	}
	k.anchor.Store(next)
	return next.t
}

// calibrate measures the counter's rate since prev and returns it with
// the step Now uses until the next anchor: 0 while the rate is unknown or
// moved by more than maxRateChange since the previous measurement.
func calibrate(prev *clockAnchor, sys time.Time, c uint64, absorb float64) (rate, step float64) {
	dt, dc := sys.Sub(prev.sys), int64(c-prev.c)
	if dc <= 0 || dt <= 0 {
		return 0, 0 // the counter or the clock did not move forward
	}
	if dt < anchorTTL/2 {
		// Too short to measure well (an anchor replaced early): keep the
		// previous measurement, and whether it was trusted.
		if prev.step == 0 {
			return prev.rate, 0
		}
		rate = prev.rate
	} else {
		rate = float64(dt) / float64(dc)
		if prev.rate == 0 || rate > prev.rate*(1+maxRateChange) || rate < prev.rate*(1-maxRateChange) {
			// Unknown or moved: measured again over the next second
			// before the counter is used.
			return rate, 0
		}
	}
	return rate, rate * (1 - absorb)
}

// pair reads the system clock and the counter at the same instant: c is
// the middle of two counter reads around the clock read, or 0 when there
// is no counter or the reads stayed more than maxPairGap apart in three
// tries (the goroutine was descheduled); last is the later counter read
// of the last try (0 with no counter).
func (k *clock) pair(prev *clockAnchor, ticks func() uint64) (sys time.Time, c, last uint64) {
	if ticks == nil {
		return k.now(), 0, 0
	}
	for range 3 {
		c0 := ticks()
		sys = k.now()
		last = ticks()
		// Reads on two cores may differ by a few ticks either way.
		lo, hi := min(c0, last), max(c0, last)
		if prev != nil && prev.rate != 0 && time.Duration(float64(hi-lo)*prev.rate) > maxPairGap {
			continue
		}
		if c = lo + (hi-lo)/2; c != 0 {
			return sys, c, hi
		}
	}
	return sys, 0, max(last, 1)
}
