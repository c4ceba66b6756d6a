package personalize

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// worker owns one exporter: it exports the batches handed to it, in order,
// from its own goroutine, so a slow exporter never blocks the batchers for
// longer than Config.StallTimeout.
type worker struct {
	in   *Instrument
	idx  int // index in Instrument.allWorkers
	name string
	exp  Exporter
	ch   chan workItem

	exported  atomic.Int64
	failed    atomic.Int64 // events in failed Export calls
	backlog   atomic.Int64 // events dropped because the exporter stalled
	shutdrops atomic.Int64 // events dropped at Shutdown's deadline
	batches   atomic.Int64
	lastNanos atomic.Int64 // unix nanos of the last successful export
	lastErr   atomic.Pointer[string]
	// pending counts events handed to the worker and not yet settled.
	pending atomic.Int64
	// stalled is set when a batcher gave up waiting for room in ch; while
	// set, batches that find ch full are dropped without waiting.
	stalled atomic.Bool
	// stops counts the shards whose stop marker has not arrived.
	stops int
}

type workItem struct {
	batch []Event
	segs  []walRef // durable mode: the WAL segments of batch's events
	rel   *release // recycles the batch's impressions; nil unless pooling
	flush *flushReq
	stop  bool
}

func (in *Instrument) newWorker(idx int, name string, e Exporter) *worker {
	return &worker{in: in, idx: idx, name: name, exp: e, stops: in.cfg.Shards,
		ch: make(chan workItem, in.cfg.ExporterQueueSize)}
}

// offer hands a batch to the worker. A full queue makes the batcher wait,
// so the pressure of a slow exporter reaches the door; past
// Config.StallTimeout (or at once while the worker is marked stalled) the
// batch is dropped for this exporter alone. Under BlockTimeout the batcher
// waits until Shutdown aborts. In durable mode the batch's WAL segments
// are settled for this exporter once the batch is, except for events
// dropped because Shutdown gave up: those stay in the WAL to be replayed.
func (w *worker) offer(batch []Event, segs []walRef, rel *release) {
	n := int64(len(batch))
	w.pending.Add(n)
	it := workItem{batch: batch, segs: segs, rel: rel}
	select {
	case w.ch <- it:
		w.stalled.Store(false)
		return
	default:
	}
	blocking := w.in.cfg.BlockTimeout > 0
	if blocking || !w.stalled.Load() {
		var timeout <-chan time.Time
		if !blocking {
			t := time.NewTimer(w.in.cfg.StallTimeout)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case w.ch <- it:
			w.stalled.Store(false)
			return
		case <-timeout:
			w.stalled.Store(true)
		case <-w.in.abortCx.Done():
		}
	}
	w.pending.Add(-n)
	if w.in.abortCx.Err() != nil {
		// Shutdown gave up while the batcher waited for room: the batch
		// is lost to the deadline, not to a stalled exporter, and in
		// durable mode it stays in the WAL for the next process.
		w.shutdrops.Add(n)
	} else {
		w.backlog.Add(n)
		if segs != nil {
			settleWAL(segs)
		}
	}
	rel.done()
}

// send delivers a control item; control items wait for queue space because
// they must not be lost, and Shutdown's abort keeps the worker draining.
func (w *worker) send(it workItem) { w.ch <- it }

func (w *worker) run() {
	defer w.in.wg.Done()
	for it := range w.ch {
		switch {
		case it.stop:
			if w.stops--; w.stops > 0 {
				continue
			}
			w.finish()
			return
		case it.flush != nil:
			f := it.flush
			if f.left[w.idx].Add(-1) > 0 {
				continue // other shards' batches may still be on their way
			}
			ctx, cancel := w.exportContext()
			if err := w.exp.ForceFlush(ctx); err != nil {
				w.in.cfg.ErrorHandler(&ExportError{Exporter: w.name, Op: "ForceFlush", Err: err})
			}
			cancel()
			if f.workers.Add(-1) == 0 {
				close(f.done)
			}
		default:
			w.export(it.batch, it.segs)
			it.rel.done()
		}
	}
}

func (w *worker) exportContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(w.in.abortCx, w.in.cfg.ExportTimeout)
}

func (w *worker) export(batch []Event, segs []walRef) {
	n := int64(len(batch))
	defer w.pending.Add(-n)
	if w.in.abortCx.Err() != nil {
		w.shutdrops.Add(n)
		return
	}
	ctx, cancel := w.exportContext()
	start := time.Now()
	err := w.exp.Export(ctx, batch)
	cancel()
	end := time.Now()
	w.in.tele.recordExport(w, batch, start, end, err)
	if err != nil {
		// An exporter that wrote part of the batch says how much.
		var part interface{ Delivered() int }
		if errors.As(err, &part) {
			if d := min(max(int64(part.Delivered()), 0), n); d > 0 {
				w.exported.Add(d)
				n -= d
			}
		}
		if w.in.abortCx.Err() != nil {
			w.shutdrops.Add(n)
		} else {
			w.failed.Add(n)
			if segs != nil {
				settleWAL(segs)
			}
		}
		msg := err.Error()
		w.lastErr.Store(&msg)
		w.in.cfg.ErrorHandler(&DropError{Reason: DropExportFailed, Exporter: w.name, Count: n, Err: err})
		return
	}
	w.exported.Add(n)
	w.batches.Add(1)
	w.lastNanos.Store(end.UnixNano())
	if segs != nil {
		settleWAL(segs)
	}
}

// finish flushes and shuts the exporter down with whatever time is left.
func (w *worker) finish() {
	ctx, cancel := w.exportContext()
	defer cancel()
	if err := w.exp.ForceFlush(ctx); err != nil {
		w.in.cfg.ErrorHandler(&ExportError{Exporter: w.name, Op: "ForceFlush", Err: err})
	}
	if err := w.exp.Shutdown(ctx); err != nil {
		w.in.cfg.ErrorHandler(&ExportError{Exporter: w.name, Op: "Shutdown", Err: err})
	}
}

// ExportError reports a failed ForceFlush or Shutdown of an exporter.
type ExportError struct {
	Exporter string
	Op       string
	Err      error
}

func (e *ExportError) Error() string {
	return "personalize: exporter " + e.Exporter + ": " + e.Op + ": " + e.Err.Error()
}

func (e *ExportError) Unwrap() error { return e.Err }
