package report

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rankscope/rankscope/attribution"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/dashboard/internal/dashtest"
	"github.com/rankscope/rankscope/personalize/dashboard/panel"
	"github.com/rankscope/rankscope/personalize/experiment"
	"github.com/rankscope/rankscope/personalize/fairness"
	"github.com/rankscope/rankscope/personalize/relevance"
	"github.com/rankscope/rankscope/personalize/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testConfig() Config {
	return Config{Now: func() time.Time { return dashtest.Now }, SLO: map[string]panel.SLO{panel.TotalStage: {P99Ms: 30}},
		Attribution: attribution.Config{Lift: attribution.LiftConfig{Period: 6 * time.Hour}}}
}

func buildReport(t *testing.T, evs []personalize.Event) *Report {
	t.Helper()
	b, err := NewBuilder(testConfig())
	require.NoError(t, err)
	for _, e := range evs {
		require.NoError(t, b.Add(e))
	}
	return b.Report()
}

func TestReportJSONGolden(t *testing.T) {
	r := buildReport(t, dashtest.Events(3000))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(r))
	dashtest.Golden(t, "report.json.golden", buf.Bytes())
	var back Report
	require.NoError(t, json.Unmarshal(buf.Bytes(), &back))
	assert.Equal(t, r.Counts, back.Counts)
}

// TestReportAgreesWithThePackages runs each measurement package directly
// over the same events and checks the report carries its numbers: the
// report must compute nothing of its own.
func TestReportAgreesWithThePackages(t *testing.T) {
	evs := dashtest.Events(3000)
	b, err := NewBuilder(testConfig())
	require.NoError(t, err)
	for _, e := range evs {
		require.NoError(t, b.Add(e))
	}
	r := b.Report()

	// Values are rounded to six significant digits (relative error at most
	// 5e-6). The defaults the report documents for attribution:
	assert.Equal(t, 6*time.Hour, b.cfg.Attribution.Lateness)
	assert.Equal(t, attribution.Bootstrap{Replicates: 200, Seed: 1}, b.cfg.Attribution.Bootstrap)

	ec, err := experiment.NewCollector(experiment.CollectorConfig{})
	require.NoError(t, err)
	eng, err := attribution.New(b.cfg.Attribution)
	require.NoError(t, err)
	rel, err := relevance.New(relevance.Config{})
	require.NoError(t, err)
	fair, err := fairness.New(fairness.Config{})
	require.NoError(t, err)
	for _, e := range evs {
		ec.Add(e)
		require.NoError(t, eng.Add(e))
		require.NoError(t, rel.Observe(e))
		require.NoError(t, fair.Observe(e))
	}

	t.Run("experiment", func(t *testing.T) {
		want, err := ec.Analyze(experiment.AnalysisConfig{Experiment: "ranker-v42"})
		require.NoError(t, err)
		require.Len(t, r.Experiments, 1)
		got := r.Experiments[0]
		assert.Equal(t, "conversion", got.Primary)
		assert.InDelta(t, want.SRM.P, got.SRMPValue, 1e-6*want.SRM.P)
		assert.True(t, got.WeightsAssumed)
		require.Len(t, got.Metrics, len(want.Metrics))
		for i, m := range want.Metrics {
			gm := got.Metrics[i]
			assert.Equal(t, m.Metric.Name, gm.Name)
			for j, a := range m.Arms {
				assert.Equal(t, a.Units, gm.Arms[j].Units)
				assert.InEpsilon(t, a.Estimate, float64(gm.Arms[j].Estimate), 5e-6, m.Metric.Name)
			}
			c, gc := m.Comparisons[0], gm.Comparisons[0]
			for _, p := range []struct {
				name      string
				want, got float64
			}{{"diff", c.Diff, float64(gc.Diff)}, {"lo", c.CI.Lo, float64(gc.Lo)}, {"hi", c.CI.Hi, float64(gc.Hi)},
				{"p", c.P, float64(gc.P)}, {"adjusted p", c.AdjustedP, float64(gc.AdjustedP)}, {"sequential p", c.SequentialP, float64(gc.SequentialP)}} {
				assert.InEpsilon(t, p.want, p.got, 5e-6, "%s %s", m.Metric.Name, p.name)
			}
			assert.Equal(t, c.Verdict, gc.Verdict)
		}
	})

	t.Run("attribution", func(t *testing.T) {
		eng.Close()
		want := eng.Report()
		for _, m := range want.Models {
			var got *ModelCredit
			for i := range r.Attribution.Models {
				if r.Attribution.Models[i].Model == m.Model {
					got = &r.Attribution.Models[i]
				}
			}
			require.NotNil(t, got, m.Model)
			require.Len(t, got.Surfaces, len(m.Surfaces), m.Model)
			for _, s := range got.Surfaces {
				assert.InDelta(t, m.Surfaces[s.Surface].Conversions, s.Conversions, 1e-5*s.Conversions+1e-9, "%s %s", m.Model, s.Surface)
				iv := m.Intervals[s.Surface]
				assert.InDelta(t, iv.Lo, float64(s.Lo), 1e-5*iv.Lo+1e-9, "%s %s", m.Model, s.Surface)
				assert.InDelta(t, iv.Hi, float64(s.Hi), 1e-5*iv.Hi+1e-9, "%s %s", m.Model, s.Surface)
			}
		}
		var overall attribution.Comparison
		for _, c := range want.Lift.Comparisons {
			if c.Period.IsZero() {
				overall = c
			}
		}
		require.Len(t, r.Lift, 1)
		assert.InEpsilon(t, overall.RateDiff.Value, float64(r.Lift[0].Overall.Diff), 5e-6)
		assert.InEpsilon(t, overall.RateDiff.CI.Lo, float64(r.Lift[0].Overall.Lo), 5e-6)
		// Cohorts group users by when they were first seen in an arm: 400
		// users seen over 24 h of data, all within the first three 6-hour
		// periods.
		assert.Len(t, r.Lift[0].Points, 3)
	})

	t.Run("relevance", func(t *testing.T) {
		rel.Flush()
		want := rel.Report(segment.DimNone).Segments[0]
		require.NotNil(t, r.Calibration)
		assert.InEpsilon(t, want.Calibration.EqualWidth.ECE, r.Calibration.ECE, 5e-6)
		assert.Equal(t, want.Calibration.N, r.Calibration.Count)
		require.Len(t, r.CTRByPosition, len(want.CTRByPosition))
		for i, p := range want.CTRByPosition {
			assert.Equal(t, p.Clicks, r.CTRByPosition[i].Clicks)
			assert.Equal(t, p.Impressions, r.CTRByPosition[i].Impressions)
		}
		assert.InEpsilon(t, want.Ranking.NDCG, float64(r.Ranking.NDCG), 5e-6)
	})

	t.Run("fairness", func(t *testing.T) {
		fair.Flush()
		rep := fair.Report(segment.DimNone)
		want := rep.Segments[0]
		require.NotNil(t, r.Fairness)
		assert.InEpsilon(t, rep.Catalog.Gini, float64(r.Fairness.Diversity.ItemGini), 5e-6)
		assert.InEpsilon(t, want.Ratios.DisparateTreatment, float64(r.Fairness.DisparateTreatment), 5e-6)
		assert.InEpsilon(t, want.MeanCategoryEntropy, float64(r.Fairness.Diversity.MeanEntropyBits), 5e-6)
	})
}

