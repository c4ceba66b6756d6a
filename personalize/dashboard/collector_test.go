package dashboard

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/privacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newCollector(t *testing.T, cfg CollectorConfig) *Collector {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return fixedNow }
	}
	c, err := NewCollector(cfg)
	require.NoError(t, err)
	return c
}

func TestCollectorAggregates(t *testing.T) {
	c := newCollector(t, CollectorConfig{SLO: map[string]SLO{"model_scoring": {P95Ms: 15}}})
	evs := simEvents(2000)
	// Move the stream so it ends now, spread over the last 24 h.
	require.NoError(t, c.Export(context.Background(), evs))
	var s Snapshot
	s.Time = fixedNow
	require.NoError(t, c.Collect(context.Background(), &s))

	require.NotEmpty(t, s.Latency)
	assert.Equal(t, TotalStage, s.Latency[0].Stage)
	var scoring StageLatency
	for _, l := range s.Latency {
		if l.Stage == "model_scoring" {
			scoring = l
		}
	}
	require.Len(t, scoring.Windows, 3)
	day := scoring.Windows[2]
	assert.Equal(t, WindowDay, day.Window)
	// the day window spans 23 to 24 hours (1-hour slots); the stream, 24 h
	assert.GreaterOrEqual(t, day.Count, uint64(2000*23/24))
	assert.LessOrEqual(t, day.Count, uint64(2000))
	assert.Less(t, scoring.Windows[0].Count, day.Count, "the minute window holds only the last minute's rankings")
	assert.InDelta(t, 11.5, day.P50Ms, 1.5)
	assert.False(t, scoring.SLO.Met(day), "p95 of 2..21 ms breaches 15 ms")

	require.Len(t, s.CTRByPosition, 5)
	assert.Equal(t, int64(2000), s.CTRByPosition[0].Impressions)
	assert.InDelta(t, 0.3, s.CTRByPosition[0].CTR, 4*math.Sqrt(0.21/2000))
	require.NotNil(t, s.Calibration)
	assert.Equal(t, int64(10000), s.Calibration.Count)
	require.Len(t, s.Experiments, 1)
	var units int64
	for _, a := range s.Experiments[0].Arms {
		units += a.Units
	}
	assert.LessOrEqual(t, units, int64(400))
	assert.Equal(t, "ok", s.Experiments[0].SRM)
	require.Len(t, s.Exposure, 2)
	require.NotNil(t, s.Traffic)
	assert.InDelta(t, 24*3600.0/2000-2, s.Traffic.LastEventAgeSeconds, 1, "the newest event is an outcome 2 s after the last ranking")
}

func TestCollectorBounds(t *testing.T) {
	c := newCollector(t, CollectorConfig{MaxStages: 2, MaxGroups: 1, MaxPending: 3, MaxExperiments: 1, MaxUnits: 2})
	at := fixedNow
	var batch []personalize.Event
	for i := range 10 {
		batch = append(batch, personalize.Event{Type: personalize.EventImpression, Impression: &personalize.Impression{
			RequestID: fmt.Sprint(i), Start: at.Add(-time.Millisecond), End: at, User: personalize.Pseudonym{ID: fmt.Sprint("u", i)},
			Experiments: []personalize.Assignment{{Experiment: fmt.Sprint("e", i%2), Variant: "a"}},
			Items:       []personalize.Item{{ID: "x", Position: 1, Provider: fmt.Sprint("p", i)}},
			Stages:      []personalize.StageTiming{{Name: fmt.Sprint("s", i), Duration: time.Millisecond}}}})
	}
	batch = append(batch, personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{RequestID: "0", Item: "x", Kind: personalize.OutcomeClick, Time: at}})
	require.NoError(t, c.Export(context.Background(), batch))
	var s Snapshot
	require.NoError(t, c.Collect(context.Background(), &s))
	assert.Len(t, s.Latency, 2, "total plus one stage")
	assert.Contains(t, strings.Join(s.Notes, " "), "not tracked")
	assert.Len(t, s.Exposure, 2, "one group plus (other)")
	assert.Len(t, s.Experiments, 1)
	assert.Equal(t, int64(2), s.Experiments[0].Arms[0].Units)
	assert.Len(t, c.join.byReq, 3)
	assert.Equal(t, int64(1), c.join.unjoined, "the click's ranking was forgotten")
}

