package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/dashboard/internal/dashtest"
	"github.com/rankscope/rankscope/personalize/dashboard/internal/page"
	"github.com/rankscope/rankscope/personalize/dashboard/panel"
	"github.com/rankscope/rankscope/personalize/experiment"
	"github.com/rankscope/rankscope/personalize/fairness"
	"github.com/rankscope/rankscope/personalize/relevance"
	"github.com/rankscope/rankscope/privacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCollectorTrafficAndLag(t *testing.T) {
	now := dashtest.Now
	c, err := NewCollector(CollectorConfig{Now: func() time.Time { return now }})
	require.NoError(t, err)
	// 30 s of traffic: each second 4 rankings and 6 outcomes, every event
	// 2 s old when it arrives, except that a tenth are 8 s old.
	ctx := context.Background()
	for i := range 30 {
		now = dashtest.Now.Add(time.Duration(i) * time.Second)
		var batch []personalize.Event
		for j := range 10 {
			age := 2 * time.Second
			if j == 9 {
				age = 8 * time.Second
			}
			at := now.Add(-age)
			if j < 4 {
				batch = append(batch, personalize.Event{Type: personalize.EventImpression, Impression: &personalize.Impression{Start: at, End: at}})
			} else {
				batch = append(batch, personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{Time: at}})
			}
		}
		require.NoError(t, c.Export(ctx, batch))
	}
	var s Snapshot
	require.NoError(t, c.Collect(ctx, &s))
	tr := s.Traffic
	require.NotNil(t, tr)
	// 30 s of history: rates over the 29 s since the collector started,
	// to three significant digits.
	assert.Equal(t, page.Round3(4*30/29.0), tr.RequestsPerSecond)
	assert.Equal(t, page.Round3(10*30/29.0), tr.EventsPerSecond)
	assert.Equal(t, 2.0, tr.LastEventAgeSeconds, "the newest event is 2 s old")
	// 10% of ages are 8 s, so the 95th percentile is 8 s within the
	// sketch's 1%.
	assert.InEpsilon(t, 8, tr.LagP95Seconds, 0.011)
	require.NotEmpty(t, tr.Series)
	var total float64
	for _, p := range tr.Series {
		total += p.EventsPerSecond * 10
	}
	assert.InDelta(t, 200, total, 1e-9, "complete 10 s slots before the current one: 20 s of 10 events/s")

	// Five minutes later the lag window has emptied.
	now = now.Add(5 * time.Minute)
	var later Snapshot
	require.NoError(t, c.Collect(ctx, &later))
	assert.Zero(t, later.Traffic.LagP95Seconds)
	assert.Zero(t, later.Traffic.EventsPerSecond)
}

