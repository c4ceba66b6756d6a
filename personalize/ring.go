package personalize

import (
	"context"
	"errors"
	"math/bits"
	"sync/atomic"
	"time"
)

// ring is a shard's entry queue: a bounded queue of envelopes that any
// goroutine puts to and the shard's batcher alone takes from.
//
// It replaced a buffered channel. A channel send and receive each take the
// channel's lock, so on two cores the lock's cache line moved between the
// caller and the batcher twice per event, with the sender's copy under a
// write barrier during GC; together about 100 ns an event in the peer
// benchmark's profile. Here a producer claims a position with one
// compare-and-swap on the tail and publishes the slot with its sequence
// number (the bounded queue of D. Vyukov, with one consumer); the batcher
// reads slots in order and needs no lock. Each slot carries its own
// sequence, so a full ring is seen from the slot alone, and producers and
// the consumer share no counter.
//
// Waiting is outside the ring's fast path. A batcher that finds the ring
// empty sets parked and looks once more before it sleeps on wake; a
// producer that published while parked was set clears it and sends the
// one token wake holds (both sides write then read, with sequentially
// consistent atomics, so one of them sees the other). Producers waiting
// for room (Config.BlockTimeout, control messages, durable events) count
// themselves in waiters and sleep on room, which the batcher closes and
// replaces after a drain that made room while anyone waited.
//
// Its capacity is a power of two: the shard's share of Config.QueueSize
// rounded up.
type ring struct {
	slots []ringSlot
	mask  uint64
	_     cacheLinePad

	// Written by producers.
	tail atomic.Uint64 // the next position to claim
	_    cacheLinePad

	// Written by the batcher.
	head uint64        // the next position to take; the batcher's alone
	read atomic.Uint64 // head as of the batcher's last drained (Len)
	_    cacheLinePad

	// Written by both, rarely: only around sleeps.
	parked  atomic.Bool  // the batcher sleeps, or is about to, on wake
	waiters atomic.Int32 // producers sleeping, or about to, on room
	wake    chan struct{}
	room    atomic.Pointer[chan struct{}]
}

// ringSlot is one position of the ring. seq is the position it may be
// claimed at (empty) or the position plus one (holding that position's
// envelope).
type ringSlot struct {
	seq atomic.Uint64
	env envelope
}

// newRing returns an empty ring of at least n slots.
func newRing(n int) *ring {
	size := uint64(1) << bits.Len(uint(max(n, 2)-1))
	r := &ring{slots: make([]ringSlot, size), mask: size - 1, wake: make(chan struct{}, 1)}
	for i := range r.slots {
		r.slots[i].seq.Store(uint64(i))
	}
	room := make(chan struct{})
	r.room.Store(&room)
	return r
}

// Cap returns the ring's capacity.
func (r *ring) Cap() int { return len(r.slots) }

// Len returns the envelopes queued, as of the batcher's last drained
// (positions claimed since count as queued).
func (r *ring) Len() int {
	return int(min(r.tail.Load()-r.read.Load(), uint64(len(r.slots))))
}

// put queues env if there is room and reports whether it did. It never
// waits.
func (r *ring) put(env envelope) bool {
	pos := r.tail.Load()
	for {
		s := &r.slots[pos&r.mask]
		switch d := int64(s.seq.Load() - pos); {
		case d == 0:
			if !r.tail.CompareAndSwap(pos, pos+1) {
				pos = r.tail.Load()
				continue
			}
			s.env = env
			s.seq.Store(pos + 1)
			if r.parked.Load() && r.parked.CompareAndSwap(true, false) {
				select {
				case r.wake <- struct{}{}:
				default:
				}
			}
			return true
		case d < 0:
			return false // the slot still holds the envelope of pos-len
		default:
			pos = r.tail.Load() // another producer took pos
		}
	}
}

// putWithin queues env at once or, when d > 0, within d, and reports
// whether it did.
func (r *ring) putWithin(env envelope, d time.Duration) bool {
	if r.put(env) {
		return true
	}
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	return r.putWaiting(env, t.C, nil) == nil
}

// putCtx queues env, waiting for room until ctx is done.
func (r *ring) putCtx(ctx context.Context, env envelope) error {
	if r.put(env) {
		return nil
	}
	return r.putWaiting(env, nil, ctx)
}

// putWaiting queues env once there is room, or returns errRingTimeout
// when timeout fires or ctx's error when ctx (which may be nil) is done
// first.
func (r *ring) putWaiting(env envelope, timeout <-chan time.Time, ctx context.Context) error {
	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	r.waiters.Add(1)
	defer r.waiters.Add(-1)
	for {
		// Take the channel before looking for room: a drain that makes
		// room after this look closes this channel, or a later one taken
		// after the room was made.
		room := r.room.Load()
		if r.put(env) {
			return nil
		}
		select {
		case <-*room:
		case <-timeout:
			return errRingTimeout
		case <-done:
			return ctx.Err()
		}
	}
}

// errRingTimeout is putWaiting's error when its timeout fires.
var errRingTimeout = errors.New("personalize: no room in the entry queue in time")

// take returns the next envelope, if one is published. Batcher only.
func (r *ring) take() (envelope, bool) {
	s := &r.slots[r.head&r.mask]
	if s.seq.Load() != r.head+1 {
		return envelope{}, false
	}
	env := s.env
	s.env = envelope{} // let the event go
	s.seq.Store(r.head + r.mask + 1)
	r.head++
	return env, true
}

// ready reports whether take would return an envelope. Batcher only.
func (r *ring) ready() bool { return r.slots[r.head&r.mask].seq.Load() == r.head+1 }

// drained makes the batcher's position visible to Len and wakes the
// producers waiting for room, if any. The batcher calls it after a drain
// and before it may wait on an exporter, not per take. Batcher only.
func (r *ring) drained() {
	r.read.Store(r.head)
	if r.waiters.Load() > 0 {
		room := make(chan struct{})
		close(*r.room.Swap(&room))
	}
}

// park announces that the batcher is about to sleep on wake and reports
// whether it may: false when an envelope was published meanwhile (it then
// stays unparked). Batcher only.
func (r *ring) park() bool {
	r.parked.Store(true)
	if r.ready() {
		r.parked.Store(false)
		return false
	}
	return true
}

// unpark withdraws the announcement, so producers stop signalling.
// Batcher only.
func (r *ring) unpark() {
	if r.parked.Load() {
		r.parked.Store(false)
	}
}
