package chart

import (
	"math"
	"strings"
)

// Layout: every chart places its text through a layout, which estimates
// the size of each string, keeps labels inside the canvas and drops a
// tick label that would overlap one already placed, so that no two texts
// of a chart overlap and none is cut at the edge. The browser test
// (internal/browsertest) checks the rendered bounding boxes.

// fontSize is the size of every chart text in px.
const fontSize = 11.0

// textWidth estimates the advance width of s in px at fontSize. The
// per-character widths are those of DejaVu Sans (Debian's default sans
// serif, among the widest common faces) rounded up, so the estimate holds
// for narrower faces such as Liberation Sans or Helvetica too.
func textWidth(s string) float64 {
	var em float64
	for _, r := range s {
		switch {
		case strings.ContainsRune("il.,:;'|!·", r):
			em += 0.32
		case strings.ContainsRune(" ()[]{}ftrjI-/", r):
			em += 0.42
		case strings.ContainsRune("mwMW%@", r):
			em += 1.0
		case r >= 'A' && r <= 'Z':
			em += 0.76
		case r < 128:
			em += 0.64
		default:
			em += 1.0 // −, …, ≤ and letters outside ASCII: generous
		}
	}
	return em * fontSize
}

// box is a text's extent on the canvas.
type box struct{ x0, y0, x1, y1 float64 }

func (a box) overlaps(b box) bool {
	return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1
}

// layout tracks the texts placed on one canvas.
type layout struct {
	w      *svgWriter
	width  float64
	placed []box
}

// textBox is the extent of s drawn at (x, y) with anchor.
func textBox(x, y float64, anchor, s string) box {
	tw := textWidth(s)
	x0 := x
	switch anchor {
	case "middle":
		x0 = x - tw/2
	case "end":
		x0 = x - tw
	}
	// baseline at y: ascent about 0.93 em, descent about 0.24 em
	return box{x0, y - 0.93*fontSize, x0 + tw, y + 0.24*fontSize}
}

// shift moves x so that s drawn with anchor stays inside the canvas.
func (l *layout) shift(x float64, anchor, s string) float64 {
	b := textBox(x, 0, anchor, s)
	switch {
	case b.x0 < 0:
		x -= b.x0
	case b.x1 > l.width:
		x -= b.x1 - l.width
	}
	return x
}

// free reports whether s at (x, y) overlaps no placed text.
func (l *layout) free(x, y float64, anchor, s string) bool {
	b := textBox(x, y, anchor, s)
	for _, p := range l.placed {
		if b.overlaps(p) {
			return false
		}
	}
	return true
}

// put draws s at (x, y), moved inside the canvas, and records it.
func (l *layout) put(x, y float64, anchor, fill, s string) {
	x = l.shift(x, anchor, s)
	l.placed = append(l.placed, textBox(x, y, anchor, s))
	l.w.text(x, y, anchor, fill, s)
}

// try draws s at (x, y) (moved inside the canvas) when it overlaps no
// placed text, and reports whether it did.
func (l *layout) try(x, y float64, anchor, fill, s string) bool {
	return l.tryWith(x, y, anchor, fill, "", s)
}

// halo draws a white outline under the glyphs, so a label stays legible
// over lines and bands.
const halo = `stroke="#fff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"`

// tryWith is try with extra attributes for the text element.
func (l *layout) tryWith(x, y float64, anchor, fill, extra, s string) bool {
	x = l.shift(x, anchor, s)
	if !l.free(x, y, anchor, s) {
		return false
	}
	l.placed = append(l.placed, textBox(x, y, anchor, s))
	l.w.textWith(x, y, anchor, fill, extra, s)
	return true
}

// wrap splits s into lines of at most width px, breaking at spaces; a
// word longer than a line stands alone on its line. An empty s has no
// line.
func wrap(s string, width float64) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		next := word
		if line != "" {
			next = line + " " + word
		}
		if line != "" && textWidth(next) > width {
			lines = append(lines, line)
			next = word
		}
		line = next
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// title draws the chart title wrapped to the canvas width (see
// titleHeight for the room it takes).
func (l *layout) title(s string) {
	for i, line := range wrap(s, l.width) {
		l.put(0, 13+14*float64(i), "", "#333", line)
	}
}

// niceStep is the step 1, 2 or 5 times a power of ten that splits span
// into at most n intervals.
func niceStep(span float64, n int) float64 {
	if !(span > 0) || !finite(span) {
		return 1
	}
	raw := span / float64(max(n, 1))
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5} {
		if m*p >= raw*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// niceTicks returns ticks at a nice step (1, 2 or 5 times a power of ten)
// from a multiple of the step at or below lo to one at or above hi, at
// most n+1 of them (n intervals) for a finite lo < hi.
func niceTicks(lo, hi float64, n int) []float64 {
	if !finite(lo) || !finite(hi) || hi <= lo {
		return []float64{lo}
	}
	step := niceStep(hi-lo, n)
	for {
		first := math.Floor(lo/step+1e-9) * step
		last := math.Ceil(hi/step-1e-9) * step
		if k := int(math.Round((last - first) / step)); k <= n {
			ticks := make([]float64, 0, k+1)
			for i := 0; i <= k; i++ {
				ticks = append(ticks, snap(first+float64(i)*step, step))
			}
			return ticks
		}
		// rounding outwards added an interval: take the next step
		step = niceStep(step*1.01*float64(n), n)
	}
}

// snap removes the floating-point noise of a tick: 0.30000000000000004
// becomes 0.3.
func snap(v, step float64) float64 {
	if math.Abs(v) < step*1e-9 {
		return 0
	}
	d := math.Pow(10, math.Floor(math.Log10(step))-3)
	return math.Round(v/d) * d
}

// logTicks returns the values 1, 2 and 5 times a power of ten within
// [lo, hi] (lo > 0); when fewer than three fall inside, nice linear ticks
// within the range.
func logTicks(lo, hi float64) []float64 {
	if !(lo > 0) || !(hi > lo) || !finite(hi) {
		return nil
	}
	var out []float64
	for k := math.Floor(math.Log10(lo)); k <= math.Ceil(math.Log10(hi)); k++ {
		p := math.Pow(10, k)
		for _, m := range []float64{1, 2, 5} {
			if v := snap(m*p, p); v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
				out = append(out, v)
			}
		}
	}
	if len(out) >= 3 {
		return out
	}
	out = out[:0]
	for _, v := range niceTicks(lo, hi, 4) {
		if v >= lo && v <= hi {
			out = append(out, v)
		}
	}
	return out
}
