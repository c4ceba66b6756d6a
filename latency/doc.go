// Package latency times the stages of a ranking request and aggregates
// their latency: per stage, over sliding windows, against objectives.
//
// It works with or without the impression flow of package personalize:
// wrap any call with [Time] or [Start], and the finished stage goes to the
// [Recorder] the context carries.
//
// # Stages and spans
//
// [Time] runs a function as a named stage; [Start] returns a [Span] to end
// by hand. Both classify the outcome with [StatusOf]: nil is
// [StatusOK], a context deadline or [ErrTimeout] is [StatusTimeout], an
// error wrapping [ErrFallback] is [StatusFallback], anything else is
// [StatusError]. [ErrorType] derives a short, identifier-free detail from
// the error; error messages, which can carry user ids, are never recorded.
//
// If the context carries a sampled span, the stage gets a child span named
// after it, from the parent span's TracerProvider (instrumentation scope
// [TracerName]); stages of an unsampled or untraced request create no span
// at all. A stage that does not end OK sets the span status to Error with
// the status name as description, and the attributes rankscope.stage.status
// and rankscope.stage.detail.
//
// The observation goes to the Recorder of [ContextWithRecorder] (package
// personalize puts its inference there), or nowhere. Time and Start
// allocate nothing on an unsampled request.
//
// # Tracker
//
// A [Tracker] is a Recorder that aggregates stages in process. Give it to
// personalize.Config.Latency, or use it alone:
//
//	tr, err := latency.NewTracker(latency.Config{})
//	ctx = tr.Context(ctx)
//	feats, err := latency.Time(ctx, "feature_retrieval", fetch)
//	s, _ := tr.Summary("feature_retrieval", latency.WindowMinute) // s.P99 ...
//
// For every observation it records the OTel histogram
// rankscope.stage.duration (unit s, explicit boundaries 0.1 ms to 10 s,
// see [HistogramBounds]; attributes rankscope.stage and
// rankscope.stage.status, from attribute sets cached per stage and status)
// and adds the duration to the stage's sliding windows. [EndToEnd] is the
// stage personalize uses for whole inferences.
//
// Distinct stage names are bounded by Config.MaxStages (64 by default):
// later names, and the empty name, are recorded as [OtherStage] and
// counted in [Stats].Other, so neither memory nor metric cardinality grows
// with careless names.
//
// [Tracker.Summary] answers count, counts by status, mean, p50, p95, p99
// and max of a stage over a [Window]: [WindowMinute], [WindowHour] or
// [WindowDay]. [Tracker.Sketch] returns a copy of the window's [Sketch],
// for any quantile and for the bucket counts a dashboard draws.
//
// Windows slide in slots: window W at time now covers every observation
// made at or after floor(now, slot) - W, that is between W and W + slot:
// 5-second slots for the minute (60 to 65 s), 5-minute slots for the hour
// (60 to 65 min), 1-hour slots for the day (24 to 25 h). The hot path adds
// to a lock-free sketch of the current 5-second slot; 12 completed ones
// make the minute. A 5-second slot leaving the minute is merged into the
// 5-minute slot it belongs to (12 of those make the hour), which in turn
// is merged into its hour slot when it leaves the hour (24 make the day)
// and dropped a day later. Slots move on as observations arrive, following
// the tracker's clock (Config.Now, injectable for tests and simulations).
//
// # Sketch accuracy and memory
//
// [Sketch] is a log-bucketed quantile sketch with the mapping of DDSketch
// (Masson, Rim and Lee, VLDB 2019): with relative accuracy α (1% by
// default, Config.RelativeAccuracy), bucket k counts the durations in
// (γ^(k-1), γ^k] with γ = (1+α)/(1-α) and answers with (1-α)·γ^k. Every
// quantile is therefore within a factor α of the exact one (the order
// statistic of rank ⌊q·(n-1)⌋), plus rounding to whole nanoseconds, for
// durations in [SketchMin, SketchMax] = [100 ns, 1000 s]. Shorter and
// longer durations are counted in underflow and overflow buckets;
// quantiles falling there answer with the exact minimum or maximum. Mean,
// min and max are exact. Sketches merge by adding bucket counts, so a
// merge equals the sketch of the union of the inputs.
//
// At α = 1% there are 115 buckets per decade, 1152 between SketchMin and
// SketchMax. Per stage the tracker holds at most 13 live 5-second sketches
// (dense, 4 bytes per bucket: 4.5 KiB each) and 38 merged slot sketches
// (12+1 five-minute and 24+1 hour slots) storing only the bucket range in
// use at 8 bytes per bucket (at most 9 KiB, about 3 KiB for a stage whose
// latencies span three decades). The worst case is under 450 KiB per
// stage, about 29 MiB for 65 stages; memory scales with 1/α. Stages
// allocate their ring slots as traffic fills them and recycle them after.
//
// # SLOs
//
// An [SLO] bounds the mean, p95 and/or p99 of a stage (or [EndToEnd]) over
// a window. [Tracker.CheckSLOs] evaluates all of them at a given time and
// returns an [SLOReport] per target: observed against objective, and
// whether it is met. Call it periodically (personalize does, about once a
// second): on each transition into breach, and on each recovery,
// Config.OnBreach is called exactly once. Until a window holds
// SLO.MinCount observations (at least one) the target is not evaluated and
// its state is held. An observed value equal to its objective is met.
// Quantiles are compared within the sketch's relative accuracy.
//
// # Concurrency
//
// Time, Start, and all Tracker methods are safe for concurrent use. A
// [Span] belongs to one goroutine. [Tracker.Observe] takes no lock: stage
// lookup reads a copy-on-write map, the sketch counters are atomics, and
// the slot rotation every 5 seconds (a short mutex, on the observing
// goroutine) is the only exception. Reads (Summary, Sketch, CheckSLOs) lock
// one stage at a time, never blocking Observe, and see a snapshot that is
// consistent per stage up to observations racing the read. A [Sketch]
// value is not safe for concurrent use.
package latency
