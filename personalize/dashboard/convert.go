package dashboard

import (
	"math"
	"sort"
	"time"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize/dashboard/panel"
	"github.com/rankscope/rankscope/personalize/experiment"
	"github.com/rankscope/rankscope/personalize/fairness"
	"github.com/rankscope/rankscope/personalize/relevance"
)

// This file copies the measurement packages' results into the dashboard's
// JSON-tagged aggregates. It computes nothing but shares of totals and
// the Wilson interval of a count (from experiment/stats): every statistic
// is the package's own.

// calibrationOf converts a relevance calibration report (equal-width
// curve); nil when no score was observed.
func calibrationOf(c relevance.CalibrationReport) *panel.Calibration {
	if c.N == 0 {
		return nil
	}
	out := &panel.Calibration{ECE: round6(c.EqualWidth.ECE), MCE: round6(c.EqualWidth.MCE), Brier: fl(c.Brier), Count: c.N, Rejected: c.Rejected}
	for _, b := range c.EqualWidth.Bins {
		out.Bins = append(out.Bins, panel.CalibrationBin{Lo: round6(b.Lo), Hi: round6(b.Hi), Count: b.Count,
			MeanPredicted: round6(b.MeanPredicted), Observed: round6(b.FractionPositive)})
	}
	return out
}

// ctrOf converts CTR by position, adding each position's Wilson interval
// and the position-bias model's examination estimate.
func ctrOf(rows []relevance.PositionCTR, bias relevance.Estimate) []panel.PositionCTR {
	var out []panel.PositionCTR
	for _, p := range rows {
		if p.Impressions == 0 {
			continue
		}
		r := rate(p.Clicks, p.Impressions)
		row := panel.PositionCTR{Position: p.Position, Impressions: p.Impressions, Clicks: p.Clicks, CTR: r.Rate, Lo: r.Lo, Hi: r.Hi, Examination: panel.Float(math.NaN())}
		if i := p.Position - 1; i >= 0 && i < len(bias.Examination) {
			row.Examination = fl(bias.Examination[i])
		}
		out = append(out, row)
	}
	return out
}

func rankingOf(r relevance.RankingReport) *panel.Ranking {
	if r.Impressions == 0 {
		return nil
	}
	return &panel.Ranking{K: r.K, Impressions: r.Impressions, Judged: r.Judged, NDCG: fl(r.NDCG), MRR: fl(r.MRR)}
}

// allTraffic returns the single segment of a report merged onto
// segment.DimNone.
func allTraffic[T any](segs []T) (T, bool) {
	var zero T
	if len(segs) != 1 {
		return zero, false
	}
	return segs[0], true
}

// fairnessOf converts a fairness segment report (all traffic) and the
// catalog report.
func fairnessOf(s fairness.SegmentReport, cat fairness.CatalogReport) *panel.Fairness {
	f := &panel.Fairness{DemographicParity: fl(s.Ratios.DemographicParity), DisparateTreatment: fl(s.Ratios.DisparateTreatment),
		DisparateImpact: fl(s.Ratios.DisparateImpact),
		Diversity: panel.Diversity{MeanCategories: fl(s.MeanCategories), MeanEntropyBits: fl(s.MeanCategoryEntropy),
			ItemGini: fl(cat.Gini), TopShare: fl(cat.TopShare), DistinctItems: cat.Distinct, DistinctExact: cat.Exact}}
	var exp, rel float64
	var clicks int64
	for _, g := range s.Groups {
		exp += g.Exposure
		rel += g.Relevance
		clicks += g.Clicks
	}
	share := func(v, tot float64) panel.Float {
		if tot <= 0 {
			return panel.Float(math.NaN())
		}
		return fl(v / tot)
	}
	for _, g := range s.Groups {
		f.Groups = append(f.Groups, panel.GroupExposure{Group: g.Group, Placements: g.Appearances, ExposureShare: share(g.Exposure, exp),
			RelevanceShare: share(g.Relevance, rel), ClickShare: share(float64(g.Clicks), float64(clicks)),
			ExposurePerRelevance: fl(g.ExposurePerRelevance), CTR: fl(g.CTR)})
	}
	sort.SliceStable(f.Groups, func(i, j int) bool { return f.Groups[i].ExposureShare > f.Groups[j].ExposureShare })
	if len(f.Groups) == 0 && !f.Diversity.MeanCategories.Defined() && cat.Distinct == 0 {
		return nil
	}
	return f
}

// experimentOf converts the exposure part of an experiment analysis.
func experimentOf(r *experiment.Report) panel.Experiment {
	x := panel.Experiment{Name: r.Experiment, SRMPValue: -1, SRM: panel.SRMNotComputed, WeightsAssumed: r.SRMWeightsAssumed}
	for _, a := range r.Arms {
		x.Arms = append(x.Arms, panel.Arm{Variant: a.Variant, Units: a.Units, ExpectedShare: round6(a.Weight)})
	}
	if r.SRM.DF > 0 {
		x.SRMPValue, x.SRMThreshold = round6(r.SRM.P), r.SRM.Threshold
		x.SRM = panel.SRMOK
		if r.SRM.Mismatch {
			x.SRM = panel.SRMMismatch
		}
	}
	return x
}

// summaryOf converts a latency summary.
func summaryOf(window string, s latency.Summary) panel.Quantiles {
	return panel.Quantiles{Window: window, Count: s.Count, MeanMs: msOf(s.Mean), P50Ms: msOf(s.P50), P95Ms: msOf(s.P95), P99Ms: msOf(s.P99),
		Degraded: s.Errors + s.Timeouts + s.Fallbacks}
}

// sketchSummary summarizes a sketch of a whole period.
func sketchSummary(window string, sk *latency.Sketch, degraded uint64) panel.Quantiles {
	q := panel.Quantiles{Window: window, Count: sk.Count(), Degraded: degraded}
	if sk.Count() == 0 {
		return q
	}
	q.MeanMs = msOf(sk.Mean())
	for _, p := range []struct {
		q   float64
		dst *float64
	}{{0.5, &q.P50Ms}, {0.95, &q.P95Ms}, {0.99, &q.P99Ms}} {
		if d, err := sk.Quantile(p.q); err == nil {
			*p.dst = msOf(d)
		}
	}
	return q
}

func windowName(w latency.Window) string {
	switch w {
	case latency.WindowHour:
		return WindowHour
	case latency.WindowDay:
		return WindowDay
	}
	return WindowMinute
}

func stageName(s string) string {
	if s == latency.EndToEnd {
		return panel.TotalStage
	}
	return s
}

func objectiveOf(r latency.SLOReport) panel.Objective {
	return panel.Objective{Window: windowName(r.SLO.Window), Target: r.Target.String(), ObjectiveMs: msOf(r.Objective), ObservedMs: msOf(r.Observed),
		Count: r.Count, Evaluated: r.Evaluated, OK: r.OK, Since: r.Since.UTC().Truncate(time.Millisecond)}
}
