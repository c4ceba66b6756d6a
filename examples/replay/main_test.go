package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The file exporter starts encoder goroutines; Shutdown must stop them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestEstimatesCoverTruth: on the simulated log, whose logging
// propensities are exact, the IPS and DR intervals of every candidate
// cover the value known from the simulation, and the logged CTR is not a
// stand-in for the better candidate's.
func TestEstimatesCoverTruth(t *testing.T) {
	rows, stats, err := evaluate(context.Background(), t.TempDir(), 6000, 1)
	require.NoError(t, err)
	assert.Greater(t, stats.Events, int64(6000))
	require.Len(t, rows, 3)
	for _, r := range rows {
		for name, e := range map[string][2]float64{"IPS": {r.result.IPS.Lower, r.result.IPS.Upper}, "DR": {r.result.DR.Lower, r.result.DR.Upper}} {
			assert.LessOrEqual(t, e[0], r.truth, "%s %s", r.name, name)
			assert.GreaterOrEqual(t, e[1], r.truth, "%s %s", r.name, name)
		}
	}
	assert.Greater(t, rows[1].truth, rows[1].result.Logged.Value+0.03)
}

func TestRunPrints(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, t.TempDir(), 300, 2))
	assert.Contains(t, out.String(), "new model")
	assert.Contains(t, out.String(), "IPS [95% interval]")
	assert.Contains(t, out.String(), "rounds: logged actions evaluated")
}

// The ESS of every candidate is at most its rounds (slots evaluated), and
// the logger's own list, whose weights are near 1, is worth more rounds
// than there are impressions.
func TestESSWithinRounds(t *testing.T) {
	rows, _, err := evaluate(context.Background(), t.TempDir(), 2000, 3)
	require.NoError(t, err)
	for _, r := range rows {
		assert.Equal(t, int64(slots)*r.result.Impressions, r.result.Rounds, r.name)
		assert.LessOrEqual(t, r.result.Diagnostics.EffectiveSampleSize, float64(r.result.Rounds), r.name)
	}
	assert.Greater(t, rows[0].result.Diagnostics.EffectiveSampleSize, float64(rows[0].result.Impressions))
}
