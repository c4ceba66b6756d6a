// Command relevance shows the relevance and fairness measurements on
// synthetic traffic, or on a directory of event files (JSON lines as
// written by exporters/file, e.g. the quickstart's output):
//
//	go run ./examples/relevance                   # synthetic traffic
//	go run ./examples/relevance -in rankscope-out -catalog 600 # your events
//
// -catalog is the number of recommendable items, for catalog coverage; it
// is not in the event files, so without it coverage is not computed (the
// quickstart's catalog has 600 items). The synthetic traffic's catalog
// size is its generator's.
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
	catalog := flag.Int("catalog", 0, "number of recommendable items, for coverage (default: unknown with -in, the generator's with synthetic traffic)")
	flag.Parse()
	if *in == "" && *catalog == 0 {
		*catalog = syntheticCatalog
	}
	ctx := context.Background()
	analyzer, err := relevance.New(relevance.Config{})
	if err != nil {
		log.Fatal(err)
	}
	tracker, err := fairness.New(fairness.Config{
		CatalogSize: *catalog,
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
	longest := 0 // items in the longest ranking, to read recall@K

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
			if e.Impression != nil {
				longest = max(longest, len(e.Impression.Items))
			}
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
			for _, e := range batch {
				if e.Impression != nil {
					longest = max(longest, len(e.Impression.Items))
				}
			}
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
		fmt.Printf("  ranking: NDCG@%d=%.3f MRR=%.3f P@%d=%.3f %s over %d of %d impressions\n",
			r.K, r.NDCG, r.MRR, r.K, r.Precision, recallText(r, longest), r.Judged, r.Impressions)
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
	fmt.Println(catalogText(frep.Catalog, *catalog))

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

// recallText prints recall@K, or why it says nothing: recall counts the
// relevant items in the top K among the relevant items of the served list
// (items never shown have no outcome), so when no list is longer than K
// it is 1 by construction.
func recallText(r relevance.RankingReport, longest int) string {
	if longest <= r.K {
		return fmt.Sprintf("R@%d=n/a (no list is longer than %d items, so recall within the served list is 1 by construction)", r.K, longest)
	}
	return fmt.Sprintf("R@%d=%.3f", r.K, r.Recall)
}

// catalogText prints the catalog's coverage, or says why it cannot.
func catalogText(c fairness.CatalogReport, size int) string {
	s := fmt.Sprintf("catalog: %d items exposed", c.Distinct)
	switch {
	case size == 0:
		s += ", coverage unknown (pass -catalog N)"
	case c.Exceeded:
		s += fmt.Sprintf(", MORE than the catalog size %d: -catalog is wrong (or item ids are not canonical), coverage not shown", size)
	default:
		s += fmt.Sprintf(" of %d, coverage=%.2f", size, c.Coverage)
	}
	return s + fmt.Sprintf(", Gini=%.3f", c.Gini)
}

// syntheticCatalog is the number of items of the synthetic traffic.
const syntheticCatalog = 500

var providers = []string{"major", "indie", "local"}

// scoredList is 10 items where the major provider gets inflated scores.
func scoredList(rng *rand.Rand) []personalize.Item {
	items := make([]personalize.Item, 10)
	for i := range items {
		id := rng.IntN(syntheticCatalog)
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
