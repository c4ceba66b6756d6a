package schema_test

import (
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize/schema"
)

// item0 is an item with the explanation ex (a JSON array or value).
func item0(ex string) string {
	return itemsWith(`[{"id":"a","position":1,"score":0.5,"explanation":` + ex + `}]`)
}

func TestDecodeExplanationsMatchReference(t *testing.T) {
	long := strings.Repeat("f", schema.MaxFeatureNameLen+1)
	nine := make([]string, schema.MaxContributions+1)
	for i := range nine {
		nine[i] = `{"feature":"f` + string(rune('a'+i)) + `","value":0.1}`
	}
	tests := []struct {
		name  string
		line  string
		field string // "" with ok false: a JSON error
		ok    bool
		want  []schema.Contribution
	}{
		{name: "plain", line: item0(`[{"feature":"recency","value":0.25},{"feature":"price","value":-0.125}]`), ok: true,
			want: []schema.Contribution{{Feature: "recency", Value: 0.25}, {Feature: "price", Value: -0.125}}},
		{name: "whitespace and key order", line: item0(` [ { "value" : 1e-3 , "feature" : "r" } ] `), ok: true,
			want: []schema.Contribution{{Feature: "r", Value: 0.001}}},
		{name: "escaped feature", line: item0(`[{"feature":"caf\u00e9","value":1}]`), ok: true,
			want: []schema.Contribution{{Feature: "café", Value: 1}}},
		{name: "folded keys", line: itemsWith(`[{"id":"a","position":1,"score":0.5,"EXPLANATION":[{"Feature":"r","VALUE":2}]}]`), ok: true,
			want: []schema.Contribution{{Feature: "r", Value: 2}}},
		{name: "unknown member skipped", line: item0(`[{"feature":"r","value":2,"extra":[1,{}]}]`), ok: true,
			want: []schema.Contribution{{Feature: "r", Value: 2}}},
		{name: "before other fields", line: itemsWith(`[{"explanation":[{"feature":"r","value":2}],"id":"a","position":1,"score":0.5}]`), ok: true,
			want: []schema.Contribution{{Feature: "r", Value: 2}}},
		{name: "empty", line: item0(`[]`), ok: true},
		{name: "null", line: item0(`null`), ok: true},
		{name: "nulled then set", line: itemsWith(`[{"id":"a","position":1,"score":0.5,"explanation":null,"explanation":[{"feature":"r","value":2}]}]`), ok: true,
			want: []schema.Contribution{{Feature: "r", Value: 2}}},
		{name: "set then nulled", line: itemsWith(`[{"id":"a","position":1,"score":0.5,"explanation":[{"feature":"r","value":2}],"explanation":null}]`), ok: true},
		// encoding/json merges the second array into the first element by
		// element: the decoder hands the line to the reference.
		{name: "repeated", line: itemsWith(`[{"id":"a","position":1,"score":0.5,"explanation":[{"feature":"r","value":2}],"explanation":[{"feature":"q"}]}]`), ok: true,
			want: []schema.Contribution{{Feature: "q", Value: 2}}},
		{name: "null element", line: item0(`[null]`), field: "items[0].explanation[0].value"},
		{name: "missing value", line: item0(`[{"feature":"r"}]`), field: "items[0].explanation[0].value"},
		{name: "null value", line: item0(`[{"feature":"r","value":1,"value":null}]`), field: "items[0].explanation[0].value"},
		{name: "missing feature", line: item0(`[{"value":1}]`), field: "items[0].explanation[0].feature"},
		{name: "duplicate feature", line: item0(`[{"feature":"r","value":1},{"feature":"r","value":2}]`), field: "items[0].explanation[1].feature"},
		{name: "feature too long", line: item0(`[{"feature":"` + long + `","value":1}]`), field: "items[0].explanation[0].feature"},
		{name: "too many", line: item0(`[` + strings.Join(nine, ",") + `]`), field: "items[0].explanation"},
		{name: "value as string", line: item0(`[{"feature":"r","value":"1"}]`)},
		{name: "value out of range", line: item0(`[{"feature":"r","value":1e999}]`)},
		{name: "not an array", line: item0(`{"feature":"r","value":1}`)},
		{name: "element not an object", line: item0(`[1]`)},
		{name: "truncated", line: impNoItems + `,"items":[{"id":"a","position":1,"score":0.5,"explanation":[{"feature":"r","value":1`},
		{name: "second item's", line: itemsWith(`[{"id":"a","position":1,"score":1},{"id":"b","position":2,"score":1,"explanation":[{"feature":"r","value":1},{"feature":"s"}]}]`),
			field: "items[1].explanation[1].value"},
		{name: "position missing comes first", line: itemsWith(`[{"id":"a","score":1,"explanation":[{"feature":"r"}]}]`), field: "items[0].position"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := agree(t, []byte(tt.line))
			if !tt.ok {
				require.Error(t, err)
				var de *schema.DecodeError
				require.ErrorAs(t, err, &de)
				if tt.field != "" {
					assert.Equal(t, tt.field, de.Field, "%v", err)
					return
				}
				_, rerr := schema.UnmarshalEventReference([]byte(tt.line))
				var rde *schema.DecodeError
				require.ErrorAs(t, rerr, &rde)
				assert.Empty(t, rde.Field, "the reference sees a JSON error: %v", rerr)
				return
			}
			require.NoError(t, err)
			got := e.Impression.Items[len(e.Impression.Items)-1].Explanation
			if tt.want == nil {
				assert.Nil(t, got, "an empty or null explanation decodes as nil")
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func validImpression() *schema.Impression {
	end := time.Date(2026, 11, 2, 9, 0, 1, 0, time.UTC)
	return &schema.Impression{RequestID: "r", Start: end.Add(-time.Millisecond), End: end,
		UserID: schema.Pseudonym{ID: "u"},
		Items: []schema.Item{{ID: "a", Position: 1, Score: 1}, {ID: "b", Position: 2, Score: 0.5},
			{ID: "c", Position: 3, Score: 0.2}, {ID: "d", Position: 4, Score: 0.1}}}
}

func TestValidateExplanation(t *testing.T) {
	tests := []struct {
		name   string
		ex     []schema.Contribution
		field  string
		reason string
	}{
		{name: "ok", ex: []schema.Contribution{{"recency", 0.5}, {"price", -0.25}, {"zero", 0}}},
		{name: "bound exactly", ex: func() []schema.Contribution {
			ex := make([]schema.Contribution, schema.MaxContributions)
			for i := range ex {
				ex[i] = schema.Contribution{Feature: strings.Repeat(string(rune('a'+i)), schema.MaxFeatureNameLen), Value: 1}
			}
			return ex
		}()},
		{name: "too many", ex: make([]schema.Contribution, schema.MaxContributions+1), field: "items[3].explanation", reason: "out_of_range"},
		{name: "empty feature", ex: []schema.Contribution{{"a", 1}, {"", 1}}, field: "items[3].explanation[1].feature", reason: "missing"},
		{name: "long feature", ex: []schema.Contribution{{strings.Repeat("x", schema.MaxFeatureNameLen+1), 1}}, field: "items[3].explanation[0].feature", reason: "out_of_range"},
		{name: "invalid UTF-8", ex: []schema.Contribution{{"a\xff", 1}}, field: "items[3].explanation[0].feature", reason: "out_of_range"},
		{name: "duplicate", ex: []schema.Contribution{{"a", 1}, {"b", 1}, {"a", 2}}, field: "items[3].explanation[2].feature", reason: "duplicate"},
		{name: "NaN", ex: []schema.Contribution{{"a", 1}, {"b", math.NaN()}}, field: "items[3].explanation[1].value", reason: "not_finite"},
		{name: "Inf", ex: []schema.Contribution{{"a", math.Inf(-1)}}, field: "items[3].explanation[0].value", reason: "not_finite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im := validImpression()
			im.Items[3].Explanation = tt.ex
			err := im.Validate()
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			var ve *schema.ValidationError
			require.True(t, errors.As(err, &ve), "%v", err)
			assert.Equal(t, tt.field, ve.Field)
			assert.Equal(t, tt.reason, ve.Reason)
			// The metric attribute drops the indexes: a bounded set.
			assert.Equal(t, regexp.MustCompile(`\[[0-9]+\]`).ReplaceAllString(tt.field, ""), ve.MetricField())
			assert.NotContains(t, ve.MetricField(), "[")
		})
	}
}

func TestExplanationWire(t *testing.T) {
	im := validImpression()
	im.EventID = schema.EventID{1, 2, 3, 4, 5, 6, 0x70, 8, 0x80}
	e := schema.Event{Type: schema.EventImpression, Impression: im}
	without, err := schema.AppendJSON(nil, e)
	require.NoError(t, err)
	assert.NotContains(t, string(without), "explanation", "absent explanations are not written")

	im.Items[1].Explanation = []schema.Contribution{{"recency", 0.25}, {"price", -0.125}}
	with, err := schema.AppendJSON(nil, e)
	require.NoError(t, err)
	add := `,"explanation":[{"feature":"recency","value":0.25},{"feature":"price","value":-0.125}]`
	assert.Equal(t, len(without)+len(add), len(with))
	assert.Contains(t, string(with), `"score":0.5`+add+`}`)

	back, err := agree(t, with)
	require.NoError(t, err)
	assert.Equal(t, im.Items[1].Explanation, back.Impression.Items[1].Explanation)
	assert.Nil(t, back.Impression.Items[0].Explanation)
	ex := back.Impression.Items[1].Explanation
	assert.Equal(t, len(ex), cap(ex), "an item's explanation cannot be appended into its neighbour's")
}

// BenchmarkAppendJSONImpressionExplained encodes the 10-item impression of
// BenchmarkAppendJSONImpression with three contributions on each of its
// top three items: the cost of explanations where they are used.
func BenchmarkAppendJSONImpressionExplained(b *testing.B) {
	items := benchItems()
	for i := range 3 {
		items[i].Explanation = []schema.Contribution{{Feature: "same_category", Value: 0.41}, {Feature: "recency", Value: 0.2216}, {Feature: "price", Value: -0.09}}
	}
	end := time.Date(2026, 12, 4, 17, 3, 9, 123456789, time.UTC)
	im := &schema.Impression{EventID: schema.NewEventID(), RequestID: "0193a5c8-6f1e-7cc2-b1a4-5d2e8f9a0b1c",
		Start: end.Add(-3 * time.Millisecond), End: end, Service: "feed-ranker", Surface: "home_feed",
		UserID: schema.Pseudonym{ID: "dbd4147a71286348ea76ec4790f5230f", KeyID: "k1"}, Items: items}
	ev := schema.Event{Type: schema.EventImpression, Impression: im}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = schema.AppendJSON(buf[:0], ev)
	}
	b.SetBytes(int64(len(buf)))
}