// TestReportFindsWhatTheSimulationPlanted checks the report against the
// simulation's known truth.
func TestReportFindsWhatTheSimulationPlanted(t *testing.T) {
	r := buildReport(t, dashtest.Events(3000))
	assert.Equal(t, int64(3000), r.Counts.Impressions)
	assert.Equal(t, int64(15000), r.Counts.ItemsShown)
	assert.InDelta(t, 400, r.Counts.Users, 4, "400 users, HyperLogLog estimate")
	// CTR by position follows the simulated 0.3/position.
	require.Len(t, r.CTRByPosition, 5)
	for _, p := range r.CTRByPosition {
		assert.Equal(t, int64(3000), p.Impressions)
		want := 0.3 / float64(p.Position)
		se := math.Sqrt(want * (1 - want) / 3000)
		assert.InDelta(t, want, p.CTR, 4*se, "position %d", p.Position)
		assert.True(t, p.Lo < p.CTR && p.CTR < p.Hi)
	}
	// Scores equal the true click probability: calibrated within noise.
	require.NotNil(t, r.Calibration)
	assert.Less(t, r.Calibration.ECE, 0.02)
	// Providers alternate: a at even positions (2, 4), b at 1, 3, 5.
	wb := 1 + 1/math.Log2(4) + 1/math.Log2(6)
	wa := 1/math.Log2(3) + 1/math.Log2(5)
	require.NotNil(t, r.Fairness)
	require.Len(t, r.Fairness.Groups, 2)
	assert.Equal(t, "provider-b", r.Fairness.Groups[0].Group)
	assert.InDelta(t, wb/(wa+wb), float64(r.Fairness.Groups[0].ExposureShare), 1e-6)
	assert.Greater(t, float64(r.Fairness.Diversity.MeanCategories), 1.0)
	// Experiment: treatment converts more; the analysis must find it.
	require.Len(t, r.Experiments, 1)
	e := r.Experiments[0]
	assert.Equal(t, "control", e.Control)
	assert.Equal(t, panel.SRMOK, e.SRM)
	conv := e.metric("conversion")
	require.NotNil(t, conv)
	c := conv.Comparisons[0]
	assert.Greater(t, float64(c.Diff), 0.0)
	assert.Less(t, float64(c.AdjustedP), 0.05)
	require.Len(t, r.Lift, 1)
	assert.Greater(t, float64(r.Lift[0].Overall.Diff), 0.0)
	// Attribution: every purchase follows a click on one of two surfaces.
	lt := r.Attribution.model("last_touch")
	require.NotNil(t, lt)
	var credit float64
	for _, s := range lt.Surfaces {
		assert.Contains(t, []string{"home_feed", "search"}, s.Surface)
		credit += s.Conversions
		assert.True(t, float64(s.Lo) <= s.Conversions && s.Conversions <= float64(s.Hi))
	}
	assert.InDelta(t, float64(r.Counts.Conversions), credit, 1e-6)
	// Latency: model_scoring is 2..21 ms uniform.
	for _, l := range r.Latency {
		if l.Stage == "model_scoring" {
			assert.InDelta(t, 11.5, l.Windows[0].P50Ms, 1.5)
		}
	}
	require.NotEmpty(t, r.Summary)
	assert.Contains(t, r.Summary[0], "3000 rankings")
	joined := strings.Join(r.Summary, " ")
	for _, want := range []string{"In experiment ranker-v42, conversion (primary metric) was", "95% CI", "adjusted p =",
		"sequential test's verdict", "sample-ratio check p =", "cohorts of 6h", "By last touch attribution", "bootstrap interval",
		"expected calibration error", "disparate-treatment ratio"} {
		assert.Contains(t, joined, want)
	}
}

