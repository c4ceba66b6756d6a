package explain_test

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize/explain"
	"github.com/rankscope/rankscope/personalize/schema"
)

var day = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// imp is an impression ending at hh:mm of day with one item per
// explanation (nil: an item without one).
func imp(hh, mm int, exs ...[]schema.Contribution) *schema.Impression {
	end := day.Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
	im := &schema.Impression{RequestID: "r", Start: end.Add(-time.Millisecond), End: end}
	for i, ex := range exs {
		im.Items = append(im.Items, schema.Item{ID: "i" + strconv.Itoa(i), Position: i + 1, Score: 1, Explanation: ex})
	}
	return im
}

func ex(kv ...any) []schema.Contribution {
	var out []schema.Contribution
	for i := 0; i < len(kv); i += 2 {
		out = append(out, schema.Contribution{Feature: kv[i].(string), Value: kv[i+1].(float64)})
	}
	return out
}

func TestAuditHandComputed(t *testing.T) {
	a, err := explain.NewAudit(explain.AuditConfig{})
	require.NoError(t, err)
	// 09:00: a = 0.5 + 0.25 = 0.75, b = |-0.125| = 0.125, total 0.875.
	a.Add(imp(9, 10, ex("a", 0.5, "b", -0.125), ex("a", 0.25), nil))
	a.Add(imp(9, 50, nil, nil)) // no explanation: counted, no mass
	// 10:00: b = 0.5, a = 0.25, c = 0.25, total 1.
	a.Add(imp(10, 30, ex("a", 0.25, "b", -0.5, "c", 0.25)))
	// 12:00 (no 11:00 window): c = 2, total 2.
	a.Add(imp(12, 0, ex("c", 2.0)))
	ws := a.Windows()
	require.Len(t, ws, 3)

	w := ws[0]
	assert.Equal(t, day.Add(9*time.Hour), w.Start)
	assert.Equal(t, day.Add(10*time.Hour), w.End)
	assert.Equal(t, [4]int64{2, 1, 5, 2}, [4]int64{w.Impressions, w.Explained, w.Items, w.ExplainedItems})
	assert.Equal(t, 0.875, w.Total)
	assert.Equal(t, []explain.Share{{"a", 0.75, 0.75 / 0.875}, {"b", 0.125, 0.125 / 0.875}}, w.Features)
	// Shares 6/7 and 1/7: HHI = 36/49 + 1/49 = 37/49.
	assert.InDelta(t, 6.0/7, w.TopShare, 1e-15)
	assert.InDelta(t, 37.0/49, w.HHI, 1e-15)
	assert.Equal(t, "a", w.Top)
	assert.True(t, w.Concentrated, "6/7 > 0.5")
	assert.False(t, w.TopChanged)

	w = ws[1]
	assert.Equal(t, 1.0, w.Total)
	assert.Equal(t, []explain.Share{{"b", 0.5, 0.5}, {"a", 0.25, 0.25}, {"c", 0.25, 0.25}}, w.Features, "ties by name")
	// HHI = 0.5² + 0.25² + 0.25² = 0.25 + 0.0625 + 0.0625 = 0.375.
	assert.Equal(t, 0.375, w.HHI)
	assert.False(t, w.Concentrated, "0.5 is not above the threshold 0.5")
	assert.True(t, w.TopChanged)
	assert.Equal(t, "b", w.Top)
	assert.Equal(t, "a", w.Previous)

	w = ws[2]
	assert.Equal(t, day.Add(12*time.Hour), w.Start)
	assert.Equal(t, 1.0, w.TopShare)
	assert.Equal(t, 1.0, w.HHI)
	assert.True(t, w.Concentrated)
	assert.True(t, w.TopChanged)
	assert.Equal(t, "b", w.Previous)

	assert.Equal(t, explain.Stats{Impressions: 4, Explained: 3, Items: 7, ExplainedItems: 4}, a.Stats())
}

