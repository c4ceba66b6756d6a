package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/rankscope/rankscope/personalize/dashboard/chart"
	"github.com/rankscope/rankscope/personalize/dashboard/internal/page"
	"github.com/rankscope/rankscope/personalize/dashboard/panel"
)

// interval formats [lo, hi] with f, or "" when either end is undefined.
func interval(lo, hi panel.Float, f func(float64) string) string {
	if !lo.Defined() || !hi.Defined() {
		return ""
	}
	return f(float64(lo)) + " to " + f(float64(hi))
}

// durationText writes d without trailing zero units: 6h, 1h30m, 1m, 1s.
func durationText(d time.Duration) string {
	s := d.String()
	s, _ = strings.CutSuffix(s, "m0s")
	if strings.HasSuffix(s, "h0") {
		s = strings.TrimSuffix(s, "0")
	} else if !strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "h") {
		s += "m"
	}
	return s
}

// metricValue formats a metric's estimate: percent for rates, a number
// for means.
func metricValue(m *MetricResult, v panel.Float) string {
	if m.isRate() {
		return page.Pct(float64(v))
	}
	return chart.Num(float64(v))
}

// metricDiff formats a difference: percentage points for rates.
func metricDiff(m *MetricResult, v float64) string {
	if m.isRate() {
		return page.Ppts(v)
	}
	return page.Signed(v)
}

