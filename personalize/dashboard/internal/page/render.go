package page

import (
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rankscope/rankscope/personalize/dashboard/chart"
	"github.com/rankscope/rankscope/personalize/dashboard/panel"
)

// Style is the one inline style sheet of every page. It holds no '<' or
// '&' so the pages stay well-formed XML.
const Style = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#f4f5f7}
header{background:#1f2d3d;color:#fff;padding:10px 20px}
header h1{font-size:18px;margin:0}
header p{margin:2px 0 0;color:#c8d0da;font-size:12px}
header a{color:#9cc7ff}
main{padding:12px 20px;display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:10px 14px;flex:1 1 440px;max-width:920px}
section.wide{flex-basis:100%;max-width:none}
h2{font-size:15px;margin:0 0 8px}
h3{font-size:13px;margin:10px 0 4px}
table{border-collapse:collapse;font-size:12px;margin:4px 0 8px}
table.stats td{white-space:nowrap}
table.stats td.wrap{white-space:normal;min-width:14em;text-align:left}
section{overflow-x:auto}
th,td{padding:2px 8px;text-align:right;border-bottom:1px solid #eee}
th:first-child,td:first-child{text-align:left}
th{color:#555;font-weight:600}
.tiles{display:flex;flex-wrap:wrap;gap:8px}
.tile{border:1px solid #e3e6ea;border-radius:4px;padding:4px 10px;min-width:110px}
.tile b{display:block;font-size:18px}
.tile span{color:#666;font-size:11px}
.ok{color:#08794f}.bad{color:#c0392b;font-weight:600}.warn{color:#b36b00}.muted{color:#888}
.badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:11px;border:1px solid currentColor}
.charts{display:flex;flex-wrap:wrap;gap:8px}
.charts>div{flex:1 1 520px;min-width:0}
.summary{font-size:15px;line-height:1.6}
.summary li{margin:2px 0}
svg.chart{display:block;max-width:100%;height:auto}
.defs{font-size:13px;color:#333}
.defs dt{font-weight:600;margin-top:4px}
.defs dd{margin:0 0 0 14px}
.defs-table td.wrap{text-align:left;white-space:normal}
.warnbox{border-left:3px solid #b36b00;padding:2px 8px;margin:6px 0;background:#fff8ec}
footer{padding:6px 20px 16px;color:#777;font-size:11px}
`

// Funcs are the template functions of both pages: number, percent,
// duration, byte and time formatting, and the CSS class of a verdict.
var Funcs = template.FuncMap{
	"num":    func(v any) string { return chart.Num(ToFloat(v)) },
	"pct":    func(v any) string { return Pct(ToFloat(v)) },
	"signed": func(v any) string { return Signed(ToFloat(v)) },
	"ppts":   func(v any) string { return Ppts(ToFloat(v)) },
	"ms":     func(v float64) string { return chart.Num(v) + " ms" },
	"bytes": func(v uint64) string {
		return chart.Num(float64(v)/(1<<20)) + " MiB"
	},
	"age": age,
	"ts":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"objClass": func(o panel.Objective) string {
		switch {
		case !o.Evaluated:
			return "muted"
		case o.OK:
			return "ok"
		}
		return "bad"
	},
	"objText": func(o panel.Objective) string {
		switch {
		case !o.Evaluated && o.OK:
			return "not evaluated (too few observations)"
		case !o.Evaluated:
			return "breached (held: too few observations)"
		case o.OK:
			return "met"
		}
		return "breached"
	},
	"sloClass": func(slo panel.SLO, q panel.Quantiles) string {
		if slo.IsZero() || q.Count == 0 {
			return "muted"
		}
		if slo.Met(q) {
			return "ok"
		}
		return "bad"
	},
	"sloText": func(slo panel.SLO, q panel.Quantiles) string {
		switch {
		case slo.IsZero():
			return "no target"
		case q.Count == 0:
			return "no data"
		case slo.Met(q):
			return "met"
		}
		return "breached"
	},
	"verdictClass": func(v string) string {
		switch {
		case strings.HasPrefix(v, "significant increase"):
			return "ok"
		case strings.HasPrefix(v, "significant decrease"):
			return "bad"
		}
		switch v {
		case "ok", "met", "healthy", "no drift", "significant":
			return "ok"
		case "mismatch", "breached", "drift", "critical", "unhealthy":
			return "bad"
		case "warn", "routine":
			return "warn"
		}
		return "muted"
	},
}

// ToFloat reads the numbers templates format.
func ToFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case panel.Float:
		return float64(x)
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	}
	return math.NaN()
}

// Signed formats v with an explicit sign.
func Signed(v float64) string {
	if v > 0 {
		return "+" + chart.Num(v)
	}
	return chart.Num(v)
}

// Ppts formats a difference of rates in percentage points.
func Ppts(v float64) string {
	if !Finite(v) {
		return "n/a"
	}
	return Signed(v*100) + " pts"
}

// Pct formats a proportion in percent, "n/a" when undefined.
func Pct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return chart.Num(v*100) + "%"
}

func age(sec float64) string {
	switch {
	case sec < 0:
		return "never"
	case sec < 1:
		return "just now"
	case sec < 120:
		return strconv.Itoa(int(sec)) + " s ago"
	case sec < 7200:
		return strconv.Itoa(int(sec/60)) + " min ago"
	}
	return strconv.Itoa(int(sec/3600)) + " h ago"
}

// StageView is a stage's latency with its chart, as both pages list
// stages.
type StageView struct {
	panel.StageLatency
	Chart template.HTML
}

// LatencyChart draws a stage's histogram (log scale) with the quantiles of
// window (or of the first window with data) and the SLO targets.
func LatencyChart(s panel.StageLatency, window string) template.HTML {
	bins := make([]chart.Bin, len(s.Histogram))
	for i, b := range s.Histogram {
		bins[i] = chart.Bin{Lo: b.LoMs, Hi: b.HiMs, Count: float64(b.Count)}
	}
	var q panel.Quantiles
	for _, w := range s.Windows {
		if w.Window == window || (q.Count == 0 && w.Count > 0) {
			q = w
		}
	}
	var marks []chart.Marker
	if q.Count > 0 {
		marks = append(marks,
			chart.Marker{Label: "p50 " + chart.Num(q.P50Ms), X: q.P50Ms},
			chart.Marker{Label: "p95 " + chart.Num(q.P95Ms), X: q.P95Ms},
			chart.Marker{Label: "p99 " + chart.Num(q.P99Ms), X: q.P99Ms})
	}
	if s.SLO.P95Ms > 0 {
		marks = append(marks, chart.Marker{Label: "SLO p95", X: s.SLO.P95Ms, Tone: chart.ToneBad, Dashed: true})
	}
	if s.SLO.P99Ms > 0 {
		marks = append(marks, chart.Marker{Label: "SLO p99", X: s.SLO.P99Ms, Tone: chart.ToneBad, Dashed: true})
	}
	return template.HTML(chart.Histogram{
		Title: s.Stage + " latency (" + q.Window + ")", XLabel: "milliseconds (log scale)",
		Bins: bins, Markers: marks, LogX: true,
	}.SVG())
}

// MinCalibrationBin is the fewest items a point of the calibration chart
// stands for: smaller bins are merged with their neighbour, since the
// observed rate of a handful of items says little (a bin of one item
// shows a rate of 0 or 1 with a band over most of the axis).
const MinCalibrationBin = 100

// MergeCalibrationBins merges adjacent bins until each holds at least
// MinCalibrationBin items (the last merges backwards), keeping counts,
// count-weighted mean prediction and observed rate. Bins without items
// are dropped.
func MergeCalibrationBins(bins []panel.CalibrationBin) (out []panel.CalibrationBin, merged bool) {
	var cur panel.CalibrationBin
	add := func(dst *panel.CalibrationBin, b panel.CalibrationBin) {
		if dst.Count == 0 {
			*dst = b
			return
		}
		n, m := float64(dst.Count), float64(b.Count)
		dst.MeanPredicted = Round6((dst.MeanPredicted*n + b.MeanPredicted*m) / (n + m))
		dst.Observed = Round6((dst.Observed*n + b.Observed*m) / (n + m))
		dst.Count += b.Count
		dst.Hi = b.Hi
		merged = true
	}
	for _, b := range bins {
		if b.Count == 0 {
			continue
		}
		add(&cur, b)
		if cur.Count >= MinCalibrationBin {
			out = append(out, cur)
			cur = panel.CalibrationBin{}
		}
	}
	if cur.Count > 0 {
		if len(out) > 0 {
			add(&out[len(out)-1], cur)
		} else {
			out = append(out, cur)
		}
	}
	return out, merged
}

// CalibrationChart draws the reliability curve with Wilson bands on
// bins of at least MinCalibrationBin items; empty for a nil c.
func CalibrationChart(c *panel.Calibration) template.HTML {
	if c == nil {
		return ""
	}
	bins, merged := MergeCalibrationBins(c.Bins)
	pts := make([]chart.Point, 0, len(bins))
	xmax := 0.0
	for _, b := range bins {
		r := Rate(int64(math.Round(b.Observed*float64(b.Count))), b.Count)
		pts = append(pts, chart.Point{X: b.MeanPredicted, Y: b.Observed, Lo: r.Lo, Hi: r.Hi})
		xmax = math.Max(xmax, math.Max(b.MeanPredicted, r.Hi))
	}
	// the axes end at the round value (0.05, 0.1, 0.2, 0.5 or 1) above
	// the data, the same on both so the diagonal is the 45° line
	top := 1.0
	for _, v := range []float64{0.05, 0.1, 0.2, 0.3, 0.5} {
		if xmax <= v {
			top = v
			break
		}
	}
	title := "Calibration (ECE " + chart.Num(c.ECE) + "; 95% Wilson bands"
	if merged {
		title += "; bins under " + strconv.Itoa(MinCalibrationBin) + " items merged"
	}
	return template.HTML(chart.Lines{
		Title: title + ")", XLabel: "mean predicted probability", YLabel: "observed positive rate",
		Series: []chart.Series{{Name: "model", Points: pts}}, Diagonal: true,
		Fixed: true, XMin: 0, XMax: top, YMin: 0, YMax: top,
	}.SVG())
}

// CTRChart draws CTR by position with Wilson intervals; empty without
// rows.
func CTRChart(rows []panel.PositionCTR) template.HTML {
	if len(rows) == 0 {
		return ""
	}
	bars := make([]chart.Bar, len(rows))
	for i, r := range rows {
		bars[i] = chart.Bar{Label: "position " + strconv.Itoa(r.Position), Value: r.CTR,
			Text: Pct(r.CTR) + " [" + Pct(r.Lo) + ", " + Pct(r.Hi) + "]"}
	}
	return template.HTML(chart.Bars{Title: "Click-through rate by position (95% Wilson interval)", Bars: bars, Format: Pct}.SVG())
}

// ExposureChart draws the exposure share per group, warning where it is
// far from the group's share of relevance (ratio outside 0.8 to 1.25);
// empty without groups.
func ExposureChart(f *panel.Fairness) template.HTML {
	if f == nil || len(f.Groups) == 0 {
		return ""
	}
	bars := make([]chart.Bar, len(f.Groups))
	for i, g := range f.Groups {
		tone := chart.ToneNeutral
		if r := float64(g.ShareRatio); Finite(r) && (r < 0.8 || r > 1.25) {
			tone = chart.ToneWarn
		}
		bars[i] = chart.Bar{Label: g.Group, Value: ToFloat(g.ExposureShare), Tone: tone,
			Text: Pct(float64(g.ExposureShare)) + " of exposure for " + Pct(float64(g.RelevanceShare)) + " of relevance"}
	}
	return template.HTML(chart.Bars{Title: "Share of position-weighted exposure per group", Bars: bars, Format: Pct}.SVG())
}
