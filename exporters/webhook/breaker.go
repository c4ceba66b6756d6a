package webhook

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// BreakerState is the state of the exporter's circuit breaker.
type BreakerState uint8

// Breaker states.
const (
	// BreakerClosed: requests go to the endpoint, with in-line retries.
	BreakerClosed BreakerState = iota
	// BreakerOpen: the endpoint is considered down; Export spools its
	// batches (or, without a spool, drops them) without a request.
	BreakerOpen
	// BreakerHalfOpen: one probe request is in flight after the
	// cool-down; everything else is handled as when open.
	BreakerHalfOpen
)

// String returns "closed", "open" or "half-open".
func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("BreakerState(%d)", uint8(s))
}

// outcome is what one attempt says about the endpoint.
type outcome uint8

const (
	outcomeUp      outcome = iota // 2xx, or a 4xx other than 408/429: it answers
	outcomeDown                   // a transport error or a status other than 2xx and 4xx
	outcomeWait                   // 408 or 429: alive, asking to wait
	outcomeAborted                // the caller's context ended: says nothing
)

// classify maps an attempt's result to its outcome; ctxErr is the
// attempt's caller context's error.
func classify(status int, err, ctxErr error) outcome {
	switch {
	case err != nil && ctxErr != nil:
		return outcomeAborted
	case err != nil:
		return outcomeDown
	case status >= 200 && status < 300:
		return outcomeUp
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests:
		return outcomeWait
	case status >= 400 && status < 500:
		return outcomeUp
	}
	return outcomeDown
}

// breaker counts consecutive failed attempts (from Export and from
// replays alike) and opens at threshold; after coolDown it grants one
// probe; the probe's success closes it, anything else reopens it for
// another coolDown. Any success closes it.
type breaker struct {
	threshold int
	coolDown  time.Duration
	disabled  bool

	// state and failures are written under mu and read without it on
	// the Export path.
	state    atomic.Uint32 // BreakerState
	failures atomic.Int32  // consecutive failed attempts while closed
	opens    atomic.Uint64

	mu      sync.Mutex
	probeAt time.Time // while open: when a probe may go
}

func (b *breaker) load() BreakerState { return BreakerState(b.state.Load()) }

// allow reports whether a request may go now. A caller with canProbe may
// be granted the half-open probe (probe true); it must then report the
// probe's outcome with probe true.
func (b *breaker) allow(canProbe bool) (ok, probe bool) {
	if b.disabled || b.load() == BreakerClosed {
		return true, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.load() {
	case BreakerClosed:
		return true, false
	case BreakerOpen:
		if canProbe && !time.Now().Before(b.probeAt) {
			b.state.Store(uint32(BreakerHalfOpen))
			return true, true
		}
	}
	return false, false
}

// wait returns how long until a probe may go, and false when the breaker
// is closed (or disabled). While a probe is in flight it returns the
// cool-down: the probe's end moves the breaker either way.
func (b *breaker) wait() (time.Duration, bool) {
	if b.disabled || b.load() == BreakerClosed {
		return 0, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.load() {
	case BreakerClosed:
		return 0, false
	case BreakerOpen:
		return max(time.Until(b.probeAt), 0), true
	}
	return b.coolDown, true
}

// report records an attempt's outcome. opened is true when it opened a
// closed breaker, closed when it closed an open or half-open one.
func (b *breaker) report(o outcome, probe bool) (opened, closed bool) {
	if b.disabled || (o == outcomeUp && !probe && b.load() == BreakerClosed && b.failures.Load() == 0) {
		return false, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.load()
	switch {
	case o == outcomeUp:
		b.failures.Store(0)
		if st != BreakerClosed {
			b.state.Store(uint32(BreakerClosed))
			return false, true
		}
	case probe && st == BreakerHalfOpen && o == outcomeAborted:
		b.state.Store(uint32(BreakerOpen)) // the probe may go again at once
	case probe && st == BreakerHalfOpen: // down, or asked to wait
		b.open()
	case o == outcomeDown && st == BreakerClosed:
		if int(b.failures.Add(1)) >= b.threshold {
			b.open()
			b.opens.Add(1)
			return true, false
		}
	}
	return false, false
}

func (b *breaker) open() {
	b.failures.Store(0)
	b.probeAt = time.Now().Add(b.coolDown)
	b.state.Store(uint32(BreakerOpen))
}
