package experiment

import (
	"strconv"
	"testing"
	"time"

	"github.com/rankscope/rankscope/personalize"
)

// BenchmarkAnalyzeUnits measures Analyze alone (one op) on a collector
// holding 1 M units in two arms with the default four metrics: the part
// of an analysis that folds units into per-arm statistics, exact sums
// since the State.
func BenchmarkAnalyzeUnits(b *testing.B) {
	const units = 1_000_000
	c, err := NewCollector(CollectorConfig{})
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for u := range units {
		user := personalize.Pseudonym{ID: "u" + strconv.Itoa(u), KeyID: "k"}
		c.Add(personalize.Event{Type: personalize.EventExposure, Exposure: &personalize.Exposure{Time: at, UserID: user,
			Experiment: "ranker-v42", Variant: []string{"control", "treatment"}[u%2]}})
		for k := range u % 4 {
			c.Add(personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{Time: at, UserID: user,
				Kind: []personalize.OutcomeKind{personalize.OutcomeClick, personalize.OutcomePurchase}[k%2], Value: float64(k) * 9.99}})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := c.Analyze(AnalysisConfig{Experiment: "ranker-v42"})
		if err != nil || r.Arms[0].Units+r.Arms[1].Units != units {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/units, "ns/unit")
}
