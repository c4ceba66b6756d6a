package main

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/dashboard/report"
)

// TestQuickstartExplanations: the top positions carry the model's
// attribution, consistent with its score (mean score + contributions =
// score, up to the 1e-4 rounding of the three numbers), and the report
// on the output has an explanations section.
func TestQuickstartExplanations(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), options{out: dir, requests: 300, seed: 3, concurrency: 16, days: 3}, &out))
	b, err := report.NewBuilder(report.Config{Now: func() time.Time { return simStart }})
	require.NoError(t, err)
	mean := 0.02 + 0.1/float64(len(category)) // the mean score over candidates
	explained := 0
	_, err = file.ReadDir(dir, func(e personalize.Event) error {
		if im := e.Impression; im != nil {
			for _, it := range im.Items {
				if it.Position > explainedPositions {
					assert.Nil(t, it.Explanation, "position %d", it.Position)
					continue
				}
				require.Len(t, it.Explanation, 2)
				sum := mean
				for _, c := range it.Explanation {
					sum += c.Value
				}
				assert.InDelta(t, it.Score, sum, 1.5e-4+1e-12, "score of %+v", it)
				assert.GreaterOrEqual(t, math.Abs(it.Explanation[0].Value), math.Abs(it.Explanation[1].Value), "larger first")
				explained++
			}
		}
		return b.Add(e)
	})
	require.NoError(t, err)
	assert.Equal(t, 300*explainedPositions, explained)
	x := b.Report().Explanations
	require.NotNil(t, x)
	assert.Equal(t, int64(300), x.Explained)
	assert.InDelta(t, float64(explainedPositions)/listLen, x.ItemShare, 1e-12)
	assert.Equal(t, "24h", x.Window)
	assert.NotEmpty(t, x.Windows)
	assert.LessOrEqual(t, len(x.Windows), 4, "three days, daily windows")
	require.NotNil(t, x.Sample)
	assert.Regexp(t, `^(Recommended|Ranked lower) because of .*(taste_match|other_signals)`, x.Sample.Why)
}