func TestAuditBounds(t *testing.T) {
	a, err := explain.NewAudit(explain.AuditConfig{MaxWindows: 2, MaxFeatures: 2, Window: 24 * time.Hour, Threshold: 0.9})
	require.NoError(t, err)
	// Day 0: a = 1, b = 1, c = 2 past the two features: Other = 2/4.
	a.Add(imp(1, 0, ex("a", 1.0, "b", 1.0, "c", -2.0)))
	ws := a.Windows()
	require.Len(t, ws, 1)
	assert.Equal(t, day, ws[0].Start)
	assert.Equal(t, 4.0, ws[0].Total)
	assert.Equal(t, 0.5, ws[0].Other)
	// HHI = 0.25² + 0.25² + 0.5² = 0.375; the top tracked feature is a
	// with 0.25, under the threshold 0.9.
	assert.Equal(t, 0.375, ws[0].HHI)
	assert.Equal(t, "a", ws[0].Top)
	assert.False(t, ws[0].Concentrated)

	a.Add(imp(25, 0, ex("a", 1.0)))  // day 1
	a.Add(imp(49, 0, ex("a", 1.0)))  // day 2: day 0 is dropped
	a.Add(imp(2, 0, ex("a", 1.0)))   // day 0 again: older than every kept window
	a.Add(imp(-23, 0, ex("a", 1.0))) // the day before: late too
	ws = a.Windows()
	require.Len(t, ws, 2)
	assert.Equal(t, day.Add(24*time.Hour), ws[0].Start)
	assert.Equal(t, day.Add(48*time.Hour), ws[1].Start)
	st := a.Stats()
	assert.Equal(t, int64(1), st.DroppedWindows)
	assert.Equal(t, int64(2), st.LateImpressions)
	assert.Equal(t, int64(1), st.OverflowContributions)
	assert.Equal(t, int64(5), st.Impressions)
}

func TestNewAuditValidates(t *testing.T) {
	for _, tt := range []struct {
		cfg   explain.AuditConfig
		field string
	}{
		{explain.AuditConfig{Window: -time.Hour}, "Window"},
		{explain.AuditConfig{Window: 1500 * time.Millisecond}, "Window"},
		{explain.AuditConfig{MaxWindows: -1}, "MaxWindows"},
		{explain.AuditConfig{MaxFeatures: -1}, "MaxFeatures"},
		{explain.AuditConfig{Threshold: 1.5}, "Threshold"},
		{explain.AuditConfig{Threshold: -0.1}, "Threshold"},
	} {
		_, err := explain.NewAudit(tt.cfg)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "AuditConfig."+tt.field)
	}
	a, err := explain.NewAudit(explain.AuditConfig{})
	require.NoError(t, err)
	assert.Equal(t, explain.AuditConfig{Window: time.Hour, MaxWindows: 168, MaxFeatures: 64, Threshold: 0.5}, a.Config())
}

// TestAuditMergeEqualsOnePass: impressions split at random over up to
// four audits, merged in random order, give exactly the windows and
// counts of one audit over all of them (within the feature and window
// bounds).
func TestAuditMergeEqualsOnePass(t *testing.T) {
	features := []string{"recency", "price", "affinity", "popularity", "same_category"}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		cfg := explain.AuditConfig{Window: time.Duration(1+rng.IntN(3)) * time.Hour}
		one, err := explain.NewAudit(cfg)
		require.NoError(t, err)
		parts := make([]*explain.Audit, 1+rng.IntN(4))
		for i := range parts {
			parts[i], _ = explain.NewAudit(cfg)
		}
		for range 1 + rng.IntN(60) {
			var exs [][]schema.Contribution
			for range rng.IntN(5) {
				if rng.IntN(4) == 0 {
					exs = append(exs, nil)
					continue
				}
				var c []schema.Contribution
				for _, k := range rng.Perm(len(features))[:1+rng.IntN(3)] {
					c = append(c, schema.Contribution{Feature: features[k], Value: rng.NormFloat64() * 1e3})
				}
				exs = append(exs, c)
			}
			im := imp(rng.IntN(12), rng.IntN(60), exs...)
			one.Add(im)
			parts[rng.IntN(len(parts))].Add(im)
		}
		order := rng.Perm(len(parts))
		merged := parts[order[0]]
		for _, k := range order[1:] {
			require.NoError(t, merged.Merge(parts[k]))
		}
		if !reflect.DeepEqual(one.Windows(), merged.Windows()) || one.Stats() != merged.Stats() {
			t.Fatalf("seed %d: merge differs from one pass:\n%+v\n%+v", seed, one.Windows(), merged.Windows())
		}
	}
}

func TestAuditMergeRefuses(t *testing.T) {
	a, _ := explain.NewAudit(explain.AuditConfig{})
	b, _ := explain.NewAudit(explain.AuditConfig{Threshold: 0.6})
	assert.ErrorIs(t, a.Merge(b), explain.ErrConfigMismatch)
	assert.Error(t, a.Merge(a))
}

func TestAuditConcurrent(t *testing.T) {
	a, _ := explain.NewAudit(explain.AuditConfig{})
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 200 {
				a.Add(imp(g, i%60, ex("a", 1.0, "b", 0.5)))
				_ = a.Windows()
			}
		}()
	}
	for range 4 {
		<-done
	}
	ws := a.Windows()
	require.Len(t, ws, 4)
	for _, w := range ws {
		assert.Equal(t, 300.0, w.Total, "200 impressions of 1.5")
	}
}
