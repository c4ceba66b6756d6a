// Package stats holds the statistics behind experiment analysis: tests and
// intervals for proportions and means, multiple-comparison corrections,
// sample-ratio-mismatch checks, sequential (always-valid) inference, two-
// and one-sided, CUPED,
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
// type-I error rate; intervals are two-sided at level 1-alpha (except
// [OneSidedMixture], whose alpha and lower bound are one-sided). Functions
// take summaries (counts, means, variances) so they work equally from event
// files and from counts kept elsewhere. Bad input is reported as an error
// naming the argument; no function panics on user input.
//
// # Sequential tests: Rho, tau² and rho
//
// [Mixture] (two-sided) and [OneSidedMixture] put their normal mixing
// distribution on the effect in units of the per-unit standard deviation
// sigma, with precision Rho measured in effective units: a look with
// estimate D, variance V and effective sample size n has sigma² = V·n
// (for two arms n = 1/(1/n_c + 1/n_t), so sigma² is the per-unit variance
// (sigma_c² + sigma_t²)/2 when the arms are equal). The same test appears
// in the literature under two other parametrisations:
//
//   - Johari, Pekelis & Walsh (2017) mix the difference itself over
//     N(theta0, tau²), in the units of the metric:
//     tau² = sigma²/Rho = V·n/Rho, Rho = V·n/tau². Their two-sample form
//     sqrt(V/(V+tau²)) exp(tau² (D-theta0)² / (2V(V+tau²))) is then the
//     LR of [Mixture] exactly (V/tau² = Rho/n).
//   - Howard, Ramdas, McAuliffe & Sekhon (2021) mix the exponent lambda
//     of the raw sum S_t, with intrinsic time V_t = sigma²·t, over
//     N(0, 1/rho): rho = Rho·sigma² = sigma⁴/tau², and their boundary
//     sqrt((V_t+rho) log((V_t+rho)/(rho alpha²))) is that of
//     [Mixture.Interval] with V_t/rho = n/Rho.
//
// So with sigma = 1, Rho = rho = 1/tau², and in general only the ratios
// n/Rho = V_t/rho = n·tau²/sigma² matter: each is the planned sample
// size in units of the prior's scale. [RhoFor] picks Rho for a planned n;
// a tau² chosen from an expected effect size converts with Rho = sigma²/tau²
// using the variance of the metric, not of its estimate.
//
// # References
//
// The tests of this package check each statistic against published output:
// R's prop.test, t.test, p.adjust (including "hochberg"), chisq.test, power.prop.test, qnorm and
// quantile examples, SciPy's chisquare and false_discovery_control and
// NumPy's quantile examples, Newcombe (1998) for the score and Wald
// intervals of a difference. Where a paper gives no worked number (Johari
// et al. 2017 mSPRT, Howard et al. 2021 confidence sequences and their
// one-sided mixture, Deng et al.
// 2013 CUPED, Katz et al. 1978 risk ratio) the tests derive values by hand
// from the paper's formula in 30-digit arithmetic and say so.
//
// # Concurrency
//
// All functions are pure and safe for concurrent use. [Moments],
// [Bivariate] and [Monitor] are values that one goroutine updates at a time.
package stats
