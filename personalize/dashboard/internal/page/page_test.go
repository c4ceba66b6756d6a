package page

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize/dashboard/panel"
	"github.com/rankscope/rankscope/personalize/fairness"
)

// The quickstart's calibration bins: the last two held 89 items and 1
// item (observed 0, a Wilson band from 0 to 0.79); the chart merges them
// into their neighbour, keeping counts and count-weighted means.
func TestMergeCalibrationBins(t *testing.T) {
	in := []panel.CalibrationBin{
		{Lo: 0, Hi: 0.1, Count: 90353, MeanPredicted: 0.0574, Observed: 0.0101},
		{Lo: 0.1, Hi: 0.2, Count: 97451, MeanPredicted: 0.138, Observed: 0.0378},
		{Lo: 0.2, Hi: 0.3, Count: 6720, MeanPredicted: 0.225, Observed: 0.078},
		{Lo: 0.3, Hi: 0.4, Count: 89, MeanPredicted: 0.318, Observed: 0.101},
		{Lo: 0.4, Hi: 0.5, Count: 1, MeanPredicted: 0.432, Observed: 0},
		{Lo: 0.5, Hi: 0.6},
	}
	out, merged := MergeCalibrationBins(in)
	require.True(t, merged)
	require.Len(t, out, 3)
	assert.Equal(t, in[:2], out[:2])
	last := out[2]
	assert.Equal(t, int64(6810), last.Count)
	assert.InDelta(t, 0.2, last.Lo, 0)
	assert.InDelta(t, 0.5, last.Hi, 0)
	assert.InDelta(t, (6720*0.225+89*0.318+0.432)/6810, last.MeanPredicted, 1e-6)
	assert.InDelta(t, (6720*0.078+89*0.101)/6810, last.Observed, 1e-6)
	var n int64
	for _, b := range out {
		n += b.Count
	}
	assert.Equal(t, int64(90353+97451+6720+89+1), n, "no item lost")

	// Bins that are all large stay as they are; all small become one.
	same, merged := MergeCalibrationBins(in[:3])
	assert.False(t, merged)
	assert.Equal(t, in[:3], same)
	one, _ := MergeCalibrationBins([]panel.CalibrationBin{{Hi: 0.1, Count: 3, MeanPredicted: 0.05, Observed: 0}, {Lo: 0.1, Hi: 0.2, Count: 1, MeanPredicted: 0.15, Observed: 1}})
	require.Len(t, one, 1)
	assert.Equal(t, int64(4), one[0].Count)
	assert.InDelta(t, 0.25, one[0].Observed, 1e-12)
}

// ShareRatio is exposure share over relevance share; its min over max
// across groups is the fairness package's disparate-treatment ratio
// (Singh and Joachims 2018), since both are exposure per relevance up to
// one constant factor. The table showed 4.5 (exposure per unit of
// score) where both shares were about 20%.
func TestShareRatio(t *testing.T) {
	// Five providers over 10-item lists with scores near 0.1, as in the
	// quickstart: mean exposure per placement about 0.45.
	w, err := fairness.NewWeights(10, nil)
	require.NoError(t, err)
	e, err := fairness.NewExposure(w, 10)
	require.NoError(t, err)
	providers := []string{"acme", "globex", "hooli", "initech", "umbrella"}
	for i := range 20000 {
		for p := 1; p <= 10; p++ {
			g := providers[(i+p*p)%5]
			e.Observe(g, p, 0.09+0.004*float64((i*p)%5))
		}
	}
	groups, ratios := e.Report(1)
	f := fairnessOf(fairness.SegmentReport{Groups: groups, Ratios: ratios}, fairness.CatalogReport{})
	require.Len(t, f.Groups, 5)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, g := range f.Groups {
		r := float64(g.ShareRatio)
		assert.InDelta(t, 1, r, 0.1, g.Group)
		assert.Greater(t, float64(g.ExposurePerRelevance), 4.0, "exposure per unit of score, the old column")
		assert.InDelta(t, float64(g.ExposureShare)/float64(g.RelevanceShare), r, 1e-5)
		lo, hi = math.Min(lo, r), math.Max(hi, r)
	}
	assert.InDelta(t, float64(f.DisparateTreatment), lo/hi, 1e-5)
}
