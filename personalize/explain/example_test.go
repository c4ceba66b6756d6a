package explain_test

import (
	"fmt"
	"time"

	"github.com/rankscope/rankscope/personalize/explain"
	"github.com/rankscope/rankscope/personalize/schema"
)

// A "why am I seeing this" line from an item's explanation, with the
// labels users see; features without a label stay internal.
func ExampleWhy() {
	item := schema.Item{ID: "sku-7", Position: 1, Score: 0.83, Explanation: []schema.Contribution{
		{Feature: "same_category", Value: 0.41},
		{Feature: "recency", Value: 0.22},
		{Feature: "price", Value: -0.09},
		{Feature: "embedding_17", Value: 0.3},
	}}
	labels := map[string]string{
		"same_category": "items like ones you bought",
		"recency":       "new arrivals",
		"price":         "its price",
	}
	fmt.Println(explain.Why(item, explain.Options{Labels: labels}))
	fmt.Println(explain.Why(item, explain.Options{Labels: labels, Negative: true, Values: true}))
	// Output:
	// Recommended because of items like ones you bought and new arrivals.
	// Recommended because of items like ones you bought (+0.41) and new arrivals (+0.22); ranked lower because of its price (-0.09).
}

// A reliance audit over two hours: the model leans on one feature in the
// first hour, and another takes over in the second.
func ExampleAudit() {
	audit, err := explain.NewAudit(explain.AuditConfig{Window: time.Hour, Threshold: 0.5})
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 11, 2, 9, 15, 0, 0, time.UTC)
	add := func(t time.Time, ex ...schema.Contribution) {
		audit.Add(&schema.Impression{RequestID: "r", Start: t, End: t,
			Items: []schema.Item{{ID: "a", Position: 1, Score: 1, Explanation: ex}}})
	}
	add(at, schema.Contribution{Feature: "popularity", Value: 0.6}, schema.Contribution{Feature: "recency", Value: 0.2})
	add(at.Add(time.Hour), schema.Contribution{Feature: "popularity", Value: 0.3}, schema.Contribution{Feature: "recency", Value: -0.5})
	for _, w := range audit.Windows() {
		fmt.Printf("%s top %s %.2f HHI %.3f concentrated=%v changed=%v\n",
			w.Start.Format("15:04"), w.Top, w.TopShare, w.HHI, w.Concentrated, w.TopChanged)
	}
	// Output:
	// 09:00 top popularity 0.75 HHI 0.625 concentrated=true changed=false
	// 10:00 top recency 0.62 HHI 0.531 concentrated=true changed=true
}
