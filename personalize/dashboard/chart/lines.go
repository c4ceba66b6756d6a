package chart

import (
	"math"
	"sort"
)

// Point is one point of a series. Lo and Hi, when both are finite and
// Lo <= Hi, are the ends of an interval drawn as a shaded band.
type Point struct {
	X, Y   float64
	Lo, Hi float64
}

// Series is one line.
type Series struct {
	Name   string
	Points []Point
}

// Lines is a line chart with optional interval bands, an optional y = x
// diagonal (for calibration curves) and an optional horizontal reference.
// Axes get round ticks (1, 2 or 5 times a power of ten) and, unless
// Fixed, extend to the round ticks around the data.
type Lines struct {
	Title          string
	XLabel, YLabel string
	Series         []Series
	// XMin, XMax, YMin, YMax fix the axes when Fixed is set; otherwise the
	// axes cover the data.
	Fixed                  bool
	XMin, XMax, YMin, YMax float64
	Diagonal               bool
	// HRef draws a dashed horizontal line at HRefValue when not empty.
	HRef      string
	HRefValue float64
	// XFormat formats x tick labels (dates, times); default Num. YFormat
	// formats y tick labels; default Num.
	XFormat, YFormat func(float64) string
	// XTicks, when set, are the candidate x ticks (for example the start
	// of each cohort) instead of round numbers; every k-th is labelled,
	// k the smallest that keeps the labels apart.
	XTicks []float64
	Width  int // default 520
	Height int // default 240
}

// SVG renders the chart.
func (c Lines) SVG() string {
	width, height := float64(c.Width), float64(c.Height)
	if width <= 0 {
		width = 520
	}
	if height <= 0 {
		height = 240
	}
	title := c.Title
	series := c.Series
	if len(series) > MaxSeries {
		title = leftOut(title, len(series)-MaxSeries)
		series = series[:MaxSeries]
	}
	fx, fy := c.XFormat, c.YFormat
	if fx == nil {
		fx = Num
	}
	if fy == nil {
		fy = Num
	}
	xmin, xmax, ymin, ymax := c.XMin, c.XMax, c.YMin, c.YMax
	if !c.Fixed {
		xmin, xmax, ymin, ymax = dataRange(series)
		if c.HRef != "" && finite(c.HRefValue) {
			ymin, ymax = math.Min(ymin, c.HRefValue), math.Max(ymax, c.HRefValue)
		}
		if xmin > xmax { // no data
			xmin, xmax, ymin, ymax = 0, 1, 0, 1
		}
		if ymin > 0 && ymin < ymax/2 {
			ymin = 0
		}
	}
	if xmax == xmin {
		xmin, xmax = xmin-1, xmax+1
	}
	if ymax == ymin {
		ymin, ymax = ymin-1, ymax+1
	}
	yt := niceTicks(ymin, ymax, 5)
	if c.Fixed {
		yt = within(yt, ymin, ymax)
	} else {
		ymin, ymax = yt[0], yt[len(yt)-1]
	}
	top := titleHeight(title, width)
	left := 6.0
	for _, t := range yt {
		left = math.Max(left, textWidth(fy(t))+10)
	}
	if c.YLabel != "" {
		left += 16
	}
	const right = 14.0
	pw := width - left - right
	pad := 0.0 // inner room so that points at the ends of a time axis stay off the frame
	xt := c.XTicks
	if xt != nil {
		pad = 10
		xt = within(sortedCopy(xt), xmin, xmax)
	} else {
		xt = niceTicks(xmin, xmax, max(2, int(pw/90)))
		if c.Fixed {
			xt = within(xt, xmin, xmax)
		} else {
			xmin, xmax = xt[0], xt[len(xt)-1]
		}
	}
	xlabels := make([]string, len(xt))
	for i, x := range xt {
		xlabels[i] = fx(x)
	}
	// legend rows, laid out before the plot height is known
	type entry struct{ x, row float64 }
	entries := make([]entry, len(series))
	rows := 0.0
	if len(series) > 1 {
		x := left
		for i, s := range series {
			w := 13 + textWidth(s.Name) + 16
			if x+w > width && x > left {
				x, rows = left, rows+1
			}
			entries[i] = entry{x, rows}
			x += w
		}
		rows++
	}
	bottom := 23.0
	if c.XLabel != "" {
		bottom += 14
	}
	ph := height - top - bottom - 16*rows
	if ph < 60 {
		height += 60 - ph
		ph = 60
	}
	px := func(x float64) float64 { return left + pad + (x-xmin)/(xmax-xmin)*(pw-2*pad) }
	py := func(y float64) float64 { return top + ph - (y-ymin)/(ymax-ymin)*ph }

	var w svgWriter
	w.open(int(width), int(math.Ceil(height)), title)
	l := &layout{w: &w, width: width}
	l.title(title)
	w.rect(left, top, pw, ph, "#fafafa", "")
	for _, t := range yt {
		y := py(t)
		w.line(left, y, left+pw, y, "#e4e4e4", false)
		l.put(left-5, y+4, "end", "#777", fy(t))
	}
	every := spacing(xt, xlabels, px)
	for i, x := range xt {
		if i%every == 0 {
			l.try(px(x), top+ph+17, "middle", "#777", xlabels[i])
		}
	}
	if c.XLabel != "" {
		l.put(left+pw/2, top+ph+31, "middle", "#555", c.XLabel)
	}
	if c.YLabel != "" {
		w.WriteString(`<text transform="rotate(-90)" x="`)
		coord(&w.Builder, -(top + ph/2))
		w.WriteString(`" y="12" text-anchor="middle" fill="#555">`)
		w.WriteString(escape(c.YLabel))
		w.WriteString(`</text>`)
	}
	if c.Diagonal {
		lo, hi := math.Max(xmin, ymin), math.Min(xmax, ymax)
		if lo < hi {
			w.line(px(lo), py(lo), px(hi), py(hi), "#999", true)
		}
	}
	if c.HRef != "" && finite(c.HRefValue) && c.HRefValue >= ymin && c.HRefValue <= ymax {
		y := py(c.HRefValue)
		w.line(left, y, left+pw, y, "#D55E00", true)
		if !l.tryWith(left+pw-4, y-4, "end", "#D55E00", halo, c.HRef) {
			l.tryWith(left+pw-4, y+13, "end", "#D55E00", halo, c.HRef)
		}
	}
	for si, s := range series {
		colour := Palette[si%len(Palette)]
		drawSeries(&w, s, colour, px, py, ymin, ymax, fx)
		if len(series) > 1 {
			e := entries[si]
			ly := height - 6 - 16*(rows-1-e.row)
			w.rect(e.x, ly-8, 10, 8, colour, "")
			l.put(e.x+13, ly, "", "#333", s.Name)
		}
	}
	if len(series) == 0 || allEmpty(series) {
		l.put(left+pw/2, top+ph/2, "middle", "#777", "no data")
	}
	w.close()
	return w.String()
}

