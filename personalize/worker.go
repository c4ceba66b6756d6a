package personalize

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// worker owns one exporter: it exports the batches handed to it, in order,
// from its own goroutine, so a slow exporter never blocks the batcher.
type worker struct {
	in   *Instrument
	name string
	exp  Exporter
	ch   chan workItem

	exported  atomic.Int64
	failed    atomic.Int64 // events in failed Export calls
	backlog   atomic.Int64 // events dropped because ch was full
	shutdrops atomic.Int64 // events dropped at Shutdown's deadline
	batches   atomic.Int64
	lastNanos atomic.Int64 // unix nanos of the last successful export
	lastErr   atomic.Pointer[string]
	// pending counts events handed to the worker and not yet settled.
	pending atomic.Int64
}

type workItem struct {
	batch []Event
	flush *sync.WaitGroup
	stop  bool
}

func (in *Instrument) newWorker(name string, e Exporter) *worker {
	return &worker{in: in, name: name, exp: e, ch: make(chan workItem, in.cfg.ExporterQueueSize)}
}

// offer hands a batch to the worker without blocking (or, under
// BlockTimeout, waiting for space until Shutdown aborts).
func (w *worker) offer(batch []Event) {
	n := int64(len(batch))
	select {
	case w.ch <- workItem{batch: batch}:
		w.pending.Add(n)
		return
	default:
	}
	if w.in.cfg.BlockTimeout > 0 {
		select {
		case w.ch <- workItem{batch: batch}:
			w.pending.Add(n)
			return
		case <-w.in.abortCx.Done():
		}
	}
	w.backlog.Add(n)
}

// flush and stop are control items; they wait for queue space because they
// must not be lost, and Shutdown's abort keeps the worker draining.
func (w *worker) flush(wg *sync.WaitGroup) { w.ch <- workItem{flush: wg} }
func (w *worker) stop()                    { w.ch <- workItem{stop: true} }

func (w *worker) run() {
	defer w.in.wg.Done()
	for it := range w.ch {
		switch {
		case it.stop:
			w.finish()
			return
		case it.flush != nil:
			ctx, cancel := w.exportContext()
			if err := w.exp.ForceFlush(ctx); err != nil {
				w.in.cfg.ErrorHandler(&ExportError{Exporter: w.name, Op: "ForceFlush", Err: err})
			}
			cancel()
			it.flush.Done()
		default:
			w.export(it.batch)
		}
	}
}

func (w *worker) exportContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(w.in.abortCx, w.in.cfg.ExportTimeout)
}

func (w *worker) export(batch []Event) {
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
		if w.in.abortCx.Err() != nil {
			w.shutdrops.Add(n)
		} else {
			w.failed.Add(n)
		}
		msg := err.Error()
		w.lastErr.Store(&msg)
		w.in.cfg.ErrorHandler(&DropError{Reason: DropExportFailed, Exporter: w.name, Count: n, Err: err})
		return
	}
	w.exported.Add(n)
	w.batches.Add(1)
	w.lastNanos.Store(end.UnixNano())
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
