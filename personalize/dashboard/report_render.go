package dashboard

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/rankscope/rankscope/personalize/dashboard/chart"
)

func points(v float64) string { return chart.Num(v*100) + " points" }

func signedPoints(v float64) string {
	s := chart.Num(v * 100)
	if v > 0 {
		s = "+" + s
	}
	return s
}

// summarize writes the executive summary: a few plain sentences with the
// headline numbers and their uncertainty.
func summarize(r *Report) []string {
	var out []string
	if r.Counts.Impressions == 0 && r.Counts.Outcomes == 0 {
		return []string{"The event files hold no impression or outcome, so there is nothing to report."}
	}
	svc := "The service"
	if len(r.Services) == 1 {
		svc = r.Services[0]
	} else if len(r.Services) > 1 {
		svc = fmt.Sprintf("%d services", len(r.Services))
	}
	out = append(out, fmt.Sprintf("From %s to %s, %s served %s rankings (%s items shown) to %s pseudonymous users, who produced %s clicks and %s conversions.",
		r.From.Format("2006-01-02 15:04"), r.To.Format("2006-01-02 15:04 MST"), svc, chart.Num(float64(r.Counts.Impressions)),
		chart.Num(float64(r.Counts.ItemsShown)), chart.Num(float64(r.Counts.Users)), chart.Num(float64(r.Counts.Clicks)), chart.Num(float64(r.Counts.Conversions))))
	for _, l := range r.Latency {
		if l.Stage != TotalStage || len(l.Windows) == 0 {
			continue
		}
		q := l.Windows[0]
		s := fmt.Sprintf("End-to-end latency was %s ms at the median, %s ms at p95 and %s ms at p99 (histogram estimates within 2.5%%)", chart.Num(q.P50Ms), chart.Num(q.P95Ms), chart.Num(q.P99Ms))
		if !l.SLO.IsZero() {
			if l.SLO.Met(q) {
				s += ", within its SLO"
			} else {
				s += ", breaching its SLO"
			}
		}
		out = append(out, s+".")
	}
	if r.CTR.Trials > 0 {
		s := fmt.Sprintf("Click-through rate was %s (95%% CI %s to %s)", pct(r.CTR.Rate), pct(r.CTR.Lo), pct(r.CTR.Hi))
		if n := len(r.CTRByPosition); n > 1 {
			f, l := r.CTRByPosition[0], r.CTRByPosition[n-1]
			s += fmt.Sprintf(", falling from %s at position %d to %s at position %d", pct(f.CTR), f.Position, pct(l.CTR), l.Position)
		}
		out = append(out, s+".")
	}
	for i, e := range r.Experiments {
		if i == 3 {
			out = append(out, fmt.Sprintf("%d more experiments are detailed below.", len(r.Experiments)-3))
			break
		}
		rates := map[string]ArmResult{}
		for _, a := range e.Arms {
			rates[a.Variant] = a
		}
		for _, c := range e.Comparisons {
			t, ctl := rates[c.Variant], rates[e.Control]
			verdict := "not a significant difference at the 5% level"
			if c.AdjustedP < 0.05 {
				verdict = "a significant difference at the 5% level"
			}
			out = append(out, fmt.Sprintf("In experiment %s, %s converted %s of %s exposed units against %s of %s in %s: %s (95%% CI %s to %s), adjusted p = %s, %s; the sequential test says %s (always-valid p = %s).",
				e.Name, c.Variant, pct(t.Rate.Rate), chart.Num(float64(t.Trials)), pct(ctl.Rate.Rate), chart.Num(float64(ctl.Trials)), e.Control,
				signedPoints(c.Diff)+" points", signedPoints(c.Lo), signedPoints(c.Hi), chart.Num(c.AdjustedP), verdict, c.Sequential, chart.Num(c.SeqP)))
		}
		switch {
		case strings.HasPrefix(e.SRM, "mismatch"):
			out = append(out, fmt.Sprintf("Warning: experiment %s has a sample ratio mismatch (p = %s); its results should not be trusted until the assignment is fixed.", e.Name, chart.Num(e.SRMPValue)))
		case strings.HasPrefix(e.SRM, "ok"):
			out = append(out, fmt.Sprintf("Its arms are balanced as configured (sample-ratio check p = %s).", chart.Num(e.SRMPValue)))
		}
	}
	if c := r.Calibration; c != nil {
		out = append(out, fmt.Sprintf("Scores as click probabilities have an expected calibration error of %s over %s scored items.", chart.Num(c.ECE), chart.Num(float64(c.Count))))
	}
	if len(r.Exposure) > 0 {
		g := r.Exposure[0]
		out = append(out, fmt.Sprintf("The most exposed item group, %s, received %s of position-weighted exposure and %s of clicks; item exposure Gini is %s across %s items.",
			g.Group, pct(g.ExposureShare), pct(g.RelevanceShare), chart.Num(r.Diversity.ItemGini), chart.Num(float64(r.Diversity.DistinctItems))))
	}
	if cs := r.Attribution.Credits; len(cs) > 0 {
		out = append(out, fmt.Sprintf("By last touch, %s earned %s of conversion credit.", cs[0].Surface, pct(cs[0].Share)))
	}
	return out
}

