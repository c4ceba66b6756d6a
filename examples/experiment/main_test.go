package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
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
