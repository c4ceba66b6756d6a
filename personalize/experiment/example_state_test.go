package experiment_test

import (
	"fmt"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/experiment"
)

// Two workers each see the events of their own users, ship their states
// as bytes, and one process merges and analyses them: the report equals
// one collector's over all events.
func ExampleState_Merge() {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	workers := make([]*experiment.Collector, 2)
	for i := range workers {
		workers[i], _ = experiment.NewCollector(experiment.CollectorConfig{})
	}
	for u := range 40 {
		user := personalize.Pseudonym{ID: fmt.Sprintf("p%02d", u), KeyID: "k"}
		arm := []string{"control", "treatment"}[u%2]
		w := workers[u%2^(u/20)] // a split by user
		w.Add(personalize.Event{Type: personalize.EventExposure, Exposure: &personalize.Exposure{
			Time: at, UserID: user, Experiment: "ranker-v42", Variant: arm}})
		if u%3 == 0 {
			w.Add(personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{
				Time: at, UserID: user, Kind: personalize.OutcomeClick}})
		}
	}
	var merged experiment.State
	for _, w := range workers {
		b, _ := w.State().MarshalBinary() // what a worker sends
		var s experiment.State
		if err := s.UnmarshalBinary(b); err != nil {
			fmt.Println(err)
			return
		}
		if err := merged.Merge(&s); err != nil {
			fmt.Println(err)
			return
		}
	}
	r, _ := merged.Analyze(experiment.AnalysisConfig{Experiment: "ranker-v42"})
	for _, a := range r.Metrics[0].Arms {
		fmt.Printf("%s: %d units, click rate %.3f\n", a.Variant, a.Units, a.Estimate)
	}
	// Output:
	// control: 20 units, click rate 0.350
	// treatment: 20 units, click rate 0.350
}

// A warehouse's per-arm aggregates (COUNT, SUM, SUM of squares) become a
// State that Analyze reads like a collector's.
func ExampleNewSums() {
	m := []experiment.Metric{{Name: "revenue", Kind: personalize.OutcomePurchase, Aggregate: experiment.AggregateValue}}
	st := &experiment.State{Metrics: m, Experiments: []experiment.ExperimentState{{Name: "price-test", Arms: []experiment.ArmState{
		{Variant: "control", Units: 1000, Metrics: []experiment.Sums{experiment.NewSums(1000, 10200, 221000)}},
		{Variant: "treatment", Units: 1000, Metrics: []experiment.Sums{experiment.NewSums(1000, 11000, 245000)}},
	}}}}
	r, err := st.Analyze(experiment.AnalysisConfig{Experiment: "price-test"})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := r.Metrics[0].Comparisons[0]
	fmt.Printf("diff %.2f, p %.4f\n", c.Diff, c.P)
	// Output:
	// diff 0.80, p 0.1035
}
