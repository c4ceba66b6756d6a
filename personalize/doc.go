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
// Emits validate the event (a *[ValidationError] names the bad field) and
// put it on a bounded queue (Config.QueueSize, default 8192 events); they
// never block unless Config.BlockTimeout is set. When the queue is full
// the event is dropped, counted (Stats.QueueFull, metric
// rankscope.events.dropped{reason=queue_full}) and reported to the error
// handler. One batcher goroutine pseudonymizes identifiers, applies consent
// and the context allow-list, assigns event ids and batches by size and age
// (Config.BatchSize, Config.BatchTimeout); one goroutine per exporter
// exports the batches in order through a bounded queue of its own
// (Config.ExporterQueueSize batches), so a slow or failing exporter loses
// only its own batches, counted, and never holds back the others.
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
// (data freshness), and the latency package's rankscope.stage.duration.
// [Instrument.Stats] returns the same books as a struct.
//
// # Concurrency
//
// An Instrument is safe for concurrent use. An Inference may time stages
// from several goroutines; Impress, Fallback and End must not race with
// each other, and the Inference must not be used after End. Events handed
// to exporters are shared and read-only.
package personalize
