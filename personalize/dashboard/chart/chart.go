package chart

import (
	"html"
	"math"
	"strconv"
	"strings"
)

// Bounds on what one chart draws.
const (
	MaxBars   = 64
	MaxSeries = 8
	MaxPoints = 512
)

// Palette is the series colours (Okabe and Ito's colour-blind safe set).
var Palette = [...]string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

// Tone colours a bar or marker by meaning.
type Tone uint8

// Tones.
const (
	ToneNeutral Tone = iota // the first palette colour
	ToneGood                // green
	ToneWarn                // orange
	ToneBad                 // red
	ToneMuted               // grey
)

func (t Tone) colour() string {
	switch t {
	case ToneGood:
		return "#009E73"
	case ToneWarn:
		return "#E69F00"
	case ToneBad:
		return "#D55E00"
	case ToneMuted:
		return "#999999"
	}
	return Palette[0]
}

// Num formats v with three significant digits and no exponent for the usual
// magnitudes of a dashboard (1e-4 to 1e12); NaN and infinities print as
// "n/a", "inf" and "-inf".
func Num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	case v == 0:
		return "0"
	}
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return trim(strconv.FormatFloat(v/1e9, 'f', 2, 64)) + "G"
	case a >= 1e6:
		return trim(strconv.FormatFloat(v/1e6, 'f', 2, 64)) + "M"
	case a >= 1e4:
		return trim(strconv.FormatFloat(v/1e3, 'f', 1, 64)) + "k"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a < 1e-4:
		return strconv.FormatFloat(v, 'e', 2, 64)
	}
	digits := 2 - int(math.Floor(math.Log10(a)))
	return trim(strconv.FormatFloat(v, 'f', digits, 64))
}

func trim(s string) string {
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// coord formats an SVG coordinate with one decimal.
func coord(b *strings.Builder, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	b.WriteString(strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64))
}

type svgWriter struct {
	strings.Builder
}

func (w *svgWriter) open(width, height int, title string) {
	w.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="`)
	w.WriteString(strconv.Itoa(width))
	w.WriteString(`" height="`)
	w.WriteString(strconv.Itoa(height))
	w.WriteString(`" viewBox="0 0 `)
	w.WriteString(strconv.Itoa(width))
	w.WriteByte(' ')
	w.WriteString(strconv.Itoa(height))
	w.WriteString(`" aria-label="`)
	w.WriteString(html.EscapeString(title))
	w.WriteString(`" font-family="sans-serif" font-size="11"><title>`)
	w.WriteString(html.EscapeString(title))
	w.WriteString(`</title>`)
}

func (w *svgWriter) close() { w.WriteString(`</svg>`) }

func (w *svgWriter) text(x, y float64, anchor, fill, s string) {
	w.textWith(x, y, anchor, fill, "", s)
}

// textWith writes a text with extra attributes (written as given).
func (w *svgWriter) textWith(x, y float64, anchor, fill, extra, s string) {
	w.WriteString(`<text x="`)
	coord(&w.Builder, x)
	w.WriteString(`" y="`)
	coord(&w.Builder, y)
	if anchor != "" {
		w.WriteString(`" text-anchor="`)
		w.WriteString(anchor)
	}
	if fill != "" {
		w.WriteString(`" fill="`)
		w.WriteString(fill)
	}
	w.WriteString(`"`)
	if extra != "" {
		w.WriteByte(' ')
		w.WriteString(extra)
	}
	w.WriteString(`>`)
	w.WriteString(html.EscapeString(s))
	w.WriteString(`</text>`)
}

func (w *svgWriter) rect(x, y, width, height float64, fill, tip string) {
	w.WriteString(`<rect x="`)
	coord(&w.Builder, x)
	w.WriteString(`" y="`)
	coord(&w.Builder, y)
	w.WriteString(`" width="`)
	coord(&w.Builder, math.Max(width, 0))
	w.WriteString(`" height="`)
	coord(&w.Builder, math.Max(height, 0))
	w.WriteString(`" fill="`)
	w.WriteString(fill)
	if tip == "" {
		w.WriteString(`"/>`)
		return
	}
	w.WriteString(`"><title>`)
	w.WriteString(html.EscapeString(tip))
	w.WriteString(`</title></rect>`)
}

func (w *svgWriter) line(x1, y1, x2, y2 float64, stroke string, dashed bool) {
	w.WriteString(`<line x1="`)
	coord(&w.Builder, x1)
	w.WriteString(`" y1="`)
	coord(&w.Builder, y1)
	w.WriteString(`" x2="`)
	coord(&w.Builder, x2)
	w.WriteString(`" y2="`)
	coord(&w.Builder, y2)
	w.WriteString(`" stroke="`)
	w.WriteString(stroke)
	if dashed {
		w.WriteString(`" stroke-dasharray="4 3`)
	}
	w.WriteString(`"/>`)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// cut on a rune boundary
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func leftOut(title string, n int) string {
	if n <= 0 {
		return title
	}
	return title + " (" + strconv.Itoa(n) + " more not shown)"
}
