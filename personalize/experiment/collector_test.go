package experiment

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/experiment/stats"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func pseud(u string) personalize.Pseudonym { return personalize.Pseudonym{ID: "p-" + u, KeyID: "k1"} }

func exposureEv(u, exp, v string, at time.Time) personalize.Event {
	return personalize.Event{Type: personalize.EventExposure, Exposure: &personalize.Exposure{
		EventID: personalize.NewEventID(), UserID: pseud(u), Experiment: exp, Variant: v, Time: at, Service: "svc"}}
}

func outcomeEv(u string, k personalize.OutcomeKind, value float64, at time.Time) personalize.Event {
	return personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{
		EventID: personalize.NewEventID(), UserID: pseud(u), RequestID: "r", Item: "i", Kind: k, Value: value, Time: at, Service: "svc"}}
}

func impressionEv(u, exp, v string, at time.Time) personalize.Event {
	return personalize.Event{Type: personalize.EventImpression, Impression: &personalize.Impression{
		EventID: personalize.NewEventID(), RequestID: "req-" + u, Start: at.Add(-time.Millisecond), End: at, UserID: pseud(u),
		Experiments: []personalize.Assignment{{Experiment: exp, Variant: v}},
		Items:       []personalize.Item{{ID: "a", Position: 1, Score: 0.5}}}}
}

// scenario: 200 control units (40 purchase, value 10 each), 220 treatment
// units (66 purchase, value 12 each); treatment units enter by impression,
// control by exposure event. Each unit has one pre-exposure click.
// One conflicted unit and one unjoined outcome.
func scenario() []personalize.Event {
	var evs []personalize.Event
	at := t0
	tick := func() time.Time { at = at.Add(time.Second); return at }
	for i := 0; i < 200; i++ {
		u := "c" + strconv.Itoa(i)
		evs = append(evs, outcomeEv(u, personalize.OutcomeClick, 0, tick())) // pre-period
		evs = append(evs, exposureEv(u, "ranker-v42", "control", tick()))
		if i < 40 {
			evs = append(evs, outcomeEv(u, personalize.OutcomePurchase, 10, tick()))
		}
		if i%2 == 0 {
			evs = append(evs, outcomeEv(u, personalize.OutcomeClick, 0, tick()))
		}
	}
	for i := 0; i < 220; i++ {
		u := "t" + strconv.Itoa(i)
		evs = append(evs, outcomeEv(u, personalize.OutcomeClick, 0, tick()))
		evs = append(evs, impressionEv(u, "ranker-v42", "treatment", tick()))
		evs = append(evs, exposureEv(u, "ranker-v42", "treatment", tick())) // same arm: no conflict
		if i < 66 {
			evs = append(evs, outcomeEv(u, personalize.OutcomePurchase, 12, tick()))
		}
		if i%3 == 0 {
			evs = append(evs, outcomeEv(u, personalize.OutcomeClick, 0, tick()), outcomeEv(u, personalize.OutcomeClick, 0, tick()))
		}
	}
	evs = append(evs, exposureEv("x", "ranker-v42", "control", tick()), exposureEv("x", "ranker-v42", "treatment", tick()))
	o := outcomeEv("", personalize.OutcomeClick, 0, tick())
	o.Outcome.UserID = personalize.Pseudonym{}
	o.Outcome.SessionID = personalize.Pseudonym{ID: "s"}
	evs = append(evs, o)
	return evs
}

func lines(t testing.TB, evs []personalize.Event) []byte {
	var b []byte
	for _, e := range evs {
		var err error
		b, err = personalize.AppendJSON(b, e)
		require.NoError(t, err)
		b = append(b, '\n')
	}
	return b
}

