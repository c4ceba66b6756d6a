package replay

import (
	"cmp"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/segment"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type item struct {
	id   string
	prop float64
}

func imp(i int, device string, items ...item) personalize.Event {
	start := t0.Add(time.Duration(i) * time.Second)
	im := &personalize.Impression{EventID: eventID(i), RequestID: "r" + strconv.Itoa(i), Start: start, End: start.Add(10 * time.Millisecond),
		UserID: personalize.Pseudonym{ID: "u"}, Context: []personalize.Attr{{Key: personalize.AttrDevice, Value: device}}}
	for k, it := range items {
		im.Items = append(im.Items, personalize.Item{ID: it.id, Position: k + 1, Score: 1, Propensity: it.prop})
	}
	return personalize.Event{Type: personalize.EventImpression, Impression: im}
}

func eventID(i int) personalize.EventID {
	var id personalize.EventID
	id[0], id[1], id[15] = byte(i), byte(i>>8), 7
	return id
}

func click(i int, itemID string, after time.Duration) personalize.Event {
	return personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{
		RequestID: "r" + strconv.Itoa(i), Item: itemID, Kind: personalize.OutcomeClick, Time: t0.Add(time.Duration(i)*time.Second + after)}}
}

// fixedModel predicts q(A) = 0.6, q(B) = 0.3 and 0.2 for an item not in
// the log, at every slot.
type fixedModel struct{}

func (fixedModel) Predict(c *Context, q [][]float64) {
	for k := range q {
		for i, it := range c.Items {
			q[k][i] = map[string]float64{"A": 0.6, "B": 0.3}[it.ID]
		}
		q[k][len(c.Items)] = 0.2
	}
}

// alwaysA puts item A at slot 0.
var alwaysA = PolicyFunc(func(c *Context, dist [][]float64) error {
	for i, it := range c.Items {
		if it.ID == "A" {
			dist[0][i] = 1
		}
	}
	return nil
})

func feed(t *testing.T, e *Evaluator, evs ...personalize.Event) {
	t.Helper()
	for _, ev := range evs {
		require.NoError(t, e.Add(ev))
	}
	require.NoError(t, e.Flush())
}

// TestEstimatorsByHand follows the estimator definitions of Open Bandit
// Pipeline (Saito et al., "Open Bandit Dataset and Pipeline", 2021;
// obp.ope.InverseProbabilityWeighting, SelfNormalizedInverseProbability
// Weighting, DirectMethod, DoublyRobust) on a log of four rounds worked by
// hand. The candidate always shows A at slot 0; the reward model says
// q(A)=0.6, q(B)=0.3.
//
//	round logged p_b  r  pi  w     DR term 0.6 + w(r - q(logged))
//	1     A      0.5  1  1   2     0.6 + 2(1-0.6)    = 1.4
//	2     B      0.25 0  0   0     0.6
//	3     A      0.8  0  1   1.25  0.6 + 1.25(0-0.6) = -0.15
//	4     B      0.5  1  0   0     0.6
//
// IPS = (2*1)/4 = 0.5; clipped at 1.5: 1.5/4 = 0.375; SNIPS = 2/3.25 =
// 0.6153846; DM = 0.6; DR = 2.45/4 = 0.6125; logged = 2/4 = 0.5;
// ESS = 3.25^2/(2^2+1.25^2) = 1.8988764; no support 2/4.
// SNDR (obp.ope.SelfNormalizedDoublyRobust) = DM + sum w(r - q)/sum w
// = 0.6 + (2*0.4 + 1.25*(-0.6))/3.25 = 0.6 + 0.05/3.25 = 8/13.
func TestEstimatorsByHand(t *testing.T) {
	e, err := New(Config{Policy: alwaysA, Model: fixedModel{}, Slots: 1, Clip: 1.5, Bootstrap: -1})
	require.NoError(t, err)
	feed(t, e,
		imp(1, "ios", item{"A", 0.5}, item{"B", 0.5}), click(1, "A", time.Second),
		imp(2, "ios", item{"B", 0.25}, item{"A", 0.75}),
		imp(3, "web", item{"A", 0.8}, item{"B", 0.2}),
		imp(4, "web", item{"B", 0.5}, item{"A", 0.5}), click(4, "B", time.Second), click(4, "B", 2*time.Second),
	)
	r, err := e.Result()
	require.NoError(t, err)
	assert.Equal(t, int64(4), r.Impressions)
	assert.Equal(t, int64(4), r.Rounds)
	assert.InDelta(t, 0.5, r.Logged.Value, 1e-12)
	assert.InDelta(t, 0.5, r.IPS.Value, 1e-12)
	assert.InDelta(t, 0.375, r.ClippedIPS.Value, 1e-12)
	assert.InDelta(t, 0.6153846153846154, r.SNIPS.Value, 1e-12)
	assert.InDelta(t, 0.6, r.DM.Value, 1e-12)
	assert.InDelta(t, 0.6125, r.DR.Value, 1e-12)
	assert.InDelta(t, 8.0/13, r.SNDR.Value, 1e-12)
	d := r.Diagnostics
	assert.InDelta(t, 1.898876404494382, d.EffectiveSampleSize, 1e-12)
	assert.Equal(t, 2.0, d.MaxWeight)
	assert.InDelta(t, 0.8125, d.MeanWeight, 1e-12)
	assert.InDelta(t, 0.5, d.NoSupportShare, 1e-12)
	assert.True(t, math.IsNaN(r.IPS.Lower))
}

