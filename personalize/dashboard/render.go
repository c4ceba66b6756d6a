package dashboard

import (
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/rankscope/rankscope/personalize/dashboard/chart"
	"github.com/rankscope/rankscope/personalize/dashboard/internal/page"
	"github.com/rankscope/rankscope/personalize/dashboard/panel"
)

// liveView is what the live template reads: the snapshot plus prepared
// charts.
type liveView struct {
	S             *Snapshot
	Style         template.CSS
	RefreshSecs   int
	Stages        []page.StageView
	TrafficChart  template.HTML
	DropChart     template.HTML
	RejectChart   template.HTML
	ExpCharts     []expView
	CalChart      template.HTML
	CTRChart      template.HTML
	ExposureChart template.HTML
	DriftChart    template.HTML
	Critical      []Alert
	Routine       []Alert
}

type expView struct {
	panel.Experiment
	Chart template.HTML
}

func countBars(title string, cs []Count, tone chart.Tone) template.HTML {
	bars := make([]chart.Bar, len(cs))
	for i, c := range cs {
		bars[i] = chart.Bar{Label: c.Key, Value: float64(c.Count), Tone: tone}
	}
	return template.HTML(chart.Bars{Title: title, Bars: bars}.SVG())
}

func armBars(e panel.Experiment) template.HTML {
	var n int64
	for _, a := range e.Arms {
		n += a.Units
	}
	bars := make([]chart.Bar, len(e.Arms))
	for i, a := range e.Arms {
		share := 0.0
		if n > 0 {
			share = float64(a.Units) / float64(n)
		}
		exp := a.ExpectedShare
		if exp == 0 && len(e.Arms) > 0 {
			exp = 1 / float64(len(e.Arms))
		}
		bars[i] = chart.Bar{Label: a.Variant, Value: float64(a.Units),
			Text: chart.Num(float64(a.Units)) + " (" + page.Pct(share) + ", expected " + page.Pct(exp) + ")"}
	}
	return template.HTML(chart.Bars{Title: e.Name + ": exposed units per arm", Bars: bars}.SVG())
}

// meaning is what a statistic measures and in what unit, in one line.
type meaning struct {
	Name, Unit, Means string
}

// driftMeanings explains every drift statistic of the page, in the order
// of the drift table; the alert table uses the same lines for the drift
// package's alert rules (drift.psi, drift.wasserstein, ...).
var driftMeanings = []meaning{
	{"PSI", "no unit", "population stability index, sum over the reference's bins of (live − reference share) × ln(live / reference share); below 0.1 stable, 0.1 to 0.25 a moderate shift, above 0.25 a major one"},
	{"KS", "share, 0 to 1", "Kolmogorov–Smirnov statistic: the largest gap between the live and the reference cumulative distributions (0.2: at some value, 20% of one population lies below it and not of the other)"},
	{"JS", "0 to 1", "Jensen–Shannon distance (square root of the divergence, base 2) between the binned distributions: 0 identical, 1 disjoint"},
	{"Wasserstein", "reference standard deviations", "how far, on average, live values would have to move to match the reference (0.5: half a standard deviation of the reference)"},
	{"missing", "percentage points", "share of missing values now minus in the reference"},
	{"out of range", "share", "share of live values outside the reference's range (numbers) or categories"},
	{"freshness p99", "seconds", "99th percentile of the age of a source's data when it was used"},
}

// ruleMeanings maps alert rule names (without a ".critical" suffix) to
// their lines in driftMeanings.
var ruleMeanings = map[string]int{"drift.psi": 0, "drift.js": 2, "drift.wasserstein": 3, "drift.missing_rate": 4, "drift.out_of_range": 5, "freshness.p99_seconds": 6}

