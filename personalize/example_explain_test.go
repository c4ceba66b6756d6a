package personalize_test

import (
	"context"
	"fmt"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/explain"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

// Items carry the model's top feature contributions to their scores
// (Item.Explanation); Impress copies them with the items, the exporters
// write them, and personalize/explain turns them into the "why am I seeing
// this" text.
func ExampleInference_Impress_explanations() {
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		fmt.Println(err)
		return
	}
	mem := personalizetest.NewMemoryExporter()
	inst, err := personalize.New(personalize.Config{Service: "feed-ranker", Pseudonymize: kr,
		Exporters: []personalize.Exporter{mem}})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, inf := inst.Start(context.Background(), personalize.Request{User: "u-123", Surface: "home_feed"})
	inf.Impress([]personalize.Item{
		{ID: "sku-7", Position: 1, Score: 0.62, Explanation: []personalize.Contribution{
			{Feature: "same_category", Value: 0.41}, {Feature: "recency", Value: 0.12}, {Feature: "price", Value: -0.05}}},
		{ID: "sku-3", Position: 2, Score: 0.31}, // no explanation: nothing is written for it
	})
	if err := inf.End(nil); err != nil {
		fmt.Println(err)
	}
	if err := inst.Shutdown(context.Background()); err != nil {
		fmt.Println(err)
	}
	labels := map[string]string{"same_category": "items like ones you bought", "recency": "new arrivals", "price": "its price"}
	for _, im := range mem.Impressions() {
		for _, it := range im.Items {
			fmt.Printf("%s: %d contributions: %q\n", it.ID, len(it.Explanation),
				explain.Why(it, explain.Options{Labels: labels, Negative: true}))
		}
	}
	// Output:
	// sku-7: 3 contributions: "Recommended because of items like ones you bought and new arrivals; ranked lower because of its price."
	// sku-3: 0 contributions: ""
}
