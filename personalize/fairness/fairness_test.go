package fairness

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/segment"
)

func TestGiniIneqReference(t *testing.T) {
	// R package ineq, Gini(x) for the income vector of its examples,
	// x <- c(541, 1463, 2445, 3438, 4437, 5401, 6392, 8304, 11904, 22261):
	// 0.4620911 (ineq's printed output).
	g, err := Gini([]float64{541, 1463, 2445, 3438, 4437, 5401, 6392, 8304, 11904, 22261})
	require.NoError(t, err)
	assert.InDelta(t, 0.4620911, g, 5e-8)
	g, _ = Gini([]float64{5, 5, 5})
	assert.Zero(t, g)
	g, _ = Gini([]float64{0, 0, 0, 1}) // (n-1)/n
	assert.InDelta(t, 0.75, g, 1e-15)
	g, _ = Gini([]float64{0, 0})
	assert.Zero(t, g)
	_, err = Gini([]float64{1, -1})
	require.ErrorContains(t, err, "values[1]")
	_, err = Gini(nil)
	require.Error(t, err)
}

func TestGiniBlockMatchesExpanded(t *testing.T) {
	// giniSorted with implicit zeros and an equal-value block equals Gini
	// over the expanded multiset.
	x := []float64{1, 3, 8}
	got := giniSorted(x, 2, 3, 2.5)
	want, _ := Gini([]float64{0, 0, 1, 3, 8, 2.5, 2.5, 2.5})
	assert.InDelta(t, want, got, 1e-12)
}

func items(spec ...string) []personalize.Item {
	var out []personalize.Item
	for i, s := range spec {
		out = append(out, personalize.Item{ID: fmt.Sprint(i), Position: i + 1, Category: s})
	}
	return out
}