// TestStochasticPolicyByHand: a candidate that shows A with probability
// 0.3 and B with 0.7 at slot 0, on rounds (A, p_b=0.5, r=1) and
// (B, p_b=0.25, r=1): w = 0.6 and 2.8, IPS = (0.6+2.8)/2 = 1.7, SNIPS =
// 3.4/3.4 = 1, DM = 0.3*0.6+0.7*0.3 = 0.39, DR = 0.39 + (0.6*0.4 +
// 2.8*0.7)/2 = 0.39 + 1.1 = 1.49, SNDR = 0.39 + 2.2/3.4 = 1.0370588.
func TestStochasticPolicyByHand(t *testing.T) {
	pol := PolicyFunc(func(c *Context, dist [][]float64) error {
		for i, it := range c.Items {
			dist[0][i] = map[string]float64{"A": 0.3, "B": 0.7}[it.ID]
		}
		return nil
	})
	e, err := New(Config{Policy: pol, Model: fixedModel{}, Slots: 1, Bootstrap: -1})
	require.NoError(t, err)
	feed(t, e,
		imp(1, "ios", item{"A", 0.5}, item{"B", 0.5}), click(1, "A", time.Second),
		imp(2, "ios", item{"B", 0.25}, item{"A", 0.75}), click(2, "B", time.Second),
	)
	r, err := e.Result()
	require.NoError(t, err)
	assert.InDelta(t, 1.7, r.IPS.Value, 1e-12)
	assert.InDelta(t, 1.0, r.SNIPS.Value, 1e-12)
	assert.InDelta(t, 0.39, r.DM.Value, 1e-12)
	assert.InDelta(t, 1.49, r.DR.Value, 1e-12)
	assert.InDelta(t, 0.39+2.2/3.4, r.SNDR.Value, 1e-12)
	assert.Equal(t, 0.0, r.Diagnostics.NoSupportShare)
}