// livePipeline runs a real instrument with raw user and session ids and
// the real measurement packages as exporters, and returns the handler
// with every source, the raw ids and the keyring.
func livePipeline(t *testing.T) (*Handler, []string, privacy.Pseudonymizer) {
	t.Helper()
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte(strings.Repeat("s", 32))})
	require.NoError(t, err)
	col, err := NewCollector(CollectorConfig{})
	require.NoError(t, err)
	// Shards deliver events out of event-time order by up to about a batch
	// timeout (10 ms here): the join window allows for it.
	const window = 200 * time.Millisecond
	rel, err := relevance.New(relevance.Config{Join: relevance.JoinConfig{Window: window}})
	require.NoError(t, err)
	fair, err := fairness.New(fairness.Config{Join: relevance.JoinConfig{Window: window}, MinAppearances: 1})
	require.NoError(t, err)
	exp, err := experiment.NewCollector(experiment.CollectorConfig{})
	require.NoError(t, err)
	tracker, err := latency.NewTracker(latency.Config{SLOs: []latency.SLO{{Stage: latency.EndToEnd, P99: 50 * time.Millisecond}}})
	require.NoError(t, err)
	inst, err := personalize.New(personalize.Config{Service: "feed-ranker", Pseudonymize: kr, Exporters: []personalize.Exporter{col, rel, fair, exp},
		Latency: tracker, BatchTimeout: 10 * time.Millisecond})
	require.NoError(t, err)
	ctx := context.Background()
	var raw []string
	for i := range 200 {
		user, sess := fmt.Sprintf("user-%06d", i%37), fmt.Sprintf("session-%06d", i)
		raw = append(raw, user, sess)
		_, inf := inst.Start(ctx, personalize.Request{User: user, Session: sess, Surface: "home_feed",
			Experiments: []personalize.Assignment{{Experiment: "ranker-v42", Variant: []string{"control", "treatment"}[i%37%2]}}})
		st := inf.Stage("model_scoring")
		st.End(nil)
		inf.Impress([]personalize.Item{{ID: "sku-1", Position: 1, Score: 0.4, Provider: "acme"}, {ID: "sku-2", Position: 2, Score: 0.1, Provider: "globex"}})
		require.NoError(t, inf.End(nil))
		require.NoError(t, inst.Outcome(ctx, personalize.Outcome{RequestID: inf.RequestID(), User: user, Session: sess, Item: "sku-1", Kind: personalize.OutcomeClick}))
	}
	require.NoError(t, inst.Flush(ctx))
	time.Sleep(window + 10*time.Millisecond) // let the join windows close in event time
	_, inf := inst.Start(ctx, personalize.Request{User: "user-999999", Surface: "home_feed"})
	inf.Impress([]personalize.Item{{ID: "sku-3", Position: 1, Score: 0.2, Provider: "acme"}})
	require.NoError(t, inf.End(nil))
	require.NoError(t, inst.Flush(ctx))
	t.Cleanup(func() { require.NoError(t, inst.Shutdown(ctx)) })

	design, err := experiment.New(experiment.Config{Name: "ranker-v42", Variants: []experiment.Variant{{Name: "control", Weight: 1}, {Name: "treatment", Weight: 1}}})
	require.NoError(t, err)
	h, err := New(Config{Service: "feed-ranker", Sources: []Source{col, LatencySource(inst.Latency()), StatsSource(inst.Stats, 0), &RuntimeSource{},
		RelevanceSource(rel), FairnessSource(fair), ExperimentSource(exp, 0, experiment.AnalysisConfig{Experiment: "ranker-v42", Design: design})}})
	require.NoError(t, err)
	return h, raw, kr
}

// TestNoRawIdentifierInAnyPage runs a real pipeline with raw user and
// session ids, then scans every page and JSON document the handler serves
// for the raw ids and for their pseudonyms.
func TestNoRawIdentifierInAnyPage(t *testing.T) {
	h, raw, kr := livePipeline(t)
	var pages []string
	for _, p := range []string{"/debug/rankscope", "/debug/rankscope/json", "/debug/rankscope.json"} {
		rec := get(t, h, http.MethodGet, p)
		require.Equal(t, http.StatusOK, rec.Code)
		pages = append(pages, rec.Body.String())
	}
	dashtest.WellFormed(t, pages[0])
	assert.Contains(t, pages[0], "ranker-v42")
	assert.Contains(t, pages[0], "<th>total</th>", "end-to-end latency from the tracker")
	assert.Contains(t, pages[1], `"accepted": 401`)
	for _, page := range pages {
		assert.NotContains(t, page, "user-0")
		assert.NotContains(t, page, "session-0")
		for _, r := range raw[:20] {
			for _, d := range []privacy.Domain{privacy.DomainUser, privacy.DomainSession} {
				ps, _ := kr.Pseudonymize(d, r)
				assert.NotContains(t, page, ps)
			}
		}
	}
}

