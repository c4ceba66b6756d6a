package page

import (
	"math"
	"sort"

	"github.com/rankscope/rankscope/personalize/dashboard/panel"
	"github.com/rankscope/rankscope/personalize/experiment"
	"github.com/rankscope/rankscope/personalize/fairness"
	"github.com/rankscope/rankscope/personalize/relevance"
)

// This file copies the measurement packages' results into the panels. It
// computes nothing but shares of totals and the Wilson interval of a
// count (from experiment/stats): every statistic is the package's own.

// calibrationOf converts a relevance calibration report (equal-width
// curve); nil when no score was observed.
func calibrationOf(c relevance.CalibrationReport) *panel.Calibration {
	if c.N == 0 {
		return nil
	}
	out := &panel.Calibration{ECE: Round6(c.EqualWidth.ECE), MCE: Round6(c.EqualWidth.MCE), Brier: Float(c.Brier), Count: c.N, Rejected: c.Rejected}
	for _, b := range c.EqualWidth.Bins {
		out.Bins = append(out.Bins, panel.CalibrationBin{Lo: Round6(b.Lo), Hi: Round6(b.Hi), Count: b.Count,
			MeanPredicted: Round6(b.MeanPredicted), Observed: Round6(b.FractionPositive)})
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
		r := Rate(p.Clicks, p.Impressions)
		row := panel.PositionCTR{Position: p.Position, Impressions: p.Impressions, Clicks: p.Clicks, CTR: r.Rate, Lo: r.Lo, Hi: r.Hi, Examination: panel.Float(math.NaN())}
		if i := p.Position - 1; i >= 0 && i < len(bias.Examination) {
			row.Examination = Float(bias.Examination[i])
		}
		out = append(out, row)
	}
	return out
}

func rankingOf(r relevance.RankingReport) *panel.Ranking {
	if r.Impressions == 0 {
		return nil
	}
	return &panel.Ranking{K: r.K, Impressions: r.Impressions, Judged: r.Judged, NDCG: Float(r.NDCG), MRR: Float(r.MRR)}
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
	f := &panel.Fairness{DemographicParity: Float(s.Ratios.DemographicParity), DisparateTreatment: Float(s.Ratios.DisparateTreatment),
		DisparateImpact: Float(s.Ratios.DisparateImpact),
		Diversity: panel.Diversity{MeanCategories: Float(s.MeanCategories), MeanEntropyBits: Float(s.MeanCategoryEntropy),
			ItemGini: Float(cat.Gini), TopShare: Float(cat.TopShare), DistinctItems: cat.Distinct, DistinctExact: cat.Exact}}
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
		return Float(v / tot)
	}
	for _, g := range s.Groups {
		f.Groups = append(f.Groups, panel.GroupExposure{Group: g.Group, Placements: g.Appearances, ExposureShare: share(g.Exposure, exp),
			RelevanceShare: share(g.Relevance, rel), ClickShare: share(float64(g.Clicks), float64(clicks)),
			ExposurePerRelevance: Float(g.ExposurePerRelevance), CTR: Float(g.CTR)})
	}
	for i := range f.Groups {
		g := &f.Groups[i]
		g.ShareRatio = panel.Float(math.NaN())
		if g.ExposureShare.Defined() && g.RelevanceShare > 0 {
			g.ShareRatio = Float(float64(g.ExposureShare) / float64(g.RelevanceShare))
		}
	}
	sort.SliceStable(f.Groups, func(i, j int) bool { return f.Groups[i].ExposureShare > f.Groups[j].ExposureShare })
	if len(f.Groups) == 0 && !f.Diversity.MeanCategories.Defined() && cat.Distinct == 0 {
		return nil
	}
	return f
}

// FromExperiment converts the exposure part of an experiment analysis:
// units per arm and the sample-ratio check.
func FromExperiment(r *experiment.Report) panel.Experiment {
	x := panel.Experiment{Name: r.Experiment, SRMPValue: -1, SRM: panel.SRMNotComputed, WeightsAssumed: r.SRMWeightsAssumed}
	for _, a := range r.Arms {
		x.Arms = append(x.Arms, panel.Arm{Variant: a.Variant, Units: a.Units, ExpectedShare: Round6(a.Weight)})
	}
	if r.SRM.DF > 0 {
		x.SRMPValue, x.SRMThreshold = Round6(r.SRM.P), r.SRM.Threshold
		x.SRM = panel.SRMOK
		if r.SRM.Mismatch {
			x.SRM = panel.SRMMismatch
		}
	}
	return x
}

// Relevance is what a relevance analyzer shows on a page.
type Relevance struct {
	// Calibration is nil when no score in [0, 1] was observed.
	Calibration   *panel.Calibration
	CTRByPosition []panel.PositionCTR
	// Ranking is nil when no ranking was finalized.
	Ranking *panel.Ranking
	// Rejected counts scores outside [0, 1], left out of the calibration
	// curve.
	Rejected int64
}

// FromRelevance converts an analyzer's report over all traffic
// (relevance.Analyzer.Report(segment.DimNone)): calibration curve, CTR by
// position with the position-bias model's examination estimate, and
// ranking quality. ok is false unless the report holds exactly one
// segment.
func FromRelevance(r relevance.Report) (_ Relevance, ok bool) {
	seg, ok := allTraffic(r.Segments)
	if !ok {
		return Relevance{}, false
	}
	return Relevance{Calibration: calibrationOf(seg.Calibration), CTRByPosition: ctrOf(seg.CTRByPosition, r.PositionBias),
		Ranking: rankingOf(seg.Ranking), Rejected: seg.Calibration.Rejected}, true
}

// FromFairness converts a tracker's report over all traffic
// (fairness.Tracker.Report(segment.DimNone)): exposure per group, the
// fairness ratios, diversity and the catalog's concentration; nil when
// nothing was seen. ok is false unless the report holds exactly one
// segment.
func FromFairness(r fairness.Report) (_ *panel.Fairness, ok bool) {
	seg, ok := allTraffic(r.Segments)
	if !ok {
		return nil, false
	}
	return fairnessOf(seg, r.Catalog), true
}
