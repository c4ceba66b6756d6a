package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func buildReport(t *testing.T, evs []personalize.Event) *Report {
	t.Helper()
	b, err := NewReportBuilder(ReportConfig{Now: func() time.Time { return fixedNow }, SLO: map[string]SLO{TotalStage: {P99Ms: 30}}})
	require.NoError(t, err)
	for _, e := range evs {
		b.Add(e)
	}
	return b.Report()
}

func TestReportJSONGolden(t *testing.T) {
	r := buildReport(t, simEvents(3000))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(r))
	golden(t, "report.json.golden", buf.Bytes())
}

func TestReportNumbers(t *testing.T) {
	r := buildReport(t, simEvents(3000))
	assert.Equal(t, int64(3000), r.Counts.Impressions)
	assert.Equal(t, int64(15000), r.Counts.ItemsShown)
	assert.LessOrEqual(t, r.Counts.Users, int64(400))
	// CTR by position follows the simulated 0.3/position
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
	require.Len(t, r.Exposure, 2)
	assert.Equal(t, "provider-b", r.Exposure[0].Group)
	assert.InDelta(t, wb/(wa+wb), r.Exposure[0].ExposureShare, 1e-6)
	// Experiment: treatment converts more; the test must find it.
	require.Len(t, r.Experiments, 1)
	e := r.Experiments[0]
	assert.Equal(t, "control", e.Control)
	require.Len(t, e.Comparisons, 1)
	c := e.Comparisons[0]
	assert.Greater(t, c.Diff, 0.0)
	assert.Less(t, c.AdjustedP, 0.05)
	assert.Equal(t, "ok", e.SRM)
	require.Len(t, r.Lift, 1)
	assert.Len(t, r.Lift[0].Points, 12)
	assert.Equal(t, c.Diff, r.Lift[0].Points[11].Diff, "the last cumulative point is the final estimate")
	// Attribution: every purchase follows a click on one of the surfaces.
	var credit float64
	for _, s := range r.Attribution.Credits {
		assert.Contains(t, []string{"home_feed", "search"}, s.Surface)
		credit += s.Conversions
	}
	assert.Equal(t, float64(r.Counts.Conversions), credit)
	assert.Greater(t, r.Diversity.MeanCategories, 1.0)
	assert.Greater(t, r.Diversity.ItemGini, 0.0)
	// Latency: model_scoring is 2..21 ms uniform
	for _, l := range r.Latency {
		if l.Stage == "model_scoring" {
			assert.InDelta(t, 11.5, l.Windows[0].P50Ms, 1.5)
		}
	}
	require.NotEmpty(t, r.Summary)
	assert.Contains(t, r.Summary[0], "3000 rankings")
	joined := strings.Join(r.Summary, " ")
	assert.Contains(t, joined, "In experiment ranker-v42, treatment converted")
	assert.Contains(t, joined, "95% CI")
}

func TestReportHTMLWellFormedAndFree(t *testing.T) {
	evs := simEvents(600)
	r := buildReport(t, evs)
	var buf bytes.Buffer
	require.NoError(t, WriteReportHTML(&buf, r))
	page := buf.String()
	counts := checkWellFormed(t, page)
	assert.GreaterOrEqual(t, counts["svg"], 7)
	assert.Zero(t, counts["script"])
	assert.Zero(t, counts["link"])
	assert.Contains(t, page, "Executive summary")
	// No identifier of any kind: user pseudonyms, request ids.
	for _, e := range evs {
		if im := e.Impression; im != nil {
			assert.NotContains(t, page, im.User.ID)
			assert.NotContains(t, page, `"`+im.RequestID+`"`)
		}
	}
	js, err := json.Marshal(r)
	require.NoError(t, err)
	for _, e := range evs[:50] {
		if im := e.Impression; im != nil {
			assert.NotContains(t, string(js), im.User.ID)
		}
	}
}

func TestReportEmptyAndBounds(t *testing.T) {
	r := buildReport(t, nil)
	assert.Equal(t, []string{"The event files hold no impression or outcome, so there is nothing to report."}, r.Summary)
	var buf bytes.Buffer
	require.NoError(t, WriteReportHTML(&buf, r))
	checkWellFormed(t, buf.String())

	b, err := NewReportBuilder(ReportConfig{MaxPending: 10, MaxUnits: 5})
	require.NoError(t, err)
	for _, e := range simEvents(200) {
		b.Add(e)
	}
	rep := b.Report()
	assert.LessOrEqual(t, rep.Counts.Users, int64(5))
	assert.Contains(t, strings.Join(rep.Notes, " "), "could not be joined")
	assert.Contains(t, rep.Experiments[0].SRM, "beyond the bound")
}

func TestReportConfigValidation(t *testing.T) {
	for name, cfg := range map[string]ReportConfig{
		"MaxPending": {MaxPending: -1}, "MaxUnits": {MaxUnits: -1}, "Alpha": {Alpha: 0.1}, "MixingSD": {MixingSD: -1},
	} {
		_, err := NewReportBuilder(cfg)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "ReportConfig."+name)
	}
}

func TestGini(t *testing.T) {
	// By hand: equal counts give 0; one item of n taking everything gives
	// (n-1)/n.
	assert.InDelta(t, 0, gini([]int64{3, 3, 3}), 1e-15)
	assert.InDelta(t, 0.75, gini([]int64{0, 0, 0, 8}), 1e-15)
	// {1, 2, 3}: sum over i of (2i-n-1)x_i = -2·1 + 0·2 + 2·3 = 4; 4/(3·6).
	assert.InDelta(t, 4.0/18, gini([]int64{3, 1, 2}), 1e-15)
	assert.Zero(t, gini(nil))
}

func ExampleReportBuilder() {
	b, _ := NewReportBuilder(ReportConfig{})
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	b.Add(personalize.Event{Type: personalize.EventImpression, Impression: &personalize.Impression{
		RequestID: "r1", Start: at.Add(-20 * time.Millisecond), End: at, Service: "feed-ranker",
		Items: []personalize.Item{{ID: "a", Position: 1, Score: 0.5}, {ID: "b", Position: 2, Score: 0.2}}}})
	b.Add(personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{
		RequestID: "r1", Item: "a", Kind: personalize.OutcomeClick, Time: at.Add(time.Second)}})
	r := b.Report()
	fmt.Println(r.Counts.Impressions, r.CTR.Successes, r.CTR.Trials, r.CTRByPosition[0].CTR)
	// Output: 1 1 2 1
}