func TestReportHTMLWellFormedAndFree(t *testing.T) {
	evs := dashtest.Events(600)
	r := buildReport(t, evs)
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, r))
	page := buf.String()
	counts := dashtest.WellFormed(t, page)
	assert.GreaterOrEqual(t, counts["svg"], 8)
	assert.Zero(t, counts["script"])
	assert.Zero(t, counts["link"])
	assert.Contains(t, page, "Executive summary")
	// No identifier of any kind: user pseudonyms, request ids, event ids.
	js, err := json.Marshal(r)
	require.NoError(t, err)
	for _, e := range evs {
		if im := e.Impression; im != nil {
			for _, doc := range []string{page, string(js)} {
				assert.NotContains(t, doc, im.UserID.ID)
				assert.NotContains(t, doc, `"`+string(im.RequestID)+`"`)
				assert.NotContains(t, doc, im.EventID.String())
			}
		}
	}
}

func TestReportEmptyAndBounds(t *testing.T) {
	r := buildReport(t, nil)
	assert.Equal(t, []string{"The event files hold no impression or outcome, so there is nothing to report."}, r.Summary)
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, r))
	dashtest.WellFormed(t, buf.String())

	cfg := testConfig()
	cfg.MaxStages, cfg.MaxExperiments = 1, 1
	b, err := NewBuilder(cfg)
	require.NoError(t, err)
	for i, e := range dashtest.Events(200) {
		if im := e.Impression; im != nil && i%2 == 0 {
			im.Experiments = append(im.Experiments, personalize.Assignment{Experiment: "other", Variant: "a"})
		}
		require.NoError(t, b.Add(e))
	}
	rep := b.Report()
	assert.Len(t, rep.Latency, 1)
	assert.Len(t, rep.Experiments, 1)
	notes := strings.Join(rep.Notes, " ")
	assert.Contains(t, notes, "stage timings of stages beyond the first 1")
	assert.Contains(t, notes, "Experiments beyond the first 1")
	assert.Same(t, rep, b.Report(), "Report is final")
	assert.ErrorIs(t, b.Add(dashtest.Events(1)[0]), ErrDone)
}

func TestConfigValidation(t *testing.T) {
	for name, cfg := range map[string]Config{
		"MaxStages":      {MaxStages: -1},
		"MaxExperiments": {MaxExperiments: -1},
		`Analyses["a"]`:  {Analyses: map[string]experiment.AnalysisConfig{"a": {Experiment: "b"}}},
		"Experiment":     {Experiment: experiment.CollectorConfig{MaxUnits: -1}},
		"Attribution":    {Attribution: attribution.Config{Level: 2}},
		"Relevance":      {Relevance: relevance.Config{K: -1}},
		"Fairness":       {Fairness: fairness.Config{MaxGroups: -1}},
	} {
		_, err := NewBuilder(cfg)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "Config."+name)
	}
}

func TestDurationText(t *testing.T) {
	for d, want := range map[time.Duration]string{6 * time.Hour: "6h", 90 * time.Minute: "1h30m", time.Minute: "1m", time.Second: "1s",
		24 * time.Hour: "24h", 1500 * time.Millisecond: "1.5s", 2*time.Hour + 30*time.Second: "2h0m30s"} {
		assert.Equal(t, want, durationText(d), d.String())
	}
}
