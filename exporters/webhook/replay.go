package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rankscope/rankscope/internal/spool"
	"github.com/rankscope/rankscope/personalize"
)

// replayLoop replays the spool while the exporter runs: right after a
// delivery succeeded (the endpoint is back), and otherwise every
// ReplayInterval, doubling while passes fail; while the circuit breaker
// is open, when its cool-down ends (the replay is then its probe).
func (e *Exporter) replayLoop() {
	defer close(e.loopDone)
	base := e.s.cfg.Spool.ReplayInterval
	interval := base
	var timer *time.Timer
	var tc <-chan time.Time // nil while no replay is scheduled
	stopTimer := func() {
		if timer != nil {
			timer.Stop()
		}
		tc = nil
	}
	for {
		// A running timer is kept: batches spooled at a high rate while the
		// endpoint is down must not keep postponing the replay.
		if tc == nil && e.spool.Len() > 0 {
			d := interval
			if w, open := e.brk.wait(); open {
				d = w
			}
			timer = time.NewTimer(d)
			tc = timer.C
		}
		select {
		case <-e.loopCtx.Done():
			stopTimer()
			return
		case <-e.wake:
			continue
		case <-e.kick:
			stopTimer()
		case <-tc:
			tc = nil
		}
		switch ok, after, blocked := e.replayPass(e.loopCtx); {
		case ok:
			interval = base
		case blocked: // nothing was sent; the breaker's cool-down sets the next try
		default:
			interval = max(min(2*interval, maxReplayIntervalMultiple*base), after)
		}
	}
}

// replayPass sends spooled requests oldest first, one attempt each, until
// the spool is empty (ok), an attempt fails (with the server's
// Retry-After if it sent one) or the circuit breaker does not let the
// next one go (blocked).
func (e *Exporter) replayPass(ctx context.Context) (ok bool, after time.Duration, blocked bool) {
	e.replayMu.Lock()
	defer e.replayMu.Unlock()
	for ctx.Err() == nil {
		ent, ok := e.spool.Oldest()
		if !ok {
			return true, 0, false
		}
		data, ok := e.loadSpooled(ent)
		if !ok {
			continue
		}
		allowed, probe := e.brk.allow(true)
		if !allowed {
			return false, 0, true
		}
		if ok, after := e.replayOne(ctx, ent, data, probe); !ok {
			return false, after, false
		}
	}
	return false, 0, false
}

// replayOne tries one spooled request (data, checked by loadSpooled) and
// settles its accounting; false means the endpoint is not accepting and
// the pass should stop.
func (e *Exporter) replayOne(ctx context.Context, ent spool.Entry, data []byte, probe bool) (bool, time.Duration) {
	e.evictMu.Lock()
	e.replaying, e.replayedEvicted = ent.Seq, false
	e.evictMu.Unlock()

	res := e.deliver(ctx, ent.Key, data, ent.Events, false, probe)

	e.evictMu.Lock()
	evicted := e.replayedEvicted
	e.replaying, e.replayedEvicted = 0, false
	e.evictMu.Unlock()

	switch res.kind {
	case resultDelivered:
		e.forget(ent)
		e.c.delivered.Add(uint64(ent.Events))
		e.c.replayed.Add(uint64(ent.Events))
		delete(e.replayFailures, ent.Seq)
		return true, 0
	case resultRefused:
		e.forget(ent)
		e.deadLetterLines(ctx, DeadLetter{Status: res.status, Reason: "status", IdempotencyKey: ent.Key}, data, ent.Events)
		delete(e.replayFailures, ent.Seq)
		return true, 0
	}
	if evicted { // lost to the spool bound while we tried
		e.c.drop(DropSpoolFull, ent.Events)
		delete(e.replayFailures, ent.Seq)
		return false, res.after
	}
	if res.status != 0 {
		e.replayFailures[ent.Seq]++
		if e.replayFailures[ent.Seq] >= e.s.cfg.Spool.MaxReplayFailures {
			delete(e.replayFailures, ent.Seq)
			if e.forget(ent) {
				e.deadLetterLines(ctx, DeadLetter{Status: res.status, Reason: "replay_failures", IdempotencyKey: ent.Key}, data, ent.Events)
			}
			return true, 0
		}
	}
	e.handle(fmt.Errorf("webhook: replay of %d spooled events failed: %w", ent.Events, res.err))
	return false, res.after
}

// loadSpooled reads a spooled request and checks it before it is sent: the
// spool verifies the file against its header (size, checksum, event
// count), then every line must decode as an event and there must be as
// many as the file name counts. A request that fails is not sent: it is
// removed, its events are counted (DropSpoolCorrupt, or DropSpoolError
// when the file cannot be read) and the ErrorHandler is told; ok is false.
// Called with replayMu held.
func (e *Exporter) loadSpooled(ent spool.Entry) (data []byte, ok bool) {
	data, err := e.spool.Read(ent)
	reason := DropSpoolError
	if err == nil || errors.Is(err, spool.ErrCorrupt) {
		reason = DropSpoolCorrupt
	}
	if err == nil {
		if e.dec == nil {
			e.dec = personalize.NewDecoder()
		}
		if err = validateSpooled(e.dec, data, ent.Events); err == nil {
			return data, true
		}
	}
	// Evicted meanwhile (then counted by the evictor), unreadable or
	// corrupt.
	if e.forget(ent) {
		e.c.drop(reason, ent.Events)
		if reason == DropSpoolCorrupt {
			err = fmt.Errorf("%w: %s: %d events dropped: %w", ErrSpoolCorrupt, ent.Name(), ent.Events, err)
		}
		e.handle(err)
	}
	return nil, false
}

// validateSpooled checks that data holds exactly n event lines, each
// ending with a newline and decoding with d.
func validateSpooled(d *personalize.Decoder, data []byte, n int) error {
	lines := 0
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return fmt.Errorf("line %d: no newline at the end of the file (truncated)", lines+1)
		}
		line := data[:i]
		data = data[i+1:]
		lines++
		if lines > n {
			return fmt.Errorf("more than the %d events its name counts", n)
		}
		if _, err := d.Decode(line); err != nil {
			return fmt.Errorf("line %d: %w", lines, err)
		}
	}
	if lines != n {
		return fmt.Errorf("%d events, its name counts %d", lines, n)
	}
	return nil
}

// forget removes ent from the spool; false if it was already gone.
func (e *Exporter) forget(ent spool.Entry) bool {
	removed, err := e.spool.Remove(ent)
	if err != nil {
		e.handle(err)
	}
	return removed
}

// deadLetterLines decodes spooled lines for the dead-letter path; lines
// that do not decode are dropped as corrupt.
func (e *Exporter) deadLetterLines(ctx context.Context, dl DeadLetter, data []byte, n int) {
	events := make([]personalize.Event, 0, n)
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if ev, err := personalize.UnmarshalEvent(line); err == nil && len(events) < n {
			events = append(events, ev)
		}
	}
	e.c.drop(DropSpoolCorrupt, n-len(events))
	dl.Events = events
	e.deadLetter(ctx, dl)
}