// TestOutsideMassByHand: a candidate that shows A with probability 0.5 and
// an item absent from the log with 0.5. Rounds (A, p_b=0.5, r=1) and
// (B, p_b=0.5, r=0): w = 1 and 0. DM = 0.5*0.6 + 0.5*0.2 = 0.4 per round;
// DR = 0.4 + (1*(1-0.6) + 0)/2 = 0.6; IPS = 1/2 = 0.5; SNIPS = 1/1 = 1;
// SNDR = 0.4 + 0.4/1 = 0.8.
func TestOutsideMassByHand(t *testing.T) {
	pol := PolicyFunc(func(c *Context, dist [][]float64) error {
		for i, it := range c.Items {
			if it.ID == "A" {
				dist[0][i] = 0.5
			}
		}
		dist[0][len(c.Items)] = 0.5
		return nil
	})
	e, err := New(Config{Policy: pol, Model: fixedModel{}, Slots: 1, Bootstrap: -1})
	require.NoError(t, err)
	feed(t, e,
		imp(1, "ios", item{"A", 0.5}, item{"B", 0.5}), click(1, "A", time.Second),
		imp(2, "ios", item{"B", 0.5}, item{"A", 0.5}),
	)
	r, err := e.Result()
	require.NoError(t, err)
	assert.InDelta(t, 0.4, r.DM.Value, 1e-12)
	assert.InDelta(t, 0.6, r.DR.Value, 1e-12)
	assert.InDelta(t, 0.8, r.SNDR.Value, 1e-12)
	assert.InDelta(t, 0.5, r.IPS.Value, 1e-12)
	assert.InDelta(t, 1.0, r.SNIPS.Value, 1e-12)
	assert.InDelta(t, 0.5, r.Diagnostics.NoSupportShare, 1e-12)
}

func TestUnsupportedPropensity(t *testing.T) {
	e, err := New(Config{Policy: Logged, Slots: 2})
	require.NoError(t, err)
	// Position 2 is listed first in the event: its index is 0.
	ev := imp(1, "ios", item{"A", 0.5}, item{"B", 0})
	ev.Impression.Items[0], ev.Impression.Items[1] = ev.Impression.Items[1], ev.Impression.Items[0]
	err = e.Add(ev)
	var ue *UnsupportedError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, "items[0].propensity", ue.Field)
	assert.Equal(t, eventID(1), ue.EventID)
	assert.Contains(t, err.Error(), ev.Impression.EventID.String())
	assert.Contains(t, err.Error(), `request "r1"`)
	assert.Contains(t, err.Error(), "missing (0 means unknown)")
	// Only the first slot evaluated: B's missing propensity does not matter.
	e1, _ := New(Config{Policy: Logged, Slots: 1})
	assert.NoError(t, e1.Add(imp(1, "ios", item{"A", 0.5}, item{"B", 0})))

	empty := imp(2, "ios")
	err = e.Add(empty)
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, "items", ue.Field)

	// Skipping instead of failing.
	s, _ := New(Config{Policy: Logged, SkipUnsupported: true, Bootstrap: -1})
	feed(t, s, imp(1, "ios", item{"A", 0}), imp(2, "ios", item{"A", 1}))
	r, err := s.Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), r.Diagnostics.SkippedImpressions)
	assert.Equal(t, int64(1), r.Impressions)

	_, err = (&Evaluator{all: newAccum()}).Result()
	assert.ErrorIs(t, err, ErrNoData)
}

func TestPolicyErrors(t *testing.T) {
	tests := []struct {
		name string
		pol  Policy
		want string
	}{
		{"error", PolicyFunc(func(*Context, [][]float64) error { return errors.New("boom") }), "boom"},
		{"negative", PolicyFunc(func(c *Context, d [][]float64) error { d[0][0] = -0.1; return nil }), "dist[0][0]"},
		{"sum", PolicyFunc(func(c *Context, d [][]float64) error { d[0][0], d[0][1] = 0.7, 0.7; return nil }), "sum to"},
		{"nan", PolicyFunc(func(c *Context, d [][]float64) error { d[0][1] = math.NaN(); return nil }), "dist[0][1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(Config{Policy: tt.pol, Slots: 1})
			require.NoError(t, err)
			require.NoError(t, e.Add(imp(1, "ios", item{"A", 0.5}, item{"B", 0.5})))
			assert.ErrorContains(t, e.Flush(), tt.want)
		})
	}
}

