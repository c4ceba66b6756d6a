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
// SLO target.
type Histogram struct {
	Title   string
	XLabel  string
	Bins    []Bin
	Markers []Marker
	// LogX uses a log10 x axis; bins and markers at or below zero are then
	// not drawn.
	LogX   bool
	Width  int // default 420
	Height int // default 160
}

// SVG renders the chart.
func (c Histogram) SVG() string {
	width, height := c.Width, c.Height
	if width <= 0 {
		width = 420
	}
	if height <= 0 {
		height = 160
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
	if cmax <= 0 {
		cmax = 1
	}
	const left, right, top, bottom = 12.0, 12.0, 36.0, 32.0
	pw := float64(width) - left - right
	ph := float64(height) - top - bottom
	px := func(x float64) float64 { return left + (x-xmin)/(xmax-xmin)*pw }

	var w svgWriter
	w.open(width, height, title)
	w.text(0, 13, "", "#333", clip(title, 80))
	w.line(left, top+ph, left+pw, top+ph, "#999", false)
	for _, b := range bins {
		lo, hi := tf(b.Lo), tf(b.Hi)
		if !finite(lo) || !finite(hi) || hi < lo || !finite(b.Count) || b.Count <= 0 {
			continue
		}
		h := ph * b.Count / cmax
		w.rect(px(lo), top+ph-h, math.Max(px(hi)-px(lo)-0.5, 0.8), h, "#56B4E9", "["+Num(b.Lo)+", "+Num(b.Hi)+"): "+Num(b.Count))
	}
	// ticks: 5 evenly spaced positions in transformed space
	for i := 0; i <= 4; i++ {
		t := xmin + float64(i)/4*(xmax-xmin)
		v := t
		if c.LogX {
			v = math.Pow(10, t)
		}
		w.text(px(t), top+ph+13, "middle", "#777", Num(v))
	}
	if c.XLabel != "" {
		w.text(left+pw/2, top+ph+27, "middle", "#555", clip(c.XLabel, 60))
	}
	for i, m := range c.Markers {
		x := tf(m.X)
		if !finite(x) {
			continue
		}
		col := m.Tone.colour()
		if m.Tone == ToneNeutral {
			col = "#333"
		}
		w.line(px(x), top-2, px(x), top+ph, col, m.Dashed)
		// stagger labels over two rows so close markers stay readable
		w.text(px(x), top-6-float64(i%2)*10, "middle", col, clip(m.Label, 20))
	}
	if len(bins) == 0 {
		w.text(left+pw/2, top+ph/2, "middle", "#777", "no data")
	}
	w.close()
	return w.String()
}
