// Package experiment runs online controlled experiments on a ranking
// service: it assigns units to variants on the request path, logs
// exposures once per unit through the pipeline, and analyses the event
// files (or summary counts) with the statistics of package stats.
//
// # Assignment
//
// [Experiment.Assign] maps a unit (the raw user id, before
// pseudonymization) to a variant with a documented hash of (salt, unit)
// ([Hash]): the same unit gets the same variant in every process and after
// restarts, in about 10 ns and without allocating. Variants carry weights;
// Config.Traffic admits a fraction of units, and raising it never moves an
// enrolled unit. A [Layer] makes its experiments mutually exclusive by
// giving each a range of hash buckets; experiments in different layers are
// crossed, which is what a factorial analysis needs. A [Holdout] keeps a
// fraction of units out of every experiment of an [Assigner], whose
// Append fills personalize.Request.Experiments so impressions, and through
// them outcomes, carry the arms. [Blocked] balances arms within strata with
// permuted blocks; it needs (bounded) state, hash assignment does not.
//
// # Exposure
//
// [Exposer] emits a personalize.Exposure through an [Emitter] (the
// instrument) the first time a unit meets a variant within a period, with
// bounded dedup memory.
//
// # Analysis
//
// A [Collector] joins outcomes to exposures (exposure events, or the first
// impression carrying the experiment) by pseudonymized unit, from event
// files or as an in-process exporter, and [Collector.Analyze] reports, per
// metric and arm, estimates, differences with intervals, adjusted
// p-values, the sample-ratio-mismatch check, CUPED and the always-valid
// sequential verdict, together with the experiment's pre-registered
// [Plan] and its amendment log.
//
// # Concurrency
//
// Experiment, Layer and Assigner are immutable and safe for concurrent
// use; so are Blocked and Exposer (internally locked). A Collector is fed
// by one goroutine at a time (as the pipeline does for an exporter);
// Analyze may run concurrently with feeding. A Registration is safe for
// concurrent use.
package experiment