func TestJoinWindowAndBounds(t *testing.T) {
	e, err := New(Config{Policy: Logged, Slots: 1, Window: time.Minute, MaxPending: 2, Bootstrap: -1})
	require.NoError(t, err)
	require.NoError(t, e.Add(imp(0, "ios", item{"A", 1})))
	require.NoError(t, e.Add(click(0, "A", 2*time.Minute))) // too late: closes the window of 0
	require.NoError(t, e.Add(click(0, "A", time.Second)))   // impression already scored
	require.NoError(t, e.Add(click(99, "A", 0)))            // unknown request
	require.NoError(t, e.Add(imp(200, "ios", item{"A", 1})))
	require.NoError(t, e.Add(imp(200, "ios", item{"A", 1}))) // duplicate request id
	require.NoError(t, e.Add(click(200, "Z", 0)))            // item not evaluated
	require.NoError(t, e.Add(imp(201, "ios", item{"A", 1})))
	require.NoError(t, e.Add(imp(202, "ios", item{"A", 1}))) // third pending: oldest scored early
	r, err := e.Result()
	require.NoError(t, err)
	d := r.Diagnostics
	assert.Equal(t, int64(2), r.Impressions)
	assert.Equal(t, int64(4), d.UnjoinedOutcomes)
	assert.Equal(t, int64(1), d.EarlyScored)
	assert.Equal(t, int64(1), d.DuplicateImpressions)
	assert.Equal(t, 2, d.Pending)
	assert.Equal(t, 0.0, r.Logged.Value)
}

// simulate logs a uniformly random logging policy over k items for one
// slot, with click probability ctr[item], and returns the events.
func simulate(n, k int, ctr []float64, seed uint64) []personalize.Event {
	rng := rand.New(rand.NewPCG(seed, 3))
	var evs []personalize.Event
	for i := 0; i < n; i++ {
		a := rng.IntN(k)
		items := []item{{strconv.Itoa(a), 1 / float64(k)}}
		for j := 0; j < k; j++ {
			if j != a {
				items = append(items, item{strconv.Itoa(j), 1})
			}
		}
		ev := imp(i, []string{"ios", "web"}[i%2], items...)
		ev.Impression.EventID = personalize.EventID{byte(i), byte(i >> 8), byte(i >> 16), 1}
		evs = append(evs, ev)
		if rng.Float64() < ctr[a] {
			evs = append(evs, click(i, strconv.Itoa(a), time.Second))
		}
	}
	return evs
}

// TestUnbiasedOnSimulation: with a uniform logging policy over 4 items the
// candidate "always item 3" has true value ctr[3] = 0.4 while the log's
// value is the mean CTR 0.2. IPS, SNIPS and DR must cover the truth with
// their 95% intervals; the direct method with the item-blind default model
// estimates the logged average instead (its known bias).
func TestUnbiasedOnSimulation(t *testing.T) {
	ctr := []float64{0.1, 0.1, 0.2, 0.4}
	keyer, err := segment.NewKeyer(segment.Config{Dims: segment.DimDevice})
	require.NoError(t, err)
	best := RankBy(func(c *Context, i int) float64 {
		if c.Items[i].ID == "3" {
			return 1
		}
		return 0
	})
	e, err := New(Config{Policy: best, Slots: 1, Seed: 42, Keyer: keyer})
	require.NoError(t, err)
	feed(t, e, simulate(20000, 4, ctr, 1)...)
	rs, err := e.Results()
	require.NoError(t, err)
	require.Len(t, rs, 3)
	r := rs[0]
	assert.InDelta(t, 0.2, r.Logged.Value, 0.01)
	for name, est := range map[string]Estimate{"IPS": r.IPS, "SNIPS": r.SNIPS, "DR": r.DR} {
		assert.LessOrEqual(t, est.Lower, 0.4, name)
		assert.GreaterOrEqual(t, est.Upper, 0.4, name)
		assert.InDelta(t, 0.4, est.Value, 0.03, name)
		assert.Greater(t, est.StdErr, 0.0, name)
		assert.Less(t, est.Upper-est.Lower, 0.1, name)
	}
	assert.InDelta(t, 0.2, r.DM.Value, 0.02)
	assert.InDelta(t, 0.75, r.Diagnostics.NoSupportShare, 0.02)
	assert.InDelta(t, 1.0, r.Diagnostics.MeanWeight, 0.05)
	assert.Equal(t, 4.0, r.Diagnostics.MaxWeight)
	assert.InDelta(t, 5000, r.Diagnostics.EffectiveSampleSize, 200)
	// Segments partition the traffic.
	assert.Equal(t, "device=ios", rs[1].Segment.String())
	assert.Equal(t, rs[0].Impressions, rs[1].Impressions+rs[2].Impressions)
}

