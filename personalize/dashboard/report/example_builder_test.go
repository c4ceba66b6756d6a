package report_test

import (
	"fmt"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/dashboard/report"
)

func ExampleBuilder() {
	b, _ := report.NewBuilder(report.Config{})
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	_ = b.Add(personalize.Event{Type: personalize.EventImpression, Impression: &personalize.Impression{
		RequestID: "r1", Start: at.Add(-20 * time.Millisecond), End: at, Service: "feed-ranker",
		Items: []personalize.Item{{ID: "a", Position: 1, Score: 0.5}, {ID: "b", Position: 2, Score: 0.2}}}})
	_ = b.Add(personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{
		RequestID: "r1", Item: "a", Kind: personalize.OutcomeClick, Time: at.Add(time.Second)}})
	r := b.Report()
	fmt.Println(r.Counts.Impressions, r.CTR.Successes, r.CTR.Trials, r.CTRByPosition[0].CTR, r.Latency[0].Stage)
	// Output: 1 1 2 1 total
}
