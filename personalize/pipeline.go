package personalize

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/rankscope/rankscope/internal/prefetch"
	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize/schema"
	"github.com/rankscope/rankscope/privacy"
)

// Instrument is the entry point of the library: it wraps inference calls,
// validates and pseudonymizes events, and delivers them to exporters
// through bounded queues. All methods are safe for concurrent use.
//
// The pipeline: an emit validates its event and puts it on the entry
// queue of one shard (chosen by a hash of the raw user id); each shard's
// batcher goroutine pseudonymizes, applies consent and the context
// allow-list, batches by size and age, and hands each batch to one worker
// goroutine per exporter through a bounded per-exporter queue. When an
// exporter falls behind, the batchers wait for it, their entry queues
// fill, and the excess is refused at the door, before any work is spent on
// it. An exporter that makes no progress for Config.StallTimeout loses its
// own batches, counted, so the others go on.
type Instrument struct {
	cfg     Config
	latency *latency.Tracker
	allow   privacy.AllowList

	shards []*shard
	seed   maphash.Seed
	closed atomic.Bool

	workers []*worker
	dead    *worker // dead-letter; nil if none
	wg      sync.WaitGroup
	abort   context.CancelFunc
	abortCx context.Context

	stats      counters
	recycle    bool      // every exporter is Transient: impressions are pooled
	warm       bool      // recycle, on more than one core: End requests the next block (warmBlock)
	blocks     blockPool // of *impBlock, when recycle
	batches    sync.Pool // of *[]Event: batch slices every worker settled
	blockLists sync.Pool // of *[]*impBlock: a settled batch's list of blocks
	wal        *wal      // durable mode (Config.WAL); nil when off
	ownTracker bool      // built by New: its gauges stop at Shutdown
	shutOnce   sync.Once
	shutErr    error
	tele       *telemetry
	models     modelRegistry // lineage records emitted (RegisterModel)
}

// shard is one entry queue and the batcher goroutine that drains it. The
// pseudonym caches and the per-type counts belong to the batcher alone.
//
// Its fields are grouped by who writes them, each group on cache lines of
// its own: emitting goroutines and the batcher run on different cores, and
// a counter the callers bump next to one the batcher bumps makes the line
// travel between the cores on every event. Under overload, callers refused
// at the door counting on the batcher's line slowed the batcher itself.
type shard struct {
	// Set by New, then only read.
	in    *Instrument
	first bool // the shard that checks SLOs and reports drops each second
	queue *ring
	// shed is the shard's shared stand-in for inferences shed at Start.
	shed *Inference
	// slots is the door in durable mode: a token per durable event between
	// its emit and its batcher (see emitDurable); nil when off.
	slots chan struct{}
	_     cacheLinePad

	// Written by emitting goroutines.
	// inflight counts emits on this shard between their closed check and
	// their enqueue, so Shutdown can wait for them.
	inflight  atomic.Int64
	queueFull atomic.Int64 // refused at this shard's door
	// shut is set when an emit found the queue full and cleared when the
	// batcher has drained it: Start sheds on it without reading the
	// queue's own counters, which the batcher writes on every event (see
	// refuse).
	shut atomic.Bool
	_    cacheLinePad

	// Written by the batcher.
	pcache [2]pseudonymCache // user, session
	// uh is the user hash of the envelope being handled (envelope.uh).
	uh    uint64
	books shardBooks
	// tally holds the stage timings of the impressions the batcher
	// handled since its last dispatch (recordStages): at most 16 stages,
	// under 150 KiB at the tracker's default accuracy.
	tally *latency.Tally
	_     cacheLinePad
}

// cacheLinePad separates fields written by different cores: two 64-byte
// lines, since processors fetch lines in adjacent pairs.
type cacheLinePad [128]byte

// envelope is what travels the entry queues: an event or a control
// message, never both. Control messages never reach exporters.
type envelope struct {
	ev Event
	// blk is the block of an impression built by Start: it holds the raw
	// identifiers until the event is pseudonymized, and is recycled after
	// export (see impBlock). Nil for every other event.
	blk *impBlock
	ctl *control
	// seg is set in durable mode: ev is prepared (pseudonymized, consent
	// and allow-list applied, event id set) and in this WAL segment.
	seg *walSegment
	// uh is the hash of the event's raw user id in the shard's user
	// cache (pseudonymCache), or 0: the emitting goroutine, whose cache
	// holds the id, computes it, so the batcher can request the id's
	// slot from memory an event ahead (see the batcher's drain).
	uh uint64
}