func TestDeterministic(t *testing.T) {
	run := func(batch int) Result {
		e, err := New(Config{Policy: Logged, Slots: 1, Seed: 9})
		require.NoError(t, err)
		evs := simulate(3000, 3, []float64{0.1, 0.3, 0.5}, 2)
		for i := 0; i < len(evs); i += batch {
			require.NoError(t, e.Export(context.Background(), evs[i:min(i+batch, len(evs))]))
		}
		require.NoError(t, e.Shutdown(context.Background()))
		r, err := e.Result()
		require.NoError(t, err)
		return r
	}
	a, b := run(1), run(512)
	assert.Equal(t, a, b)
	assert.False(t, math.IsNaN(a.IPS.Lower))
}

// TestPositionMeanProgressive: the default model predicts each slot's mean
// over earlier impressions only.
func TestPositionMeanProgressive(t *testing.T) {
	var m PositionMean
	q := [][]float64{make([]float64, 2), make([]float64, 2)}
	m.Predict(nil, q)
	assert.Equal(t, [][]float64{{0, 0}, {0, 0}}, q)
	m.Learn(nil, 0, 1)
	m.Learn(nil, 0, 0)
	m.Learn(nil, 0, 1)
	m.Predict(nil, q)
	assert.InDelta(t, 2.0/3, q[0][1], 1e-15)
	assert.InDelta(t, 2.0/3, q[1][0], 1e-15) // unseen slot: overall mean
	m.Learn(nil, 1, 0)
	m.Predict(nil, q)
	assert.Equal(t, 0.0, q[1][0])
}