// TestLiveSourcesReportThePackagesNumbers checks every panel the real
// sources fill against what the packages report when asked directly.
func TestLiveSourcesReportThePackagesNumbers(t *testing.T) {
	h, _, _ := livePipeline(t)
	s := h.Snapshot(context.Background())
	assert.Zero(t, s.SourceErrors)

	// Experiment: 37 users alternate between arms by i%37%2: 19 control
	// (even) and 18 treatment; chisq.test(c(19, 18)): X-squared = 1/37,
	// p = erfc(sqrt(1/74)) = 0.869417 (by hand).
	require.Len(t, s.Experiments, 1)
	e := s.Experiments[0]
	assert.Equal(t, []panel.Arm{{Variant: "control", Units: 19, ExpectedShare: 0.5}, {Variant: "treatment", Units: 18, ExpectedShare: 0.5}}, e.Arms)
	assert.InDelta(t, 0.869417, e.SRMPValue, 1e-6)
	assert.Equal(t, panel.SRMOK, e.SRM)
	assert.False(t, e.WeightsAssumed)

	// Relevance: 200 rankings of two items, the first always clicked.
	require.Len(t, s.CTRByPosition, 2)
	assert.Equal(t, panel.PositionCTR{Position: 1, Impressions: 200, Clicks: 200, CTR: 1, Lo: s.CTRByPosition[0].Lo, Hi: 1, Examination: s.CTRByPosition[0].Examination}, s.CTRByPosition[0])
	assert.Equal(t, int64(0), s.CTRByPosition[1].Clicks)
	require.NotNil(t, s.Calibration)
	// Scores 0.4 (always positive) and 0.1 (never): ECE = (0.6 + 0.1)/2.
	assert.InDelta(t, 0.35, s.Calibration.ECE, 1e-9)
	assert.Equal(t, int64(400), s.Calibration.Count)
	require.NotNil(t, s.Ranking)
	assert.InDelta(t, 1, float64(s.Ranking.NDCG), 1e-9, "the clicked item is always first")

	// Fairness: acme at position 1 (weight 1), globex at 2 (1/log2 3).
	require.NotNil(t, s.Fairness)
	require.Len(t, s.Fairness.Groups, 2)
	acme := s.Fairness.Groups[0]
	assert.Equal(t, "acme", acme.Group)
	w2 := fairness.LogDiscount(2)
	assert.InDelta(t, 1/(1+w2), float64(acme.ExposureShare), 1e-6)
	assert.InDelta(t, 0.8, float64(acme.RelevanceShare), 1e-6)
	assert.InDelta(t, 1, float64(acme.ClickShare), 1e-6)
	// Disparate treatment: exposure per relevance 1/0.4 vs w2/0.1.
	assert.InDelta(t, (1/0.4)/(w2/0.1), float64(s.Fairness.DisparateTreatment), 1e-6)

	// Latency: the tracker's end-to-end stage and its SLO verdict.
	require.NotEmpty(t, s.Latency)
	total := s.Latency[0]
	assert.Equal(t, panel.TotalStage, total.Stage)
	assert.Equal(t, 50.0, total.SLO.P99Ms)
	require.Len(t, total.Objectives, 1)
	o := total.Objectives[0]
	assert.Equal(t, "p99", o.Target)
	assert.True(t, o.Evaluated)
	assert.True(t, o.OK, "instant inferences meet a 50 ms p99")
	assert.Equal(t, uint64(201), o.Count)
	require.NotNil(t, s.Traffic)
	require.NotNil(t, s.Pipeline)
	assert.Equal(t, int64(401), s.Pipeline.Accepted)
}

