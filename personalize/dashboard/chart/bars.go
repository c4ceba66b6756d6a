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
// zero (negative values draw as empty bars) on an axis with round ticks,
// and an optional dashed reference line such as a threshold or a target.
//
// Labels and value texts are never cut: the label column and the room
// for the texts grow with the longest, and when the bars would get less
// than a third of Width the canvas grows (the page's style scales a chart
// down to its container).
type Bars struct {
	Title string
	Bars  []Bar
	// Max is the value at the right edge; 0 picks the round tick at or
	// above the largest value and the reference.
	Max float64
	// Ref draws a dashed vertical line at RefValue labelled Ref when Ref is
	// not empty.
	Ref      string
	RefValue float64
	// Format formats the axis ticks; default Num.
	Format func(float64) string
	Width  int // default 520
}

// SVG renders the chart.
func (c Bars) SVG() string {
	width := float64(c.Width)
	if width <= 0 {
		width = 520
	}
	bars := c.Bars
	title := c.Title
	if len(bars) > MaxBars {
		title = leftOut(title, len(bars)-MaxBars)
		bars = bars[:MaxBars]
	}
	format := c.Format
	if format == nil {
		format = Num
	}
	texts := make([]string, len(bars))
	labelW, valueW := 0.0, 0.0
	for i, b := range bars {
		texts[i] = b.Text
		if texts[i] == "" {
			texts[i] = Num(b.Value)
		}
		labelW = math.Max(labelW, textWidth(b.Label))
		valueW = math.Max(valueW, textWidth(texts[i]))
	}
	labelW += 8
	valueW += 8
	if width-labelW-valueW < width/3 {
		width = math.Ceil((labelW + valueW) * 1.5)
	}
	top := titleHeight(title, width)
	if c.Ref != "" {
		top += 14 // a row for the reference's label
	}
	const rowH = 18.0
	axisY := top + rowH*float64(max(len(bars), 1))
	height := axisY + 18
	hi := c.Max
	if hi <= 0 {
		for _, b := range bars {
			if finite(b.Value) && b.Value > hi {
				hi = b.Value
			}
		}
		if c.Ref != "" && finite(c.RefValue) && c.RefValue > hi {
			hi = c.RefValue
		}
		if hi <= 0 {
			hi = 1
		}
	}
	ticks := niceTicks(0, hi, 4)
	if c.Max <= 0 {
		hi = ticks[len(ticks)-1]
	}
	plotW := width - labelW - valueW
	px := func(v float64) float64 { return labelW + plotW*math.Min(math.Max(v, 0)/hi, 1) }

	var w svgWriter
	w.open(int(width), int(math.Ceil(height)), title)
	l := &layout{w: &w, width: width}
	l.title(title)
	if len(bars) == 0 {
		l.put(labelW, top+12, "", "#777", "no data")
	}
	for _, t := range ticks {
		if t > 0 && t <= hi*(1+1e-9) {
			w.line(px(t), top, px(t), axisY, "#eeeeee", false)
		}
	}
	for i, b := range bars {
		y := top + rowH*float64(i)
		l.put(labelW-6, y+12, "end", "#333", b.Label)
		v := b.Value
		if !finite(v) || v < 0 {
			v = 0
		}
		bw := px(v) - labelW
		w.rect(labelW, y+3, bw, rowH-6, b.Tone.colour(), b.Label+": "+texts[i])
		l.put(labelW+bw+4, y+12, "", "#333", texts[i])
	}
	w.line(labelW, top, labelW, axisY, "#999", false)
	if c.Ref != "" && finite(c.RefValue) && c.RefValue >= 0 {
		x := px(c.RefValue)
		w.line(x, top-2, x, axisY, "#D55E00", true)
		l.put(x, top-4, "middle", "#D55E00", c.Ref)
	}
	for _, t := range ticks {
		if t <= hi*(1+1e-9) {
			l.try(px(t), axisY+12, "middle", "#777", format(t))
		}
	}
	w.close()
	return w.String()
}

// titleHeight is the y where a chart's body starts below its wrapped
// title.
func titleHeight(title string, width float64) float64 {
	return 14*float64(len(wrap(title, width))) + 9
}
