package personalize

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/privacy"
)

// Instrument is the entry point of the library: it wraps inference calls,
// validates and pseudonymizes events, and delivers them to exporters
// through a bounded queue. All methods are safe for concurrent use.
//
// The pipeline: emits go to a bounded queue (Config.QueueSize) read by one
// batcher goroutine, which pseudonymizes, applies consent and the context
// allow-list, batches by size and age, and hands each batch to one worker
// goroutine per exporter through a bounded per-exporter queue. A slow
// exporter only loses its own batches, counted; the others go on.
type Instrument struct {
	cfg     Config
	latency *latency.Tracker
	allow   privacy.AllowList

	queue    chan Event
	closed   atomic.Bool
	inflight atomic.Int64

	workers []*worker
	dead    *worker // dead-letter; nil if none
	wg      sync.WaitGroup
	abort   context.CancelFunc
	abortCx context.Context

	stats    counters
	pcache   [2]map[string]Pseudonym // user, session: batcher-owned
	shutOnce sync.Once
	shutErr  error
	tele     *telemetry
}

// DropReason says why accepted (or offered) events were not exported.
type DropReason uint8

// Drop reasons.
const (
	DropQueueFull       DropReason = iota + 1 // the queue was full at emit
	DropClosed                                // emitted after Shutdown
	DropExporterBacklog                       // an exporter's queue was full
	DropExportFailed                          // Export returned an error
	DropShutdown                              // Shutdown's deadline passed first
)

var dropReasonNames = [...]string{"", "queue_full", "closed", "exporter_backlog", "export_failed", "shutdown"}

// String returns the metric attribute value of r.
func (r DropReason) String() string {
	if int(r) < len(dropReasonNames) && r != 0 {
		return dropReasonNames[r]
	}
	return "unknown"
}

// DropError reports events that were not exported. Emits return it for
// DropQueueFull; the error handler receives it, aggregated, for the rest.
type DropError struct {
	Reason   DropReason
	Exporter string // empty for queue-level drops
	Count    int64
	Err      error // the export error, for DropExportFailed
}

func (e *DropError) Error() string {
	s := "personalize: dropped " + strconv.FormatInt(e.Count, 10) + " event(s): " + e.Reason.String()
	if e.Exporter != "" {
		s += " (exporter " + e.Exporter + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *DropError) Unwrap() error { return e.Err }

// ErrQueueFull is matched (errors.Is) by the error an emit returns when the
// queue is full.
var ErrQueueFull = errors.New("personalize: queue full")

// Is makes errors.Is(err, ErrQueueFull) true for queue-full drops.
func (e *DropError) Is(target error) bool {
	return target == ErrQueueFull && e.Reason == DropQueueFull
}

// control messages travel the queue in order with events.
type control struct {
	flush chan struct{} // closed once everything before it was exported
	stop  bool
}

// New builds an instrument and starts its goroutines; call Shutdown to stop
// them. It returns an error naming the first invalid Config field.
func New(cfg Config) (*Instrument, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	allow, err := privacy.NewAllowList(cfg.ContextAllowList...)
	if err != nil {
		return nil, fmt.Errorf("personalize: Config.ContextAllowList: %w", err)
	}
	in := &Instrument{cfg: cfg, allow: allow, queue: make(chan Event, cfg.QueueSize)}
	in.latency = cfg.Latency
	if in.latency == nil {
		if in.latency, err = latency.NewTracker(latency.Config{MeterProvider: cfg.MeterProvider}); err != nil {
			return nil, fmt.Errorf("personalize: latency tracker: %w", err)
		}
	}
	in.stats.init()
	in.pcache = [2]map[string]Pseudonym{make(map[string]Pseudonym), make(map[string]Pseudonym)}
	in.abortCx, in.abort = context.WithCancel(context.Background())
	names := map[string]int{}
	for i, e := range cfg.Exporters {
		name := exporterName(e, i)
		if j, dup := names[name]; dup {
			name = name + "#" + strconv.Itoa(i)
			_ = j
		}
		names[name] = i
		in.workers = append(in.workers, in.newWorker(name, e))
	}
	if cfg.DeadLetter != nil {
		in.dead = in.newWorker("dead_letter", cfg.DeadLetter)
	}
	if in.tele, err = newTelemetry(in); err != nil {
		return nil, err
	}
	for _, w := range in.allWorkers() {
		in.wg.Add(1)
		go w.run()
	}
	in.wg.Add(1)
	go in.batcher()
	return in, nil
}

func exporterName(e Exporter, i int) string {
	if n, ok := e.(Named); ok && n.Name() != "" {
		return n.Name()
	}
	return "exporter" + strconv.Itoa(i)
}

func (in *Instrument) allWorkers() []*worker {
	if in.dead == nil {
		return in.workers
	}
	return append(in.workers[:len(in.workers):len(in.workers)], in.dead)
}

// Latency returns the instrument's stage latency tracker.
func (in *Instrument) Latency() *latency.Tracker { return in.latency }

// emit validates and enqueues ev.
func (in *Instrument) emit(ev Event) error {
	in.inflight.Add(1)
	defer in.inflight.Add(-1)
	if in.closed.Load() {
		in.stats.drop(DropClosed, 1)
		if ev.Impression != nil {
			in.recordStageMetrics(ev.Impression)
		}
		return ErrShutdown
	}
	if err := ev.Validate(); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			in.stats.reject(ve)
			if in.dead != nil {
				ev.Invalid = ve
				select {
				case in.queue <- ev:
				default: // never block for a dead letter; count it on its exporter
					in.dead.backlog.Add(1)
				}
			}
		}
		return err
	}
	return in.enqueue(ev)
}

