package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
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
	if c := conversionSentence(r); c != "" {
		out = append(out, c)
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
	out = append(out, calibrationSentences(r)...)
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

// experimentSentences leads with the sequential (always-valid) verdict,
// which holds at any look, then says how far the sample is from the plan:
// a fixed-horizon test is reported as a verdict only once the planned
// sample per arm is reached, and otherwise only as a number that does not
// count yet.
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
			dci := func(v float64) string { return metricDiff(m, v) }
			out = append(out, fmt.Sprintf("Experiment %s, primary metric %s: the always-valid (sequential) test says “%s” (always-valid p = %s, 95%% confidence sequence %s); %s had %s (%s units) against %s in %s (%s units), a difference of %s.",
				e.Name, m.Name, c.Verdict, chart.Num(float64(c.SequentialP)), interval(c.CSLo, c.CSHi, dci),
				c.Treatment, metricValue(m, t.Estimate), chart.Num(float64(t.Units)), metricValue(m, ctl.Estimate), e.Control, chart.Num(float64(ctl.Units)), metricDiff(m, float64(c.Diff))))
			out = append(out, sampleSentence(e, m, c))
		}
		if g := guardrailSentence(e); g != "" {
			out = append(out, g)
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

// sampleSentence says whether the fixed-horizon test may be read: only at
// the planned sample size.
func sampleSentence(e *ExperimentResult, m *MetricResult, c Comparison) string {
	fixed := fmt.Sprintf("p = %s, %s-adjusted %s", chart.Num(float64(c.P)), e.Correction, chart.Num(float64(c.AdjustedP)))
	switch {
	case e.PlanReached:
		verdict := "not significant"
		if c.AdjustedP < panel.Float(e.Alpha) {
			verdict = "significant"
		}
		return fmt.Sprintf("The planned %s units per arm are reached, so the fixed-horizon test applies: %s, %s at the %s level (95%% CI %s).",
			chart.Num(float64(e.PlannedUnits)), fixed, verdict, page.Pct(e.Alpha), interval(c.Lo, c.Hi, func(v float64) string { return metricDiff(m, v) }))
	case e.PlannedUnits > 0:
		return fmt.Sprintf("Sample not complete: the plan needs %s units per arm and the smallest arm has %s (%s). Until then the fixed-horizon test (%s) is not a verdict, significant or not; act only on the always-valid result above.",
			chart.Num(float64(e.PlannedUnits)), chart.Num(float64(e.SmallestArm)), page.Pct(float64(e.SmallestArm)/float64(e.PlannedUnits)), fixed)
	}
	return fmt.Sprintf("No planned sample size was registered, so only the always-valid result holds whenever the data are looked at; the fixed-horizon test (%s) would hold only if this were the one planned analysis.", fixed)
}

// guardrailSentence lists the guardrails with their sequential verdicts,
// warning first about any that significantly moved the wrong way.
func guardrailSentence(e *ExperimentResult) string {
	var parts []string
	worse := false
	for i := range e.Metrics {
		g := &e.Metrics[i]
		if !g.Guardrail {
			continue
		}
		for _, c := range g.Comparisons {
			if c.Error != "" {
				continue
			}
			worse = worse || strings.HasPrefix(c.Verdict, "significant decrease")
			parts = append(parts, fmt.Sprintf("%s “%s” (always-valid p = %s)", g.Name, c.Verdict, chart.Num(float64(c.SequentialP))))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	s := "Guardrails: " + strings.Join(parts, "; ") + "."
	if worse {
		s = "Warning: a guardrail decreased significantly. " + s
	}
	return s
}

// conversionSentence puts the experiment's and attribution's conversion
// rates side by side with their definitions: they count different things.
func conversionSentence(r *Report) string {
	if len(r.Experiments) == 0 || len(r.Lift) == 0 {
		return ""
	}
	e := &r.Experiments[0]
	m := e.metric(e.Primary)
	l := r.Lift[0]
	if m == nil || !m.isRate() || len(m.Comparisons) == 0 {
		return ""
	}
	ctl, _ := m.arm(e.Control)
	t, _ := m.arm(m.Comparisons[0].Treatment)
	return fmt.Sprintf("Two conversion rates appear in this report and differ by definition: the experiment's %s counts units with a %s after their first exposure (%s of %s %s units, %s of %s %s units); attribution's cohort lift counts users with any conversion in their journey, before or after exposure (%s of %s %s users, %s of %s %s users).",
		m.Name, m.Outcome, metricValue(m, ctl.Estimate), chart.Num(float64(ctl.Units)), e.Control, metricValue(m, t.Estimate), chart.Num(float64(t.Units)), t.Variant,
		page.Pct(float64(l.Overall.ControlRate)), chart.Num(float64(l.Overall.ControlUsers)), l.Control, page.Pct(float64(l.Overall.TreatmentRate)), chart.Num(float64(l.Overall.TreatmentUsers)), l.Treatment)
}

// calibrationSentences read the calibration error against the base rate
// (an ECE of 0.08 is small at a 40% rate and large at 2.6%) and say how
// many scores were not probabilities at all.
func calibrationSentences(r *Report) []string {
	c := r.Calibration
	if c == nil || c.Count == 0 {
		return nil
	}
	var pos, pred float64
	for _, b := range c.Bins {
		pos += math.Round(b.Observed * float64(b.Count))
		pred += b.MeanPredicted * float64(b.Count)
	}
	n := float64(c.Count)
	base, mean := pos/n, pred/n
	var out []string
	s := fmt.Sprintf("Read as probabilities of a positive outcome, the model's scores average %s while %s of the %s scored items had one; the expected calibration error %s is %s times that base rate",
		page.Pct(mean), page.Pct(base), chart.Num(n), chart.Num(c.ECE), chart.Num(c.ECE/base))
	switch ratio := c.ECE / base; {
	case base == 0:
		s = fmt.Sprintf("None of the %s scored items had a positive outcome, so the calibration error %s cannot be read against a base rate", chart.Num(n), chart.Num(c.ECE))
	case ratio >= 0.5:
		s += ": large, so use the scores to rank, not as probabilities"
	case ratio >= 0.1:
		s += ": moderate"
	default:
		s += ": small"
	}
	if rk := r.Ranking; rk != nil && rk.NDCG.Defined() {
		s += fmt.Sprintf("; NDCG@%d is %s over the %s rankings with a positive outcome", rk.K, chart.Num(float64(rk.NDCG)), chart.Num(float64(rk.Judged)))
	}
	out = append(out, s+".")
	if c.Rejected > 0 {
		out = append(out, fmt.Sprintf("Warning: %s item scores (%s of all scores) were outside [0, 1], so they are not probabilities; they are left out of every calibration figure.",
			chart.Num(float64(c.Rejected)), page.Pct(float64(c.Rejected)/float64(c.Rejected+c.Count))))
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
	Conversions *conversionTable
}

// conversionTable sets the experiment's conversion rate beside
// attribution's, with what each counts, in the page's main text.
type conversionTable struct {
	Arms []string
	Rows []conversionRow
}

type conversionRow struct {
	Name, Counts, Over string
	Cells              []string
}

func conversionsOf(r *Report) *conversionTable {
	if len(r.Experiments) == 0 || len(r.Lift) == 0 {
		return nil
	}
	e := &r.Experiments[0]
	m := e.metric(e.Primary)
	l := r.Lift[0]
	if m == nil || !m.isRate() || len(m.Comparisons) == 0 || l.Experiment != e.Name {
		return nil
	}
	ctl, _ := m.arm(e.Control)
	t, _ := m.arm(l.Treatment)
	return &conversionTable{Arms: []string{e.Control, l.Treatment}, Rows: []conversionRow{
		{Name: "experiment: " + m.Name, Counts: "a " + m.Outcome + " after the unit's first exposure to the experiment", Over: "exposed units",
			Cells: []string{metricValue(m, ctl.Estimate) + " of " + chart.Num(float64(ctl.Units)), metricValue(m, t.Estimate) + " of " + chart.Num(float64(t.Units))}},
		{Name: "attribution: cohort lift", Counts: "any conversion (signup, purchase or custom) in the user's journey, before or after exposure", Over: "users seen in the arm",
			Cells: []string{page.Pct(float64(l.Overall.ControlRate)) + " of " + chart.Num(float64(l.Overall.ControlUsers)), page.Pct(float64(l.Overall.TreatmentRate)) + " of " + chart.Num(float64(l.Overall.TreatmentUsers))}},
	}}
}

type experimentView struct {
	*ExperimentResult
	Chart template.HTML
}

// WriteHTML writes r as one self-contained HTML page: inline style
// and inline SVG charts, no script and nothing loaded from elsewhere.
func WriteHTML(w io.Writer, r *Report) error {
	v := view{R: r, Style: template.CSS(page.Style), Generated: r.Generated.Format(time.RFC3339), Conversions: conversionsOf(r)}
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
			ev.Chart = template.HTML(chart.Bars{Title: e.Name + ": " + m.Name + " per arm (95% CI)", Bars: bars, Format: func(x float64) string { return metricValue(m, panel.Float(x)) }, Width: wideChart}.SVG())
		}
		v.Experiments = append(v.Experiments, ev)
	}
	for _, l := range r.Lift {
		s := chart.Series{Name: l.Treatment + " − " + l.Control}
		var starts []float64
		for _, p := range l.Points {
			s.Points = append(s.Points, chart.Point{X: float64(p.Period.Unix()), Y: page.ToFloat(p.Diff) * 100, Lo: page.ToFloat(p.Lo) * 100, Hi: page.ToFloat(p.Hi) * 100})
			starts = append(starts, float64(p.Period.Unix()))
		}
		v.LiftCharts = append(v.LiftCharts, template.HTML(chart.Lines{
			Title: l.Experiment + ": difference in conversion rate, " + l.Treatment + " − " + l.Control + ", per cohort (percentage points, 95% CI)", YLabel: "percentage points",
			Series: []chart.Series{s}, HRef: "no effect", HRefValue: 0, XFormat: tickFor(l.Points), XTicks: starts, Width: wideChart, Height: 260,
		}.SVG()))
	}
	return tmpl.Execute(w, v)
}

// wideChart is the width of the charts of full-width sections, a little
// under the section's width on a 1280 px screen (charts scale down, never
// up).
const wideChart = 1000

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
	"cohort": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"ratio": func(a, b int64) float64 {
		if b == 0 {
			return math.NaN()
		}
		return float64(a) / float64(b)
	},
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
{{range .Experiments}}{{$e := .}}<h3>{{.Name}} <span class="badge {{verdictClass .SRM}}">SRM {{.SRM}}</span>{{if .PlannedUnits}} <span class="badge {{if .PlanReached}}ok{{else}}warn{{end}}">{{.SmallestArm}} of {{.PlannedUnits}} planned units per arm</span>{{end}}</h3>
{{.Chart}}
<table><tr><th>arm</th><th>units</th><th>expected share</th></tr>
{{range .Arms}}<tr><td>{{.Variant}}{{if and (eq .Variant $e.Control) (ne .Variant "control")}} (control){{end}}</td><td>{{.Units}}</td><td>{{pct .ExpectedShare}}</td></tr>
{{end}}</table>
<p class="muted">Sample-ratio check: chi-square p = {{num .SRMPValue}} against {{if .WeightsAssumed}}an assumed equal split{{else}}the configured split{{end}} (alarm below {{num .SRMThreshold}}).</p>
{{if .PlanReached}}<p>The planned sample ({{.PlannedUnits}} units per arm) is reached: both the always-valid columns and the fixed-horizon columns ({{.Correction}}-adjusted across every metric and arm) may be read.</p>
{{else}}<p class="warnbox">{{if .PlannedUnits}}Sample not complete: {{.SmallestArm}} of {{.PlannedUnits}} planned units per arm ({{pct (ratio .SmallestArm .PlannedUnits)}}).{{else}}No planned sample size was registered.{{end}} Read the always-valid columns: the sequential test holds at every look, and its verdict is the one to act on. The fixed-horizon columns (grey) hold only at {{if .PlannedUnits}}the planned sample{{else}}a sample size fixed in advance{{end}}; before that they are no verdict, significant or not.</p>
{{end}}<table class="stats"><tr><th>metric</th><th>arm</th><th>estimate</th><th>95% CI</th><th>difference</th><th class="wrap">sequential verdict</th><th>always-valid p</th><th>always-valid 95% CS</th><th>relative lift</th><th>fixed-horizon 95% CI</th><th>fixed-horizon p</th><th>adjusted p</th></tr>
{{range $m := .Metrics}}{{range .Arms}}{{if eq .Variant $e.Control}}<tr><td>{{$m.Name}}{{if $m.Primary}} (primary){{end}}{{if $m.Guardrail}} (guardrail){{end}}</td><td>{{.Variant}}{{if ne .Variant "control"}} (control){{end}}</td><td>{{mval $m .Estimate}}</td><td>{{mci $m .Lo .Hi}}</td><td></td><td></td><td></td><td></td><td></td><td></td><td></td><td></td></tr>
{{end}}{{end}}{{range $m.Comparisons}}<tr>{{$a := armOf $m .Treatment}}<td>{{$m.Name}}</td><td>{{.Treatment}}</td><td>{{mval $m $a.Estimate}}</td><td>{{mci $m $a.Lo $a.Hi}}</td><td>{{mdiff $m .Diff}}</td><td class="wrap {{verdictClass .Verdict}}">{{.Verdict}}{{.Error}}</td><td>{{num .SequentialP}}</td><td>{{dci $m .CSLo .CSHi}}</td><td>{{liftpct .Lift}}</td>{{if $e.PlanReached}}<td>{{dci $m .Lo .Hi}}</td><td>{{num .P}}</td><td>{{num .AdjustedP}}</td>{{else}}<td class="muted">{{dci $m .Lo .Hi}}</td><td class="muted">{{num .P}}</td><td class="muted">{{num .AdjustedP}}</td>{{end}}</tr>
{{end}}{{end}}</table>
<p class="muted">Sequential test: mixture SPRT tuned to an effective sample of {{num .SequentialN}} units; its confidence sequence covers the difference at every look with 95% probability.</p>
{{range .Notes}}<p class="muted">{{.}}</p>{{end}}
{{else}}<p class="muted">No experiment in these events.</p>{{end}}
</section>

<section class="wide" id="lift">
<h2>Conversion lift per cohort</h2>
{{with .Conversions}}<table class="defs-table"><tr><th>conversion rate</th><th>what counts as a conversion</th><th>denominator</th>{{range .Arms}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Name}}</td><td class="wrap">{{.Counts}}</td><td class="wrap">{{.Over}}</td>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
<p>The two rates answer different questions and are not expected to agree: the experiment's is the decision metric; the cohort lift shows how the effect develops over time.</p>{{end}}
{{range .LiftCharts}}{{.}}{{end}}
{{range .R.Lift}}<table class="stats"><tr><th>cohort ({{$.R.Attribution.Periods}})</th><th>{{.Control}} users</th><th>{{.Treatment}} users</th><th>{{.Control}} rate</th><th>{{.Treatment}} rate</th><th>difference</th><th>95% CI</th></tr>
{{range .Points}}<tr><td>{{cohort .Period}}</td><td>{{.ControlUsers}}</td><td>{{.TreatmentUsers}}</td><td>{{pct .ControlRate}}</td><td>{{pct .TreatmentRate}}</td><td>{{ppts .Diff}}</td><td>{{pci .Lo .Hi}}</td></tr>
{{end}}{{with .Overall}}<tr><td><b>all cohorts</b></td><td>{{.ControlUsers}}</td><td>{{.TreatmentUsers}}</td><td>{{pct .ControlRate}}</td><td>{{pct .TreatmentRate}}</td><td>{{ppts .Diff}}</td><td>{{pci .Lo .Hi}}</td></tr>{{end}}
</table>{{else}}<p class="muted">No experiment arms to compare.</p>{{end}}

</section>

<section class="wide" id="latency">
<h2>Latency distributions</h2>
<div class="charts">{{range .Stages}}<div>{{.Chart}}
{{$slo := .SLO}}{{range .Windows}}<table><tr><th>count</th><th>mean</th><th>p50</th><th>p95</th><th>p99</th><th>degraded</th><th>targets</th></tr>
<tr><td>{{.Count}}</td><td>{{ms .MeanMs}}</td><td>{{ms .P50Ms}}</td><td>{{ms .P95Ms}}</td><td>{{ms .P99Ms}}</td><td>{{.Degraded}}</td><td class="{{sloClass $slo .}}">{{sloText $slo .}}</td></tr></table>{{end}}
</div>{{end}}</div>
</section>

{{template "lineage" .}}

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
<table><tr><th>group</th><th>placements</th><th>exposure share</th><th>relevance share</th><th>click share</th><th>exposure share ÷ relevance share</th><th>CTR</th></tr>
{{range .Groups}}<tr><td>{{.Group}}</td><td>{{.Placements}}</td><td>{{pct .ExposureShare}}</td><td>{{pct .RelevanceShare}}</td><td>{{pct .ClickShare}}</td><td>{{num .ShareRatio}}</td><td>{{pct .CTR}}</td></tr>
{{end}}</table>
<p class="muted">Exposure weighs position j by 1/log2(1+j) (Singh and Joachims 2018); relevance is the model's score. Exposure share ÷ relevance share is 1 when a group gets exposure in proportion to its expected relevance; the ratios above are min over max across groups (disparate treatment is that of this column).</p>{{else}}<p class="muted">No rankings.</p>{{end}}
</section>

{{template "explanations" .}}

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