// summarize writes the executive summary from the packages' results: a
// few plain sentences with the headline numbers and their uncertainty.
func summarize(r *Report, cfg Config) []string {
	if r.Counts.Impressions == 0 && r.Counts.Outcomes == 0 {
		return []string{"The event files hold no impression or outcome, so there is nothing to report."}
	}
	var out []string
	svc := "The service"
	if len(r.Services) == 1 {
		svc = r.Services[0]
	} else if len(r.Services) > 1 {
		svc = fmt.Sprintf("%d services", len(r.Services))
	}
	out = append(out, fmt.Sprintf("From %s to %s, %s served %s rankings (%s items shown) to about %s pseudonymous users, who produced %s clicks and %s conversions.",
		r.From.Format("2006-01-02 15:04:05"), r.To.Format("2006-01-02 15:04:05 MST"), svc, chart.Num(float64(r.Counts.Impressions)),
		chart.Num(float64(r.Counts.ItemsShown)), chart.Num(float64(r.Counts.Users)), chart.Num(float64(r.Counts.Clicks)), chart.Num(float64(r.Counts.Conversions))))

	for i := range r.Experiments {
		if i == 3 {
			out = append(out, fmt.Sprintf("%d more experiments are detailed below.", len(r.Experiments)-3))
			break
		}
		out = append(out, experimentSentences(&r.Experiments[i])...)
	}
	for _, l := range r.Lift {
		if len(l.Points) < 2 {
			continue
		}
		var above int
		for _, p := range l.Points {
			if p.Lo > 0 {
				above++
			}
		}
		out = append(out, fmt.Sprintf("Across %d cohorts of %s (users grouped by when they entered %s), %s's conversion rate exceeded %s's with 95%% confidence in %d; over all cohorts the difference is %s (95%% CI %s).",
			len(l.Points), r.Attribution.Periods, l.Experiment, l.Treatment, l.Control, above, page.Ppts(float64(l.Overall.Diff)), interval(l.Overall.Lo, l.Overall.Hi, page.Ppts)))
	}
	for _, l := range r.Latency {
		if l.Stage != panel.TotalStage || len(l.Windows) == 0 {
			continue
		}
		q := l.Windows[0]
		s := fmt.Sprintf("End-to-end latency was %s ms at the median, %s ms at p95 and %s ms at p99 (sketch estimates within 1%%)", chart.Num(q.P50Ms), chart.Num(q.P95Ms), chart.Num(q.P99Ms))
		if !l.SLO.IsZero() {
			if l.SLO.Met(q) {
				s += ", within its targets"
			} else {
				s += ", breaching its targets"
			}
		}
		out = append(out, s+".")
	}
	if r.CTR.Trials > 0 {
		s := fmt.Sprintf("Click-through rate was %s per item shown (95%% CI %s to %s)", page.Pct(r.CTR.Rate), page.Pct(r.CTR.Lo), page.Pct(r.CTR.Hi))
		if n := len(r.CTRByPosition); n > 1 {
			f, l := r.CTRByPosition[0], r.CTRByPosition[n-1]
			s += fmt.Sprintf(", from %s at position %d to %s at position %d", page.Pct(f.CTR), f.Position, page.Pct(l.CTR), l.Position)
		}
		out = append(out, s+".")
	}
	if c := r.Calibration; c != nil {
		s := fmt.Sprintf("Read as probabilities of a positive outcome, the model's scores have an expected calibration error of %s over %s scored items", chart.Num(c.ECE), chart.Num(float64(c.Count)))
		if rk := r.Ranking; rk != nil && rk.NDCG.Defined() {
			s += fmt.Sprintf("; NDCG@%d is %s over the %s rankings with a positive outcome", rk.K, chart.Num(float64(rk.NDCG)), chart.Num(float64(rk.Judged)))
		}
		out = append(out, s+".")
	}
	if f := r.Fairness; f != nil && len(f.Groups) > 0 {
		g := f.Groups[0]
		s := fmt.Sprintf("The most exposed item group, %s, received %s of position-weighted exposure for %s of the model's expected relevance", g.Group, page.Pct(float64(g.ExposureShare)), page.Pct(float64(g.RelevanceShare)))
		if f.DisparateTreatment.Defined() {
			s += fmt.Sprintf(" (disparate-treatment ratio %s, where 1 is parity)", chart.Num(float64(f.DisparateTreatment)))
		}
		out = append(out, s+fmt.Sprintf("; item exposure Gini is %s across %s items.", chart.Num(float64(f.Diversity.ItemGini)), chart.Num(float64(f.Diversity.DistinctItems))))
	}
	if m := r.Attribution.model(r.Attribution.Headline); m != nil && len(m.Surfaces) > 0 {
		c := m.Surfaces[0]
		who, each := c.Surface, ""
		for _, o := range m.Surfaces[1:] {
			if o.Conversions == c.Conversions {
				who, each = who+" and "+o.Surface, " each"
			}
		}
		s := fmt.Sprintf("By %s attribution, %s earned %s of conversion credit%s (%s conversions", strings.ReplaceAll(m.Model, "_", " "), who, page.Pct(c.Share), each, chart.Num(c.Conversions))
		if iv := interval(c.Lo, c.Hi, chart.Num); iv != "" && each == "" {
			s += ", 95% bootstrap interval " + iv
		}
		s += ")"
		if mk := r.Attribution.model("markov"); mk != nil && mk.Model != m.Model {
			for _, x := range mk.Surfaces {
				if x.Surface == c.Surface {
					s += fmt.Sprintf("; the data-driven Markov model gives %s %s", c.Surface, page.Pct(x.Share))
				}
			}
		}
		out = append(out, s+".")
	}
	return out
}

func experimentSentences(e *ExperimentResult) []string {
	var out []string
	m := e.metric(e.Primary)
	if m != nil {
		ctl, _ := m.arm(e.Control)
		for _, c := range m.Comparisons {
			t, _ := m.arm(c.Treatment)
			if c.Error != "" {
				out = append(out, fmt.Sprintf("In experiment %s, %s could not be compared with %s on %s: %s.", e.Name, c.Treatment, e.Control, m.Name, c.Error))
				continue
			}
			verdict := "not a significant difference"
			if c.AdjustedP < panel.Float(e.Alpha) {
				verdict = "a significant difference"
			}
			out = append(out, fmt.Sprintf("In experiment %s, %s (primary metric) was %s in %s (%s units) against %s in %s (%s units): %s (95%% CI %s), adjusted p = %s, %s at the %s level; the sequential test's verdict is “%s” (always-valid p = %s).",
				e.Name, m.Name, metricValue(m, t.Estimate), c.Treatment, chart.Num(float64(t.Units)), metricValue(m, ctl.Estimate), e.Control, chart.Num(float64(ctl.Units)),
				metricDiff(m, float64(c.Diff)), interval(c.Lo, c.Hi, func(v float64) string { return metricDiff(m, v) }), chart.Num(float64(c.AdjustedP)),
				verdict, page.Pct(e.Alpha), c.Verdict, chart.Num(float64(c.SequentialP))))
		}
	}
	switch e.SRM {
	case panel.SRMMismatch:
		out = append(out, fmt.Sprintf("Warning: experiment %s has a sample ratio mismatch (p = %s); its results should not be trusted until the assignment is fixed.", e.Name, chart.Num(e.SRMPValue)))
	case panel.SRMOK:
		s := "as configured"
		if e.WeightsAssumed {
			s = "as an equal split"
		}
		out = append(out, fmt.Sprintf("Its arms are balanced %s (sample-ratio check p = %s).", s, chart.Num(e.SRMPValue)))
	}
	return out
}

