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
// # Layout
//
// Axes carry round ticks, 1, 2 or 5 times a power of ten (also on the
// logarithmic axis of a histogram). Text is placed by estimated width
// (generous per-character widths of DejaVu Sans at 11 px): titles wrap,
// labels are moved inside the canvas, a tick label that would overlap
// another is left out (every k-th tick of a time axis), marker labels of
// a histogram take the first free of four rows, and a bar chart widens
// its label and value columns, or its canvas, rather than cut a label.
// The page's style scales a chart down to its container, never up.
// Golden files in testdata (go test -update rewrites them) pin the
// output; internal/browsertest checks in Chromium that no two texts of
// any chart overlap.
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