func TestRankBy(t *testing.T) {
	c := &Context{Items: []personalize.Item{{ID: "a", Score: 1}, {ID: "b", Score: 3}, {ID: "c", Score: 2}, {ID: "d", Score: 3}}}
	dist := [][]float64{make([]float64, 4), make([]float64, 4), make([]float64, 4)}
	require.NoError(t, RankBy(func(c *Context, i int) float64 { return c.Items[i].Score }).Distribution(c, dist))
	// b and d tie: logged order keeps b first.
	assert.Equal(t, [][]float64{{0, 1, 0, 0}, {0, 0, 0, 1}, {0, 0, 1, 0}}, dist)
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no policy", Config{}, "Config.Policy"},
		{"slots", Config{Policy: Logged, Slots: -1}, "Config.Slots"},
		{"clip", Config{Policy: Logged, Clip: -1}, "Config.Clip"},
		{"window", Config{Policy: Logged, Window: -1}, "Config.Window"},
		{"pending", Config{Policy: Logged, MaxPending: -1}, "Config.MaxPending"},
		{"confidence", Config{Policy: Logged, Confidence: 1}, "Config.Confidence"},
		{"segments", Config{Policy: Logged, MaxSegments: -1}, "Config.MaxSegments"},
		{"bootstrap", Config{Policy: Logged, Bootstrap: 1 << 20}, "Config.Bootstrap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// TestPoissonTable: the share of 16-bit uniforms mapped to k matches the
// Poisson(1) probabilities e^-1/k! (P(0) = P(1) = 0.3678794, P(2) =
// 0.1839397) to the table's resolution, and the mean weight is 1.
func TestPoissonTable(t *testing.T) {
	tb := poissonTable()
	var count [8]float64
	var mean float64
	for _, k := range tb {
		count[k]++
		mean += float64(k)
	}
	const n = 1 << 16
	fact := 1.0
	for k := 0; k < 6; k++ {
		if k > 0 {
			fact *= float64(k)
		}
		assert.InDelta(t, math.Exp(-1)/fact, count[k]/n, 1.0/n, "k=%d", k)
	}
	assert.InDelta(t, 1.0, mean/n, 1e-3)
}

// FuzzAdd feeds decoded event lines to an evaluator: whatever the log
// holds, Add and Flush return errors, never panic, and results stay
// finite where defined.
func FuzzAdd(f *testing.F) {
	for _, ev := range []personalize.Event{
		imp(1, "ios", item{"A", 0.5}, item{"B", 0.25}), click(1, "A", time.Second),
		imp(2, "web", item{"A", 0}), imp(3, "tv"),
	} {
		line, err := personalize.AppendJSON(nil, ev)
		require.NoError(f, err)
		f.Add(line)
	}
	f.Add([]byte(`{"schema_version":1,"type":"outcome","event_id":"01890a5d-ac96-774b-bcce-b302099a8057","time":"2026-01-01T00:00:00Z","request_id":"r1","kind":"click","item":"A","user_id":"u"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := personalize.UnmarshalEvent(line)
		if err != nil {
			return
		}
		e, err := New(Config{Policy: Logged, Slots: 3, Bootstrap: 8})
		require.NoError(t, err)
		_ = e.Add(ev)
		_ = e.Add(click(1, "A", 0))
		_ = e.Flush()
		if r, err := e.Result(); err == nil {
			assert.False(t, math.IsInf(r.IPS.Value, 0))
			assert.GreaterOrEqual(t, r.Diagnostics.MaxWeight, 0.0)
		}
	})
}

// TestRankByOrderMatchesStableSort: RankBy's short-list sort gives the
// order of a stable descending sort by cmp.Compare, with ties and NaN
// scores, for lists below and above the insertion-sort limit.
func TestRankByOrderMatchesStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{0, 1, 2, 5, 10, 63, 64, 65, 100} {
		for range 50 {
			scores := make([]float64, n)
			for i := range scores {
				scores[i] = float64(rng.IntN(5))
				if rng.IntN(10) == 0 {
					scores[i] = math.NaN()
				}
			}
			items := make([]personalize.Item, n)
			pol := RankBy(func(c *Context, i int) float64 { return scores[i] })
			dist := make([][]float64, n)
			for k := range dist {
				dist[k] = make([]float64, n+1)
			}
			require.NoError(t, pol.Distribution(&Context{Items: items}, dist))
			want := make([]int, n)
			for i := range want {
				want[i] = i
			}
			slices.SortStableFunc(want, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
			for k := range dist {
				require.Equal(t, 1.0, dist[k][want[k]], "n=%d slot %d scores %v", n, k, scores)
			}
		}
	}
}

// TestEffectiveSampleSizeCountsLoggedActions: ESS = (sum w)^2 / sum w^2
// (Kish 1965, "Survey Sampling", with weights w; by
// Cauchy-Schwarz at most the number of weights) is over logged actions,
// one per evaluated slot. With several slots per impression it may exceed
// the impressions, never Rounds: examples/replay's 178,530 from 65,113
// events was 250,000 slots of 50,000 impressions, not a bug. Weights here
// are 1/p_b of the logging policy's own list (the candidate Logged).
//
//	impression  p_b per slot     w = 1/p_b
//	0           0.5 0.5 0.25     2 2 4
//	1           1   0.5 0.5      1 2 2
//	2           0.25 1  1        4 1 1
//
// sum w = 19, sum w^2 = 51, ESS = 361/51 = 7.0784314 over 9 rounds and 3
// impressions.
func TestEffectiveSampleSizeCountsLoggedActions(t *testing.T) {
	e, err := New(Config{Policy: Logged, Slots: 3, Bootstrap: -1})
	require.NoError(t, err)
	feed(t, e,
		imp(0, "ios", item{"A", 0.5}, item{"B", 0.5}, item{"C", 0.25}),
		imp(1, "ios", item{"A", 1}, item{"B", 0.5}, item{"C", 0.5}),
		imp(2, "web", item{"A", 0.25}, item{"B", 1}, item{"C", 1}))
	r, err := e.Result()
	require.NoError(t, err)
	assert.Equal(t, int64(3), r.Impressions)
	assert.Equal(t, int64(9), r.Rounds)
	ess := r.Diagnostics.EffectiveSampleSize
	assert.InDelta(t, 361.0/51, ess, 1e-12)
	assert.LessOrEqual(t, ess, float64(r.Rounds))
	assert.Greater(t, ess, float64(r.Impressions))
}
