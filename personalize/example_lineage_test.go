package personalize_test

import (
	"context"
	"fmt"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

// A service registers each model version it serves with the hash of its
// feature definitions; impressions that name the same model and
// model_version join to the record, so "which feature definitions produced
// this ranking" has an answer. Registering the same triple again is a
// no-op.
func ExampleInstrument_RegisterModel() {
	kr, _ := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	mem := personalizetest.NewMemoryExporter()
	in, err := personalize.New(personalize.Config{Service: "feed-ranker", Pseudonymize: kr, Exporters: []personalize.Exporter{mem}})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	features := map[string]string{
		"ctr_7d":  "clicks_7d / impressions_7d",
		"recency": "hours since the item was updated",
	}
	meta := personalize.ModelMetadata{Model: "two-tower", Version: "2026-11-01", FeatureSet: "fs-12",
		FeatureHash: personalize.FeatureHash(features), TrainingSnapshot: "events-2026-10-31", Owner: "ranking-team"}
	for range 3 { // e.g. on every model reload: emitted once
		if err := in.RegisterModel(ctx, meta); err != nil {
			fmt.Println(err)
		}
	}
	meta.FeatureHash = "not hex"
	fmt.Println(in.RegisterModel(ctx, meta))
	_ = in.Shutdown(ctx)

	for _, e := range mem.Events() {
		m := e.Model
		fmt.Println(e.Type, m.Model, m.Version, m.FeatureSet, m.FeatureHash[:16], m.TrainingSnapshot, m.Owner)
	}
	fmt.Println("model records accepted:", in.Stats().Models)
	// Output:
	// personalize: invalid model: feature_hash out_of_range: must be an even number of 32 to 128 hex digits, got 7
	// model two-tower 2026-11-01 fs-12 e4a28effccedfdc5 events-2026-10-31 ranking-team
	// model records accepted: 1
}
