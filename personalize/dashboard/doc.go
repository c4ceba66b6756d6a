// Package dashboard shows what a ranking service instrumented with rankscope
// is doing, live: a page the service mounts, in the spirit of
// net/http/pprof and zPages. Its offline counterpart, a shareable report
// built from the event files, is package dashboard/report; the panels both
// show are package dashboard/panel, their SVG charts package
// dashboard/chart.
//
// # Live page
//
// [New] returns an http.Handler. Mount it with [Handler.Register] (e.g. at
// /debug/rankscope); it serves server-rendered HTML with inline SVG charts
// (package chart) and the same data as JSON at the sibling path
// /debug/rankscope/json. The page refreshes itself with a meta refresh and
// needs no JavaScript: no script, no external style sheet, font or image,
// and a Content-Security-Policy that forbids them.
//
// What the page shows comes from [Source] values that fill a [Snapshot].
// Every statistic is computed by the measurement package that owns it; the
// dashboard only copies results and lays them out:
//
//   - [LatencySource]: per-stage distributions over the last minute, hour
//     and day and the SLO verdicts of the instrument's latency.Tracker
//     (inst.Latency()).
//   - [StatsSource]: drops and rejections by reason and exporter health
//     from inst.Stats.
//   - [ExperimentSource]: exposed units per arm and the sample-ratio check
//     of an experiment.Collector.
//   - [RelevanceSource]: calibration curve, CTR by position (with the
//     position-bias model's examination estimate) and NDCG of a
//     relevance.Analyzer.
//   - [FairnessSource]: position-weighted exposure per group, fairness
//     ratios and diversity of a fairness.Tracker.
//   - [DriftSource] (drift.Monitor: drift per feature and data freshness)
//     and [AlertSource] (alert.Evaluator: alerts firing by severity).
//   - [RuntimeSource]: CPU, heap, goroutines and GC pauses from
//     runtime/metrics, and [Collector], an exporter measuring throughput
//     and event age at arrival, which no measurement package does.
//   - Anything else through [SourceFunc].
//
// The analyzers behind ExperimentSource, RelevanceSource and
// FairnessSource are exporters: add them to personalize.Config.Exporters
// beside the Collector (examples/service shows the wiring).
//
// # Safe in production
//
// The handler is read-only (GET and HEAD only). A snapshot holds aggregates
// only: the sources never copy a user, session or request identifier into
// it, and the tests scan every page for raw ids and their pseudonyms. The
// cost of a request is bounded: the snapshot is built at most once per
// Config.CacheFor (1 s) whatever the number of viewers, sources get
// Config.SourceTimeout together, every list is capped at Config.MaxRows and
// every chart at chart.MaxBars/MaxPoints. Config.Authorize lets the service
// require its own authentication; a refused request computes nothing.
//
// # Concurrency
//
// Handler, Collector and RuntimeSource are safe for concurrent use. The
// handler calls its sources one at a time, so a [SourceFunc] need not be.
package dashboard