func TestCollectorConfigValidation(t *testing.T) {
	_, err := NewCollector(CollectorConfig{MaxPending: -1})
	require.ErrorContains(t, err, "CollectorConfig.MaxPending")
	_, err = NewCollector(CollectorConfig{Shares: map[string]map[string]float64{"e": {"a": 2}}})
	require.ErrorContains(t, err, `CollectorConfig.Shares["e"]["a"]`)
}

// TestNoRawIdentifierInAnyPage runs a real pipeline with raw user and
// session ids, then scans every page and JSON document the handler serves
// for the raw ids and for their pseudonyms.
func TestNoRawIdentifierInAnyPage(t *testing.T) {
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte(strings.Repeat("s", 32))})
	require.NoError(t, err)
	col := newCollector(t, CollectorConfig{Now: time.Now})
	slos := []latency.SLO{{Stage: latency.EndToEnd, P99: 50 * time.Millisecond}}
	tracker, err := latency.NewTracker(latency.Config{SLOs: slos})
	require.NoError(t, err)
	inst, err := personalize.New(personalize.Config{Service: "feed-ranker", Pseudonymize: kr, Exporters: []personalize.Exporter{col},
		Latency: tracker, BatchTimeout: 10 * time.Millisecond})
	require.NoError(t, err)
	ctx := context.Background()
	var raw []string
	for i := range 200 {
		user, sess := fmt.Sprintf("user-%06d", i%37), fmt.Sprintf("session-%06d", i)
		raw = append(raw, user, sess)
		_, inf := inst.Start(ctx, personalize.Request{User: user, Session: sess, Surface: "home_feed",
			Experiments: []personalize.Assignment{{Experiment: "ranker-v42", Variant: []string{"control", "treatment"}[i%2]}}})
		st := inf.Stage("model_scoring")
		st.End(nil)
		inf.Impress([]personalize.Item{{ID: "sku-1", Position: 1, Score: 0.4, Provider: "acme"}, {ID: "sku-2", Position: 2, Score: 0.1}})
		require.NoError(t, inf.End(nil))
		require.NoError(t, inst.Outcome(ctx, personalize.Outcome{RequestID: inf.RequestID(), User: user, Session: sess, Item: "sku-1", Kind: personalize.OutcomeClick}))
		require.NoError(t, inst.Expose(ctx, personalize.Exposure{User: user, Experiment: "ranker-v42", Variant: "control"}))
	}
	require.NoError(t, inst.Flush(ctx))
	defer func() { require.NoError(t, inst.Shutdown(ctx)) }()

	h, err := New(Config{Service: "feed-ranker", Sources: []Source{col, LatencySource(tracker, slos), StatsSource(inst.Stats, 0), &RuntimeSource{}}})
	require.NoError(t, err)
	var pages []string
	for _, p := range []string{"/debug/rankscope", "/debug/rankscope/json", "/debug/rankscope.json"} {
		rec := get(t, h, http.MethodGet, p)
		require.Equal(t, http.StatusOK, rec.Code)
		pages = append(pages, rec.Body.String())
	}
	checkWellFormed(t, pages[0])
	assert.Contains(t, pages[0], "ranker-v42")
	assert.Contains(t, pages[0], "<th>total</th>", "end-to-end latency from the tracker")
	assert.Contains(t, pages[1], `"accepted": 600`)
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

func TestSourcesFromOtherPackages(t *testing.T) {
	st := personalize.Stats{Accepted: 10, QueueFull: 2, Rejected: map[string]int64{"impression.items.score": 1},
		Exporters: []personalize.ExporterStats{{Name: "file", Exported: 8, LastExport: fixedNow.Add(-time.Second)}, {Name: "webhook", Failed: 3, LastError: "status_503"}}}
	var s Snapshot
	s.Time = fixedNow
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
