// Package report turns rankscope event files into a shareable report: one
// self-contained HTML page and a JSON summary, the offline counterpart of
// the live page of package dashboard. Both show the same panels (package
// panel) drawn the same way.
//
// # Building
//
// [Builder] feeds events (in file order, e.g. from file.ReadDir) to
// personalize/experiment, attribution, personalize/relevance and
// personalize/fairness, and to latency sketches, in bounded memory, and
// turns their results into a [Report]: latency distributions, CTR by
// position, calibration and NDCG, diversity and exposure fairness,
// attribution credit by surface under every model with bootstrap
// intervals, experiment results per metric (estimate, interval, adjusted
// p-value, sample-ratio check, sequential verdict) and conversion lift per
// cohort period, and lineage (the models, versions and feature sets that
// served the rankings, joined with their model lineage records, flagging
// rankings of versions without a record and versions registered with
// different feature hashes), with an executive summary in plain sentences
// that quotes the headline numbers and their uncertainty. The report computes no
// statistic of its own: every number is the package's. The packages'
// configurations pass through [Config].
//
// # Output
//
// [WriteHTML] renders a Report as one HTML file with an inline style sheet
// and inline SVG charts: no script, nothing loaded from elsewhere, and
// well-formed XML. The Report itself marshals to the JSON summary
// (undefined statistics as null, see panel.Float). Neither holds a user,
// session or request identifier. The command examples/report wraps both.
//
// # Bounds
//
// Memory is bounded by the measurement packages' configured bounds plus a
// latency sketch per stage (at most Config.MaxStages) and a 16 KiB user
// count; at most Config.MaxExperiments experiments are analysed, and the
// lineage section keeps at most Config.MaxModels (model, version, feature
// set) triples and as many (model, version) records. What is
// left out is counted in Report.Notes.
//
// # Concurrency
//
// A Builder is not safe for concurrent use; feed it from one goroutine.
// WriteHTML may be called from several goroutines on the same Report,
// which it does not modify.
package report