// ruleMeaning is the meaning and unit of an alert rule's value: the
// drift package's rules by name, latency quantiles (latency.p99_ms) and
// other rules by the unit their name ends in; "" when the name says
// nothing.
func ruleMeaning(rule string) string {
	name := strings.TrimSuffix(rule, ".critical")
	if i, ok := ruleMeanings[name]; ok {
		m := driftMeanings[i]
		return m.Name + " (" + m.Unit + "): " + m.Means
	}
	q := name[strings.LastIndexByte(name, '.')+1:]
	switch {
	case strings.HasPrefix(name, "latency.p") && strings.HasSuffix(q, "_ms"):
		return strings.TrimSuffix(q, "_ms") + " latency (milliseconds): " + strings.TrimPrefix(strings.TrimSuffix(q, "_ms"), "p") + "% of requests took at most this long"
	case strings.HasSuffix(q, "_ms"):
		return "milliseconds"
	case strings.HasSuffix(q, "_seconds"):
		return "seconds"
	}
	return ""
}

func driftChart(rows []FeatureDrift) template.HTML {
	if len(rows) == 0 {
		return ""
	}
	bars := make([]chart.Bar, len(rows))
	for i, r := range rows {
		tone := chart.ToneGood
		switch r.Status {
		case "drift", "critical":
			tone = chart.ToneBad
		case "warn":
			tone = chart.ToneWarn
		}
		bars[i] = chart.Bar{Label: r.Feature, Value: r.PSI, Tone: tone, Text: "PSI " + chart.Num(r.PSI) + " (" + r.Status + ")"}
	}
	return template.HTML(chart.Bars{Title: "Drift per feature (population stability index)", Bars: bars, Ref: "PSI 0.25", RefValue: 0.25}.SVG())
}

func trafficChart(t *Traffic) template.HTML {
	if t == nil || len(t.Series) == 0 {
		return ""
	}
	req := chart.Series{Name: "requests/s"}
	ev := chart.Series{Name: "events/s"}
	for _, p := range t.Series {
		x := float64(p.Time.Unix())
		req.Points = append(req.Points, chart.Point{X: x, Y: p.RequestsPerSecond})
		ev.Points = append(ev.Points, chart.Point{X: x, Y: p.EventsPerSecond})
	}
	return template.HTML(chart.Lines{Title: "Throughput", YLabel: "per second", Series: []chart.Series{req, ev},
		XFormat: clockTick, Height: 180}.SVG())
}

func clockTick(x float64) string { return time.Unix(int64(x), 0).UTC().Format("15:04:05") }

func renderLive(w io.Writer, s *Snapshot, refresh time.Duration) error {
	v := liveView{S: s, Style: template.CSS(page.Style), RefreshSecs: int(refresh / time.Second)}
	for _, st := range s.Latency {
		v.Stages = append(v.Stages, page.StageView{StageLatency: st, Chart: page.LatencyChart(st, WindowHour)})
	}
	v.TrafficChart = trafficChart(s.Traffic)
	if p := s.Pipeline; p != nil {
		v.DropChart = countBars("Dropped events by reason", p.Dropped, chart.ToneBad)
		v.RejectChart = countBars("Rejected events by field", p.Rejected, chart.ToneWarn)
	}
	for _, e := range s.Experiments {
		v.ExpCharts = append(v.ExpCharts, expView{Experiment: e, Chart: armBars(e)})
	}
	v.CalChart = page.CalibrationChart(s.Calibration)
	v.CTRChart = page.CTRChart(s.CTRByPosition)
	v.ExposureChart = page.ExposureChart(s.Fairness)
	v.DriftChart = driftChart(s.Drift)
	for _, a := range s.Alerts {
		if strings.EqualFold(a.Severity, "critical") {
			v.Critical = append(v.Critical, a)
		} else {
			v.Routine = append(v.Routine, a)
		}
	}
	return liveTmpl.Execute(w, v)
}

var liveTmpl = template.Must(template.New("live").Funcs(page.Funcs).Funcs(template.FuncMap{
	"ruleMeaning": ruleMeaning,
	"meanings":    func() []meaning { return driftMeanings },
}).Parse(liveHTML))
