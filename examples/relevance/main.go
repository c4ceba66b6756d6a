// Command relevance shows the relevance and fairness measurements on
// synthetic traffic, or on a directory of event files (JSON lines as
// written by exporters/file, e.g. the quickstart's output):
//
//	go run ./examples/relevance                   # synthetic traffic
//	go run ./examples/relevance -in rankscope-out # your events
//
// In a service, add the analyzer and the tracker to
// personalize.Config.Exporters instead of calling Export yourself; they
// then receive every batch the pipeline exports.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"time"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/fairness"
	"github.com/rankscope/rankscope/personalize/relevance"
	"github.com/rankscope/rankscope/personalize/segment"
)

func main() {
	in := flag.String("in", "", "directory of event files (default: synthetic traffic)")
	flag.Parse()
	ctx := context.Background()
	analyzer, err := relevance.New(relevance.Config{})
	if err != nil {
		log.Fatal(err)
	}
	tracker, err := fairness.New(fairness.Config{
		CatalogSize: 500,
		OnAlert: func(a fairness.Alert) {
			state := "FIRING"
			if a.State == fairness.AlertResolved {
				state = "resolved"
			}
			fmt.Printf("alert %s: %s %s = %.3f (band %.2f-%.2f)\n", state, a.Segment, a.Ratio, a.Value, a.Band.Min, a.Band.Max)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	exporters := []personalize.Exporter{analyzer, tracker}

	if *in != "" {
		// Batches of 512 as the pipeline would deliver them; decoding on
		// both cores.
		batch := make([]personalize.Event, 0, 512)
		flush := func() error {
			for _, x := range exporters {
				if err := x.Export(ctx, batch); err != nil {
					return err
				}
			}
			batch = batch[:0]
			return nil
		}
		_, err := file.ReadConfig{Workers: 2}.ReadDir(*in, func(e personalize.Event) error {
			if batch = append(batch, e); len(batch) == cap(batch) {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			log.Fatal(err)
		}
	} else {
		for batch := range synthetic(20_000, 256) {
			for _, x := range exporters {
				if err := x.Export(ctx, batch); err != nil {
					log.Fatal(err)
				}
			}
		}
	}
	for _, x := range exporters {
		_ = x.Shutdown(ctx) // finalizes impressions still waiting for outcomes
	}

	rep := analyzer.Report(segment.DimDevice)
	fmt.Printf("\n%d events, %d joined outcomes, %d unjoined\n", rep.Stats.Events, rep.Stats.Join.Outcomes, rep.Stats.Join.Unjoined)
	for _, s := range rep.Segments {
		fmt.Printf("\n[%s]\n", s.Key)
		c := s.Calibration
		fmt.Printf("  calibration: n=%d brier=%.4f logloss=%.4f ECE=%.4f MCE=%.4f (equal-mass ECE=%.4f)\n",
			c.N, c.Brier, c.LogLoss, c.EqualWidth.ECE, c.EqualWidth.MCE, c.EqualMass.ECE)
		r := s.Ranking
		fmt.Printf("  ranking: NDCG@%d=%.3f MRR=%.3f P@%d=%.3f R@%d=%.3f over %d of %d impressions\n",
			r.K, r.NDCG, r.MRR, r.K, r.Precision, r.K, r.Recall, r.Judged, r.Impressions)
		fmt.Print("  CTR by position:")
		for _, p := range s.CTRByPosition[:min(5, len(s.CTRByPosition))] {
			fmt.Printf(" %d:%.3f", p.Position, p.CTR)
		}
		fmt.Printf("\n  stability: RBO(p=%.2f)=%.3f tau-b=%.3f over %d pairs\n", s.Stability.Persistence, s.Stability.RBO, s.Stability.KendallTauB, s.Stability.Pairs)
		e := s.Engagement
		fmt.Printf("  engagement: dwell mean=%.1fs p90=%.1fs, repeat visits %.1f%%\n", e.DwellMean, e.DwellP90, 100*e.RepeatRate)
	}
	fmt.Print("\nposition bias (PBM, relative to position 1):")
	for k, v := range rep.PositionBias.Examination[:5] {
		fmt.Printf(" %d:%.2f", k+1, v)
	}
	fmt.Println()

	frep := tracker.Report(segment.DimNone)
	for _, s := range frep.Segments {
		fmt.Printf("\nfairness [%s]: parity=%.3f treatment=%.3f impact=%.3f outcome rate=%.3f entropy=%.2f bits\n",
			s.Key, s.Ratios.DemographicParity, s.Ratios.DisparateTreatment, s.Ratios.DisparateImpact, s.OutcomeRate, s.MeanCategoryEntropy)
		for _, g := range s.Groups {
			fmt.Printf("  %-6s exposure/placement=%.3f relevance/placement=%.3f CTR=%.3f\n", g.Group, g.MeanExposure, g.MeanRelevance, g.CTR)
		}
	}
	fmt.Printf("catalog: %d items exposed, coverage=%.2f, Gini=%.3f\n", frep.Catalog.Distinct, frep.Catalog.Coverage, frep.Catalog.Gini)

	// Opt-in re-ranking of one scored list.
	rr, err := fairness.NewReranker(fairness.RerankConfig{Target: fairness.TargetEqual, Tolerance: 0.25})
	if err != nil {
		log.Fatal(err)
	}
	res, err := rr.Rerank(scoredList(rand.New(rand.NewPCG(9, 9))))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\nre-ranker (%s): within band=%v, relevance lost=%.2f%%\n", res.Method, res.WithinBand, 100*res.RelevanceLost)
	for _, g := range res.Groups {
		fmt.Printf("  %-6s exposure share %.3f -> %.3f (target %.3f, band %.3f-%.3f)\n", g.Group, g.Before, g.After, g.Target, g.Lo, g.Hi)
	}
}

var providers = []string{"major", "indie", "local"}

// scoredList is 10 items where the major provider gets inflated scores.
func scoredList(rng *rand.Rand) []personalize.Item {
	items := make([]personalize.Item, 10)
	for i := range items {
		id := rng.IntN(500)
		p := providers[id%3]
		s := quality(id) + 0.1*rng.Float64() // the score sees quality with noise
		if p == "major" {
			s += 0.2 // and favours the major provider
		}
		items[i] = personalize.Item{ID: fmt.Sprint("item-", id), Score: min(s, 1), Provider: p, Category: fmt.Sprint("cat-", id%8)}
	}
	for i := range items {
		for j := i + 1; j < len(items); j++ {
			if items[j].Score > items[i].Score {
				items[i], items[j] = items[j], items[i]
			}
		}
	}
	for i := range items {
		items[i].Position = i + 1
	}
	return items
}

// quality is an item's true attractiveness, fixed per item.
func quality(id int) float64 {
	x := float64(id) * 0.6180339887
	return 0.1 + 0.5*(x-float64(int(x)))
}

// synthetic yields batches of impressions with clicks drawn from a
// position-based model (examination 1/position, attractiveness fixed per
// item) and an over-confident
// model score.
func synthetic(requests, batchSize int) func(func([]personalize.Event) bool) {
	return func(yield func([]personalize.Event) bool) {
		rng := rand.New(rand.NewPCG(1, 2))
		devices := []string{"mobile", "desktop"}
		start := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
		var batch []personalize.Event
		for r := range requests {
			at := start.Add(time.Duration(r) * 3 * time.Second)
			user := fmt.Sprint("user-", rng.IntN(2000))
			im := &personalize.Impression{EventID: personalize.NewEventID(), RequestID: fmt.Sprint("req-", r), Start: at.Add(-20 * time.Millisecond), End: at,
				Surface: "home", UserID: personalize.Pseudonym{ID: user}, SessionID: personalize.Pseudonym{ID: fmt.Sprint(user, "-", r/4000)},
				Context: []personalize.Attr{{Key: personalize.AttrDevice, Value: devices[rng.IntN(2)]}}, Items: scoredList(rng)}
			batch = append(batch, personalize.Event{Type: personalize.EventImpression, Impression: im})
			for _, it := range im.Items {
				examine := 1 / float64(it.Position)
				var id int
				fmt.Sscanf(it.ID, "item-%d", &id)
				trueCTR := quality(id) * 0.6 // the model is over-confident
				if rng.Float64() < examine*trueCTR {
					o := &personalize.Outcome{EventID: personalize.NewEventID(), RequestID: im.RequestID, UserID: im.UserID, Item: it.ID,
						Kind: personalize.OutcomeClick, Time: at.Add(5 * time.Second)}
					d := *o
					d.Kind, d.Dwell, d.Time = personalize.OutcomeDwell, time.Duration(5+rng.IntN(120))*time.Second, at.Add(40*time.Second)
					batch = append(batch, personalize.Event{Type: personalize.EventOutcome, Outcome: o}, personalize.Event{Type: personalize.EventOutcome, Outcome: &d})
				}
			}
			if len(batch) >= batchSize {
				if !yield(batch) {
					return
				}
				batch = nil
			}
		}
		if len(batch) > 0 {
			yield(batch)
		}
	}
}
