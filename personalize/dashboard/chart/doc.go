// Package chart renders small, self-contained SVG charts for the rankscope
// dashboard and report: horizontal bars, line charts with confidence bands,
// and histograms with quantile markers.
//
// # Output
//
// Every chart is one <svg> element written as a string, with no scripts, no
// external fonts, stylesheets or images, and a <title> and aria-label so the
// chart reads in a screen reader and in a page shown without styles. All
// text taken from the data (labels, titles) is escaped; callers can embed the
// result in html/template output as template.HTML.
//
// The markup is also well-formed XML, so pages built from it can be checked
// with encoding/xml.
//
// # Bounds
//
// A chart draws at most [MaxBars] bars, [MaxSeries] series and [MaxPoints]
// points per series; the rest is dropped and the title says how many were
// left out, so a caller that forgets to cap its rows still gets a bounded
// document.
//
// # Concurrency
//
// The chart values are plain data; rendering does not modify them, so one
// value may be rendered from several goroutines.
package chart