type reportView struct {
	R           *Report
	Style       template.CSS
	Stages      []stageView
	CTRChart    template.HTML
	CalChart    template.HTML
	ExpChart    template.HTML
	AttrChart   template.HTML
	LiftCharts  []template.HTML
	ExpComps    []template.HTML
	Generated   string
	HasDiverse  bool
	Experiments []ExperimentResult
}

// WriteReportHTML writes r as one self-contained HTML page: inline style
// and inline SVG charts, no script and nothing loaded from elsewhere.
func WriteReportHTML(w io.Writer, r *Report) error {
	v := reportView{R: r, Style: template.CSS(style), Generated: r.Generated.Format(time.RFC3339)}
	for _, s := range r.Latency {
		v.Stages = append(v.Stages, stageView{StageLatency: s, Chart: latencyChart(s, "all")})
	}
	v.CTRChart = ctrChart(r.CTRByPosition)
	v.CalChart = calibrationChart(r.Calibration)
	v.ExpChart = exposureChart(r.Exposure)
	var bars []chart.Bar
	for _, c := range r.Attribution.Credits {
		bars = append(bars, chart.Bar{Label: c.Surface, Value: c.Conversions, Text: chart.Num(c.Conversions) + " (" + pct(c.Share) + ")"})
	}
	if len(bars) > 0 {
		v.AttrChart = template.HTML(chart.Bars{Title: "Conversion credit by surface (" + r.Attribution.Model + ")", Bars: bars}.SVG())
	}
	for _, e := range r.Experiments {
		var cb []chart.Bar
		for _, a := range e.Arms {
			cb = append(cb, chart.Bar{Label: a.Variant, Value: a.Rate.Rate, Text: pct(a.Rate.Rate) + " [" + pct(a.Lo) + ", " + pct(a.Hi) + "] of " + chart.Num(float64(a.Trials))})
		}
		v.ExpComps = append(v.ExpComps, template.HTML(chart.Bars{Title: e.Name + ": conversion rate per arm (95% CI)", Bars: cb}.SVG()))
	}
	for _, l := range r.Lift {
		s := chart.Series{Name: l.Variant + " − control"}
		for _, p := range l.Points {
			s.Points = append(s.Points, chart.Point{X: float64(p.Time.Unix()), Y: p.Diff * 100, Lo: p.Lo * 100, Hi: p.Hi * 100})
		}
		v.LiftCharts = append(v.LiftCharts, template.HTML(chart.Lines{
			Title: l.Experiment + ": cumulative conversion lift of " + l.Variant + " (points, 95% CI)", YLabel: "points",
			Series: []chart.Series{s}, HRef: "no effect", HRefValue: 0, XFormat: dayTick,
		}.SVG()))
	}
	return reportTmpl.Execute(w, v)
}

func dayTick(x float64) string { return time.Unix(int64(x), 0).UTC().Format("01-02 15:04") }

var reportTmpl = template.Must(template.New("report").Funcs(funcs).Parse(reportHTML))

const reportHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>{{.R.Title}}</title>
<style>{{.Style}}</style>
</head>
<body>
<header>
<h1>{{.R.Title}}</h1>
<p>{{ts .R.From}} to {{ts .R.To}} · generated {{.Generated}}{{with .R.Services}} · {{range $i, $s := .}}{{if $i}}, {{end}}{{$s}}{{end}}{{end}}</p>
</header>
<main>
<section class="wide" id="summary">
<h2>Executive summary</h2>
<ul class="summary">{{range .R.Summary}}<li>{{.}}</li>{{end}}</ul>
<div class="tiles">
<div class="tile"><b>{{.R.Counts.Impressions}}</b><span>rankings served</span></div>
<div class="tile"><b>{{pct .R.CTR.Rate}}</b><span>CTR [{{pct .R.CTR.Lo}}, {{pct .R.CTR.Hi}}]</span></div>
<div class="tile"><b>{{.R.Counts.Conversions}}</b><span>conversions</span></div>
<div class="tile"><b>{{.R.Counts.Users}}</b><span>pseudonymous users</span></div>
</div>
</section>

