// Package panel holds the panels the live dashboard (package dashboard)
// and the offline report (package dashboard/report) both show: latency by
// stage with its SLO targets, experiment arms and their sample-ratio
// check, calibration, click-through rate by position, ranking quality,
// and exposure fairness with diversity.
//
// # Values, not statistics
//
// A panel is an aggregate copied from the measurement package that owns
// the statistic (latency, personalize/experiment, personalize/relevance,
// personalize/fairness); panel computes nothing. Every field is JSON
// tagged, and both pages marshal the same types, so a panel reads the same
// in dashboard.Snapshot and in report.Report. No field holds a user,
// session or request identifier.
//
// Statistics that can be undefined (a ratio with fewer than two groups, a
// lift over a zero rate) are [Float], which marshals NaN and infinities as
// JSON null. Values are rounded to six significant digits by the code that
// fills them, so golden files do not depend on the last bits of floating
// point.
//
// # Concurrency
//
// Panels are plain values with no internal state: reading one from
// several goroutines is safe, writing one while it is read is not.
package panel
