package personalize

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// counters are the instrument's own books. Emit-side counters are atomics;
// the per-type counts live in each shard's books (written by its batcher
// alone, so the batchers never share a counter's cache line).
type counters struct {
	attrsDropped atomic.Int64
	lateStages   atomic.Int64
	closedDrops  atomic.Int64

	mu       sync.Mutex
	rejected map[string]int64 // by metric field
	reported map[string]int64 // drops already sent to the error handler
}

func (c *counters) init() {
	c.rejected = map[string]int64{}
	c.reported = map[string]int64{}
}

// shardBooks are one shard's counts of accepted events.
type shardBooks struct {
	accepted    atomic.Int64
	optedOut    atomic.Int64
	impressions atomic.Int64
	outcomes    atomic.Int64
	exposures   atomic.Int64
	links       atomic.Int64
	models      atomic.Int64
}

// accept counts a valid event taken into the pipeline, by type.
func (c *shardBooks) accept(ev Event) {
	c.accepted.Add(1)
	switch ev.Type {
	case EventImpression:
		c.impressions.Add(1)
	case EventOutcome:
		c.outcomes.Add(1)
	case EventExposure:
		c.exposures.Add(1)
	case EventLink:
		c.links.Add(1)
	case EventModel:
		c.models.Add(1)
	}
}

func (c *counters) drop(r DropReason, n int64) {
	switch r {
	case DropClosed:
		c.closedDrops.Add(n)
	}
}

func (c *counters) dropAll(ws []*worker, r DropReason, n int64) {
	if n == 0 {
		return
	}
	for _, w := range ws {
		w.shutdrops.Add(n)
	}
}

func (c *counters) reject(ve *ValidationError) {
	c.mu.Lock()
	c.rejected[ve.Event.String()+"."+ve.MetricField()]++
	c.mu.Unlock()
}

// Stats is a snapshot of an instrument's books. For each exporter,
//
//	Accepted = Exported + Failed + Backlog + Shutdown + OptedOut + InFlight
//
// holds exactly once Flush or Shutdown has returned (InFlight is then 0).
// Events refused at emit (Rejected, QueueFull, Closed) were never accepted.
type Stats struct {
	Accepted    int64 // valid events taken into the pipeline
	Impressions int64 // accepted, by type
	Outcomes    int64
	Exposures   int64
	Links       int64
	Models      int64 // model lineage records (RegisterModel, Config.Models)
	OptedOut    int64 // accepted but not exported: consent refused
	// Queued is the number of events waiting in the entry queues now, of
	// QueueCapacity, over Shards shards.
	Queued        int
	QueueCapacity int
	Shards        int
	// Refused at emit.
	QueueFull int64
	Closed    int64
	// Rejected counts validation failures by "type.field", e.g.
	// "impression.items.propensity".
	Rejected map[string]int64
	// AttrsDropped counts context attributes removed by the allow-list.
	AttrsDropped int64
	// LateStages counts stages that ended after their inference.
	LateStages int64
	Exporters  []ExporterStats
	DeadLetter *ExporterStats
	// WAL is the write-ahead log's books in durable mode (Config.WAL);
	// nil when it is off. Its refusals (Full, WriteErrors) were never
	// accepted; replayed events are in Accepted.
	WAL *WALStats
}

// ExporterStats are the books of one exporter.
type ExporterStats struct {
	Name     string
	Exported int64 // events in successful Export calls
	Failed   int64 // events in failed Export calls
	Backlog  int64 // events dropped because the exporter stalled (Config.StallTimeout)
	Shutdown int64 // events dropped at Shutdown's deadline
	InFlight int64 // handed to the exporter, not yet settled
	Batches  int64
	// LastExport is when the last successful export ended; zero if none.
	LastExport time.Time
	LastError  string
}

// Dropped is the number of accepted events this exporter did not deliver.
func (s ExporterStats) Dropped() int64 { return s.Failed + s.Backlog + s.Shutdown }

// TotalRejected sums Rejected.
func (s Stats) TotalRejected() int64 {
	var n int64
	for _, v := range s.Rejected {
		n += v
	}
	return n
}

// Stats returns a snapshot of the instrument's counters. It is cheap and
// safe to call at any time, including after Shutdown.
func (in *Instrument) Stats() Stats {
	c := &in.stats
	s := Stats{
		Closed: c.closedDrops.Load(), AttrsDropped: c.attrsDropped.Load(),
		LateStages: c.lateStages.Load(), Rejected: map[string]int64{}, Shards: len(in.shards),
	}
	for _, sh := range in.shards {
		b := &sh.books
		s.Accepted += b.accepted.Load()
		s.Impressions += b.impressions.Load()
		s.Outcomes += b.outcomes.Load()
		s.Exposures += b.exposures.Load()
		s.Links += b.links.Load()
		s.Models += b.models.Load()
		s.OptedOut += b.optedOut.Load()
		s.QueueFull += sh.queueFull.Load()
		s.Queued += sh.queue.Len()
		s.QueueCapacity += sh.queue.Cap()
	}
	c.mu.Lock()
	for k, v := range c.rejected {
		s.Rejected[k] = v
	}
	c.mu.Unlock()
	for _, w := range in.workers {
		s.Exporters = append(s.Exporters, w.snapshot())
	}
	if in.dead != nil {
		d := in.dead.snapshot()
		s.DeadLetter = &d
	}
	if in.wal != nil {
		s.WAL = in.wal.stats()
	}
	return s
}

func (w *worker) snapshot() ExporterStats {
	s := ExporterStats{
		Name: w.name, Exported: w.exported.Load(), Failed: w.failed.Load(),
		Backlog: w.backlog.Load(), Shutdown: w.shutdrops.Load(), InFlight: w.pending.Load(),
		Batches: w.batches.Load(),
	}
	if ns := w.lastNanos.Load(); ns != 0 {
		s.LastExport = time.Unix(0, ns)
	}
	if e := w.lastErr.Load(); e != nil {
		s.LastError = *e
	}
	return s
}

// reportDrops sends the drops counted since the last report to the error
// handler, one *DropError per reason and exporter, so drops are never
// silent yet a flood costs one call a second.
func (in *Instrument) reportDrops() {
	type row struct {
		key    string
		reason DropReason
		exp    string
		total  int64
	}
	rows := []row{
		{"queue_full", DropQueueFull, "", in.queueFull()},
		{"closed", DropClosed, "", in.stats.closedDrops.Load()},
	}
	if w := in.wal; w != nil {
		rows = append(rows, row{"wal_full", DropWALFull, "", w.books.full.Load()},
			row{"wal_error", DropWALError, "", w.books.failed.Load()})
	}
	for _, w := range in.allWorkers() {
		rows = append(rows,
			row{"backlog/" + w.name, DropExporterBacklog, w.name, w.backlog.Load()},
			row{"shutdown/" + w.name, DropShutdown, w.name, w.shutdrops.Load()})
	}
	var errs []*DropError
	in.stats.mu.Lock()
	for _, r := range rows {
		if d := r.total - in.stats.reported[r.key]; d > 0 {
			in.stats.reported[r.key] = r.total
			errs = append(errs, &DropError{Reason: r.reason, Exporter: r.exp, Count: d})
		}
	}
	in.stats.mu.Unlock()
	sort.Slice(errs, func(i, j int) bool { return errs[i].Reason < errs[j].Reason })
	for _, e := range errs {
		in.cfg.ErrorHandler(e)
	}
}

// queueFull sums the shards' refusals at the door.
func (in *Instrument) queueFull() int64 {
	var n int64
	for _, sh := range in.shards {
		n += sh.queueFull.Load()
	}
	return n
}
