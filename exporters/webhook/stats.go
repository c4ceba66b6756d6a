package webhook

import (
	"sync"
	"sync/atomic"
)

// DropReason says why events were lost.
type DropReason uint8

// Drop reasons.
const (
	// DropEncode: the event could not be encoded (no payload).
	DropEncode DropReason = iota
	// DropUndeliverable: retries ended (attempts, time, Export deadline or
	// Shutdown) and no spool is configured.
	DropUndeliverable
	// DropSpoolFull: the oldest spooled requests were evicted to bound the
	// spool, or a request was larger than the whole spool.
	DropSpoolFull
	// DropSpoolError: writing to or reading from the spool failed.
	DropSpoolError
	// DropSpoolCorrupt: a spooled request was truncated or altered on
	// disk (its header, checksum, line count or an event's decoding did
	// not check out on replay): none of its events are sent. Also a
	// spooled event that cannot be decoded for the dead-letter path.
	DropSpoolCorrupt
	// DropBreakerOpen: the circuit breaker was open and no spool is
	// configured, so the events were not sent.
	DropBreakerOpen
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{"encode", "undeliverable", "spool_full", "spool_error", "spool_corrupt", "breaker_open"}

// String returns the metric name of r.
func (r DropReason) String() string {
	if r < numDropReasons {
		return dropReasonNames[r]
	}
	return "unknown"
}

// Stats are the exporter's counters, in events unless named otherwise.
//
// Every event is accounted for:
//
//	Accepted + Recovered == Delivered + DeadLettered + sum(Dropped) + SpoolEvents
//
// where Recovered are events found in the spool at start (left by an
// earlier process) and SpoolEvents those waiting in the spool now. It
// holds whenever no Export call or replay is under way; while one is, the
// events it handles may be missing from the right side.
type Stats struct {
	// Accepted counts events passed to Export while running (Export with
	// an already-done context or after Shutdown accepts nothing).
	Accepted uint64
	// Recovered counts events found in the spool when the exporter started.
	Recovered uint64
	// Delivered counts events the endpoint acknowledged with a 2xx status.
	Delivered uint64
	// Replayed is the part of Delivered that was delivered from the spool.
	Replayed uint64
	// Spooled counts events written to the spool (some are later
	// replayed, dead-lettered or evicted).
	Spooled uint64
	// DeadLettered counts events handed to the dead-letter path.
	DeadLettered uint64
	// DeadLetteredByStatus splits DeadLettered by HTTP status (0 for
	// too_large).
	DeadLetteredByStatus map[int]uint64
	// Dropped counts lost events by reason.
	Dropped map[DropReason]uint64

	// Requests counts HTTP attempts; Retries the attempts after the first
	// of a request; Failures the attempts that did not get a 2xx.
	Requests, Retries, Failures uint64

	// Breaker is the circuit breaker's state now; BreakerOpens counts the
	// times it opened from closed (not the reopenings after failed
	// probes).
	Breaker      BreakerState
	BreakerOpens uint64

	// SpoolFiles, SpoolBytes and SpoolEvents describe the spool now.
	SpoolFiles  int
	SpoolBytes  int64
	SpoolEvents int
}

// TotalDropped sums Dropped.
func (s Stats) TotalDropped() uint64 {
	var n uint64
	for _, v := range s.Dropped {
		n += v
	}
	return n
}

type counters struct {
	accepted, recovered, delivered, replayed, spooled, deadLettered atomic.Uint64
	requests, retries, failures                                     atomic.Uint64
	dropped                                                         [numDropReasons]atomic.Uint64

	mu       sync.Mutex
	byStatus map[int]uint64
}

func (c *counters) deadLetter(status, n int) {
	c.deadLettered.Add(uint64(n))
	c.mu.Lock()
	if c.byStatus == nil {
		c.byStatus = map[int]uint64{}
	}
	c.byStatus[status] += uint64(n)
	c.mu.Unlock()
}

func (c *counters) drop(r DropReason, n int) {
	if n > 0 {
		c.dropped[r].Add(uint64(n))
	}
}
