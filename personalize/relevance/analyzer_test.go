package relevance

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/segment"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

type item struct {
	id    string
	score float64
}

func impression(req, user, session, device string, at time.Time, items ...item) personalize.Event {
	im := &personalize.Impression{EventID: personalize.NewEventID(), RequestID: req, Start: at.Add(-time.Millisecond), End: at,
		Surface: "home", UserID: personalize.Pseudonym{ID: user}, SessionID: personalize.Pseudonym{ID: session},
		Context: []personalize.Attr{{Key: personalize.AttrDevice, Value: device}}}
	for i, it := range items {
		im.Items = append(im.Items, personalize.Item{ID: it.id, Position: i + 1, Score: it.score})
	}
	return personalize.Event{Type: personalize.EventImpression, Impression: im}
}

func outcome(req, itemID string, kind personalize.OutcomeKind, at time.Time) personalize.Event {
	o := &personalize.Outcome{EventID: personalize.NewEventID(), RequestID: req, Item: itemID, Kind: kind, Time: at, UserID: personalize.Pseudonym{ID: "u"}}
	return personalize.Event{Type: personalize.EventOutcome, Outcome: o}
}

func TestAnalyzerEndToEnd(t *testing.T) {
	a, err := New(Config{})
	require.NoError(t, err)
	dwell := outcome("r1", "B", personalize.OutcomeDwell, t0.Add(2*time.Second))
	dwell.Outcome.Dwell = 30 * time.Second
	scroll := outcome("r1", "B", personalize.OutcomeScroll, t0.Add(3*time.Second))
	scroll.Outcome.ScrollDepth = 0.5
	batch := []personalize.Event{
		impression("r1", "u1", "s1", "mobile", t0, item{"A", 0.8}, item{"B", 0.3}, item{"C", 0.1}),
		outcome("r1", "B", personalize.OutcomeClick, t0.Add(time.Second)),
		dwell, scroll,
		impression("r2", "u1", "s1", "mobile", t0.Add(time.Minute), item{"B", 0.5}, item{"A", 0.5}, item{"D", 0.5}),
		impression("r3", "u1", "s2", "desktop", t0.Add(time.Hour), item{"E", 0.2}),
		outcome("r0", "X", personalize.OutcomeClick, t0.Add(time.Hour)), // unknown request
	}
	require.NoError(t, a.Export(context.Background(), batch))

	// r1 and r2 ended more than the 30 minute window before r3: finalized.
	rep := a.Report(segment.DimNone)
	assert.Equal(t, 1, rep.Stats.Join.Pending)
	assert.Equal(t, int64(1), rep.Stats.Join.Unjoined)
	require.Len(t, rep.Segments, 1)
	all := rep.Segments[0]
	assert.Equal(t, segment.Key{}, all.Key)

	// r1: relevance in display order [0,1,0]: NDCG@10 = (1/log2 3)/1,
	// RR = 1/2, P@10 = 1/10, recall 1. r2 has no outcome: not judged.
	assert.Equal(t, int64(2), all.Ranking.Impressions)
	assert.Equal(t, int64(1), all.Ranking.Judged)
	assert.InDelta(t, 1/math.Log2(3), all.Ranking.NDCG, 1e-12)
	assert.InDelta(t, 0.5, all.Ranking.MRR, 0)
	assert.InDelta(t, 0.1, all.Ranking.Precision, 1e-15)
	assert.InDelta(t, 1, all.Ranking.Recall, 0)

	// Calibration over r1 and r2 items (label = clicked):
	// r1 (0.8,0) (0.3,1) (0.1,0); r2 (0.5,0) x3.
	brier, _ := BrierScore([]bool{false, true, false, false, false, false}, []float64{0.8, 0.3, 0.1, 0.5, 0.5, 0.5})
	assert.Equal(t, int64(6), all.Calibration.N)
	assert.InDelta(t, brier, all.Calibration.Brier, 1e-12)

	require.Len(t, all.CTRByPosition, 3)
	assert.Equal(t, PositionCTR{Position: 2, Impressions: 2, Clicks: 1, CTR: 0.5}, all.CTRByPosition[1])

	// Stability: r1 <A B C> then r2 <B A D> for (u1, home); r3 is the
	// first ranking of (u1, home) on... the same surface, so a second pair:
	// <B A D> vs <E>.
	// Pair 1 RBO_ext (p=0.9, s=l=3, X = 0,2,2): 0.1/0.9*(0.81+0.486) +
	// 2/3*0.729 = 0.144 + 0.486 = 0.63. tau-b over {A,B,C,D} with ranks
	// (1,2,3,4) vs (2,1,4,3): P=4, Q=2, no ties: 1/3.
	// Pair 2: disjoint lists: RBO 0; tau-b over {B,A,D,E}: ranks (1,2,3,4)
	// vs (2,2,2,1): P=0, Q=3, Ty=3: -3/sqrt(6*3) = -0.7071067811865475.
	assert.Equal(t, int64(2), all.Stability.Pairs)
	assert.Equal(t, 0.9, all.Stability.Persistence)
	assert.InDelta(t, (0.63+0)/2, all.Stability.RBO, 1e-12)
	assert.InDelta(t, (1.0/3-3/math.Sqrt(18))/2, all.Stability.KendallTauB, 1e-12)

	// Engagement: one dwell of 30 s, one scroll of 0.5, visits s1 then s2
	// (a repeat visit within 7 days).
	assert.Equal(t, int64(1), all.Engagement.DwellCount)
	assert.InDelta(t, 30, all.Engagement.DwellMean, 1e-9)
	assert.InDelta(t, 30, all.Engagement.DwellP50, 30*0.01)
	assert.InDelta(t, 0.5, all.Engagement.ScrollMean, 0)
	assert.Equal(t, int64(2), all.Engagement.Visits)
	assert.Equal(t, int64(1), all.Engagement.RepeatVisits)
	assert.InDelta(t, 0.5, all.Engagement.RepeatRate, 0)

	// Split by device: the desktop impression is still pending, so its
	// segment has a visit but no ranking results yet.
	a.Flush()
	byDev := a.Report(segment.DimDevice)
	require.Len(t, byDev.Segments, 2)
	desk, ok := byDev.Segment(segment.Key{Device: "desktop"})
	require.True(t, ok)
	assert.Equal(t, int64(1), desk.Ranking.Impressions)
	assert.Equal(t, int64(0), desk.Ranking.Judged)
	assert.True(t, math.IsNaN(desk.Ranking.NDCG))
	mob, _ := byDev.Segment(segment.Key{Device: "mobile"})
	assert.Equal(t, int64(2), mob.Ranking.Impressions)
	assert.Equal(t, int64(1), mob.Engagement.Visits)

	require.NoError(t, a.Shutdown(context.Background()))
	require.Error(t, a.Export(context.Background(), batch))
}