func (a *Attribution) model(name string) *ModelCredit {
	for i := range a.Models {
		if a.Models[i].Model == name && a.Models[i].Error == "" {
			return &a.Models[i]
		}
	}
	return nil
}

type view struct {
	R           *Report
	Style       template.CSS
	Stages      []page.StageView
	CTRChart    template.HTML
	CalChart    template.HTML
	ExpChart    template.HTML
	AttrChart   template.HTML
	LiftCharts  []template.HTML
	Experiments []experimentView
	Surfaces    []string
	Generated   string
}

type experimentView struct {
	*ExperimentResult
	Chart template.HTML
}

// WriteHTML writes r as one self-contained HTML page: inline style
// and inline SVG charts, no script and nothing loaded from elsewhere.
func WriteHTML(w io.Writer, r *Report) error {
	v := view{R: r, Style: template.CSS(page.Style), Generated: r.Generated.Format(time.RFC3339)}
	for _, s := range r.Latency {
		v.Stages = append(v.Stages, page.StageView{StageLatency: s, Chart: page.LatencyChart(s, "all")})
	}
	v.CTRChart = page.CTRChart(r.CTRByPosition)
	v.CalChart = page.CalibrationChart(r.Calibration)
	v.ExpChart = page.ExposureChart(r.Fairness)
	if m := r.Attribution.model(r.Attribution.Headline); m != nil {
		var bars []chart.Bar
		for _, c := range m.Surfaces {
			text := chart.Num(c.Conversions) + " (" + page.Pct(c.Share) + ")"
			if iv := interval(c.Lo, c.Hi, chart.Num); iv != "" {
				text += " [" + iv + "]"
			}
			bars = append(bars, chart.Bar{Label: c.Surface, Value: c.Conversions, Text: text})
		}
		if len(bars) > 0 {
			v.AttrChart = template.HTML(chart.Bars{Title: "Conversion credit by surface (" + m.Model + ", 95% bootstrap interval)", Bars: bars}.SVG())
		}
	}
	seen := map[string]bool{}
	for _, m := range r.Attribution.Models {
		for _, s := range m.Surfaces {
			if !seen[s.Surface] {
				seen[s.Surface] = true
				v.Surfaces = append(v.Surfaces, s.Surface)
			}
		}
	}
	for i := range r.Experiments {
		e := &r.Experiments[i]
		ev := experimentView{ExperimentResult: e}
		if m := e.metric(e.Primary); m != nil {
			var bars []chart.Bar
			for _, a := range m.Arms {
				bars = append(bars, chart.Bar{Label: a.Variant, Value: page.ToFloat(a.Estimate),
					Text: metricValue(m, a.Estimate) + " [" + interval(a.Lo, a.Hi, func(x float64) string { return metricValue(m, panel.Float(x)) }) + "] of " + chart.Num(float64(a.Units))})
			}
			ev.Chart = template.HTML(chart.Bars{Title: e.Name + ": " + m.Name + " per arm (95% CI)", Bars: bars}.SVG())
		}
		v.Experiments = append(v.Experiments, ev)
	}
	for _, l := range r.Lift {
		s := chart.Series{Name: l.Treatment + " − " + l.Control}
		for _, p := range l.Points {
			s.Points = append(s.Points, chart.Point{X: float64(p.Period.Unix()), Y: page.ToFloat(p.Diff) * 100, Lo: page.ToFloat(p.Lo) * 100, Hi: page.ToFloat(p.Hi) * 100})
		}
		v.LiftCharts = append(v.LiftCharts, template.HTML(chart.Lines{
			Title: l.Experiment + ": conversion lift of " + l.Treatment + " per cohort (points, 95% CI)", YLabel: "points",
			Series: []chart.Series{s}, HRef: "no effect", HRefValue: 0, XFormat: tickFor(l.Points),
		}.SVG()))
	}
	return tmpl.Execute(w, v)
}

