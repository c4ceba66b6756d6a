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
	// XTime formats x ticks as "hh:mm" / dates via XFormat when set.
	XFormat func(float64) string
	Width   int // default 420
	Height  int // default 220
}

// SVG renders the chart.
func (c Lines) SVG() string {
	width, height := c.Width, c.Height
	if width <= 0 {
		width = 420
	}
	if height <= 0 {
		height = 220
	}
	title := c.Title
	series := c.Series
	if len(series) > MaxSeries {
		title = leftOut(title, len(series)-MaxSeries)
		series = series[:MaxSeries]
	}
	xmin, xmax, ymin, ymax := c.XMin, c.XMax, c.YMin, c.YMax
	if !c.Fixed {
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
		if c.HRef != "" && finite(c.HRefValue) {
			ymin, ymax = math.Min(ymin, c.HRefValue), math.Max(ymax, c.HRefValue)
		}
		if xmin > xmax { // no data
			xmin, xmax, ymin, ymax = 0, 1, 0, 1
		}
		if ymin > 0 && ymin < ymax/2 {
			ymin = 0
		}
		pad := (ymax - ymin) * 0.05
		if pad == 0 {
			pad = math.Max(math.Abs(ymax)*0.1, 1e-9)
		}
		ymin, ymax = ymin-pad, ymax+pad
		if ymin < 0 && c.YMin == 0 && allNonNegative(series) {
			ymin = 0
		}
	}
	if xmax == xmin {
		xmin, xmax = xmin-1, xmax+1
	}
	if ymax == ymin {
		ymin, ymax = ymin-1, ymax+1
	}
	const left, right, top, bottom = 48.0, 12.0, 22.0, 34.0
	legendH := 0.0
	if len(series) > 1 {
		legendH = 14
	}
	pw := float64(width) - left - right
	ph := float64(height) - top - bottom - legendH
	px := func(x float64) float64 { return left + (x-xmin)/(xmax-xmin)*pw }
	py := func(y float64) float64 { return top + ph - (y-ymin)/(ymax-ymin)*ph }
	fx := c.XFormat
	if fx == nil {
		fx = Num
	}

	var w svgWriter
	w.open(width, height, title)
	w.text(0, 13, "", "#333", clip(title, 80))
	// frame and ticks
	w.rect(left, top, pw, ph, "#fafafa", "")
	for i := 0; i <= 4; i++ {
		f := float64(i) / 4
		y := top + ph - f*ph
		w.line(left, y, left+pw, y, "#e4e4e4", false)
		w.text(left-4, y+4, "end", "#777", Num(ymin+f*(ymax-ymin)))
		x := left + f*pw
		w.text(x, top+ph+13, "middle", "#777", fx(xmin+f*(xmax-xmin)))
	}
	if c.XLabel != "" {
		w.text(left+pw/2, top+ph+27, "middle", "#555", clip(c.XLabel, 60))
	}
	if c.YLabel != "" {
		w.WriteString(`<text transform="rotate(-90)" x="`)
		coord(&w.Builder, -(top + ph/2))
		w.WriteString(`" y="10" text-anchor="middle" fill="#555">`)
		w.WriteString(escape(clip(c.YLabel, 40)))
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
		w.text(left+pw-2, y-3, "end", "#D55E00", clip(c.HRef, 30))
	}
	for si, s := range series {
		pts := s.Points
		if len(pts) > MaxPoints {
			pts = pts[:MaxPoints]
		}
		pts = sortedFinite(pts)
		colour := Palette[si%len(Palette)]
		// band
		var up, down []Point
		for _, p := range pts {
			if band(p) {
				up = append(up, p)
			}
		}
		if len(up) >= 2 {
			down = up
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
			for i := len(down) - 1; i >= 0; i-- {
				w.WriteByte('L')
				coord(&w.Builder, px(down[i].X))
				w.WriteByte(' ')
				coord(&w.Builder, py(clamp(down[i].Lo, ymin, ymax)))
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
			w.WriteString(escape(s.Name + " " + fx(p.X) + ": " + Num(p.Y)))
			w.WriteString(`</title></circle>`)
		}
		if len(series) > 1 {
			lx := left + float64(si%4)*pw/4
			ly := float64(height) - 4 - float64(si/4)*0 // one row
			w.rect(lx, ly-8, 10, 8, colour, "")
			w.text(lx+13, ly, "", "#333", clip(s.Name, 16))
		}
	}
	if len(series) == 0 || allEmpty(series) {
		w.text(left+pw/2, top+ph/2, "middle", "#777", "no data")
	}
	w.close()
	return w.String()
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

func allNonNegative(ss []Series) bool {
	for _, s := range ss {
		for _, p := range s.Points {
			if p.Y < 0 || (band(p) && p.Lo < 0) {
				return false
			}
		}
	}
	return true
}

func allEmpty(ss []Series) bool {
	for _, s := range ss {
		if len(s.Points) > 0 {
			return false
		}
	}
	return true
}