func TestDiversity(t *testing.T) {
	its := items("news", "news", "sport", "music")
	// distance 1 between different categories, 0 within: 5 of 6 pairs
	// differ -> ILD = 5/6.
	ild, err := IntraListDiversity(its, func(a, b *personalize.Item) float64 { return b2f(a.Category != b.Category) })
	require.NoError(t, err)
	assert.InDelta(t, 5.0/6, ild, 1e-15)
	n, share := CategoryCoverage(its, 10)
	assert.Equal(t, 3, n)
	assert.InDelta(t, 0.3, share, 1e-15)
	// Entropy of (1/2, 1/4, 1/4) is 1.5 bits.
	assert.InDelta(t, 1.5, CategoryEntropy(its), 1e-15)
	assert.Zero(t, CategoryEntropy(items("a", "a")))
	// The map path for long lists agrees: 40 items, 4 categories x 10.
	var long []string
	for i := range 40 {
		long = append(long, fmt.Sprint("c", i%4))
	}
	assert.InDelta(t, 2, CategoryEntropy(items(long...)), 1e-15)
	assert.Zero(t, testing.AllocsPerRun(100, func() { CategoryEntropy(its) }))
	_, err = IntraListDiversity(its, nil)
	require.Error(t, err)
	_, err = IntraListDiversity(its, func(a, b *personalize.Item) float64 { return math.NaN() })
	require.ErrorContains(t, err, "items[0], items[1]")
	one, _ := IntraListDiversity(its[:1], func(a, b *personalize.Item) float64 { return 1 })
	assert.Zero(t, one)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestExposureSinghJoachims(t *testing.T) {
	// Derived by hand from the definitions of Singh and Joachims (2018),
	// "Fairness of Exposure in Rankings", section 3, with their position
	// bias v_j = 1/log2(1+j): one ranking of four items, group A at
	// positions 1-2 with relevance 0.9, 0.8, group B at 3-4 with 0.7, 0.6.
	//   Exposure(A) = (1 + 1/log2 3)/2        = 0.815464876785729
	//   Exposure(B) = (1/2 + 1/log2 5)/2      = 0.465338279036697
	//   demographic parity ratio  B/A         = 0.57064171895532
	//   disparate treatment ((E_B/U_B)/(E_A/U_A), U_A=0.85, U_B=0.65)
	//                                         = 0.746223786326188
	// One click in each group: disparate impact (1/1.7)/(1/1.3) = 13/17.
	w, err := NewWeights(10, nil)
	require.NoError(t, err)
	e, err := NewExposure(w, 10)
	require.NoError(t, err)
	e.Observe("A", 1, 0.9)
	e.Observe("A", 2, 0.8)
	e.Observe("B", 3, 0.7)
	e.Observe("B", 4, 0.6)
	e.Click("A")
	e.Click("B")
	groups, rs := e.Report(1)
	require.Len(t, groups, 2)
	assert.InDelta(t, 0.815464876785729, groups[0].MeanExposure, 1e-14)
	assert.InDelta(t, 0.465338279036697, groups[1].MeanExposure, 1e-14)
	assert.InDelta(t, 0.57064171895532, rs.DemographicParity, 1e-13)
	assert.InDelta(t, 0.746223786326188, rs.DisparateTreatment, 1e-13)
	assert.InDelta(t, 13.0/17, rs.DisparateImpact, 1e-14)
	assert.InDelta(t, 0.5, groups[0].CTR, 0)
	// Below the appearance threshold no ratio is defined.
	_, rs = e.Report(3)
	assert.True(t, math.IsNaN(rs.DemographicParity))
}

func TestExposureBounds(t *testing.T) {
	w, _ := NewWeights(3, nil)
	e, _ := NewExposure(w, 2)
	e.Observe("a", 1, 1)
	e.Observe("b", 2, 1)
	e.Observe("c", 9, 1) // beyond the table: weight 0, folded into _other
	groups, _ := e.Report(1)
	require.Len(t, groups, 3)
	assert.Equal(t, OtherGroup, groups[0].Group)
	assert.Zero(t, groups[0].Exposure)
	_, err := NewWeights(0, nil)
	require.Error(t, err)
	_, err = NewWeights(3, func(int) float64 { return -1 })
	require.ErrorContains(t, err, "weight(1)")
	_, err = NewExposure(nil, 1)
	require.Error(t, err)
	_, err = NewExposure(w, 0)
	require.Error(t, err)
}

func TestExposureObserveAllocs(t *testing.T) {
	w, _ := NewWeights(100, nil)
	e, _ := NewExposure(w, 100)
	e.Observe("provider-7", 3, 0.4)
	allocs := testing.AllocsPerRun(1000, func() { e.Observe("provider-7", 3, 0.4) })
	assert.Zero(t, allocs)
}

func TestCatalog(t *testing.T) {
	c, err := NewCatalog(100)
	require.NoError(t, err)
	for i, v := range []float64{541, 1463, 2445, 3438, 4437, 5401, 6392, 8304, 11904, 22261} {
		c.Observe(fmt.Sprint("i", i), v)
	}
	r := c.Report(0)
	assert.True(t, r.Exact)
	assert.Equal(t, int64(10), r.Distinct)
	assert.InDelta(t, 0.4620911, r.Gini, 5e-8) // ineq reference as above
	assert.True(t, math.IsNaN(r.Coverage))
	assert.InDelta(t, 22261.0/66586, r.TopShare, 1e-12)
	// A catalog of 20 items: 10 never exposed count as zeros.
	r = c.Report(20)
	assert.InDelta(t, 0.5, r.Coverage, 0)
	zeros := make([]float64, 10)
	want, _ := Gini(append(zeros, 541, 1463, 2445, 3438, 4437, 5401, 6392, 8304, 11904, 22261))
	assert.InDelta(t, want, r.Gini, 1e-12)
	assert.False(t, r.Exceeded)
	// A catalog size below the distinct items exposed is flagged (the
	// quickstart's 600 items read with a 500-item size gave coverage 1.2).
	r = c.Report(8)
	assert.True(t, r.Exceeded)
	assert.InDelta(t, 10.0/8, r.Coverage, 0)
	assert.False(t, c.Report(10).Exceeded)

	// Bounded: beyond 100 exact items the report is approximate, and the
	// distinct count comes from the HyperLogLog (within 3%).
	b, _ := NewCatalog(100)
	for i := range 5000 {
		b.Observe(fmt.Sprint("item-", i), 1)
	}
	r = b.Report(0)
	assert.False(t, r.Exact)
	assert.InDelta(t, 5000, float64(r.Distinct), 150)
	assert.InDelta(t, 0, r.Gini, 0.05) // uniform exposure
	assert.LessOrEqual(t, len(b.counts), 100)
	// Approximate counts are flagged only beyond the sketch's error.
	assert.False(t, b.Report(5000).Exceeded)
	assert.True(t, b.Report(4000).Exceeded)
	_, err = NewCatalog(0)
	require.Error(t, err)
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func impression(req, device string, at time.Time, its ...personalize.Item) personalize.Event {
	return personalize.Event{Type: personalize.EventImpression, Impression: &personalize.Impression{RequestID: req, Start: at, End: at,
		Surface: "home", UserID: personalize.Pseudonym{ID: "u-" + req},
		Context: []personalize.Attr{{Key: personalize.AttrDevice, Value: device}}, Items: its}}
}

func click(req, item string, at time.Time) personalize.Event {
	return personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{RequestID: req, Item: item, Kind: personalize.OutcomeClick, Time: at}}
}

func TestTrackerRatiosAndAlerts(t *testing.T) {
	var alerts []Alert
	tr, err := New(Config{MinAppearances: 1, OnAlert: func(a Alert) { alerts = append(alerts, a) }})
	require.NoError(t, err)
	ranking := []personalize.Item{
		{ID: "a1", Position: 1, Score: 0.9, Provider: "A", Category: "x"},
		{ID: "a2", Position: 2, Score: 0.8, Provider: "A", Category: "x"},
		{ID: "b1", Position: 3, Score: 0.7, Provider: "B", Category: "y"},
		{ID: "b2", Position: 4, Score: 0.6, Provider: "B", Category: "z"},
	}
	require.NoError(t, tr.Export(context.Background(), []personalize.Event{
		impression("r1", "mobile", t0, ranking...),
		click("r1", "a1", t0.Add(time.Second)),
		click("r1", "b2", t0.Add(time.Second)),
	}))
	assert.Empty(t, alerts, "nothing finalized yet")
	tr.Flush()
	tr.Check()
	// Same ranking as TestExposureSinghJoachims: DP 0.5706 and DT 0.7462
	// are below the default band [0.8, 1].
	require.Len(t, alerts, 2)
	assert.Equal(t, Alert{State: AlertFiring, Ratio: RatioDemographicParity, Value: alerts[0].Value, Band: Band{0.8, 1}}, alerts[0])
	assert.InDelta(t, 0.57064171895532, alerts[0].Value, 1e-13)
	assert.Equal(t, RatioDisparateTreatment, alerts[1].Ratio)
	tr.Check()
	assert.Len(t, alerts, 2, "alerts are edge-triggered")

	// Many rankings with the groups swapped bring the ratios back in band.
	swapped := []personalize.Item{
		{ID: "b1", Position: 1, Score: 0.7, Provider: "B"}, {ID: "b2", Position: 2, Score: 0.6, Provider: "B"},
		{ID: "a1", Position: 3, Score: 0.9, Provider: "A"}, {ID: "a2", Position: 4, Score: 0.8, Provider: "A"},
	}
	require.NoError(t, tr.Export(context.Background(), []personalize.Event{impression("r2", "desktop", t0.Add(time.Hour), swapped...)}))
	tr.Flush()
	tr.Check()
	// Equal exposure now: parity resolves. Treatment stays out of band:
	// A carries more relevance (1.7 vs 1.3 per ranking) for the same
	// exposure, so DT = 1.3/1.7 = 0.7647.
	require.Len(t, alerts, 3)
	assert.Equal(t, AlertResolved, alerts[2].State)
	assert.Equal(t, RatioDemographicParity, alerts[2].Ratio)
	assert.InDelta(t, 1, alerts[2].Value, 1e-15)

	rep := tr.Report(segment.DimDevice)
	require.Len(t, rep.Segments, 2)
	mob := rep.Segments[1]
	assert.Equal(t, segment.Key{Device: "mobile"}, mob.Key)
	assert.Equal(t, int64(1), mob.Impressions)
	assert.Equal(t, int64(1), mob.ClickedImpressions)
	assert.Equal(t, int64(2), mob.Clicks)
	assert.InDelta(t, 0.5, mob.CTR, 0)
	assert.InDelta(t, 13.0/17, mob.Ratios.DisparateImpact, 1e-14)
	// categories x x y z: entropy 1.5 bits, 3 distinct.
	assert.InDelta(t, 1.5, mob.MeanCategoryEntropy, 1e-15)
	assert.InDelta(t, 3, mob.MeanCategories, 0)
	assert.True(t, math.IsNaN(mob.MeanILD))
	assert.Equal(t, int64(4), rep.Catalog.Distinct)
	require.NoError(t, tr.Shutdown(context.Background()))
	require.Error(t, tr.Export(context.Background(), nil))
}

func TestTrackerConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{MaxSegments: -1}, "Config.MaxSegments"},
		{Config{CatalogSize: -1}, "Config.CatalogSize"},
		{Config{MinAppearances: -1}, "Config.MinAppearances"},
		{Config{Bands: map[Ratio]Band{9: {}}}, "Config.Bands"},
		{Config{Bands: map[Ratio]Band{RatioDemographicParity: {1, 0}}}, "Config.Bands[demographic_parity]"},
		{Config{Weight: func(int) float64 { return math.Inf(1) }}, "weight(1)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// bruteForce returns the best utility over all permutations whose group
// exposure shares are in band, or -Inf.
func bruteForce(rel []float64, groups []string, lo, hi map[string]float64) float64 {
	n := len(rel)
	w := make([]float64, n)
	var tw float64
	for p := range w {
		w[p] = LogDiscount(p + 1)
		tw += w[p]
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	best := math.Inf(-1)
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			share := map[string]float64{}
			var u float64
			for p, i := range perm {
				share[groups[i]] += w[p] / tw
				u += rel[i] * w[p]
			}
			for g, s := range share {
				if s < lo[g]-1e-12 || s > hi[g]+1e-12 {
					return
				}
			}
			best = max(best, u)
			return
		}
		for i := k; i < n; i++ {
			perm[k], perm[i] = perm[i], perm[k]
			rec(k + 1)
			perm[k], perm[i] = perm[i], perm[k]
		}
	}
	rec(0)
	return best
}

func TestRerankerExactMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	exact, err := NewReranker(RerankConfig{Tolerance: 0.1})
	require.NoError(t, err)
	greedy, _ := NewReranker(RerankConfig{Tolerance: 0.1, MaxExact: 1})
	for trial := range 60 {
		n := 3 + trial%5
		var its []personalize.Item
		var rel []float64
		var grp []string
		for i := range n {
			g := []string{"A", "B", "C"}[rng.IntN(2+trial%2)]
			r := rng.Float64()
			its = append(its, personalize.Item{ID: fmt.Sprint(i), Position: i + 1, Score: r, Provider: g})
			rel = append(rel, r)
			grp = append(grp, g)
		}
		res, err := exact.Rerank(its)
		require.NoError(t, err)
		lo, hi := map[string]float64{}, map[string]float64{}
		for _, g := range res.Groups {
			lo[g.Group], hi[g.Group] = g.Lo, g.Hi
		}
		want := bruteForce(rel, grp, lo, hi)
		if math.IsInf(want, -1) {
			assert.False(t, res.WithinBand, "trial %d: no feasible ranking exists", trial)
			continue
		}
		require.Equal(t, MethodExact, res.Method, "trial %d", trial)
		assert.True(t, res.WithinBand, "trial %d", trial)
		assert.InDelta(t, want, res.UtilityAfter, 1e-12, "trial %d", trial)
		g, err := greedy.Rerank(its)
		require.NoError(t, err)
		if len(res.Groups) > 1 {
			assert.Equal(t, MethodGreedy, g.Method)
		}
		assert.LessOrEqual(t, g.UtilityAfter, res.UtilityAfter+1e-12, "trial %d", trial)
		if g.WithinBand {
			for _, gs := range g.Groups {
				assert.True(t, gs.After >= gs.Lo-1e-12 && gs.After <= gs.Hi+1e-12)
			}
		}
	}
}

