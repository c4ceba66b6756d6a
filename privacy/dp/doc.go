// Package dp releases differentially private counts, sums and means per
// segment, so that a report or dashboard breaking results down by segment
// does not reveal whether any one user is in the data.
//
// The noise mechanisms, the contribution-bounded aggregations and private
// partition selection are Google's differential privacy library
// (github.com/google/differential-privacy/go/v3, package dpagg); this
// package adds what a release needs around them: per-user contribution
// bounding, a per-dataset privacy budget, and results that carry their
// noise scale and confidence interval so that a report can mark them.
//
// # Contribution bounding
//
// Differential privacy protects a user only if one user's influence on the
// output is bounded. [Aggregator.Add] takes (user, segment, value) and
// enforces, per user: at most Config.MaxPartitions segments (a uniformly
// random subset: the segments of smallest keyed hash), at most
// Config.MaxContributions values per segment (reservoir sampling), each
// value clamped to [Config.Lower, Config.Upper] for sums and means. The
// library's aggregations are then fed one bounded contribution per user
// and segment, with these bounds as their sensitivities.
//
// # Budget
//
// A [Budget] is the total (epsilon, delta) a dataset may spend. Every
// [Aggregator.Release] charges its Config.Epsilon and Config.Delta first;
// once the budget cannot pay, Release returns a [*BudgetError] (wrapping
// [ErrBudgetSpent]) and computes nothing. Within a release the epsilon
// (and delta) is split evenly between the metrics and, when segments are
// not given as a public list, private partition selection.
//
// # Results
//
// A [Table] lists per segment an [Estimate] per metric: the noisy value,
// the noise's scale and standard deviation, and a confidence interval
// (level 1-Config.Alpha). [Table.WriteText] marks every figure as
// differentially private.
//
// # Bounds and concurrency
//
// An Aggregator keeps at most Config.MaxUsers users, each with at most
// MaxPartitions × MaxContributions values. Aggregator and Budget are safe
// for concurrent use.
package dp
