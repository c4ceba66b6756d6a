// Package page holds what the live page (package dashboard) and the
// report (package dashboard/report) are both built from, so that a panel
// is filled and drawn one way on both.
//
// # Filling panels
//
// [FromRelevance], [FromFairness] and [FromExperiment] copy a measurement
// package's result into package panel's types; [Histogram] turns latency
// sketch buckets into bars and [Rate] adds a Wilson interval to a count.
// [Float], [Round6], [Round3] and [Millis] round every number the same
// way, so golden files do not depend on the last bits of floating point.
//
// # Drawing panels
//
// [Style] is the inline style sheet and [Funcs] the template functions of
// both pages. [LatencyChart], [CalibrationChart], [CTRChart] and
// [ExposureChart] draw the shared panels with package chart as inline
// SVG; the output is well-formed XML with every data string escaped.
//
// # Concurrency
//
// Every function is safe for concurrent use: none keeps state. Funcs must
// not be modified.
package page
