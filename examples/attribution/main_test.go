package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
)

func TestRunOverFiles(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf []byte
	for u := range 40 {
		arm := []string{"control", "treatment"}[u%2]
		user := personalize.Pseudonym{ID: "p" + string(rune('A'+u))}
		at := t0.Add(time.Duration(u) * time.Minute)
		im := personalize.Event{Type: personalize.EventImpression, Impression: &personalize.Impression{
			EventID: personalize.NewEventID(), RequestID: "r", Start: at, End: at, Surface: []string{"home", "search"}[u%3%2],
			UserID: user, Experiments: []personalize.Assignment{{Experiment: "ranker", Variant: arm}},
			Items: []personalize.Item{{ID: "i", Position: 1, Score: 1}}}}
		buf, _ = personalize.AppendJSON(buf, im)
		buf = append(buf, '\n')
		if u%3 == 0 {
			cv := personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{
				EventID: personalize.NewEventID(), UserID: user, Kind: personalize.OutcomeSignup, Time: at.Add(time.Second)}}
			buf, _ = personalize.AppendJSON(buf, cv)
			buf = append(buf, '\n')
		}
	}
	buf = append(buf, `{"schema_version":1,"type":"impr`...) // torn last line
	require.NoError(t, os.WriteFile(filepath.Join(dir, "events-1.jsonl"), buf, 0o600))
	var out bytes.Buffer
	require.NoError(t, run(&out, dir, time.Minute, 20, 1))
	s := out.String()
	require.Contains(t, s, "conversions 14")
	require.Contains(t, s, "1 bad lines")
	require.Contains(t, s, "markov")
	require.Contains(t, s, "ranker treatment vs control [all]")
	require.Error(t, run(&out, t.TempDir(), 0, 0, 1))
}
