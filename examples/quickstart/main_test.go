package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/dashboard/report"
)

// TestQuickstartWritesWhatItReports runs a small simulation and reads the
// files back: the counts printed match the events on disk, every event
// decodes, no raw identifier was written, and the same seed gives the same
// behaviour.
func TestQuickstartWritesWhatItReports(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), options{out: dir, requests: 400, seed: 7, concurrency: 32, days: 14}, &out))
	summary := out.String()
	require.Contains(t, summary, "dropped 0, rejected 0")

	counts := map[personalize.EventType]int{}
	clicks := map[string]int{}
	stats, err := file.ReadDir(dir, func(e personalize.Event) error {
		counts[e.Type]++
		if e.Outcome != nil && e.Outcome.Kind == personalize.OutcomeClick {
			clicks[e.Outcome.RequestID]++
		}
		if e.Impression != nil {
			assert.Len(t, e.Impression.Items, listLen)
			assert.Equal(t, "ranker-v42", e.Impression.Experiments[0].Experiment)
		}
		return nil
	})
	require.NoError(t, err)
	assert.Empty(t, stats.Torn)
	assert.Equal(t, 400, counts[personalize.EventImpression])
	m := regexp.MustCompile(`impressions (\d+), outcomes (\d+), exposures (\d+), identity links (\d+), model records (\d+)`).FindStringSubmatch(summary)
	require.NotNil(t, m, summary)
	assert.Equal(t, "2", m[5], "one lineage record per model version")
	for i, typ := range []personalize.EventType{personalize.EventImpression, personalize.EventOutcome, personalize.EventExposure, personalize.EventLink, personalize.EventModel} {
		n, _ := strconv.Atoi(m[i+1])
		assert.Equal(t, n, counts[typ], typ.String())
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.NotRegexp(t, `user-\d{6}|sess-\d{6}`, string(b), "raw ids in %s", f)
		fi, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	}

	// Same seed, same behaviour (latencies and event ids aside).
	var again bytes.Buffer
	require.NoError(t, run(context.Background(), options{out: t.TempDir(), requests: 400, seed: 7, concurrency: 8, days: 14}, &again))
	armLines := regexp.MustCompile(`(?m)^  (control|treatment) .*$`)
	assert.Equal(t, armLines.FindAllString(summary, -1), armLines.FindAllString(again.String(), -1))
}

// TestQuickstartLineage: the report built from the quickstart's files has
// a lineage section in which every ranking joins its model version's
// record, and the two versions have different feature hashes.
func TestQuickstartLineage(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, run(context.Background(), options{out: dir, requests: 200, seed: 3, concurrency: 16, days: 2}, io.Discard))
	b, err := report.NewBuilder(report.Config{})
	require.NoError(t, err)
	_, err = file.ReadDir(dir, b.Add)
	require.NoError(t, err)
	l := b.Report().Lineage
	require.NotNil(t, l)
	assert.EqualValues(t, 200, l.Impressions)
	assert.Zero(t, l.Unregistered, "no ranking without a lineage record")
	assert.Empty(t, l.Conflicts)
	require.Len(t, l.Models, 2)
	for _, m := range l.Models {
		assert.True(t, m.Registered, m.Version)
		assert.Equal(t, "fs-2026-11", m.FeatureSet)
		assert.False(t, m.FeatureSetMismatch)
		assert.Equal(t, "ranking-team", m.Owner)
	}
	assert.NotEqual(t, l.Models[0].FeatureHash, l.Models[1].FeatureHash)
}
