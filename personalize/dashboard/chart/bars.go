package chart

import (
	"math"
)

// Bar is one horizontal bar.
type Bar struct {
	Label string
	Value float64
	// Text is printed right of the bar; Num(Value) when empty.
	Text string
	Tone Tone
}

// Bars is a horizontal bar chart: one labelled row per bar, values from
// zero (negative values draw as empty bars), and an optional dashed
// reference line such as a threshold or a target.
type Bars struct {
	Title string
	Bars  []Bar
	// Max is the value at the right edge; 0 picks a round number above the
	// largest value and the reference.
	Max float64
	// Ref draws a dashed vertical line at RefValue labelled Ref when Ref is
	// not empty.
	Ref      string
	RefValue float64
	Width    int // default 420
}

// SVG renders the chart.
func (c Bars) SVG() string {
	width := c.Width
	if width <= 0 {
		width = 460
	}
	bars := c.Bars
	title := c.Title
	if len(bars) > MaxBars {
		title = leftOut(title, len(bars)-MaxBars)
		bars = bars[:MaxBars]
	}
	const rowH, top, labelW = 18.0, 22.0, 130.0
	// room right of the bars for the longest value text (about 6 px a
	// character at font-size 11), between 70 and 240 px
	longest := 0
	for _, b := range bars {
		n := len(b.Text)
		if n == 0 {
			n = len(Num(b.Value))
		}
		longest = max(longest, min(n, 40))
	}
	valueW := math.Min(240, math.Max(70, 6*float64(longest)+8))
	height := int(top + rowH*float64(max(len(bars), 1)) + 18)
	max := c.Max
	if max <= 0 {
		for _, b := range bars {
			if finite(b.Value) && b.Value > max {
				max = b.Value
			}
		}
		if c.Ref != "" && finite(c.RefValue) && c.RefValue > max {
			max = c.RefValue
		}
		max = niceMax(max)
	}
	plotW := float64(width) - labelW - valueW
	var w svgWriter
	w.open(width, height, title)
	w.text(0, 13, "", "#333", clip(title, 80))
	if len(bars) == 0 {
		w.text(labelW, top+12, "", "#777", "no data")
	}
	for i, b := range bars {
		y := top + rowH*float64(i)
		w.text(labelW-6, y+12, "end", "#333", clip(b.Label, 22))
		v := b.Value
		if !finite(v) || v < 0 {
			v = 0
		}
		bw := plotW * math.Min(v/max, 1)
		text := b.Text
		if text == "" {
			text = Num(b.Value)
		}
		w.rect(labelW, y+3, bw, rowH-6, b.Tone.colour(), b.Label+": "+text)
		w.text(labelW+bw+4, y+12, "", "#333", clip(text, 40))
	}
	axisY := top + rowH*float64(max0(len(bars)))
	w.line(labelW, top, labelW, axisY, "#999", false)
	w.text(labelW, axisY+12, "start", "#777", "0")
	w.text(labelW+plotW, axisY+12, "end", "#777", Num(max))
	if c.Ref != "" && finite(c.RefValue) && c.RefValue >= 0 {
		x := labelW + plotW*math.Min(c.RefValue/max, 1)
		w.line(x, top-4, x, axisY, "#D55E00", true)
		w.text(x, axisY+12, "middle", "#D55E00", clip(c.Ref, 24))
	}
	w.close()
	return w.String()
}

func max0(n int) int {
	if n < 1 {
		return 1
	}
	return n
}
