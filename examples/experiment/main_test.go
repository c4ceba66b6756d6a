package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func TestRunOnQuickstartShapedFiles(t *testing.T) {
	dir := t.TempDir()
	var b []byte
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for u := 0; u < 600; u++ {
		user := personalize.Pseudonym{ID: "p" + strconv.Itoa(u), KeyID: "k"}
		v := []string{"control", "treatment"}[u%2]
		at = at.Add(time.Second)
		im := &personalize.Impression{EventID: personalize.NewEventID(), RequestID: "r" + strconv.Itoa(u), Start: at, End: at,
			UserID: user, Experiments: []personalize.Assignment{{Experiment: "ranker-v42", Variant: v}},
			Items: []personalize.Item{{ID: "a", Position: 1, Score: 1}}}
		b, _ = personalize.AppendJSON(b, personalize.Event{Type: personalize.EventImpression, Impression: im})
		b = append(b, '\n')
		if u%3 == 0 || (v == "treatment" && u%5 == 0) {
			o := &personalize.Outcome{EventID: personalize.NewEventID(), RequestID: "r" + strconv.Itoa(u), UserID: user, Item: "a",
				Kind: personalize.OutcomeClick, Time: at}
			b, _ = personalize.AppendJSON(b, personalize.Event{Type: personalize.EventOutcome, Outcome: o})
			b = append(b, '\n')
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "events-a.jsonl"), b, 0o600))
	var out strings.Builder
	require.NoError(t, run(&out, []string{"-in", dir}))
	for _, want := range []string{"read 840 lines", "arms:  control 300 units", "SRM: chi2 0.000", "click_rate [guardrail]",
		"conversion [primary]", "treatment - control", "adjusted p", "sequential: always-valid p", "plan: primary conversion", "lift n/a"} {
		assert.Contains(t, out.String(), want)
	}
	require.ErrorContains(t, run(&out, []string{"-in", filepath.Join(dir, "nope")}), "quickstart")
	require.ErrorContains(t, run(&out, []string{"-in", dir, "-correction", "x"}), "correction")
}

// TestShardsGiveTheSameAnswer: the report from four shard states, each
// serialized, decoded and merged, is the report from the files read by one
// collector, to the last printed digit (the merge is exact; the
// experiment package's property test checks every float bit for bit).
func TestShardsGiveTheSameAnswer(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(26, 11))
	events := personalizetest.RandomEvents(rng, 6000)
	for i := range events {
		// Most users keep one arm, as the quickstart's hash assignment
		// does; the rest are conflicts the report excludes.
		if im := events[i].Impression; im != nil && len(im.UserID.ID) > 0 && im.UserID.ID[0] < 'e' {
			for j := range im.Experiments {
				if im.Experiments[j].Experiment == "ranker-v42" {
					im.Experiments[j].Variant = []string{"control", "treatment"}[im.UserID.ID[1]%2]
				}
			}
		}
	}
	for f, part := range [][]personalize.Event{events[:2500], events[2500:]} {
		var b []byte
		for _, e := range part {
			var err error
			b, err = personalize.AppendJSON(b, e)
			require.NoError(t, err)
			b = append(b, '\n')
		}
		name := "events-" + strconv.Itoa(f) + ".jsonl"
		if f == 1 {
			// A file still being written, cut mid-line: a torn write.
			b = append(b, `{"schema_version":1,"type":"outc`...)
			name += ".open"
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	var files, sharded strings.Builder
	require.NoError(t, run(&files, []string{"-in", dir}))
	require.NoError(t, run(&sharded, []string{"-in", dir, "-shards", "4"}))
	head, rest, ok := strings.Cut(sharded.String(), "\n")
	require.True(t, ok)
	assert.Contains(t, head, "merged 4 shard states")
	assert.Equal(t, files.String(), rest)
	assert.Contains(t, rest, "read 6000 lines")
	assert.Contains(t, rest, "1 torn")
	assert.Contains(t, rest, "revenue_per_unit")

	require.ErrorContains(t, run(&sharded, []string{"-in", dir, "-shards", "-1"}), "-shards")
}
