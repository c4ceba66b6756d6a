package report

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/dashboard/internal/dashtest"
	"github.com/rankscope/rankscope/personalize/explain"
)

func explainedEvents() []personalize.Event {
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	c := func(kv ...any) []personalize.Contribution {
		var out []personalize.Contribution
		for i := 0; i < len(kv); i += 2 {
			out = append(out, personalize.Contribution{Feature: kv[i].(string), Value: kv[i+1].(float64)})
		}
		return out
	}
	imp := func(at time.Duration, exs ...[]personalize.Contribution) personalize.Event {
		end := day.Add(at)
		im := &personalize.Impression{RequestID: "r", Start: end.Add(-time.Millisecond), End: end, UserID: personalize.Pseudonym{ID: "u1"}, Surface: "home"}
		for i, ex := range exs {
			im.Items = append(im.Items, personalize.Item{ID: "i" + strconv.Itoa(i), Position: i + 1, Score: 0.5, Explanation: ex})
		}
		return personalize.Event{Type: personalize.EventImpression, Impression: im}
	}
	return []personalize.Event{
		imp(9*time.Hour+10*time.Minute, c("a", 0.5, "b", -0.125), c("a", 0.25), nil),
		imp(9*time.Hour+50*time.Minute, nil, nil),
		imp(10*time.Hour+30*time.Minute, c("a", 0.25, "b", -0.5, "c", 0.25)),
	}
}

// TestReportExplanations: the section's numbers, worked by hand.
func TestReportExplanations(t *testing.T) {
	cfg := testConfig()
	cfg.Explanations = ExplanationsConfig{Labels: map[string]string{"a": "things like a", "b": "b-ness"}, TopFeatures: 1,
		Audit: explain.AuditConfig{Window: time.Hour}}
	b, err := NewBuilder(cfg)
	require.NoError(t, err)
	for _, e := range explainedEvents() {
		require.NoError(t, b.Add(e))
	}
	r := b.Report()
	x := r.Explanations
	require.NotNil(t, x)
	// 2 of 3 rankings and 3 of 6 items carry an explanation.
	assert.Equal(t, [4]int64{3, 2, 6, 3}, [4]int64{x.Impressions, x.Explained, x.Items, x.ExplainedItems})
	assert.InDelta(t, 2.0/3, x.ImpressionShare, 1e-15)
	assert.Equal(t, 0.5, x.ItemShare)
	assert.Equal(t, "1h", x.Window)
	assert.Equal(t, 0.5, x.Threshold)
	require.Len(t, x.Windows, 2)
	// 09:00: a = 0.5 + 0.25 = 0.75, b = 0.125 of 0.875: a has 6/7, above
	// 0.5; HHI = (6/7)² + (1/7)² = 37/49; one feature listed, the rest 1/7.
	w := x.Windows[0]
	assert.Equal(t, []FeatureShare{{"a", 0.75 / 0.875}}, w.Features)
	assert.InDelta(t, 1.0/7, w.Rest, 1e-15)
	assert.InDelta(t, 37.0/49, w.HHI, 1e-15)
	assert.True(t, w.Concentrated)
	assert.False(t, w.TopChanged)
	// 10:00: b = 0.5 of 1, not above 0.5; the top moved from a to b.
	w = x.Windows[1]
	assert.Equal(t, "b", w.Top)
	assert.Equal(t, 0.375, w.HHI)
	assert.False(t, w.Concentrated)
	assert.True(t, w.TopChanged)
	assert.Equal(t, "a", w.Previous)
	assert.Equal(t, 1, x.Concentrated)
	assert.Equal(t, 1, x.TopChanges)
	require.NotNil(t, x.Sample)
	assert.Equal(t, ExplanationSample{Position: 1, Why: "Recommended because of things like a; ranked lower because of b-ness."}, *x.Sample)

	js, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Contains(t, string(js), `"explanations":{"impressions":3,"explained_impressions":2`)

	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, r))
	page := buf.String()
	dashtest.WellFormed(t, page)
	sec := page[strings.Index(page, `<section id="explanations">`):]
	sec = sec[:strings.Index(sec, "</section>")]
	assert.Contains(t, sec, "Recommended because of things like a; ranked lower because of b-ness.")
	assert.Contains(t, sec, "<td>2026-11-02 09:00</td><td>1</td><td>a 86%</td>")
	assert.Contains(t, sec, "concentrated on a (85.7%)")
	assert.Contains(t, sec, "top was a")
}

// TestReportWithoutExplanations: no section data when nothing is
// explained, and a bad configuration is refused naming its field.
func TestReportWithoutExplanations(t *testing.T) {
	r := buildReport(t, dashtest.Events(300))
	assert.Nil(t, r.Explanations)
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, r))
	assert.Contains(t, buf.String(), "No explained rankings.")

	for field, ec := range map[string]ExplanationsConfig{
		"TopFeatures": {TopFeatures: -1},
		"Threshold":   {Audit: explain.AuditConfig{Threshold: 2}},
	} {
		cfg := testConfig()
		cfg.Explanations = ec
		_, err := NewBuilder(cfg)
		require.Error(t, err)
		assert.Contains(t, err.Error(), field)
	}
}