func TestCollectorJoinsAndAnalyses(t *testing.T) {
	evs := scenario()
	fromLines, err := NewCollector(CollectorConfig{})
	require.NoError(t, err)
	addLines(fromLines, lines(t, evs))
	fromEvents, err := NewCollector(CollectorConfig{})
	require.NoError(t, err)
	for _, e := range evs {
		fromEvents.Add(e)
	}
	st := fromLines.Stats()
	assert.Equal(t, int64(len(evs)), st.FastPath, "every AppendJSON line takes the fast path")
	assert.Equal(t, int64(1), st.Unjoined)
	assert.Equal(t, map[string][]string{"ranker-v42": {"control", "treatment"}}, fromEvents.Experiments())

	design, err := New(Config{Name: "ranker-v42", Variants: []Variant{{"control", 1}, {"treatment", 1}}})
	require.NoError(t, err)
	var reports []*Report
	for _, c := range []*Collector{fromLines, fromEvents} {
		r, err := c.Analyze(AnalysisConfig{Experiment: "ranker-v42", Design: design})
		require.NoError(t, err)
		reports = append(reports, r)
	}
	assert.Equal(t, reports[0], reports[1], "fast path and decoded events agree")
	r := reports[0]
	assert.Equal(t, []ArmCount{{"control", 200, 0.5}, {"treatment", 220, 0.5}}, r.Arms)
	assert.Equal(t, int64(1), r.Conflicts)
	wantSRM, _ := stats.CheckSRM([]int64{200, 220}, []float64{0.5, 0.5}, 0)
	assert.Equal(t, wantSRM, r.SRM)
	assert.Equal(t, t0.Add(2*time.Second), r.FirstExposure)

	byName := map[string]MetricResult{}
	for _, m := range r.Metrics {
		byName[m.Metric.Name] = m
	}
	// Conversion: 40/200 vs 66/220 -- exactly stats.TwoProportions on those counts.
	conv := byName["conversion"]
	want, _ := stats.TwoProportions(stats.Proportion{Successes: 40, Trials: 200}, stats.Proportion{Successes: 66, Trials: 220}, 0.05)
	require.Len(t, conv.Comparisons, 1)
	assert.Equal(t, &want, conv.Comparisons[0].Proportion)
	assert.Equal(t, want.Newcombe, conv.Comparisons[0].CI)
	// Click rate counts only post-exposure clicks: 100/200 vs 74/220.
	assert.InDelta(t, 0.5, byName["click_rate"].Arms[0].Estimate, 1e-12)
	assert.InDelta(t, 74.0/220, byName["click_rate"].Arms[1].Estimate, 1e-12)
	// Revenue per unit: 40*10/200 = 2 vs 66*12/220 = 3.6.
	rev := byName["revenue_per_unit"]
	assert.InDelta(t, 2.0, rev.Arms[0].Estimate, 1e-12)
	assert.InDelta(t, 3.6, rev.Arms[1].Estimate, 1e-12)
	// Adjusted p-values are Holm over the four comparisons.
	var ps, adj []float64
	for _, m := range r.Metrics {
		for _, c := range m.Comparisons {
			ps = append(ps, c.P)
			adj = append(adj, c.AdjustedP)
		}
	}
	wantAdj, _ := stats.Adjust(ps, stats.CorrectionHolm)
	assert.Equal(t, wantAdj, adj)
	// The sequential p-value is never below the fixed-horizon one here.
	for _, m := range r.Metrics {
		for _, c := range m.Comparisons {
			assert.GreaterOrEqual(t, c.SequentialP, c.P, m.Metric.Name)
			assert.NotEmpty(t, c.Verdict)
		}
	}
	var out strings.Builder
	require.NoError(t, r.WriteText(&out))
	for _, s := range []string{"SRM: chi2", "conversion", "treatment - control", "adjusted p", "sequential: always-valid p", "1 units were seen in more than one variant"} {
		assert.Contains(t, out.String(), s)
	}
}

func TestCollectorCUPEDFromPrePeriod(t *testing.T) {
	// Units with a pre-period purchase habit keep it after exposure: the
	// pre-period value is a strong covariate and CUPED must cut variance.
	var evs []personalize.Event
	at := t0
	for i := 0; i < 400; i++ {
		u := "u" + strconv.Itoa(i)
		v := "control"
		if i%2 == 1 {
			v = "treatment"
		}
		habit := float64(i%10) * 5
		evs = append(evs, outcomeEv(u, personalize.OutcomePurchase, habit+1, at))
		evs = append(evs, exposureEv(u, "e", v, at.Add(time.Second)))
		bump := 0.0
		if v == "treatment" {
			bump = 2
		}
		evs = append(evs, outcomeEv(u, personalize.OutcomePurchase, habit+1+bump+float64(i%3), at.Add(2*time.Second)))
	}
	c, err := NewCollector(CollectorConfig{Metrics: []Metric{{Name: "revenue", Kind: personalize.OutcomePurchase, Aggregate: AggregateValue}}})
	require.NoError(t, err)
	addLines(c, lines(t, evs))
	r, err := c.Analyze(AnalysisConfig{Experiment: "e"})
	require.NoError(t, err)
	cmp := r.Metrics[0].Comparisons[0]
	require.NotNil(t, cmp.CUPED)
	assert.Greater(t, cmp.CUPED.VarianceReduction, 0.9)
	assert.Less(t, cmp.CUPED.Adjusted.SE, cmp.Mean.SE)
	assert.True(t, cmp.CUPED.Adjusted.CI.Contains(2))
	assert.True(t, r.SRMWeightsAssumed)
}

