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
// # Pipeline
//
// Emits validate the event (a *[ValidationError] names the bad field;
// events over [MaxEventBytes] are refused on field "size") and put it on
// the entry queue of one shard (Config.Shards, default GOMAXPROCS), chosen
// by a hash of the raw user id so one user's events stay in order. The
// entry queues are the door: together they hold Config.QueueSize events
// (default 8192). Emits never block unless Config.BlockTimeout is set; when
// a shard's queue is full the event is refused at once, before any
// hashing or encoding, counted (Stats.QueueFull, metric
// rankscope.events.dropped{reason=queue_full}), returned as a *[DropError]
// matching [ErrQueueFull], and reported to the error handler.
//
// Each shard's batcher goroutine pseudonymizes identifiers (with a cache of
// its own users' pseudonyms), applies consent and the context allow-list,
// assigns event ids and batches by size and age (Config.BatchSize,
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
// [Instrument.Flush] and [Instrument.Shutdown] deliver everything accepted
// before them. After Shutdown, emits return [ErrShutdown], and no goroutine
// of the instrument is left running.
//
// # Privacy
//
// Config.Pseudonymize is required: raw user and session ids live only in
// memory between the emit and the batcher, and exporters see pseudonyms
// with the id of the key that made them. See package privacy.
//
// # Reading events back
//
// [AppendJSON] writes one event as a JSON line (docs/SCHEMA.md);
// [UnmarshalEvent] reads one back and validates it with the same rules as
// the emit path, so offline analysis never sees an event the pipeline would
// refuse. It uses a pooled hand-written [Decoder]; a single goroutine
// reading many lines can hold its own Decoder, which interns short repeated
// strings (surfaces, experiments, variants). Package exporters/file reads
// whole directories of event files, optionally decoding on several cores.
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
// rankscope.stage.duration only with Config.StageHistogram.
// [Instrument.Stats] returns the same books as a struct.
//
// # Concurrency
//
// An Instrument is safe for concurrent use. An Inference may time stages
// from several goroutines; Impress, Fallback and End must not race with
// each other, and the Inference must not be used after End. Events handed
// to exporters are shared and read-only.
package personalize
