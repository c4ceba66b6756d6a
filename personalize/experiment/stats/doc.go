// Package stats holds the statistics behind experiment analysis: tests and
// intervals for proportions and means, multiple-comparison corrections,
// sample-ratio-mismatch checks, sequential (always-valid) inference, CUPED,
// power and sample size, factorial effects and observational estimators.
//
// It is the module's one statistics package: the shared primitives (normal
// critical values and intervals, ratio intervals, sample quantiles) live
// here, and attribution's lift intervals and the bootstrap percentiles of
// attribution and replay are computed with them.
//
// # Conventions
//
// Every two-arm function takes the control first and the treatment second
// and reports differences as treatment minus control. Alpha is the two-sided
// type-I error rate; intervals are two-sided at level 1-alpha. Functions
// take summaries (counts, means, variances) so they work equally from event
// files and from counts kept elsewhere. Bad input is reported as an error
// naming the argument; no function panics on user input.
//
// # References
//
// The tests of this package check each statistic against published output:
// R's prop.test, t.test, p.adjust, chisq.test, power.prop.test, qnorm and
// quantile examples, SciPy's chisquare and false_discovery_control and
// NumPy's quantile examples, Newcombe (1998) for the score and Wald
// intervals of a difference. Where a paper gives no worked number (Johari
// et al. 2017 mSPRT, Howard et al. 2021 confidence sequences, Deng et al.
// 2013 CUPED, Katz et al. 1978 risk ratio) the tests derive values by hand
// from the paper's formula in 30-digit arithmetic and say so.
//
// # Concurrency
//
// All functions are pure and safe for concurrent use. [Moments],
// [Bivariate] and [Monitor] are values that one goroutine updates at a time.
package stats