func TestSourcesFromOtherPackages(t *testing.T) {
	st := personalize.Stats{Accepted: 10, QueueFull: 2, Rejected: map[string]int64{"impression.items.score": 1},
		Exporters: []personalize.ExporterStats{{Name: "file", Exported: 8, LastExport: dashtest.Now.Add(-time.Second)}, {Name: "webhook", Failed: 3, LastError: "status_503"}}}
	var s Snapshot
	s.Time = dashtest.Now
	require.NoError(t, StatsSource(func() personalize.Stats { return st }, 0).Collect(context.Background(), &s))
	require.NotNil(t, s.Pipeline)
	assert.Equal(t, []Count{{"failed/webhook", 3}, {"queue_full", 2}}, s.Pipeline.Dropped)
	assert.Equal(t, []Count{{"impression.items.score", 1}}, s.Pipeline.Rejected)
	require.Len(t, s.Pipeline.Exporters, 2)
	assert.True(t, s.Pipeline.Exporters[0].Healthy)
	assert.Equal(t, 1.0, s.Pipeline.Exporters[0].LastExportAgeSeconds)
	assert.False(t, s.Pipeline.Exporters[1].Healthy)
	assert.Equal(t, -1.0, s.Pipeline.Exporters[1].LastExportAgeSeconds)

	h, err := New(Config{Sources: []Source{SourceFunc(func(context.Context, *Snapshot) error { return errors.New("x") })}})
	require.NoError(t, err)
	assert.Equal(t, 1, h.Snapshot(context.Background()).SourceErrors)
}

func TestLatencySourceShowsTheTrackersBreach(t *testing.T) {
	now := dashtest.Now
	tr, err := latency.NewTracker(latency.Config{Now: func() time.Time { return now },
		SLOs: []latency.SLO{{Stage: "model_scoring", P95: 10 * time.Millisecond, MinCount: 10}}})
	require.NoError(t, err)
	for i := range 100 {
		tr.Observe(latency.Observation{Stage: "model_scoring", Start: now, Duration: time.Duration(1+i%20) * time.Millisecond})
	}
	s := Snapshot{Time: now}
	require.NoError(t, LatencySource(tr).Collect(context.Background(), &s))
	require.Len(t, s.Latency, 1)
	l := s.Latency[0]
	sum, ok := tr.Summary("model_scoring", latency.WindowMinute)
	require.True(t, ok)
	assert.Equal(t, summaryOf(WindowMinute, sum), l.Windows[0])
	require.Len(t, l.Objectives, 1)
	assert.False(t, l.Objectives[0].OK, "p95 of 1..20 ms breaches 10 ms")
	assert.Equal(t, page.Millis(sum.P95), l.Objectives[0].ObservedMs)
	assert.Equal(t, 10.0, l.SLO.P95Ms)
	assert.NotEmpty(t, l.Histogram)
}

func TestExperimentSourceReusesItsAnalysisForEvery(t *testing.T) {
	c, err := experiment.NewCollector(experiment.CollectorConfig{})
	require.NoError(t, err)
	expose := func(n int) {
		for i := range n {
			c.Add(personalize.Event{Type: personalize.EventExposure, Exposure: &personalize.Exposure{Time: dashtest.Now,
				UserID: personalize.Pseudonym{ID: fmt.Sprintf("u%d-%d", n, i)}, Experiment: "e", Variant: []string{"control", "b"}[i%2]}})
		}
	}
	src := ExperimentSource(c, 10*time.Second, experiment.AnalysisConfig{Experiment: "e"}, experiment.AnalysisConfig{Experiment: "missing"})
	units := func(at time.Time) (int64, []string) {
		s := Snapshot{Time: at}
		require.NoError(t, src.Collect(context.Background(), &s))
		require.Len(t, s.Experiments, 1)
		var n int64
		for _, a := range s.Experiments[0].Arms {
			n += a.Units
		}
		return n, s.Notes
	}
	expose(10)
	n, notes := units(dashtest.Now)
	assert.Equal(t, int64(10), n)
	assert.Equal(t, []string{"Experiment missing: no exposure seen yet."}, notes)
	expose(20)
	n, _ = units(dashtest.Now.Add(9 * time.Second))
	assert.Equal(t, int64(10), n, "within every the analysis is reused")
	n, _ = units(dashtest.Now.Add(10 * time.Second))
	assert.Equal(t, int64(30), n)
}
