package explain_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rankscope/rankscope/personalize/explain"
	"github.com/rankscope/rankscope/personalize/schema"
)

var labels = map[string]string{
	"recency":       "new arrivals",
	"same_category": "items like ones you bought",
	"popularity":    "popular near you",
	"affinity":      "your interests",
	"price":         "its price",
}

func item(ex ...schema.Contribution) schema.Item {
	return schema.Item{ID: "sku-1", Position: 1, Score: 1, Explanation: ex}
}

func TestWhy(t *testing.T) {
	// Positives by magnitude: same_category 0.9, internal_x 0.5 (no
	// label), then affinity and recency tie at 0.42 (by name: affinity
	// first), popularity 0.1 is fourth; price -0.3 is the one negative.
	it := item(schema.Contribution{Feature: "recency", Value: 0.42}, schema.Contribution{Feature: "price", Value: -0.3},
		schema.Contribution{Feature: "same_category", Value: 0.9}, schema.Contribution{Feature: "popularity", Value: 0.1},
		schema.Contribution{Feature: "affinity", Value: 0.42}, schema.Contribution{Feature: "internal_x", Value: 0.5},
		schema.Contribution{Feature: "zero", Value: 0})
	tests := []struct {
		name string
		it   schema.Item
		opts explain.Options
		want string
	}{
		{"labels, top three positives", it, explain.Options{Labels: labels},
			"Recommended because of items like ones you bought, your interests and new arrivals."},
		{"negatives too", it, explain.Options{Labels: labels, Negative: true},
			"Recommended because of items like ones you bought, your interests and new arrivals; ranked lower because of its price."},
		{"values on request", it, explain.Options{Labels: labels, Negative: true, Values: true},
			"Recommended because of items like ones you bought (+0.9), your interests (+0.42) and new arrivals (+0.42); ranked lower because of its price (-0.3)."},
		{"max four", it, explain.Options{Labels: labels, Max: 4},
			"Recommended because of items like ones you bought, your interests, new arrivals and popular near you."},
		{"max one", it, explain.Options{Labels: labels, Max: 1}, "Recommended because of items like ones you bought."},
		{"raw names without labels", it, explain.Options{},
			"Recommended because of same_category, internal_x and affinity."},
		{"own wording", it, explain.Options{Labels: labels, Max: 2, Because: "Picked for", Negative: true, Against: "despite"},
			"Picked for items like ones you bought and your interests; despite its price."},
		{"only negatives", item(schema.Contribution{Feature: "price", Value: -0.3}), explain.Options{Labels: labels, Negative: true},
			"Ranked lower because of its price."},
		{"only negatives, not asked", item(schema.Contribution{Feature: "price", Value: -0.3}), explain.Options{Labels: labels}, ""},
		{"no explanation", item(), explain.Options{Labels: labels}, ""},
		{"nothing labelled", item(schema.Contribution{Feature: "internal_x", Value: 1}), explain.Options{Labels: labels}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, explain.Why(tt.it, tt.opts))
		})
	}
}

func TestReasonsOrderIsDeterministic(t *testing.T) {
	a := item(schema.Contribution{Feature: "b", Value: 0.5}, schema.Contribution{Feature: "a", Value: 0.5},
		schema.Contribution{Feature: "d", Value: -0.5}, schema.Contribution{Feature: "c", Value: -0.5})
	b := item(a.Explanation[3], a.Explanation[1], a.Explanation[2], a.Explanation[0])
	opts := explain.Options{Negative: true}
	want := []explain.Reason{{"a", "a", 0.5}, {"b", "b", 0.5}, {"c", "c", -0.5}, {"d", "d", -0.5}}
	assert.Equal(t, want, explain.Reasons(a, opts))
	assert.Equal(t, want, explain.Reasons(b, opts), "the input order does not matter")
}
