package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/dashboard/report"
)

// eventLines returns n impressions of the quickstart's experiment, one
// second apart from at, each followed by a click for every third unit, as
// JSON lines.
func eventLines(t *testing.T, at time.Time, from, n int) (lines [][]byte, impressions int) {
	t.Helper()
	for u := from; u < from+n; u++ {
		user := personalize.Pseudonym{ID: "p" + strconv.Itoa(u), KeyID: "k"}
		at = at.Add(time.Second)
		im := &personalize.Impression{EventID: personalize.NewEventID(), RequestID: "r" + strconv.Itoa(u), Start: at, End: at,
			UserID: user, Experiments: []personalize.Assignment{{Experiment: "ranker-v42", Variant: []string{"control", "treatment"}[u%2]}},
			Items: []personalize.Item{{ID: "a", Position: 1, Score: 0.5}, {ID: "b", Position: 2, Score: 0.25}}}
		b, err := personalize.AppendJSON(nil, personalize.Event{Type: personalize.EventImpression, Impression: im})
		require.NoError(t, err)
		lines = append(lines, b)
		impressions++
		if u%3 == 0 {
			o := &personalize.Outcome{EventID: personalize.NewEventID(), RequestID: "r" + strconv.Itoa(u), UserID: user, Item: "a",
				Kind: personalize.OutcomeClick, Time: at}
			b, err := personalize.AppendJSON(nil, personalize.Event{Type: personalize.EventOutcome, Outcome: o})
			require.NoError(t, err)
			lines = append(lines, b)
		}
	}
	return lines, impressions
}

func writeLines(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	var b []byte
	for _, l := range lines {
		b = append(append(b, l...), '\n')
	}
	require.NoError(t, os.WriteFile(path, b, 0o600))
}

// TestRunSkipsMalformedLines: a malformed line, even the very first of the
// first file, costs only itself; the report is written from the other
// lines and says how many were skipped, on stderr and in its notes, and
// the automatic cohort period still comes from the data's span.
func TestRunSkipsMalformedLines(t *testing.T) {
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		malformed bool
	}{
		{"clean", false},
		{"malformed first line and one in the middle", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			a, na := eventLines(t, start, 0, 300)
			b, nb := eventLines(t, start.Add(300*time.Second), 300, 300)
			wantSkipped := 0
			if tt.malformed {
				a = append([][]byte{[]byte(`{"type":"impression","impression":{`)}, a...)
				b = append(b[:100:100], append([][]byte{[]byte("not json at all")}, b[100:]...)...)
				wantSkipped = 2
			}
			writeLines(t, filepath.Join(dir, "events-a.jsonl"), a)
			writeLines(t, filepath.Join(dir, "events-b.jsonl"), b)

			out := filepath.Join(t.TempDir(), "report.html")
			var stderr strings.Builder
			require.NoError(t, run(options{in: dir, out: out, cohort: "auto", progressOver: -1}, &stderr))

			html, err := os.ReadFile(out)
			require.NoError(t, err)
			js, err := os.ReadFile(strings.TrimSuffix(out, ".html") + ".json")
			require.NoError(t, err)
			var rep report.Report
			require.NoError(t, json.Unmarshal(js, &rep))
			assert.Equal(t, int64(na+nb), int64(rep.Counts.Impressions))
			assert.Equal(t, "1m", rep.Attribution.Periods, "auto cohort period from a 600 s span")

			assert.Contains(t, stderr.String(), strconv.Itoa(wantSkipped)+" malformed line(s) skipped")
			note := strconv.Itoa(wantSkipped) + " malformed line(s) were skipped."
			if tt.malformed {
				assert.Contains(t, rep.Notes, note)
				assert.Contains(t, string(html), note)
				assert.Contains(t, stderr.String(), "events-a.jsonl:1 ")
				assert.Contains(t, stderr.String(), "events-b.jsonl:101 ")
			} else {
				assert.NotContains(t, rep.Notes, note)
				assert.NotContains(t, stderr.String(), "report: skipped")
			}
		})
	}
}

// TestRunLineage: a lineage record and the impressions of its model
// version give a lineage section with nothing unregistered, in the page,
// the JSON and the line on stderr; impressions of an unregistered version
// are counted there.
func TestRunLineage(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	rec, err := personalize.AppendJSON(nil, personalize.Event{Type: personalize.EventModel, Model: &personalize.ModelMetadata{
		EventID: personalize.NewEventID(), Time: at, Model: "ranker", Version: "v42",
		FeatureHash: personalize.FeatureHash(map[string]string{"ctr": "clicks / views"}), Owner: "ranking-team"}})
	require.NoError(t, err)
	lines, n := eventLines(t, at, 0, 40)
	for i, l := range lines {
		ev, err := personalize.UnmarshalEvent(l)
		require.NoError(t, err)
		if ev.Impression != nil {
			ev.Impression.Model, ev.Impression.ModelVersion = "ranker", []string{"v42", "v42", "v41"}[i%3]
			lines[i], err = personalize.AppendJSON(nil, ev)
			require.NoError(t, err)
		}
	}
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "events-a.jsonl"), append([][]byte{rec}, lines...))
	out := filepath.Join(t.TempDir(), "report.html")
	var stderr strings.Builder
	require.NoError(t, run(options{in: dir, out: out, cohort: "auto", progressOver: -1}, &stderr))
	js, err := os.ReadFile(strings.TrimSuffix(out, ".html") + ".json")
	require.NoError(t, err)
	var rep report.Report
	require.NoError(t, json.Unmarshal(js, &rep))
	require.NotNil(t, rep.Lineage)
	assert.EqualValues(t, n, rep.Lineage.Impressions)
	assert.Positive(t, rep.Lineage.Unregistered, "v41 has no record")
	assert.Contains(t, stderr.String(), "report: lineage: 2 model version(s) served, "+strconv.FormatInt(rep.Lineage.Unregistered, 10)+" of "+strconv.Itoa(n)+" rankings without a lineage record, 0 feature-hash conflict(s)")
	html, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(html), `id="lineage"`)
	assert.Contains(t, string(html), "ranking-team")
}