func TestRerankerTradeOff(t *testing.T) {
	// Group A has the four most relevant items; with equal-exposure
	// targets and 10% tolerance B must move up, at a reported cost.
	var its []personalize.Item
	for i, r := range []float64{0.9, 0.85, 0.8, 0.75, 0.3, 0.25, 0.2, 0.15} {
		g := "A"
		if i >= 4 {
			g = "B"
		}
		its = append(its, personalize.Item{ID: fmt.Sprint(g, i), Position: i + 1, Score: r, Provider: g})
	}
	rr, err := NewReranker(RerankConfig{Target: TargetEqual, Tolerance: 0.1})
	require.NoError(t, err)
	res, err := rr.Rerank(its)
	require.NoError(t, err)
	assert.True(t, res.WithinBand)
	assert.Equal(t, MethodExact, res.Method)
	assert.InDelta(t, res.UtilityInput, res.UtilityBest, 1e-12, "input was sorted by relevance")
	assert.Greater(t, res.RelevanceLost, 0.0)
	assert.InDelta(t, 1-res.UtilityAfter/res.UtilityBest, res.RelevanceLost, 1e-15)
	for p, it := range res.Items {
		assert.Equal(t, p+1, it.Position)
	}
	b := res.Groups[1]
	assert.Equal(t, "B", b.Group)
	assert.Less(t, b.Before, b.Lo)
	assert.GreaterOrEqual(t, b.After, b.Lo-1e-12)
	// Within a group the order stays by decreasing relevance.
	lastA := 2.0
	for _, it := range res.Items {
		if it.Provider == "A" {
			assert.Less(t, it.Score, lastA)
			lastA = it.Score
		}
	}

	_, err = rr.Rerank([]personalize.Item{{ID: "x", Position: 1, Score: -1}})
	require.ErrorContains(t, err, "items[0]")
	empty, err := rr.Rerank(nil)
	require.NoError(t, err)
	assert.True(t, empty.WithinBand)
	for _, cfg := range []RerankConfig{{Tolerance: 2}, {Target: 9}, {MaxExact: -1}} {
		_, err := NewReranker(cfg)
		require.Error(t, err)
	}
}

