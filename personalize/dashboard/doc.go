// Package dashboard shows what a ranking service instrumented with rankscope
// is doing: a live page the service mounts (in the spirit of net/http/pprof
// and zPages) and a shareable report built from the event files.
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
// What the page shows comes from [Source] values that fill a [Snapshot]:
//
//   - [Collector]: a personalize.Exporter the service adds to
//     personalize.Config.Exporters; it aggregates the exported events into
//     latency per stage over the last minute, hour and day, requests and
//     events per second, data freshness, exposures per experiment arm with
//     the sample-ratio check, calibration, CTR by position and exposure per
//     item group.
//   - [LatencySource] (latency.Tracker), [StatsSource] (Instrument.Stats:
//     drops and rejections by reason, exporter health), [RuntimeSource]
//     (runtime/metrics: CPU, heap, goroutines, GC pauses), [DriftSource]
//     (drift.Monitor) and [AlertSource] (alert.Evaluator).
//   - Anything else through [SourceFunc].
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
// # Report
//
// [ReportBuilder] reads events (in file order, e.g. from
// file.ReadDir) in one pass and bounded memory into a [Report]: latency
// distributions, CTR by position, calibration, diversity and exposure
// fairness, attribution credit by surface, experiment results (difference
// with interval, Holm-adjusted p-value, sample-ratio check, sequential
// verdict), cumulative conversion lift over time per arm, and an executive
// summary in plain sentences. [WriteReportHTML] renders it as one
// self-contained HTML file; the Report itself marshals to the JSON summary.
// The command examples/report wraps both.
//
// # Concurrency
//
// Handler, Collector and RuntimeSource are safe for concurrent use. A
// ReportBuilder is not.
package dashboard