// dataRange is the extent of the series' first MaxPoints finite points
// and their bands; +Inf, -Inf when there is none.
func dataRange(series []Series) (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for i, p := range s.Points {
			if i >= MaxPoints {
				break
			}
			if !finite(p.X) || !finite(p.Y) {
				continue
			}
			xmin, xmax = math.Min(xmin, p.X), math.Max(xmax, p.X)
			ymin, ymax = math.Min(ymin, p.Y), math.Max(ymax, p.Y)
			if band(p) {
				ymin, ymax = math.Min(ymin, p.Lo), math.Max(ymax, p.Hi)
			}
		}
	}
	return xmin, xmax, ymin, ymax
}

// drawSeries draws one series' band, line and points.
func drawSeries(w *svgWriter, s Series, colour string, px, py func(float64) float64, ymin, ymax float64, fx func(float64) string) {
	pts := s.Points
	if len(pts) > MaxPoints {
		pts = pts[:MaxPoints]
	}
	pts = sortedFinite(pts)
	var up []Point
	for _, p := range pts {
		if band(p) {
			up = append(up, p)
		}
	}
	if len(up) >= 2 {
		w.WriteString(`<path fill="` + colour + `" fill-opacity="0.18" stroke="none" d="`)
		for i, p := range up {
			if i == 0 {
				w.WriteByte('M')
			} else {
				w.WriteByte('L')
			}
			coord(&w.Builder, px(p.X))
			w.WriteByte(' ')
			coord(&w.Builder, py(clamp(p.Hi, ymin, ymax)))
		}
		for i := len(up) - 1; i >= 0; i-- {
			w.WriteByte('L')
			coord(&w.Builder, px(up[i].X))
			w.WriteByte(' ')
			coord(&w.Builder, py(clamp(up[i].Lo, ymin, ymax)))
		}
		w.WriteString(`Z"/>`)
	}
	if len(pts) >= 2 {
		w.WriteString(`<polyline fill="none" stroke-width="2" stroke="` + colour + `" points="`)
		for i, p := range pts {
			if i > 0 {
				w.WriteByte(' ')
			}
			coord(&w.Builder, px(p.X))
			w.WriteByte(',')
			coord(&w.Builder, py(clamp(p.Y, ymin, ymax)))
		}
		w.WriteString(`"/>`)
	}
	for _, p := range pts {
		w.WriteString(`<circle r="2.5" fill="` + colour + `" cx="`)
		coord(&w.Builder, px(p.X))
		w.WriteString(`" cy="`)
		coord(&w.Builder, py(clamp(p.Y, ymin, ymax)))
		w.WriteString(`"><title>`)
		tip := s.Name + " " + fx(p.X) + ": " + Num(p.Y)
		if band(p) {
			tip += " [" + Num(p.Lo) + ", " + Num(p.Hi) + "]"
		}
		w.WriteString(escape(tip))
		w.WriteString(`</title></circle>`)
	}
}

// spacing returns k such that labelling every k-th tick keeps the labels
// 8 px apart.
func spacing(ticks []float64, labels []string, px func(float64) float64) int {
	for k := 1; k < len(ticks); k++ {
		ok := true
		for i := k; i < len(ticks); i += k {
			gap := px(ticks[i]) - px(ticks[i-k])
			if gap < (textWidth(labels[i])+textWidth(labels[i-k]))/2+8 {
				ok = false
				break
			}
		}
		if ok {
			return k
		}
	}
	return max(len(ticks), 1)
}

// within returns the values of vs in [lo, hi] (with a little slack for
// rounding).
func within(vs []float64, lo, hi float64) []float64 {
	slack := (hi - lo) * 1e-9
	out := vs[:0:0]
	for _, v := range vs {
		if v >= lo-slack && v <= hi+slack {
			out = append(out, v)
		}
	}
	return out
}

func sortedCopy(vs []float64) []float64 {
	out := make([]float64, 0, len(vs))
	for _, v := range vs {
		if finite(v) {
			out = append(out, v)
		}
	}
	sort.Float64s(out)
	return out
}

func band(p Point) bool {
	return finite(p.Lo) && finite(p.Hi) && p.Lo <= p.Hi && (p.Lo != 0 || p.Hi != 0)
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

func sortedFinite(pts []Point) []Point {
	out := make([]Point, 0, len(pts))
	for _, p := range pts {
		if finite(p.X) && finite(p.Y) {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].X < out[j].X })
	return out
}

func allEmpty(ss []Series) bool {
	for _, s := range ss {
		if len(s.Points) > 0 {
			return false
		}
	}
	return true
}