// tickFor formats cohort starts: dates for daily cohorts, date and time
// over several days, the time of day within one.
func tickFor(pts []LiftPoint) func(float64) string {
	layout := "15:04:05"
	if n := len(pts); n > 1 {
		switch {
		case pts[1].Period.Sub(pts[0].Period)%(24*time.Hour) == 0:
			layout = "01-02"
		case pts[n-1].Period.Sub(pts[0].Period) >= 24*time.Hour:
			layout = "01-02 15:04"
		}
	}
	return func(x float64) string { return time.Unix(int64(x), 0).UTC().Format(layout) }
}

var tmpl = template.Must(template.New("report").Funcs(page.Funcs).Funcs(template.FuncMap{
	"credit": func(m ModelCredit, surface string) string {
		for _, c := range m.Surfaces {
			if c.Surface == surface {
				s := chart.Num(c.Conversions)
				if iv := interval(c.Lo, c.Hi, chart.Num); iv != "" {
					s += " [" + iv + "]"
				}
				return s
			}
		}
		return "0"
	},
	"mval": func(m MetricResult, v panel.Float) string { return metricValue(&m, v) },
	"mdiff": func(m MetricResult, v panel.Float) string {
		return metricDiff(&m, float64(v))
	},
	"mci": func(m MetricResult, lo, hi panel.Float) string {
		return interval(lo, hi, func(x float64) string { return metricValue(&m, panel.Float(x)) })
	},
	"dci": func(m MetricResult, lo, hi panel.Float) string {
		return interval(lo, hi, func(x float64) string { return metricDiff(&m, x) })
	},
	"armOf": func(m MetricResult, v string) ArmEstimate {
		a, _ := m.arm(v)
		return a
	},
	"liftpct": func(f panel.Float) string {
		if !f.Defined() {
			return "n/a"
		}
		return page.Signed(float64(f)*100) + "%"
	},
	"pci": func(lo, hi panel.Float) string { return interval(lo, hi, page.Ppts) },
	"liftci": func(lo, hi panel.Float) string {
		return interval(lo, hi, func(x float64) string { return page.Signed(x*100) + "%" })
	},
	"cohort":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"defined": func(f panel.Float) bool { return f.Defined() },
}).Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
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
<div class="tile"><b>{{.R.Counts.Users}}</b><span>pseudonymous users (estimate)</span></div>
</div>
</section>

<section class="wide" id="experiments">
<h2>Experiments</h2>
{{range .Experiments}}{{$e := .}}<h3>{{.Name}} <span class="badge {{verdictClass .SRM}}">SRM {{.SRM}}</span></h3>
{{.Chart}}
<table><tr><th>arm</th><th>units</th><th>expected share</th></tr>
{{range .Arms}}<tr><td>{{.Variant}}{{if and (eq .Variant $e.Control) (ne .Variant "control")}} (control){{end}}</td><td>{{.Units}}</td><td>{{pct .ExpectedShare}}</td></tr>
{{end}}</table>
<p class="muted">Sample-ratio check: chi-square p = {{num .SRMPValue}} against {{if .WeightsAssumed}}an assumed equal split{{else}}the configured split{{end}} (alarm below {{num .SRMThreshold}}). p-values adjusted with {{.Correction}} across every metric and arm; sequential test tuned to an effective sample of {{num .SequentialN}} units.</p>
<table class="stats"><tr><th>metric</th><th>arm</th><th>estimate</th><th>95% CI</th><th>difference</th><th>95% CI</th><th>relative lift</th><th>p</th><th>adjusted p</th><th>always-valid p</th><th class="wrap">sequential verdict</th></tr>
{{range $m := .Metrics}}{{range .Arms}}{{if eq .Variant $e.Control}}<tr><td>{{$m.Name}}{{if $m.Primary}} (primary){{end}}{{if $m.Guardrail}} (guardrail){{end}}</td><td>{{.Variant}}{{if ne .Variant "control"}} (control){{end}}</td><td>{{mval $m .Estimate}}</td><td>{{mci $m .Lo .Hi}}</td><td></td><td></td><td></td><td></td><td></td><td></td><td></td></tr>
{{end}}{{end}}{{range $m.Comparisons}}<tr>{{$a := armOf $m .Treatment}}<td>{{$m.Name}}</td><td>{{.Treatment}}</td><td>{{mval $m $a.Estimate}}</td><td>{{mci $m $a.Lo $a.Hi}}</td><td>{{mdiff $m .Diff}}</td><td>{{dci $m .Lo .Hi}}</td><td>{{liftpct .Lift}}</td><td>{{num .P}}</td><td>{{num .AdjustedP}}</td><td>{{num .SequentialP}}</td><td class="wrap {{verdictClass .Verdict}}">{{.Verdict}}{{.Error}}</td></tr>
{{end}}{{end}}</table>
{{range .Notes}}<p class="muted">{{.}}</p>{{end}}
{{else}}<p class="muted">No experiment in these events.</p>{{end}}
</section>

<section class="wide" id="lift">
<h2>Conversion lift per cohort</h2>
{{range .LiftCharts}}{{.}}{{end}}
{{range .R.Lift}}<table class="stats"><tr><th>cohort ({{$.R.Attribution.Periods}})</th><th>{{.Control}} users</th><th>{{.Treatment}} users</th><th>{{.Control}} rate</th><th>{{.Treatment}} rate</th><th>difference</th><th>95% CI</th></tr>
{{range .Points}}<tr><td>{{cohort .Period}}</td><td>{{.ControlUsers}}</td><td>{{.TreatmentUsers}}</td><td>{{pct .ControlRate}}</td><td>{{pct .TreatmentRate}}</td><td>{{ppts .Diff}}</td><td>{{pci .Lo .Hi}}</td></tr>
{{end}}{{with .Overall}}<tr><td><b>all cohorts</b></td><td>{{.ControlUsers}}</td><td>{{.TreatmentUsers}}</td><td>{{pct .ControlRate}}</td><td>{{pct .TreatmentRate}}</td><td>{{ppts .Diff}}</td><td>{{pci .Lo .Hi}}</td></tr>{{end}}
</table>{{else}}<p class="muted">No experiment arms to compare.</p>{{end}}
<p class="muted">Here a user converts when attribution counts any conversion (signup, purchase, custom outcome) in the user's journey, before or after the first exposure; the experiment table above counts only the metric's outcome after the first exposure, so the two rates differ.</p>
</section>

<section class="wide" id="latency">
<h2>Latency distributions</h2>
<div class="charts">{{range .Stages}}<div>{{.Chart}}
{{$slo := .SLO}}{{range .Windows}}<table><tr><th>count</th><th>mean</th><th>p50</th><th>p95</th><th>p99</th><th>degraded</th><th>targets</th></tr>
<tr><td>{{.Count}}</td><td>{{ms .MeanMs}}</td><td>{{ms .P50Ms}}</td><td>{{ms .P95Ms}}</td><td>{{ms .P99Ms}}</td><td>{{.Degraded}}</td><td class="{{sloClass $slo .}}">{{sloText $slo .}}</td></tr></table>{{end}}
</div>{{end}}</div>
</section>

<section id="ctr">
<h2>Click-through rate by position</h2>
{{if .CTRChart}}{{.CTRChart}}
<table><tr><th>position</th><th>shown</th><th>clicks</th><th>CTR</th><th>95% CI</th><th>examination (PBM)</th></tr>
{{range .R.CTRByPosition}}<tr><td>{{.Position}}</td><td>{{.Impressions}}</td><td>{{.Clicks}}</td><td>{{pct .CTR}}</td><td>[{{pct .Lo}}, {{pct .Hi}}]</td><td>{{num .Examination}}</td></tr>
{{end}}</table>
<p class="muted">Examination is the position-based click model's probability that a position is looked at, relative to position 1; it separates position bias from item quality only when items appear at several positions.</p>{{else}}<p class="muted">No clicks joined to rankings.</p>{{end}}
</section>

<section id="calibration">
<h2>Calibration and ranking quality</h2>
{{if .CalChart}}{{.CalChart}}
<table><tr><th>bin</th><th>items</th><th>mean predicted</th><th>observed</th></tr>
{{range .R.Calibration.Bins}}<tr><td>({{num .Lo}}, {{num .Hi}}]</td><td>{{.Count}}</td><td>{{num .MeanPredicted}}</td><td>{{num .Observed}}</td></tr>
{{end}}</table>
<p>ECE {{num .R.Calibration.ECE}}, MCE {{num .R.Calibration.MCE}}, Brier score {{num .R.Calibration.Brier}} over {{.R.Calibration.Count}} scored items.</p>{{else}}<p class="muted">No scores in [0, 1] to calibrate.</p>{{end}}
{{with .R.Ranking}}<p>NDCG@{{.K}} {{num .NDCG}}, MRR {{num .MRR}} over {{.Judged}} of {{.Impressions}} rankings with a positive outcome.</p>{{end}}
</section>

<section id="fairness">
<h2>Diversity and exposure fairness</h2>
{{with .R.Fairness}}<div class="tiles">
<div class="tile"><b>{{num .Diversity.MeanCategories}}</b><span>categories per ranking</span></div>
<div class="tile"><b>{{num .Diversity.MeanEntropyBits}}</b><span>category entropy (bits)</span></div>
<div class="tile"><b>{{num .Diversity.ItemGini}}</b><span>item exposure Gini</span></div>
<div class="tile"><b>{{.Diversity.DistinctItems}}</b><span>distinct items shown</span></div>
<div class="tile"><b>{{num .DisparateTreatment}}</b><span>disparate treatment (1 = parity)</span></div>
<div class="tile"><b>{{num .DemographicParity}}</b><span>demographic parity</span></div>
<div class="tile"><b>{{num .DisparateImpact}}</b><span>disparate impact</span></div>
</div>
{{$.ExpChart}}
<table><tr><th>group</th><th>placements</th><th>exposure share</th><th>relevance share</th><th>click share</th><th>exposure / relevance</th><th>CTR</th></tr>
{{range .Groups}}<tr><td>{{.Group}}</td><td>{{.Placements}}</td><td>{{pct .ExposureShare}}</td><td>{{pct .RelevanceShare}}</td><td>{{pct .ClickShare}}</td><td>{{num .ExposurePerRelevance}}</td><td>{{pct .CTR}}</td></tr>
{{end}}</table>
<p class="muted">Exposure weighs position j by 1/log2(1+j) (Singh and Joachims 2018); relevance is the model's score. Ratios are min over max across groups.</p>{{else}}<p class="muted">No rankings.</p>{{end}}
</section>

<section id="attribution">
<h2>Attribution by surface</h2>
{{if .AttrChart}}{{.AttrChart}}
<table><tr><th>model</th>{{range .Surfaces}}<th>{{.}}</th>{{end}}<th>unattributed</th></tr>
{{range $m := .R.Attribution.Models}}<tr><td>{{.Model}}</td>{{if .Error}}<td class="muted">{{.Error}}</td>{{else}}{{range $.Surfaces}}<td>{{credit $m .}}</td>{{end}}<td>{{num $m.Unattributed}}</td>{{end}}</tr>
{{end}}</table>
<p class="muted">Conversions credited per surface with {{.R.Attribution.Stats.Replicates}}-replicate bootstrap 95% intervals; {{.R.Attribution.Stats.Unattributed}} of {{.R.Attribution.Stats.Conversions}} conversions had no eligible touchpoint.</p>{{else}}<p class="muted">No conversions.</p>{{end}}
</section>
</main>
<footer>
{{range .R.Notes}}<div>{{.}}</div>{{end}}
<div>Aggregates only: the report holds no user, session or request identifier.</div>
</footer>
</body>
</html>
`