func (in *Instrument) enqueue(ev Event) error {
	select {
	case in.queue <- ev:
		return nil
	default:
	}
	if ev.Impression != nil {
		// The batcher will not see this impression: record its stage
		// histograms here so the metric stays complete under overload.
		in.recordStageMetrics(ev.Impression)
	}
	if in.cfg.BlockTimeout > 0 {
		t := time.NewTimer(in.cfg.BlockTimeout)
		defer t.Stop()
		select {
		case in.queue <- ev:
			return nil
		case <-t.C:
		}
	}
	in.stats.drop(DropQueueFull, 1)
	return &DropError{Reason: DropQueueFull, Count: 1}
}

// sendControl puts a control message on the queue, waiting for space.
func (in *Instrument) sendControl(ctx context.Context, c *control) error {
	select {
	case in.queue <- Event{ctl: c}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Flush delivers every event accepted before the call to every exporter and
// calls their ForceFlush. It honors ctx.
func (in *Instrument) Flush(ctx context.Context) error {
	in.inflight.Add(1)
	if in.closed.Load() {
		in.inflight.Add(-1)
		return ErrShutdown
	}
	c := &control{flush: make(chan struct{})}
	err := in.sendControl(ctx, c)
	in.inflight.Add(-1)
	if err != nil {
		return err
	}
	select {
	case <-c.flush:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown delivers every accepted event, flushes and shuts down the
// exporters, and stops all goroutines of the instrument. Emits after it
// return ErrShutdown. If ctx ends first, exports in progress are cancelled,
// undelivered events are counted as DropShutdown, and ctx's error is
// returned; the goroutines still stop before Shutdown returns (exporters
// must honor context cancellation). Calling it again returns the first
// result.
func (in *Instrument) Shutdown(ctx context.Context) error {
	in.shutOnce.Do(func() { in.shutErr = in.shutdown(ctx) })
	return in.shutErr
}

func (in *Instrument) shutdown(ctx context.Context) error {
	in.closed.Store(true)
	// Wait for emits that passed the closed check to finish enqueueing,
	// so every accepted event is ahead of the stop marker.
	for in.inflight.Load() > 0 {
		runtime.Gosched()
	}
	stopped := make(chan struct{})
	go func() { in.wg.Wait(); close(stopped) }()
	var err error
	if err = in.sendControl(ctx, &control{stop: true}); err == nil {
		select {
		case <-stopped:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		in.abort()
		// The batcher may still be waiting for a stop marker the full
		// queue could not take: abort tells it to drain and stop.
		<-stopped
	}
	in.abort()
	in.tele.close()
	return err
}

// batcher is the single consumer of the queue.
func (in *Instrument) batcher() {
	defer in.wg.Done()
	batch := make([]Event, 0, in.cfg.BatchSize)
	var dead []Event
	timer := time.NewTimer(in.cfg.BatchTimeout)
	defer timer.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	dispatch := func() {
		if len(batch) > 0 {
			for _, w := range in.workers {
				w.offer(batch)
			}
			batch = make([]Event, 0, in.cfg.BatchSize)
		}
		if len(dead) > 0 {
			in.dead.offer(dead)
			dead = nil
		}
		timer.Reset(in.cfg.BatchTimeout)
	}
	stop := func() {
		dispatch()
		for _, w := range in.allWorkers() {
			w.stop()
		}
		in.reportDrops()
	}
	for {
		select {
		case ev := <-in.queue:
			if ev.ctl != nil {
				if ev.ctl.stop {
					stop()
					return
				}
				dispatch()
				in.flushWorkers(ev.ctl.flush)
				continue
			}
			if !in.prepare(&ev) {
				continue
			}
			if ev.Invalid != nil {
				dead = append(dead, ev)
				continue
			}
			batch = append(batch, ev)
			if len(batch) >= in.cfg.BatchSize {
				dispatch()
			}
		case <-timer.C:
			dispatch()
		case now := <-tick.C:
			in.latency.CheckSLOs(now)
			in.reportDrops()
		case <-in.abortCx.Done():
			// Shutdown gave up waiting: take what is queued, count it as
			// accepted (its emit returned nil) and dropped at shutdown.
			for {
				select {
				case ev := <-in.queue:
					switch {
					case ev.ctl != nil:
					case ev.Invalid != nil:
						in.dead.shutdrops.Add(1)
					default:
						in.stats.accept(ev)
						in.stats.dropAll(in.workers, DropShutdown, 1)
					}
					continue
				default:
				}
				break
			}
			in.stats.dropAll(in.workers, DropShutdown, int64(len(batch)))
			if len(dead) > 0 {
				in.dead.shutdrops.Add(int64(len(dead)))
			}
			batch = batch[:0]
			dead = nil
			stop()
			return
		}
	}
}

// flushWorkers asks every worker to ForceFlush after the batches already
// handed to it and closes done when all have.
func (in *Instrument) flushWorkers(done chan struct{}) {
	ws := in.allWorkers()
	var pending sync.WaitGroup
	pending.Add(len(ws))
	for _, w := range ws {
		w.flush(&pending)
	}
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		pending.Wait()
		close(done)
	}()
}

// prepare pseudonymizes ev in place, applies consent and the allow-list,
// assigns an event id, and reports whether ev is to be exported.
func (in *Instrument) prepare(ev *Event) bool {
	var rawUser, rawSession string
	switch {
	case ev.Impression != nil:
		im := ev.Impression
		in.recordStageMetrics(im)
		rawUser, rawSession = im.rawUser, im.rawSession
		im.rawUser, im.rawSession = "", ""
		im.User = in.pseudonym(privacy.DomainUser, rawUser)
		im.Session = in.pseudonym(privacy.DomainSession, rawSession)
		if im.EventID.IsZero() {
			im.EventID = NewEventID()
		}
		im.Context = in.minimize(im.Context)
	case ev.Outcome != nil:
		o := ev.Outcome
		rawUser, rawSession = o.User, o.Session
		o.User, o.Session = "", ""
		o.UserID = in.pseudonym(privacy.DomainUser, rawUser)
		o.SessionID = in.pseudonym(privacy.DomainSession, rawSession)
		o.Service = in.cfg.Service
		if o.EventID.IsZero() {
			o.EventID = NewEventID()
		}
	case ev.Exposure != nil:
		x := ev.Exposure
		rawUser = x.User
		x.User = ""
		x.UserID = in.pseudonym(privacy.DomainUser, rawUser)
		x.Service = in.cfg.Service
		if x.EventID.IsZero() {
			x.EventID = NewEventID()
		}
	case ev.Link != nil:
		l := ev.Link
		rawUser, rawSession = l.User, l.Session
		l.User, l.Session = "", ""
		l.UserID = in.pseudonym(privacy.DomainUser, rawUser)
		l.SessionID = in.pseudonym(privacy.DomainSession, rawSession)
		l.Service = in.cfg.Service
		if l.EventID.IsZero() {
			l.EventID = NewEventID()
		}
	default:
		return false
	}
	if ev.Invalid != nil {
		return true
	}
	in.stats.accept(*ev)
	if c := in.cfg.Consent; c != nil {
		who := rawUser
		if who == "" {
			who = rawSession
		}
		if !c.Allowed(who) {
			in.stats.optedOut.Add(1)
			return false
		}
	}
	return true
}

// recordStageMetrics records the OTel stage histogram for an impression's
// stages and its end-to-end latency. The request path updates only the
// tracker's lock-free windows; this runs on the batcher (or, for an
// impression the queue refused, on the emitting goroutine).
func (in *Instrument) recordStageMetrics(im *Impression) {
	for i := range im.Stages {
		s := &im.Stages[i]
		in.latency.RecordMetric(s.Name, s.Duration, s.Status)
	}
	in.latency.RecordMetric(latency.EndToEnd, im.Duration(), im.Status)
}

// pseudonymCacheSize bounds each of the batcher's two pseudonym caches
// (users, sessions). Returning users cost a map lookup instead of an HMAC
// and an allocation; when a cache is full it is emptied. At most about
// 2 x 65,536 x (id length + 80) bytes, ~15 MiB for 30-byte ids.
const pseudonymCacheSize = 1 << 16

// pseudonym returns raw's pseudonym in domain, from the batcher's cache
// when it can. Only the batcher goroutine calls it.
func (in *Instrument) pseudonym(d privacy.Domain, raw string) Pseudonym {
	if raw == "" {
		return Pseudonym{}
	}
	c := in.pcache[0]
	if d == privacy.DomainSession {
		c = in.pcache[1]
	}
	if p, ok := c[raw]; ok {
		return p
	}
	id, key := in.cfg.Pseudonymize.Pseudonymize(d, raw)
	p := Pseudonym{ID: id, KeyID: key}
	if len(c) >= pseudonymCacheSize {
		clear(c)
	}
	c[raw] = p
	return p
}

// minimize returns attrs without keys off the allow-list, copying only when
// something is removed (the caller's slice is never modified).
func (in *Instrument) minimize(attrs []Attr) []Attr {
	for i, a := range attrs {
		if !in.allow.Allows(a.Key) {
			out := append(make([]Attr, 0, len(attrs)-1), attrs[:i]...)
			for _, b := range attrs[i:] {
				if in.allow.Allows(b.Key) {
					out = append(out, b)
				} else {
					in.stats.attrsDropped.Add(1)
				}
			}
			return out
		}
	}
	return attrs
}
