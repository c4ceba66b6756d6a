package fairness_test

import (
	"fmt"
	"strings"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/fairness"
)

func ExampleExposure() {
	w, _ := fairness.NewWeights(10, nil) // 1/log2(1+position)
	e, _ := fairness.NewExposure(w, 100)
	e.Observe("A", 1, 0.9)
	e.Observe("A", 2, 0.8)
	e.Observe("B", 3, 0.7)
	e.Observe("B", 4, 0.6)
	groups, ratios := e.Report(1)
	for _, g := range groups {
		fmt.Printf("%s exposure=%.3f relevance=%.2f\n", g.Group, g.MeanExposure, g.MeanRelevance)
	}
	fmt.Printf("parity=%.3f treatment=%.3f\n", ratios.DemographicParity, ratios.DisparateTreatment)
	// Output:
	// A exposure=0.815 relevance=0.85
	// B exposure=0.465 relevance=0.65
	// parity=0.571 treatment=0.746
}

func ExampleReranker() {
	var items []personalize.Item
	for i, s := range []float64{0.9, 0.85, 0.8, 0.3, 0.25, 0.2} {
		p := "big"
		if i >= 3 {
			p = "small"
		}
		items = append(items, personalize.Item{ID: fmt.Sprint(p, i), Position: i + 1, Score: s, Provider: p})
	}
	rr, _ := fairness.NewReranker(fairness.RerankConfig{Target: fairness.TargetEqual, Tolerance: 0.15})
	res, _ := rr.Rerank(items)
	var ids []string
	for _, it := range res.Items {
		ids = append(ids, it.ID)
	}
	fmt.Println(strings.Join(ids, " "))
	fmt.Printf("method=%s within=%v lost=%.1f%%\n", res.Method, res.WithinBand, 100*res.RelevanceLost)
	for _, g := range res.Groups {
		fmt.Printf("%s share %.2f -> %.2f (band %.2f-%.2f)\n", g.Group, g.Before, g.After, g.Lo, g.Hi)
	}
	// Output:
	// big0 small3 big1 small4 big2 small5
	// method=exact within=true lost=6.1%
	// big share 0.64 -> 0.57 (band 0.42-0.57)
	// small share 0.36 -> 0.43 (band 0.42-0.57)
}
