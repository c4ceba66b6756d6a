package chart

import (
	"html"
	"math"
)

func escape(s string) string { return html.EscapeString(s) }

// Bin is one histogram bucket [Lo, Hi) with its count.
type Bin struct {
	Lo, Hi float64
	Count  float64
}

// Marker is a labelled vertical line on a histogram (a quantile or a
// target).
type Marker struct {
	Label  string
	X      float64
	Tone   Tone
	Dashed bool
}

// Histogram draws bins as columns on a linear or logarithmic x axis with
// vertical markers, e.g. a latency distribution with p50/p95/p99 and the
// SLO target. Ticks are round numbers (1, 2 and 5 times powers of ten on
// a log axis); marker labels take the first of up to four rows where they
// overlap no other label.
type Histogram struct {
	Title   string
	XLabel  string
	Bins    []Bin
	Markers []Marker
	// LogX uses a log10 x axis; bins and markers at or below zero are then
	// not drawn.
	LogX   bool
	Width  int // default 520
	Height int // default 170
}

// markerRows is the number of rows marker labels may take, rowGap their
// spacing (a text box is 1.17 em high).
const (
	markerRows = 4
	rowGap     = 13.5
)

// SVG renders the chart.
func (c Histogram) SVG() string {
	width, height := float64(c.Width), float64(c.Height)
	if width <= 0 {
		width = 520
	}
	if height <= 0 {
		height = 170
	}
	title := c.Title
	bins := c.Bins
	if len(bins) > MaxPoints {
		title = leftOut(title, len(bins)-MaxPoints)
		bins = bins[:MaxPoints]
	}
	tf := func(x float64) float64 { return x }
	if c.LogX {
		tf = func(x float64) float64 {
			if x <= 0 {
				return math.NaN()
			}
			return math.Log10(x)
		}
	}
	xmin, xmax, cmax := math.Inf(1), math.Inf(-1), 0.0
	for _, b := range bins {
		lo, hi := tf(b.Lo), tf(b.Hi)
		if !finite(lo) || !finite(hi) || hi < lo {
			continue
		}
		xmin, xmax = math.Min(xmin, lo), math.Max(xmax, hi)
		if finite(b.Count) {
			cmax = math.Max(cmax, b.Count)
		}
	}
	for _, m := range c.Markers {
		if x := tf(m.X); finite(x) {
			xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
		}
	}
	if xmin > xmax {
		xmin, xmax = 0, 1
	}
	if xmin == xmax {
		xmin, xmax = xmin-0.5, xmax+0.5
	}
	span := xmax - xmin
	xmin, xmax = xmin-span*0.03, xmax+span*0.03
	var ticks []float64 // in data units
	if c.LogX {
		ticks = logTicks(math.Pow(10, xmin), math.Pow(10, xmax))
	} else {
		ticks = within(niceTicks(xmin, xmax, 5), xmin, xmax)
	}
	if cmax <= 0 {
		cmax = 1
	}
	const left, right, bottom = 12.0, 12.0, 34.0
	top := titleHeight(title, width) + rowGap*markerRows
	pw := width - left - right
	ph := height - top - bottom
	if ph < 50 {
		height += 50 - ph
		ph = 50
	}
	px := func(x float64) float64 { return left + (x-xmin)/(xmax-xmin)*pw }

	var w svgWriter
	w.open(int(width), int(math.Ceil(height)), title)
	l := &layout{w: &w, width: width}
	l.title(title)
	w.line(left, top+ph, left+pw, top+ph, "#999", false)
	for _, b := range bins {
		lo, hi := tf(b.Lo), tf(b.Hi)
		if !finite(lo) || !finite(hi) || hi < lo || !finite(b.Count) || b.Count <= 0 {
			continue
		}
		h := ph * b.Count / cmax
		w.rect(px(lo), top+ph-h, math.Max(px(hi)-px(lo)-0.5, 0.8), h, "#56B4E9", "["+Num(b.Lo)+", "+Num(b.Hi)+"): "+Num(b.Count))
	}
	for _, v := range ticks {
		x := px(tf(v))
		w.line(x, top+ph, x, top+ph+3, "#999", false)
		l.try(x, top+ph+14, "middle", "#777", Num(v))
	}
	if c.XLabel != "" {
		l.put(left+pw/2, top+ph+28, "middle", "#555", c.XLabel)
	}
	for _, m := range c.Markers {
		x := tf(m.X)
		if !finite(x) {
			continue
		}
		col := m.Tone.colour()
		if m.Tone == ToneNeutral {
			col = "#333"
		}
		w.line(px(x), top-2, px(x), top+ph, col, m.Dashed)
		// the lowest free row above the plot
		for r := 0; r < markerRows; r++ {
			if l.try(px(x), top-5-rowGap*float64(r), "middle", col, m.Label) {
				break
			}
		}
	}
	if len(bins) == 0 {
		l.put(left+pw/2, top+ph/2, "middle", "#777", "no data")
	}
	w.close()
	return w.String()
}
