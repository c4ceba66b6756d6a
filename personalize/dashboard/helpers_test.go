package dashboard

import (
	"context"
	"math"
	"time"

	"github.com/rankscope/rankscope/personalize/dashboard/internal/dashtest"
	"github.com/rankscope/rankscope/personalize/dashboard/panel"
)

// fakeSource fills every panel with fixed numbers.
func fakeSource() Source {
	return SourceFunc(func(_ context.Context, s *Snapshot) error {
		s.Latency = []panel.StageLatency{{Stage: "model_scoring", SLO: panel.SLO{P95Ms: 50, P99Ms: 52},
			Windows: []panel.Quantiles{{Window: WindowMinute, Count: 60, MeanMs: 29.5, P50Ms: 29, P95Ms: 52, P99Ms: 54, Degraded: 1},
				{Window: WindowHour, Count: 1000, MeanMs: 29.6, P50Ms: 30, P95Ms: 51.8, P99Ms: 53.9, Degraded: 10}},
			Objectives: []panel.Objective{{Window: WindowMinute, Target: "p95", ObjectiveMs: 50, ObservedMs: 52, Count: 60, Evaluated: true, Since: dashtest.Now.Add(-time.Minute)},
				{Window: WindowMinute, Target: "p99", ObjectiveMs: 52, ObservedMs: 54, Count: 60, Evaluated: true, Since: dashtest.Now.Add(-time.Minute)}},
			Histogram: []panel.Bucket{{LoMs: 5, HiMs: 10, Count: 100}, {LoMs: 10, HiMs: 20, Count: 200}, {LoMs: 20, HiMs: 40, Count: 400}, {LoMs: 40, HiMs: 55, Count: 300}}}}
		s.Traffic = &Traffic{RequestsPerSecond: 120.5, EventsPerSecond: 260, LastEventAgeSeconds: 0.8, LagP95Seconds: 1.2,
			Series: []RatePoint{{Time: dashtest.Now.Add(-20 * time.Second), RequestsPerSecond: 110, EventsPerSecond: 240}, {Time: dashtest.Now.Add(-10 * time.Second), RequestsPerSecond: 131, EventsPerSecond: 280}}}
		s.Pipeline = &Pipeline{Accepted: 123456, Queued: 12, QueueCapacity: 8192, OptedOut: 7,
			Dropped:   []Count{{Key: "queue_full", Count: 42}},
			Rejected:  []Count{{Key: "impression.items.propensity", Count: 3}},
			Exporters: []ExporterHealth{{Name: "file", Exported: 123400, LastExportAgeSeconds: 0.5, Healthy: true}, {Name: "webhook", Exported: 100, Dropped: 56, LastExportAgeSeconds: 95, LastError: "status_503"}}}
		s.Runtime = &Runtime{GOMAXPROCS: 2, Goroutines: 17, CPUFraction: 0.23, HeapBytes: 12 << 20, HeapGoal: 16 << 20, GCCycles: 9, GCPauseP50Ms: 0.05, GCPauseP99Ms: 0.4, GCPauseMaxMs: 0.9}
		// chisq.test(c(5010, 4990)): X-squared = 0.04, p-value = 0.8415 (by
		// hand: erfc(sqrt(0.02)) = 0.841481).
		s.Experiments = []panel.Experiment{{Name: "ranker-v42", Arms: []panel.Arm{{Variant: "control", Units: 5010, ExpectedShare: 0.5}, {Variant: "treatment", Units: 4990, ExpectedShare: 0.5}},
			SRMPValue: 0.841481, SRMThreshold: 0.001, SRM: panel.SRMOK}}
		s.Calibration = &panel.Calibration{Count: 1000, ECE: 0.02, MCE: 0.03, Brier: 0.07, Bins: []panel.CalibrationBin{{Lo: 0, Hi: 0.1, Count: 600, MeanPredicted: 0.05, Observed: 0.06}, {Lo: 0.1, Hi: 0.2, Count: 400, MeanPredicted: 0.15, Observed: 0.13}}}
		s.CTRByPosition = []panel.PositionCTR{{Position: 1, Impressions: 1000, Clicks: 120, CTR: 0.12, Lo: 0.101, Hi: 0.142, Examination: 1}, {Position: 2, Impressions: 1000, Clicks: 80, CTR: 0.08, Lo: 0.065, Hi: 0.098, Examination: 0.7}}
		s.Ranking = &panel.Ranking{K: 10, Impressions: 1000, Judged: 180, NDCG: 0.61, MRR: 0.55}
		s.Fairness = &panel.Fairness{DemographicParity: 0.43, DisparateTreatment: 0.82, DisparateImpact: panel.Float(math.NaN()),
			Diversity: panel.Diversity{MeanCategories: 2.4, MeanEntropyBits: 1.2, ItemGini: 0.31, TopShare: 0.05, DistinctItems: 420, DistinctExact: true},
			Groups: []panel.GroupExposure{{Group: "provider-a", Placements: 1000, ExposureShare: 0.7, RelevanceShare: 0.5, ClickShare: 0.55, ShareRatio: 1.4, ExposurePerRelevance: 2.1, CTR: 0.1},
				{Group: "provider-b", Placements: 1000, ExposureShare: 0.3, RelevanceShare: 0.5, ClickShare: 0.45, ShareRatio: 0.6, ExposurePerRelevance: 0.9, CTR: 0.08}}}
		s.Drift = []FeatureDrift{{Feature: "user_age_days", PSI: 0.31, KS: 0.22, JS: 0.05, WassersteinSD: 0.498, OutOfRange: 0.03, Status: "critical"},
			{Feature: "item_price", PSI: 0.04, KS: 0.03, JS: 0.004, WassersteinSD: 0.02, Status: "ok"}}
		s.Freshness = []Freshness{{Source: "events", Count: 5000, MeanMs: 180, P50Ms: 128, P99Ms: 512, MaxMs: 900}}
		s.Alerts = []Alert{{Rule: "latency.p99_ms", Key: "model_scoring", Severity: "critical", Value: 61, Limit: 52, Since: dashtest.Now.Add(-3 * time.Minute)}, {Rule: "drift.psi", Key: "user_age_days", Severity: "routine", Value: 0.31, Limit: 0.25, Since: dashtest.Now.Add(-time.Hour)},
			{Rule: "drift.wasserstein.critical", Key: "user_age_days", Severity: "critical", Value: 0.498, Limit: 0.4, Since: dashtest.Now.Add(-time.Hour)}}
		return nil
	})
}