func TestCollectorFromFilesAndErrors(t *testing.T) {
	dir := t.TempDir()
	evs := scenario()
	b := lines(t, evs)
	half := bytes.Index(b[len(b)/2:], []byte("\n")) + len(b)/2 + 1
	require.NoError(t, os.WriteFile(filepath.Join(dir, "events-1.jsonl"), b[:half], 0o600))
	torn := append(append([]byte{}, b[half:]...), []byte("not json\n{\"schema_version\":1,\"type\":\"outcome\"")...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "events-2.jsonl.open"), torn, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o600))
	c, err := NewCollector(CollectorConfig{})
	require.NoError(t, err)
	rs, err := file.ReadLines(dir, func(l []byte) error { _ = c.AddLine(l); return nil })
	require.NoError(t, err)
	st := c.Stats()
	assert.Equal(t, int64(1), st.Malformed)
	assert.Len(t, rs.Torn, 1, "the cut last line of the .open file")
	assert.Equal(t, int64(len(evs)), st.Events)
	r, err := c.Analyze(AnalysisConfig{Experiment: "ranker-v42"})
	require.NoError(t, err)
	assert.Equal(t, int64(200), r.Arms[0].Units)

	_, err = c.Analyze(AnalysisConfig{Experiment: "nope"})
	require.ErrorContains(t, err, "nope")
	_, err = c.Analyze(AnalysisConfig{Experiment: "ranker-v42", Control: "x"})
	require.ErrorContains(t, err, "Control")
	_, err = NewCollector(CollectorConfig{Metrics: []Metric{{Name: "a", Kind: personalize.OutcomeCustom, Aggregate: AggregateAny}}})
	require.ErrorContains(t, err, "Custom")
	_, err = file.ReadLines(filepath.Join(dir, "missing"), func([]byte) error { return nil })
	require.Error(t, err)
}

func TestCollectorMaxUnits(t *testing.T) {
	c, err := NewCollector(CollectorConfig{MaxUnits: 10})
	require.NoError(t, err)
	for i := 0; i < 20; i++ {
		c.Add(exposureEv("u"+strconv.Itoa(i), "e", "control", t0))
	}
	assert.Equal(t, int64(10), c.Stats().DroppedUnits)
}

func TestPlanAmendments(t *testing.T) {
	reg, err := Register(Plan{Experiment: "ranker-v42", PrimaryMetric: "conversion", Guardrails: []string{"click_rate"},
		MDE: 0.01, SampleSize: 5000, Hypotheses: []string{"v42 raises conversion"}}, t0.Add(-48*time.Hour))
	require.NoError(t, err)
	require.NoError(t, reg.Amend(t0.Add(-time.Hour), "add a guardrail before launch", func(p *Plan) {
		p.Guardrails = append(p.Guardrails, "revenue_per_unit")
	}))
	c, err := NewCollector(CollectorConfig{})
	require.NoError(t, err)
	for _, e := range scenario() {
		c.Add(e)
	}
	_, err = c.Analyze(AnalysisConfig{Experiment: "ranker-v42", Registration: reg})
	require.NoError(t, err)
	require.NoError(t, reg.Amend(t0.Add(time.Hour), "stakeholder asked for a bigger sample", func(p *Plan) {
		p.SampleSize = 8000
		p.Alpha = 0.1
	}))
	r, err := c.Analyze(AnalysisConfig{Experiment: "ranker-v42", Registration: reg})
	require.NoError(t, err)
	rec := r.Plan
	require.NotNil(t, rec)
	require.Len(t, rec.Amendments, 3)
	assert.Equal(t, "Guardrails", rec.Amendments[0].Field)
	assert.False(t, rec.Amendments[0].AfterExposure)
	assert.Equal(t, "Alpha", rec.Amendments[1].Field)
	assert.Equal(t, "0.05", rec.Amendments[1].From)
	assert.Equal(t, "SampleSize", rec.Amendments[2].Field)
	assert.True(t, rec.AmendedAfterExposure)
	assert.Equal(t, int64(5000), rec.Original.SampleSize)
	assert.Equal(t, 0.1, r.Alpha, "the analysis uses the current plan")
	assert.Contains(t, strings.Join(r.Notes, "\n"), "amended after exposure")
	var out strings.Builder
	require.NoError(t, r.WriteText(&out))
	assert.Contains(t, out.String(), "AFTER EXPOSURE START")
	for _, m := range r.Metrics {
		assert.Equal(t, m.Metric.Name == "conversion", m.Primary)
	}

	require.ErrorContains(t, reg.Amend(t0, "", func(*Plan) {}), "reason")
	require.ErrorContains(t, reg.Amend(t0, "x", func(p *Plan) { p.Experiment = "other" }), "cannot change")
	require.ErrorContains(t, reg.Amend(t0, "x", func(p *Plan) { p.Alpha = 2 }), "Alpha")
	_, err = Register(Plan{Experiment: "e"}, t0)
	require.ErrorContains(t, err, "PrimaryMetric")
}

// addLines hands every line of b to c.AddLine.
func addLines(c *Collector, b []byte) {
	for line := range bytes.Lines(b) {
		_ = c.AddLine(bytes.TrimSuffix(line, []byte("\n")))
	}
}
