package relevance_test

import (
	"context"
	"fmt"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/relevance"
	"github.com/rankscope/rankscope/personalize/segment"
)

func ExampleNDCG() {
	// scikit-learn's ndcg_score example: true relevance and model scores.
	v, _ := relevance.NDCG([]float64{10, 0, 0, 1, 5}, []float64{.1, .2, .3, 4, 70}, 0, relevance.GainLinear)
	fmt.Printf("%.4f\n", v)
	// Output: 0.6957
}

func ExampleRBO() {
	o, _ := relevance.RBO([]string{"a", "b", "c"}, []string{"b", "a", "d", "c"}, 0.9)
	fmt.Printf("RBO_ext=%.5f p=%v\n", o.Ext, o.Persistence)
	// Output: RBO_ext=0.81225 p=0.9
}

func ExampleAnalyzer() {
	a, err := relevance.New(relevance.Config{})
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	im := &personalize.Impression{RequestID: "r1", Start: at, End: at, Surface: "home",
		UserID:  personalize.Pseudonym{ID: "u1"},
		Context: []personalize.Attr{{Key: personalize.AttrDevice, Value: "mobile"}},
		Items:   []personalize.Item{{ID: "a", Position: 1, Score: 0.6}, {ID: "b", Position: 2, Score: 0.2}}}
	click := &personalize.Outcome{RequestID: "r1", Item: "a", Kind: personalize.OutcomeClick, Time: at.Add(time.Second)}
	_ = a.Export(context.Background(), []personalize.Event{
		{Type: personalize.EventImpression, Impression: im},
		{Type: personalize.EventOutcome, Outcome: click},
	})
	a.Flush() // offline: finalize what waits for outcomes
	for _, s := range a.Report(segment.DimDevice).Segments {
		fmt.Printf("%s NDCG@%d=%.2f MRR=%.2f Brier=%.2f CTR@1=%.2f\n", s.Key, s.Ranking.K, s.Ranking.NDCG,
			s.Ranking.MRR, s.Calibration.Brier, s.CTRByPosition[0].CTR)
	}
	// Output: device=mobile NDCG@10=1.00 MRR=1.00 Brier=0.10 CTR@1=1.00
}
