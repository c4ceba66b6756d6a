// Package drift watches the data a ranking model sees in production and
// compares it with a frozen reference: distribution drift of numeric and
// categorical features, distinct counts of identifiers, missing and
// out-of-range rates, and the freshness of events and features.
//
// # Reference
//
// A [Reference] is built once from a reference period (the model's
// training window, or a week of healthy traffic) with
// [NewNumericReference], [NewCategoricalReference] or a
// [ReferenceBuilder] fed with events, stored as JSON, and loaded with
// [UnmarshalReference]. Numeric features get equal-mass bins whose edges
// are frozen in the reference (left-closed: [a, b)), so the PSI of
// Monday and of Friday are measured on the same bins; a sorted random
// sample (default 2048 values) serves the KS test and the Wasserstein
// distance.
//
// # Statistics
//
//   - [PSI]: sum (c-r) ln(c/r) over bins, proportions floored at
//     [DefaultEpsilon] (1e-4) so an empty bin gives a large finite term.
//   - [KS]: two-sample Kolmogorov-Smirnov statistic and two-sided p-value,
//     exact for n1*n2 <= 10,000, asymptotic beyond.
//   - [JensenShannon]: distance (square root of the divergence); the
//     monitor uses base 2, which bounds it by 1.
//   - [Wasserstein] and [NormalizedWasserstein]: earth mover's distance,
//     the latter in reference standard deviations.
//
// [Thresholds] grade each feature ok, warn or critical; the defaults are
// PSI 0.1/0.25, Jensen-Shannon 0.1/0.2, normalized Wasserstein 0.1/0.25,
// KS p-value below 0.01 (warn only), missing-rate increase 0.02/0.1 and
// out-of-range share 0.01/0.05, graded only from 100 observations on.
// [DefaultRules] and [Report.Alert] turn a report into [alert] rules with
// hysteresis.
//
// # Online use
//
// A service hands over features observed at inference with
// [Monitor.Observe] (numeric; NaN means missing), [Monitor.ObserveCategory]
// ("" means missing), [Monitor.ObserveID] (distinct counts only) and
// [Monitor.ObserveAge] (freshness per source). Each call takes well under
// 200 ns and never allocates: counters are atomics, the live sample is a
// fixed reservoir (Algorithm R) of Config.SampleSize values, distinct
// counts use a 16 KiB HyperLogLog (github.com/axiomhq/hyperloglog,
// precision 14, standard error 0.81%, mergeable across processes with
// [Monitor.Sketch]). [Monitor.Report] reads the window at any moment;
// [Monitor.Reset] starts a new one.
//
// [Segmented] keeps one monitor per segment ([segment.Key]: device,
// region, surface, session length, experiment arm), at most a configured
// number (default 64) plus an overflow monitor. [EventMonitor] is a
// personalize.Exporter that feeds a Segmented from the event stream
// (scores, list length, latency, surface, device, region, item category,
// user and item cardinality, event age), and serves offline runs over
// event files through its Add method.
//
// # Concurrency
//
// Monitor, Segmented and EventMonitor's Export are safe for concurrent
// use (the pipeline never calls one exporter's Export concurrently
// anyway). A report taken while observations continue may include some of
// them and not others. ReferenceBuilder is not safe for concurrent use.
package drift
