// Package relevance measures what a ranking model does for users:
// calibration of its scores, ranking quality from outcomes, position bias,
// stability of successive rankings, and engagement, split by segment.
//
// # Online and offline
//
// An [Analyzer] is a personalize.Exporter: add it to
// personalize.Config.Exporters and it observes every batch in process, in
// bounded memory, and [Analyzer.Report] can be read at any moment.
// Offline, feed it the event files with exporters/file.ReadDir and
// [Analyzer.Observe], then call [Analyzer.Flush]. The
// same code runs both ways, driven by event time, so an offline replay of a
// day gives the result the live analyzer had at the end of that day.
//
// Outcomes are joined to impressions by request id through a [Joiner]:
// an impression waits JoinConfig.Window of event time (default 30 min) for
// its outcomes, then is finalized. Ranking, calibration and CTR results
// cover finalized impressions only; Report.Stats says how many wait.
//
// # Measures
//
//   - Calibration of Item.Score as the probability that the item gets a
//     positive-grade outcome: reliability curves with equal-width and
//     equal-mass bins (bins are (lo, hi], the first [lo, hi], as in
//     scikit-learn), expected and maximum calibration error, Brier score and
//     log loss (probabilities clipped to [2^-52, 1-2^-52]). Exact offline
//     functions: [ReliabilityCurve], [BrierScore], [LogLoss]; online:
//     [Calibrator].
//   - Ranking quality: NDCG@k with linear gain by default (GainExponential
//     for 2^rel-1) and a 1/log2(rank+1) discount; [NDCG] averages tied
//     scores as scikit-learn does ([NDCGWith] with RankOptions.IgnoreTies
//     does not), served rankings have no ties (positions are unique). MRR,
//     precision@k and recall@k. An item's grade is the largest grade of its
//     outcomes (JoinConfig.Grades). Means are over impressions with at
//     least one graded outcome; [MRR] averages over every list given.
//   - CTR by position and a position-bias estimate from the position-based
//     click model fitted by EM ([PositionBias]).
//   - Stability between successive rankings of the same user and surface:
//     Kendall tau-b ([KendallTauB], with a p-value: [KendallTauBTest]),
//     rank-biased overlap ([RBO], with its persistence p in every result)
//     and average overlap ([AverageOverlap], RBO at p = 1).
//   - Engagement: dwell time (mean, p50, p90), scroll depth and the
//     repeat-visit rate.
//
// # Segments
//
// Results are kept per full segment key (personalize/segment) and merged
// on read: Report(segment.DimDevice) splits by device only,
// Report(segment.DimNone) gives all traffic.
//
// # Memory bounds
//
// Segments: Config.MaxSegments (default 1024), each about
// 24*FineBins + 16*MaxPosition bytes plus a dwell sketch (a few KiB).
// Pending impressions: JoinConfig.MaxPending (default 100,000).
// Per-(user, surface) last rankings and per-user last visits:
// Config.MaxUsers each (default 100,000), two-generation eviction.
// Position-bias items: Config.BiasItems (default 10,000).
//
// # Concurrency
//
// An Analyzer is safe for concurrent use: one mutex serializes Export,
// Observe, Flush and Report. [Calibrator], [Joiner] and [PositionBias] are
// not; the functions are pure.
package relevance