<section class="wide" id="experiments">
<h2>Experiments</h2>
{{range $i, $e := .R.Experiments}}<h3>{{$e.Name}} <span class="badge {{verdictClass $e.SRM}}">SRM {{$e.SRM}}</span></h3>
{{index $.ExpComps $i}}
<table><tr><th>arm</th><th>units</th><th>converted</th><th>rate</th><th>95% CI</th></tr>
{{range $e.Arms}}<tr><td>{{.Variant}}{{if eq .Variant $e.Control}} (control){{end}}</td><td>{{.Trials}}</td><td>{{.Successes}}</td><td>{{pct .Rate.Rate}}</td><td>[{{pct .Lo}}, {{pct .Hi}}]</td></tr>
{{end}}</table>
<table><tr><th>comparison</th><th>difference</th><th>95% CI</th><th>relative lift</th><th>p</th><th>adjusted p (Holm)</th><th>always-valid p</th><th>sequential</th></tr>
{{range $e.Comparisons}}<tr><td>{{.Variant}} vs {{$e.Control}} ({{.Metric}})</td><td>{{pct .Diff}}</td><td>[{{pct .Lo}}, {{pct .Hi}}]</td><td>{{pct .Relative}}</td><td>{{num .P}}</td><td>{{num .AdjustedP}}</td><td>{{num .SeqP}}</td><td class="{{verdictClass .Sequential}}">{{.Sequential}}</td></tr>
{{end}}</table>
<p class="muted">Sample-ratio check: chi-square p = {{num $e.SRMPValue}} against the configured split (alarm below 0.0005).</p>
{{else}}<p class="muted">No experiment in these events.</p>{{end}}
{{range .LiftCharts}}{{.}}{{end}}
</section>

<section class="wide" id="latency">
<h2>Latency distributions</h2>
<div class="charts">{{range .Stages}}<div>{{.Chart}}
{{range .Windows}}<table><tr><th>count</th><th>mean</th><th>p50</th><th>p95</th><th>p99</th><th>degraded</th></tr>
<tr><td>{{.Count}}</td><td>{{ms .MeanMs}}</td><td>{{ms .P50Ms}}</td><td>{{ms .P95Ms}}</td><td>{{ms .P99Ms}}</td><td>{{.Degraded}}</td></tr></table>{{end}}
</div>{{end}}</div>
</section>

<section id="ctr">
<h2>Click-through rate by position</h2>
{{if .CTRChart}}{{.CTRChart}}{{else}}<p class="muted">No clicks joined to rankings.</p>{{end}}
</section>

<section id="calibration">
<h2>Calibration</h2>
{{if .CalChart}}{{.CalChart}}
<table><tr><th>bin</th><th>items</th><th>mean predicted</th><th>observed</th></tr>
{{range .R.Calibration.Bins}}{{if .Count}}<tr><td>[{{num .Lo}}, {{num .Hi}})</td><td>{{.Count}}</td><td>{{num .MeanPredicted}}</td><td>{{num .Observed}}</td></tr>
{{end}}{{end}}</table>{{else}}<p class="muted">No scores in [0, 1] to calibrate.</p>{{end}}
</section>

<section id="fairness">
<h2>Diversity and exposure fairness</h2>
<div class="tiles">
<div class="tile"><b>{{num .R.Diversity.MeanCategories}}</b><span>categories per ranking</span></div>
<div class="tile"><b>{{num .R.Diversity.MeanEntropyBits}}</b><span>category entropy (bits)</span></div>
<div class="tile"><b>{{num .R.Diversity.ItemGini}}</b><span>item exposure Gini</span></div>
<div class="tile"><b>{{.R.Diversity.DistinctItems}}</b><span>distinct items shown</span></div>
</div>
{{if .ExpChart}}{{.ExpChart}}
<table><tr><th>group</th><th>exposure share</th><th>click share</th><th>exposure / clicks</th></tr>
{{range .R.Exposure}}<tr><td>{{.Group}}</td><td>{{pct .ExposureShare}}</td><td>{{pct .RelevanceShare}}</td><td>{{num .Ratio}}</td></tr>
{{end}}</table>{{end}}
</section>

<section id="attribution">
<h2>Attribution by surface</h2>
{{if .AttrChart}}{{.AttrChart}}
<table><tr><th>surface</th><th>conversions</th><th>value</th><th>share</th></tr>
{{range .R.Attribution.Credits}}<tr><td>{{.Surface}}</td><td>{{num .Conversions}}</td><td>{{num .Value}}</td><td>{{pct .Share}}</td></tr>
{{end}}</table>{{else}}<p class="muted">No conversions.</p>{{end}}
</section>
</main>
<footer>
{{range .R.Notes}}<div>{{.}}</div>{{end}}
<div>Aggregates only: the report holds no user, session or request identifier.</div>
</footer>
</body>
</html>
`