func FuzzRerank(f *testing.F) {
	f.Add([]byte{10, 200, 30, 40, 250, 1}, uint8(2), uint8(20))
	f.Add([]byte{0, 0, 0}, uint8(1), uint8(100))
	f.Fuzz(func(t *testing.T, scores []byte, ngroups, tol uint8) {
		if len(scores) > 9 {
			scores = scores[:9]
		}
		var its []personalize.Item
		for i, s := range scores {
			its = append(its, personalize.Item{ID: fmt.Sprint(i), Position: len(scores) - i, Score: float64(s) / 255, Provider: fmt.Sprint(int(s) % (int(ngroups%4) + 1))})
		}
		rr, err := NewReranker(RerankConfig{Tolerance: float64(tol%100+1) / 100})
		if err != nil {
			t.Fatal(err)
		}
		res, err := rr.Rerank(its)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Items) != len(its) || res.UtilityAfter > res.UtilityBest+1e-9 {
			t.Fatalf("bad result %+v", res)
		}
	})
}

// TestCategoryStatsMatchesPublic: the one-pass helper the Tracker uses
// equals CategoryCoverage and CategoryEntropy, short and long lists.
func TestCategoryStatsMatchesPublic(t *testing.T) {
	cats := []string{"", "x", "y", "z", "w"}
	for n := range 40 {
		for seed := range 20 {
			items := make([]personalize.Item, n)
			for i := range items {
				items[i].Category = cats[(i*7+seed*3+i*i*seed)%len(cats)]
			}
			d, h := categoryStats(items)
			wd, _ := CategoryCoverage(items, 0)
			assert.Equal(t, wd, d, "n=%d seed=%d", n, seed)
			// Over 32 items CategoryEntropy sums in map order: equal to rounding.
			assert.InDelta(t, CategoryEntropy(items), h, 1e-12, "n=%d seed=%d", n, seed)
			if n <= 32 {
				assert.Equal(t, CategoryEntropy(items), h, "n=%d seed=%d", n, seed)
			}
		}
	}
}