func TestAnalyzerJoinBounds(t *testing.T) {
	a, err := New(Config{Join: JoinConfig{MaxPending: 2, Window: time.Minute}, MaxSegments: 1})
	require.NoError(t, err)
	for i := range 5 {
		require.NoError(t, a.Observe(impression(fmt.Sprint("r", i), "u", "s", fmt.Sprint("d", i), t0, item{"A", 0.5})))
	}
	require.NoError(t, a.Observe(impression("r4", "u", "s", "d", t0, item{"A", 0.5})))
	require.NoError(t, a.Observe(personalize.Event{Type: personalize.EventLink, Link: &personalize.Link{}}))
	rep := a.Report(segment.DimAll)
	assert.Equal(t, 2, rep.Stats.Join.Pending)
	assert.Equal(t, int64(3), rep.Stats.Join.Evicted)
	assert.Equal(t, int64(1), rep.Stats.Join.Duplicates)
	assert.Equal(t, int64(1), rep.Stats.Ignored)
	assert.Equal(t, int64(4), rep.Stats.SegmentOverflow)
	_, ok := rep.Segment(OverflowKey)
	assert.True(t, ok)
	assert.Len(t, rep.Segments, 2)
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{K: -1}, "Config.K"},
		{Config{Bins: 3, FineBins: 100}, "Config.FineBins"},
		{Config{MaxPosition: 1}, "Config.MaxPosition"},
		{Config{Persistence: 1}, "Config.Persistence"},
		{Config{Gain: 7}, "Config.Gain"},
		{Config{RepeatWindow: -1}, "Config.RepeatWindow"},
		{Config{Join: JoinConfig{Window: -1}}, "JoinConfig.Window"},
		{Config{Join: JoinConfig{MaxPending: -1}}, "JoinConfig.MaxPending"},
		{Config{Join: JoinConfig{Grades: map[personalize.OutcomeKind]float64{9: 1}}}, "JoinConfig.Grades"},
		{Config{Join: JoinConfig{Grades: map[personalize.OutcomeKind]float64{personalize.OutcomeClick: math.NaN()}}}, "JoinConfig.Grades[click]"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestAnalyzerLateImpression(t *testing.T) {
	// An impression arriving after the window (out-of-order replay) must
	// not be finalized before its segment is known (this used to panic);
	// it is finalized into its own segment.
	a, err := New(Config{Join: JoinConfig{Window: time.Minute}})
	require.NoError(t, err)
	require.NoError(t, a.Observe(impression("new", "u1", "s1", "mobile", t0.Add(time.Hour), item{"A", 0.5})))
	require.NoError(t, a.Observe(impression("old", "u2", "s2", "tv", t0, item{"A", 0.5})))
	require.NoError(t, a.Observe(outcome("old", "A", personalize.OutcomeClick, t0.Add(time.Second))))
	// Impressions finalize in arrival order: the late one waits behind
	// the newer one (at most MaxPending wait), and its outcome joins.
	assert.Equal(t, 2, a.Report(segment.DimNone).Stats.Join.Pending)
	a.Flush()
	rep := a.Report(segment.DimDevice)
	tv, ok := rep.Segment(segment.Key{Device: "tv"})
	require.True(t, ok)
	assert.Equal(t, int64(1), tv.Ranking.Impressions)
	assert.Equal(t, int64(1), tv.Ranking.Judged)
}

// TestOutcomeAfterItsWindowIsUnjoined: an engagement later than its
// impression's join window closes that window; it is counted as unjoined,
// not attached to a record that was just finalized and recycled (which
// crashed the analyzer on real, time-spread traffic).
func TestOutcomeAfterItsWindowIsUnjoined(t *testing.T) {
	a, err := New(Config{Join: JoinConfig{Window: time.Minute}})
	require.NoError(t, err)
	late := outcome("r1", "A", personalize.OutcomeDwell, t0.Add(2*time.Minute))
	late.Outcome.Dwell = 10 * time.Second
	inWindow := outcome("r2", "A", personalize.OutcomeDwell, t0.Add(2*time.Minute+30*time.Second))
	inWindow.Outcome.Dwell = 20 * time.Second
	require.NoError(t, a.Export(context.Background(), []personalize.Event{
		impression("r1", "u1", "s1", "mobile", t0, item{"A", 0.5}),
		late, // itself moves event time past r1's window
		impression("r2", "u2", "s2", "mobile", t0.Add(2*time.Minute), item{"A", 0.5}),
		inWindow,
	}))
	a.Flush()
	rep := a.Report(segment.DimNone)
	assert.Equal(t, int64(1), rep.Stats.Join.Unjoined, "the late dwell")
	assert.Equal(t, int64(1), rep.Stats.Join.Outcomes, "the dwell inside its window")
}
