// Package personalize instruments real-time personalization: it wraps each
// inference call of a ranking service, times its stages, and emits
// impression and outcome events in one versioned schema (docs/SCHEMA.md)
// to pluggable exporters, pseudonymizing identifiers before anything leaves
// the process.
//
// # Recording
//
// Build one [Instrument] per process with [New], wrap each inference with
// [Instrument.Start] and [Inference.End], time stages with [Inference.Stage]
// or latency.Time on the returned context, record the ranked items with
// [Inference.Impress], and later record what users did with
// [Instrument.Outcome], linking back through [Inference.RequestID].
//
//	ctx, inf := inst.Start(ctx, personalize.Request{User: "u-123", Surface: "home_feed", ModelVersion: "v42"})
//	feats, err := latency.Time(ctx, "feature_retrieval", fetchFeatures)
//	st := inf.Stage("model_scoring")
//	scores, err := score(feats)
//	st.End(err)
//	inf.Impress(items)
//	err = inf.End(err)
//
// Register each model version served with [Instrument.RegisterModel] (or
// Config.Models): one lineage record per (model, version, feature hash),
// naming the feature definitions by [FeatureHash], the training snapshot
// and the owner, which readers join to impressions on model and version.
//
// # Pipeline
//
// Emits validate the event (a *[ValidationError] names the bad field;
// events over [MaxEventBytes] are refused on field "size") and put it on
// the entry queue of one shard (Config.Shards, default half of GOMAXPROCS), chosen
// by a hash of the raw user id so one user's events stay in order. The
// entry queues are the door: together they hold Config.QueueSize events
// (default 1024). Emits never block unless Config.BlockTimeout is set; when
// a shard's queue is full the event is refused at once, before any
// hashing or encoding, counted (Stats.QueueFull, metric
// rankscope.events.dropped{reason=queue_full}), returned as a *[DropError]
// matching [ErrQueueFull], and reported to the error handler.
//
// Each shard's batcher goroutine pseudonymizes identifiers (with a cache of
// its own users' pseudonyms), applies consent and the context allow-list,
// records the impression's stage timings in the latency tracker
// ([Instrument.Latency]) and, with Config.StageHistogram, the OTel
// histogram, assigns event ids and batches by size and age (Config.BatchSize,
// Config.BatchTimeout); one goroutine per exporter exports the batches
// through a bounded queue of its own (Config.ExporterQueueSize batches).
// When an exporter falls behind, the batchers wait for room in its queue,
// so the pressure reaches the door and the excess is refused there: work
// is never spent on an event that is then dropped for load. An exporter
// whose queue stays full for Config.StallTimeout (default 500ms) is marked
// stalled and loses its own batches (DropExporterBacklog) until it has room
// again, so a stuck exporter holds the others back by at most that long.
// Events of one shard reach exporters in order; across shards they may
// interleave out of event-time order by up to about Config.BatchTimeout.
//
// Stage latencies therefore count once the inference has ended: its stages
// and end-to-end latency reach the tracker with the batch the batcher puts
// the impression in (at most Config.BatchTimeout after End when the
// pipeline keeps up, and each second on the first shard before it checks
// SLOs; Flush waits for it), or at End for an impression the batcher will not see
// (refused at the door, rejected without a dead-letter exporter, ended
// after Shutdown). Stages of an inference that never ends, or that was
// shed at Start, are not counted; a stage ended after End is counted in
// Stats.LateStages only.
//
// When every exporter implements [Transient] (it keeps nothing of a batch
// once Export returns: the file exporter does, and the OTLP and webhook
// exporters without a DeadLetter callback), the memory of each impression
// is reused once every exporter has settled its batch, so a steady stream
// of inferences allocates little. An exporter that keeps events turns
// this off for the whole instrument.
//
// [Instrument.Flush] and [Instrument.Shutdown] deliver everything accepted
// before them. After Shutdown, emits return [ErrShutdown], and no goroutine
// of the instrument is left running.
//
// # Delivery guarantee
//
// An emit that returns nil has accepted the event (Stats.Accepted). One
// that returns an error has not, and says why: a *[ValidationError]
// (Stats.Rejected), a *[DropError] (DropQueueFull, and in durable mode
// DropWALFull or DropWALError), or [ErrShutdown] (Stats.Closed).
//
// By default delivery is at most once, in memory. Each exporter settles
// each accepted event exactly once, in its [ExporterStats]: Exported, or
// dropped and counted as Failed (Export returned an error; an error with
// a Delivered() int method counts that many as exported), Backlog (the
// exporter stalled past Config.StallTimeout), or Shutdown (the context of
// [Instrument.Shutdown] ended first: events still queued are counted, and
// exports in progress are cancelled and counted); events of users Consent
// refuses are counted once, in Stats.OptedOut. Once Flush or Shutdown has
// returned, Accepted = Exported + Failed + Backlog + Shutdown + OptedOut
// for every exporter. A crash of the process (kill -9, a panic, the OOM
// killer, os.Exit without Shutdown) or of its machine loses every accepted
// event an exporter had not yet exported: those waiting at the door (at
// most Config.QueueSize), in batches being built, in the exporter's queue
// (Config.ExporterQueueSize batches) and in its Export call, plus whatever
// the exporter buffers itself. Nothing records them: the books die with
// the process.
//
// Durable mode (Config.WAL, off by default) makes delivery at least once
// across crashes of the process. An emit that returns nil has first
// prepared the event on the calling goroutine (pseudonyms, event id,
// consent, allow-list, so no raw identifier reaches the disk) and written
// it as one JSON line ([AppendJSON]) to the active segment file of the
// write-ahead log in Config.WAL.Dir. Concurrent emits share one write(2)
// (group commit). Then:
//
//   - The death of the process loses nothing accepted: the line is in the
//     operating system's page cache, and the next [New] on the directory
//     replays it.
//   - A crash of the machine or a power loss loses the events accepted in
//     the last Config.WAL.SyncInterval (default 200ms) plus the time an
//     fsync takes: the active segment is fsynced at that interval, and a
//     segment is fsynced before it is closed. With Config.WAL.SyncAlways
//     every group is fsynced before its emits return, and nothing accepted
//     is lost (if the disk honors fsync).
//   - Exporters settle events as above. A segment is deleted once every
//     exporter has settled every event in it: exported, Failed or Backlog.
//     Durable mode protects against the death of the process, not against
//     an exporter that refuses or cannot keep up: those drops are counted
//     and not retried (exporters/webhook spools its own failures).
//   - Events Shutdown gives up on are counted as Shutdown drops and stay
//     in the log: the next New delivers them.
//   - Replay: New finds the segments a previous process left and puts
//     their events into the pipeline alongside new ones, without
//     pseudonymizing them again ([UnmarshalEvent] reads them back). They
//     count in Stats.Accepted and Stats.WAL.Replayed; lines that do not
//     decode are skipped and counted (Stats.WAL.Malformed, and
//     Stats.WAL.Torn for a last line cut short by a crash) and reported to
//     the error handler as a *[WALError]. Flush waits for the replay.
//   - At least once, not exactly once: a replay delivers every event of
//     the segments not yet deleted, including events some exporters had
//     exported before the crash (segments are sealed at
//     Config.WAL.SegmentBytes or after about a second, so those are
//     mostly the events of the last second or so). A replayed event keeps
//     its event id: deduplicate on it.
//   - The log is bounded by Config.WAL.MaxBytes (default 256 MiB): when an
//     event does not fit, the emit is refused with a *DropError
//     (DropWALFull, matching [ErrWALFull]), counted in Stats.WAL.Full and
//     rankscope.events.dropped{reason=wal_full}, and reported to the error
//     handler. A write that fails refuses its events with DropWALError
//     (Stats.WAL.WriteErrors). A refused event is not in the log.
//
// Durable mode puts a write(2) (and with SyncAlways an fsync) on every
// emit, and the encoding and the HMACs move from the batchers to the
// emitting goroutines: see docs/design/durable.md for the cost. Dead
// letters are not written to the log. On Unix the directory is locked:
// one instrument at a time per directory.
//
// # Privacy
//
// Config.Pseudonymize is required: raw user and session ids live only in
// memory between the emit and the batcher (in durable mode, the emit
// pseudonymizes before it writes), and exporters see pseudonyms with the
// id of the key that made them. See package privacy.
//
// # Reading events back
//
// The event types and their JSON lines codec live in package schema
// (docs/SCHEMA.md) and are re-exported here under the same names:
// [AppendJSON] writes one event, [UnmarshalEvent] reads one back and
// validates it with the same rules as the emit path, so offline analysis
// never sees an event the pipeline would refuse. Package exporters/file
// reads whole directories of event files, optionally decoding on several
// cores.
//
// # Self-telemetry
//
// The instrument publishes through Config.MeterProvider (global by
// default): rankscope.events.accepted, rankscope.events.exported{exporter},
// rankscope.events.dropped{reason,exporter}, rankscope.events.rejected{field},
// rankscope.events.opted_out, rankscope.queue.depth,
// rankscope.export.duration{exporter}, rankscope.export.event_age{exporter}
// (data freshness: the oldest event of each batch), and the latency
// package's rankscope.stage.latency{stage,quantile} and
// rankscope.stage.count{stage,status} gauges; the per-stage histogram
// rankscope.stage.duration only with Config.StageHistogram. Durable mode
// adds rankscope.wal.bytes, rankscope.wal.replayed and
// rankscope.wal.skipped{reason}.
// [Instrument.Stats] returns the same books as a struct.
//
// # Concurrency
//
// An Instrument is safe for concurrent use. An Inference may time stages
// from several goroutines; Impress, Fallback and End must not race with
// each other; after End only RequestID may be called. Events handed
// to exporters are shared and read-only.
package personalize
