package kafka

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DropReason says why events were not delivered.
type DropReason uint8

// Drop reasons.
const (
	// DropEncode: the event could not be encoded (no payload).
	DropEncode DropReason = iota
	// DropTooLarge: the event's record does not fit a record batch alone
	// (Config.MaxMessageBytes, or the topic's lower max.message.bytes),
	// or the broker refused its batch as too large.
	DropTooLarge
	// DropUnavailable: no broker answered before the Export deadline, or
	// the topic does not exist; nothing of the batch was sent.
	DropUnavailable
	// DropDeadline: the Export context ended before the record was sent.
	DropDeadline
	// DropFailed: the brokers refused the record or the client gave up on
	// it (a non-retryable error; see Stats.LastError).
	DropFailed
	// DropShutdown: the record was still in the client when Shutdown
	// closed it.
	DropShutdown
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{"encode", "too_large", "unavailable", "deadline", "failed", "shutdown"}

// String returns the reason's metric name.
func (r DropReason) String() string {
	if r < numDropReasons {
		return dropReasonNames[r]
	}
	return "unknown"
}

// classify maps a record's failure to a drop reason.
func classify(err error) DropReason {
	switch {
	case errors.Is(err, kerr.MessageTooLarge):
		return DropTooLarge
	case errors.Is(err, kgo.ErrClientClosed):
		return DropShutdown
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return DropDeadline
	}
	return DropFailed
}

// Stats are the exporter's counters, in events.
//
// Every event passed to Export is accounted for:
//
//	Accepted == Delivered + sum(Dropped) + Pending
//
// whenever no Export call is encoding a batch; after Shutdown, Pending is
// 0. Late is the part of Delivered acknowledged after its Export had
// returned (the pipeline counted those events failed).
type Stats struct {
	// Accepted counts events passed to Export while running (Export with
	// a done context or after Shutdown accepts nothing).
	Accepted uint64
	// Delivered counts events whose record the brokers acknowledged
	// (acks=all: written to every in-sync replica).
	Delivered uint64
	// Late is the part of Delivered acknowledged after its Export had
	// returned at its context's deadline.
	Late uint64
	// Dropped counts lost events by reason.
	Dropped map[DropReason]uint64
	// Pending counts records handed to the client whose outcome is not
	// known yet (only after an Export returned at its deadline).
	Pending int64
	// Exports counts Export calls that accepted events; FailedExports
	// those that returned an error.
	Exports, FailedExports uint64
	// MaxMessageBytes is the record batch limit in force: Config's, or
	// the topic's max.message.bytes when lower and read.
	MaxMessageBytes int
	// LastError is the last record failure, or "".
	LastError string
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
	// settling makes a record's move from pending to delivered or
	// dropped (flight.promise) one step for Stats, which reads under it.
	settling sync.Mutex

	accepted, delivered, late atomic.Uint64
	exports, failedExports    atomic.Uint64
	pending                   atomic.Int64
	dropped                   [numDropReasons]atomic.Uint64
	lastErr                   atomic.Pointer[string]
}

func (c *counters) drop(r DropReason, n int) {
	if n > 0 {
		c.dropped[r].Add(uint64(n))
	}
}

func (c *counters) setErr(err error) {
	s := err.Error()
	c.lastErr.Store(&s)
}

// ExportError reports a batch that was not delivered in full. The
// pipeline reads its Delivered method and counts only the rest as failed.
type ExportError struct {
	// Events is the number of events in the batch.
	Events int
	// Acked counts the events the brokers acknowledged before Export
	// returned.
	Acked int
	// Dropped counts, by reason, the events known lost when Export
	// returned.
	Dropped map[DropReason]int
	// Pending counts the events whose outcome was unknown when Export
	// returned (its context ended first). They settle later in
	// [Exporter.Stats]: Late if acknowledged, else Dropped.
	Pending int
	// Err is the first failure (a broker, network or context error).
	Err error
}

// Error summarizes the batch's outcome and the first failure.
func (e *ExportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kafka: %d of %d events not delivered", e.Events-e.Acked, e.Events)
	sep := " ("
	for r := DropReason(0); r < numDropReasons; r++ {
		if n := e.Dropped[r]; n > 0 {
			fmt.Fprintf(&b, "%s%s %d", sep, r, n)
			sep = ", "
		}
	}
	if e.Pending > 0 {
		fmt.Fprintf(&b, "%spending %d", sep, e.Pending)
		sep = ", "
	}
	if sep == ", " {
		b.WriteByte(')')
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Err.
func (e *ExportError) Unwrap() error { return e.Err }

// Delivered returns Acked: how many events of the batch the pipeline
// should count as exported.
func (e *ExportError) Delivered() int { return e.Acked }

// TooLargeError reports an event dropped because its record does not fit
// a record batch alone. It goes to Config.ErrorHandler and is joined in
// Export's *ExportError.
type TooLargeError struct {
	// Key is the record key (the user's pseudonym, see the package doc).
	Key string
	// Type is the event's type.
	Type string
	// Bytes is the size of a record batch holding only this event;
	// Limit the batch limit in force.
	Bytes, Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("kafka: %s event (key %q) needs a %d-byte record batch, over the %d-byte limit (dropped as too_large)",
		e.Type, e.Key, e.Bytes, e.Limit)
}