// DropReason says why accepted (or offered) events were not exported.
type DropReason uint8

// Drop reasons.
const (
	DropQueueFull       DropReason = iota + 1 // the queue was full at emit
	DropClosed                                // emitted after Shutdown
	DropExporterBacklog                       // an exporter stalled (Config.StallTimeout) with its queue full
	DropExportFailed                          // Export returned an error
	DropShutdown                              // Shutdown's deadline passed first
	DropWALFull                               // durable mode: the write-ahead log was at Config.WAL.MaxBytes at emit
	DropWALError                              // durable mode: the write-ahead log could not be written at emit
)

var dropReasonNames = [...]string{"", "queue_full", "closed", "exporter_backlog", "export_failed", "shutdown", "wal_full", "wal_error"}

// String returns the metric attribute value of r.
func (r DropReason) String() string {
	if int(r) < len(dropReasonNames) && r != 0 {
		return dropReasonNames[r]
	}
	return "unknown"
}

// DropError reports events that were not exported. Emits return it for
// DropQueueFull, DropWALFull and DropWALError; the error handler receives
// it, aggregated, for the rest.
type DropError struct {
	Reason   DropReason
	Exporter string // empty for queue-level drops
	Count    int64
	Err      error // the export error, for DropExportFailed; the write error, for DropWALError
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

// Is makes errors.Is(err, ErrQueueFull) true for queue-full drops, and
// errors.Is(err, ErrWALFull) for WAL-full drops.
func (e *DropError) Is(target error) bool {
	return target == ErrQueueFull && e.Reason == DropQueueFull ||
		target == ErrWALFull && e.Reason == DropWALFull
}

// control messages travel every shard's queue in order with its events.
// A worker acts on one when the marker has arrived from every shard, that
// is once every event accepted before it was handed to the worker.
type control struct {
	flush *flushReq // nil for stop
	stop  bool
}

// flushReq is one Flush: left[i] counts the shards whose marker worker i
// has still to receive; workers counts the workers still flushing.
type flushReq struct {
	left    []atomic.Int32
	workers atomic.Int32
	done    chan struct{}
}

// New builds an instrument and starts its goroutines; call Shutdown to stop
// them. It returns an error naming the first invalid Config field.
func New(cfg Config) (*Instrument, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	if err := checkConfigModels(cfg.Models); err != nil {
		return nil, err
	}
	allow, err := privacy.NewAllowList(cfg.ContextAllowList...)
	if err != nil {
		return nil, fmt.Errorf("personalize: Config.ContextAllowList: %w", err)
	}
	in := &Instrument{cfg: cfg, allow: allow, seed: maphash.MakeSeed(), recycle: recyclable(cfg.Exporters)}
	in.warm = in.recycle && runtime.GOMAXPROCS(0) > 1
	in.latency = cfg.Latency
	if in.latency == nil {
		if in.latency, err = latency.NewTracker(latency.Config{MeterProvider: cfg.MeterProvider}); err != nil {
			return nil, fmt.Errorf("personalize: latency tracker: %w", err)
		}
		in.ownTracker = true
	}
	per := max(cfg.QueueSize/cfg.Shards, 1)
	for i := 0; i < cfg.Shards; i++ {
		sh := &shard{
			in: in, first: i == 0, queue: newRing(per),
			tally: in.latency.NewTally(),
		}
		// The seeds are fixed before any goroutine starts: emitters hash
		// user ids with the user cache's (shard.userHash).
		sh.pcache[0].seed, sh.pcache[1].seed = maphash.MakeSeed(), maphash.MakeSeed()
		sh.shed = &Inference{in: in, sh: sh, shed: true}
		in.shards = append(in.shards, sh)
	}
	in.stats.init()
	in.abortCx, in.abort = context.WithCancel(context.Background())
	names := map[string]bool{}
	for i, e := range cfg.Exporters {
		name := exporterName(e, i)
		if names[name] {
			name = name + "#" + strconv.Itoa(i)
		}
		names[name] = true
		in.workers = append(in.workers, in.newWorker(len(in.workers), name, e))
	}
	if cfg.DeadLetter != nil {
		in.dead = in.newWorker(len(in.workers), "dead_letter", cfg.DeadLetter)
	}
	if in.tele, err = newTelemetry(in); err != nil {
		return nil, err
	}
	if cfg.WAL.enabled() {
		if in.wal, err = openWAL(in); err != nil {
			in.tele.close()
			return nil, err
		}
	}
	for _, w := range in.allWorkers() {
		in.wg.Add(1)
		go w.run()
	}
	for _, sh := range in.shards {
		in.wg.Add(1)
		go sh.batcher()
	}
	if err := in.registerConfigModels(); err != nil {
		return nil, err
	}
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

// shardFor returns the shard of an outcome, exposure or link: a hash of
// its raw user id (session id when it has none), so one user's events keep
// their order; a model record's, of its model name. An impression's shard is chosen by Start from the same key.
func (in *Instrument) shardFor(ev *Event) *shard {
	if len(in.shards) == 1 {
		return in.shards[0]
	}
	var key string
	switch {
	case ev.Outcome != nil:
		key = ev.Outcome.User
		if key == "" {
			key = ev.Outcome.Session
		}
	case ev.Exposure != nil:
		key = ev.Exposure.User
	case ev.Link != nil:
		key = ev.Link.User
	case ev.Model != nil:
		key = ev.Model.Model // no user: one model's records keep their order
	}
	return in.shardOf(key)
}

// shardOf returns the shard of the raw identifier key.
func (in *Instrument) shardOf(key string) *shard {
	if len(in.shards) == 1 {
		return in.shards[0]
	}
	h := maphash.String(in.seed, key)
	return in.shards[(h>>32)*uint64(len(in.shards))>>32]
}

// emit validates and enqueues ev.
func (in *Instrument) emit(ev Event) error { return in.emitTo(in.shardFor(&ev), ev, nil) }

// emitTo validates ev and enqueues it on sh; blk is the block of an
// impression built by Start, nil otherwise.
func (in *Instrument) emitTo(sh *shard, ev Event, blk *impBlock) error {
	sh.inflight.Add(1)
	defer sh.inflight.Add(-1)
	if in.closed.Load() {
		in.stats.drop(DropClosed, 1)
		if ev.Impression != nil {
			in.recordStages(ev.Impression, nil)
		}
		return ErrShutdown
	}
	var err error
	if blk != nil && (blk.rawUser != "" || blk.rawSession != "") {
		// The raw ids are the identity until the batcher pseudonymizes.
		err = ev.Impression.ValidateUnidentified()
	} else {
		err = ev.Validate()
	}
	if err == nil {
		err = schema.CheckSize(&ev)
	}
	if err != nil {
		queued := false
		var ve *ValidationError
		if errors.As(err, &ve) {
			in.stats.reject(ve)
			if in.dead != nil {
				ev.Invalid = ve
				queued = sh.enqueueDead(ev, blk)
			}
		}
		if !queued && ev.Impression != nil {
			// The batcher will not see this impression: its stages still
			// count in the latency windows, as they ran.
			in.recordStages(ev.Impression, nil)
		}
		return err
	}
	if in.wal != nil {
		return sh.emitDurable(ev, blk)
	}
	return sh.enqueue(ev, blk)
}

// put puts env on the shard's queue: at once, or under BlockTimeout after
// waiting up to that long for room. It reports whether env was queued.
func (sh *shard) put(env envelope) bool {
	return sh.queue.putWithin(env, sh.in.cfg.BlockTimeout)
}

// sendWithin sends v on ch at once or, when d > 0, within d. It reports
// whether v was sent. The timer is made only when ch is full.
func sendWithin[T any](ch chan<- T, v T, d time.Duration) bool {
	select {
	case ch <- v:
		return true
	default:
	}
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case ch <- v:
		return true
	case <-t.C:
		return false
	}
}

// enqueueDead puts a rejected event on the queue for the dead-letter
// exporter. Under the default policy it never waits: a full door drops it,
// counted on the dead-letter exporter (exporter_backlog). Under
// BlockTimeout it waits for room like any other event, since the caller
// chose waiting over dropping.
func (sh *shard) enqueueDead(ev Event, blk *impBlock) (queued bool) {
	if !sh.put(envelope{ev: ev, blk: blk}) {
		sh.in.dead.backlog.Add(1)
		return false
	}
	return true
}

// enqueue is the door: a full entry queue refuses the event at once (or,
// under BlockTimeout, after waiting for room), before any work is spent.
func (sh *shard) enqueue(ev Event, blk *impBlock) error {
	if sh.put(envelope{ev: ev, blk: blk, uh: sh.userHash(&ev, blk)}) {
		return nil
	}
	if ev.Impression != nil {
		// The batcher will not see this impression: record its stages
		// here so the latency windows and histogram stay complete under
		// overload.
		sh.in.recordStages(ev.Impression, nil)
	}
	return sh.refuse()
}

// userHash is the hash of ev's raw user id in the shard's user cache, 0
// when ev carries none (only impressions built by Start and outcomes are
// hashed here). It runs on the emitting goroutine, which wrote or read
// the id last, so the batcher does not wait for the id's memory to learn
// which cache slot to request.
func (sh *shard) userHash(ev *Event, blk *impBlock) uint64 {
	var raw string
	switch {
	case blk != nil:
		raw = blk.rawUser
	case ev.Outcome != nil:
		raw = ev.Outcome.User
	}
	if raw == "" {
		return 0
	}
	return maphash.String(sh.pcache[0].seed, raw)
}

// refuse counts an event refused at the shard's door and yields the
// processor once: a caller that retries at once would otherwise keep the
// batchers and exporters, the goroutines that free the door, from running.
// It never waits for the pipeline. The count is the shard's, so refusals
// on many cores do not share a cache line.
func (sh *shard) refuse() error {
	sh.queueFull.Add(1)
	if !sh.shut.Load() {
		// Shut the door for Start, then look again: if the batcher made
		// room meanwhile, it may have opened the door before this shut
		// it, and nothing would open it again. Otherwise the queue is full
		// and the batcher opens the door after its next drain.
		sh.shut.Store(true)
		if sh.queue.Len() < sh.queue.Cap() {
			sh.shut.Store(false)
		}
	}
	runtime.Gosched()
	return errQueueFull
}

// open reopens the door after a drain made room. The batcher calls it
// after every drain; it writes only when the door was shut.
func (sh *shard) open() {
	if sh.shut.Load() {
		sh.shut.Store(false)
	}
}

// errQueueFull is the error of every refusal at the door: one shared
// value, so refusing allocates nothing.
var errQueueFull = &DropError{Reason: DropQueueFull, Count: 1}

// sendControl puts a control message on every shard's queue, waiting for
// space. On an error some shards may have it: only Shutdown's abort, which
// drains everything, may follow.
func (in *Instrument) sendControl(ctx context.Context, c *control) error {
	for _, sh := range in.shards {
		if err := sh.queue.putCtx(ctx, envelope{ctl: c}); err != nil {
			return err
		}
	}
	return nil
}

// Flush delivers every event accepted before the call to every exporter and
// calls their ForceFlush. It honors ctx.
func (in *Instrument) Flush(ctx context.Context) error {
	if in.wal != nil {
		// Replayed events count as accepted before the call.
		if err := in.wal.waitReplay(ctx); err != nil {
			return err
		}
	}
	sh := in.shards[0]
	sh.inflight.Add(1)
	if in.closed.Load() {
		sh.inflight.Add(-1)
		return ErrShutdown
	}
	ws := in.allWorkers()
	f := &flushReq{left: make([]atomic.Int32, len(ws)), done: make(chan struct{})}
	for i := range f.left {
		f.left[i].Store(int32(len(in.shards)))
	}
	f.workers.Store(int32(len(ws)))
	err := in.sendControl(ctx, &control{flush: f})
	sh.inflight.Add(-1)
	if err != nil {
		return err
	}
	select {
	case <-f.done:
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
// must honor context cancellation). Otherwise, if any exporter failed to
// deliver events during the instrument's life, Shutdown returns a
// *DropError per such exporter (joined with errors.Join) with the count
// and the last export error; the events were already counted and
// reported. Calling it again returns the first result.
func (in *Instrument) Shutdown(ctx context.Context) error {
	in.shutOnce.Do(func() { in.shutErr = in.shutdown(ctx) })
	return in.shutErr
}

func (in *Instrument) shutdown(ctx context.Context) error {
	in.closed.Store(true)
	// Wait for emits that passed the closed check to finish enqueueing,
	// so every accepted event is ahead of the stop markers.
	for _, sh := range in.shards {
		for sh.inflight.Load() > 0 {
			runtime.Gosched()
		}
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
		// A batcher may still be waiting for a stop marker its full queue
		// could not take: abort tells it to drain and stop.
		<-stopped
	}
	in.abort()
	if in.wal != nil {
		in.wal.close()
	}
	in.tele.close()
	if in.ownTracker {
		_ = in.latency.Close()
	}
	if err != nil {
		return err
	}
	return in.failures()
}

// failures summarizes the events exporters failed to deliver over the
// instrument's life, one *DropError per exporter.
func (in *Instrument) failures() error {
	var errs []error
	for _, w := range in.allWorkers() {
		if n := w.failed.Load(); n > 0 {
			var cause error
			if e := w.lastErr.Load(); e != nil {
				cause = errors.New(*e)
			}
			errs = append(errs, &DropError{Reason: DropExportFailed, Exporter: w.name, Count: n, Err: cause})
		}
	}
	return errors.Join(errs...)
}

// pollInterval is how long a busy batcher sleeps between drains of its
// queue. A shard's queue holds QueueSize/Shards events: on two cores the
// default 1024-event door is one shard's, about a million events a second
// at one drain per interval, more than one batcher processes. With more
// shards each holds less, but a drain that finds a quarter of its queue
// full does not sleep at all.
const pollInterval = time.Millisecond

// batcher is the single consumer of one shard's queue.
func (sh *shard) batcher() {
	in := sh.in
	defer in.wg.Done()
	batch := in.getBatch()
	var dead []Event
	var segs []walRef      // durable mode: the WAL segments of batch's events
	var blocks []*impBlock // recycling: the impression blocks of batch
	timer := time.NewTimer(in.cfg.BatchTimeout)
	defer timer.Stop()
	var tickC <-chan time.Time
	if sh.first {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		tickC = tick.C
	}
	dispatch := func() {
		sh.queue.drained() // offering may wait on an exporter: free the room taken
		sh.tally.Flush()
		if len(batch) > 0 {
			rel := in.newRelease(batch, blocks)
			for _, w := range in.workers {
				w.offer(batch, segs, rel)
			}
			batch = in.getBatch()
			segs, blocks = nil, in.getBlockList()
		}
		if len(dead) > 0 {
			in.dead.offer(dead, nil, nil)
			dead = nil
		}
		timer.Reset(in.cfg.BatchTimeout)
	}
	stop := func() {
		dispatch()
		for _, w := range in.allWorkers() {
			w.send(workItem{stop: true})
		}
		if sh.first {
			in.reportDrops()
		}
	}
	// handle processes one envelope and reports whether the shard stops.
	handle := func(env envelope) bool {
		if c := env.ctl; c != nil {
			dispatch()
			if c.stop {
				stop()
				return true
			}
			for _, w := range in.allWorkers() {
				w.send(workItem{flush: c.flush})
			}
			return false
		}
		ev := env.ev
		sh.uh = env.uh
		if env.seg != nil {
			segs = sh.takeDurable(segs, env.seg)
		} else if !sh.prepare(&ev, env.blk) {
			return false
		}
		if ev.Invalid != nil {
			dead = append(dead, ev)
			return false
		}
		batch = append(batch, ev)
		if env.blk != nil && in.recycle {
			blocks = append(blocks, env.blk)
		}
		if len(batch) >= in.cfg.BatchSize {
			dispatch()
		}
		return false
	}
	// drain handles what is queued now, without waiting, and reports how
	// many envelopes it took and whether the shard stops. It takes the
	// next envelope before handling the current one and requests the
	// next one's pseudonym-cache slot (envelope.uh) and impression block:
	// with many distinct users the slot is rarely in the processor's
	// cache, and the block was last written on the caller's core, so both
	// would stall the batcher when the next event is handled; requested
	// here, they arrive while the current one is. A control message is
	// handled before anything after it is taken from the queue.
	q := sh.queue
	drain := func() (int, bool) {
		n := 0
		cur, have := q.take()
		for have {
			n++
			if cur.ctl != nil {
				if handle(cur) {
					return n, true
				}
				cur, have = q.take()
				continue
			}
			next, got := q.take()
			if got {
				sh.pcache[0].prefetch(next.uh)
				if next.blk != nil {
					prefetch.Lines(unsafe.Pointer(next.blk), unsafe.Offsetof(next.blk.items))
				}
			}
			handle(cur) // an event: handle reports a stop only for control messages
			cur, have = next, got
		}
		q.drained()
		return n, false
	}
	// Under load the batcher polls: after a wake-up it drains the queue,
	// then sleeps pollInterval and drains again, so a busy shard wakes at
	// most 1/pollInterval times a second instead of once per event (a
	// wake-up costs the emitting caller a futex call). It blocks on the
	// queue again only when a poll finds it empty. A drain that took a
	// quarter of the queue or more means events arrive faster than a
	// sleep allows: the batcher goes straight back to the queue, since
	// sleeping then would leave the door shut on a full queue.
	busy := max(q.Cap()/4, 1)
	poll := time.NewTimer(time.Hour)
	poll.Stop()
	defer poll.Stop()
	polling := false
	// drained settles a drain of n envelopes: the door reopens, and the
	// batcher polls when it found some but less than busy.
	drained := func(n int) {
		sh.open()
		if polling = n > 0 && n < busy; polling {
			poll.Reset(pollInterval)
		}
	}
	for {
		var wake <-chan struct{}
		if !polling {
			// Sleep until an envelope is published: announce it, and
			// drain instead if one was published before the announcement
			// (its producer saw no one to wake).
			if !q.park() {
				n, stopped := drain()
				if stopped {
					return
				}
				drained(n)
				continue
			}
			wake = q.wake
		}
		select {
		case <-wake:
			n, stopped := drain()
			if stopped {
				return
			}
			drained(n)
		case <-poll.C:
			n, stopped := drain()
			if stopped {
				return
			}
			drained(n)
		case <-timer.C:
			dispatch()
		case now := <-tickC:
			sh.tally.Flush()
			in.latency.CheckSLOs(now)
			in.reportDrops()
		case <-in.abortCx.Done():
			// Shutdown gave up waiting: take what is queued, count it as
			// accepted (its emit returned nil) and dropped at shutdown.
			for {
				env, ok := q.take()
				if !ok {
					break
				}
				switch {
				case env.ctl != nil:
				case env.seg != nil:
					// Accepted at emit; it stays in the WAL for the
					// next process to replay.
					<-sh.slots
					in.stats.dropAll(in.workers, DropShutdown, 1)
				case env.ev.Invalid != nil:
					in.dead.shutdrops.Add(1)
					if env.ev.Impression != nil {
						in.recordStages(env.ev.Impression, nil)
					}
				default:
					sh.books.accept(env.ev)
					in.stats.dropAll(in.workers, DropShutdown, 1)
					if env.ev.Impression != nil {
						in.recordStages(env.ev.Impression, nil)
					}
				}
			}
			q.drained()
			in.stats.dropAll(in.workers, DropShutdown, int64(len(batch)))
			if len(dead) > 0 {
				in.dead.shutdrops.Add(int64(len(dead)))
			}
			batch = batch[:0]
			segs = nil // not settled: the next process replays them
			dead = nil
			stop()
			return
		}
	}
}

// prepare pseudonymizes ev in place, applies consent and the allow-list,
// assigns an event id, and reports whether ev is to be exported.
func (sh *shard) prepare(ev *Event, blk *impBlock) bool {
	region := regionOf(ev) // before the allow-list may drop it
	rawUser, rawSession, ok := sh.pseudonymize(ev, blk, false)
	if !ok {
		return false
	}
	if ev.Invalid != nil {
		return true
	}
	sh.books.accept(*ev)
	if !sh.in.consents(ev, rawUser, rawSession, region) {
		sh.books.optedOut.Add(1)
		return false
	}
	return true
}

// pseudonymize replaces ev's raw identifiers (an impression's are in blk,
// when Start built it) with pseudonyms, applies the allow-list, assigns an
// event id, and returns the raw identifiers; ok is false for an event
// without a payload. onEmit says it runs on the emitting goroutine
// (durable mode), not on the shard's batcher.
func (sh *shard) pseudonymize(ev *Event, blk *impBlock, onEmit bool) (rawUser, rawSession string, ok bool) {
	in := sh.in
	switch {
	case ev.Impression != nil:
		im := ev.Impression
		var y *latency.Tally // the emitting goroutine records at once
		if !onEmit {
			y = sh.tally
		}
		in.recordStages(im, y)
		if blk != nil {
			rawUser, rawSession = blk.rawUser, blk.rawSession
			blk.rawUser, blk.rawSession = "", ""
			im.UserID = sh.pseudonym(privacy.DomainUser, rawUser, onEmit)
			im.SessionID = sh.pseudonym(privacy.DomainSession, rawSession, onEmit)
		}
		if im.EventID.IsZero() {
			im.EventID = schema.NewEventIDAt(im.End) // no clock read: End is recent
		}
		im.Context = in.minimize(im.Context)
	case ev.Outcome != nil:
		o := ev.Outcome
		rawUser, rawSession = o.User, o.Session
		o.User, o.Session = "", ""
		o.UserID = sh.pseudonym(privacy.DomainUser, rawUser, onEmit)
		o.SessionID = sh.pseudonym(privacy.DomainSession, rawSession, onEmit)
		o.Service = in.cfg.Service
		if o.EventID.IsZero() {
			o.EventID = NewEventID()
		}
	case ev.Exposure != nil:
		x := ev.Exposure
		rawUser = x.User
		x.User = ""
		x.UserID = sh.pseudonym(privacy.DomainUser, rawUser, onEmit)
		x.Service = in.cfg.Service
		if x.EventID.IsZero() {
			x.EventID = NewEventID()
		}
	case ev.Link != nil:
		l := ev.Link
		rawUser, rawSession = l.User, l.Session
		l.User, l.Session = "", ""
		l.UserID = sh.pseudonym(privacy.DomainUser, rawUser, onEmit)
		l.SessionID = sh.pseudonym(privacy.DomainSession, rawSession, onEmit)
		l.Service = in.cfg.Service
		if l.EventID.IsZero() {
			l.EventID = NewEventID()
		}
	case ev.Model != nil:
		m := ev.Model // no identifiers to pseudonymize
		m.Service = in.cfg.Service
		if m.EventID.IsZero() {
			m.EventID = NewEventID()
		}
	default:
		return "", "", false
	}
	return rawUser, rawSession, true
}

// consents reports whether Config.Consent lets ev, an event of rawUser
// (rawSession when there is no user) in region, be exported. A regional
// policy's basis is recorded on ev.
func (in *Instrument) consents(ev *Event, rawUser, rawSession, region string) bool {
	c := in.cfg.Consent
	if c == nil || ev.Model != nil { // a model record is no one's personal data
		return true
	}
	who := rawUser
	if who == "" {
		who = rawSession
	}
	if rc, ok := c.(privacy.RegionalConsent); ok {
		allowed, basis := rc.Decide(who, region)
		ev.SetConsentBasis(basis.String())
		return allowed
	}
	return c.Allowed(who)
}

// regionOf returns the "region" context attribute of an impression, the
// region a regional consent policy decides in; "" for other events.
func regionOf(ev *Event) string {
	if ev.Impression != nil {
		return ev.Impression.Attr(AttrRegion)
	}
	return ""
}

// recordStages records an impression's stage timings and its end-to-end
// latency in the latency tracker's windows (Instrument.Latency), and in
// the OTel stage histogram when Config.StageHistogram is on. It runs once
// per ended inference, off the request path: on the batcher when the
// impression reaches it, or on the emitting goroutine for an impression
// the batcher will never see (refused at the door, rejected without a
// dead-letter exporter, emitted after Shutdown, or prepared on emit in
// durable mode).
func (in *Instrument) recordStages(im *Impression, y *latency.Tally) {
	t := in.latency
	if in.cfg.StageHistogram {
		for i := range im.Stages {
			t.RecordMetric(im.Stages[i].Name, im.Stages[i].Duration, im.Stages[i].Status)
		}
		t.RecordMetric(latency.EndToEnd, im.Duration(), im.Status)
	}
	var w windowObserver = t
	if y != nil {
		w = y
	}
	for i := range im.Stages {
		s := &im.Stages[i]
		w.ObserveWindows(latency.Observation{Stage: s.Name, Start: im.Start.Add(s.Offset), Duration: s.Duration,
			Status: s.Status})
	}
	w.ObserveWindows(latency.Observation{Stage: latency.EndToEnd, Start: im.Start, Duration: im.Duration(),
		Status: im.Status})
}

// windowObserver is what recordStages records to: the tracker itself, or
// a batcher's Tally of it.
type windowObserver interface {
	ObserveWindows(latency.Observation)
}

// pseudonymSlots is the size of each of a shard's two pseudonym caches
// (users, sessions; see pseudonymCache): 8,192 slots of 56 bytes, 448 KiB
// per cache, so at most 896 KiB per shard plus the cached strings.
const pseudonymSlots = 1 << 13

// pseudonym returns raw's pseudonym in domain, from the shard's cache when
// it can. Only the shard's batcher goroutine uses the shard's cache:
// onEmit (an emitting goroutine, in durable mode) uses the WAL's.
func (sh *shard) pseudonym(d privacy.Domain, raw string, onEmit bool) Pseudonym {
	if raw == "" {
		return Pseudonym{}
	}
	if onEmit {
		return sh.in.wal.pseudonyms.get(sh.in.cfg.Pseudonymize, d, raw)
	}
	c := &sh.pcache[0]
	if d == privacy.DomainSession {
		c = &sh.pcache[1]
	}
	var e *pseudonymEntry
	var h uint64
	if d == privacy.DomainUser && sh.uh != 0 {
		// Hashed on the emitting goroutine (envelope.uh). Were it not
		// raw's, raw would only miss and take another id's slot: hit
		// compares the id itself.
		h, sh.uh = sh.uh, 0
		e = c.at(h)
	} else {
		e, h = c.slot(raw)
	}
	if e.hit(h, raw) {
		return e.p
	}
	id, key := sh.in.cfg.Pseudonymize.Pseudonymize(d, raw)
	p := Pseudonym{ID: id, KeyID: key}
	*e = pseudonymEntry{h: h, raw: raw, p: p}
	return p
}

// pseudonymCache is a shard's cache of one domain's pseudonyms: a
// direct-mapped table, where an id's slot is fixed by its hash and a new id
// replaces whatever shared its slot. It is small enough to stay in the
// processor's cache, so a returning user costs a hash and a comparison
// (30–50 ns here) and a user not seen lately costs the keyed hash plus 10–40
// nanoseconds. A large map that held every recent user was tried
// first: at 100,000 or more distinct users its lookups miss the processor
// cache and cost more than the HMAC they save (BenchmarkPseudonymPath).
type pseudonymCache struct {
	seed  maphash.Seed
	slots []pseudonymEntry // pseudonymSlots, allocated on first use
}

// pseudonymEntry is one slot. The full hash is kept so that a miss is
// decided without reading the cached id's bytes (another memory access).
type pseudonymEntry struct {
	h   uint64
	raw string
	p   Pseudonym
}

// slot returns raw's slot (the entry of raw, or the one raw is to
// replace) and raw's hash.
func (c *pseudonymCache) slot(raw string) (*pseudonymEntry, uint64) {
	h := maphash.String(c.seed, raw)
	return c.at(h), h
}

// at returns the slot of the id whose hash is h.
func (c *pseudonymCache) at(h uint64) *pseudonymEntry {
	if c.slots == nil {
		c.slots = make([]pseudonymEntry, pseudonymSlots)
	}
	return &c.slots[h&(pseudonymSlots-1)]
}

// prefetch requests from memory the slot of the id whose hash is h (0:
// none), for a lookup soon.
func (c *pseudonymCache) prefetch(h uint64) {
	if h != 0 && c.slots != nil {
		prefetch.Lines(unsafe.Pointer(&c.slots[h&(pseudonymSlots-1)]), unsafe.Sizeof(pseudonymEntry{}))
	}
}

// hit reports whether e holds the pseudonym of raw, whose hash is h.
func (e *pseudonymEntry) hit(h uint64, raw string) bool {
	return e.h == h && e.p.ID != "" && e.raw == raw
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
