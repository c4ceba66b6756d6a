package panel

import "time"

// TotalStage is the stage name under which the end-to-end latency of
// inferences is shown.
const TotalStage = "total"

// Quantiles summarises one latency distribution in milliseconds.
type Quantiles struct {
	// Window names the period summarised: "1m", "1h" or "1d" on the live
	// page (dashboard.WindowMinute ...), "all" in the report.
	Window string  `json:"window"`
	Count  uint64  `json:"count"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P95Ms  float64 `json:"p95_ms"`
	P99Ms  float64 `json:"p99_ms"`
	// Degraded counts stages that ended in error, timeout or fallback.
	Degraded uint64 `json:"degraded,omitempty"`
}

// SLO holds latency targets in milliseconds; zero means no target.
type SLO struct {
	AvgMs float64 `json:"avg_ms,omitempty"`
	P95Ms float64 `json:"p95_ms,omitempty"`
	P99Ms float64 `json:"p99_ms,omitempty"`
}

// IsZero reports whether s sets no target.
func (s SLO) IsZero() bool { return s == SLO{} }

// Met reports whether q meets every target s sets. An empty window meets
// every target.
func (s SLO) Met(q Quantiles) bool {
	if q.Count == 0 {
		return true
	}
	return (s.AvgMs == 0 || q.MeanMs <= s.AvgMs) &&
		(s.P95Ms == 0 || q.P95Ms <= s.P95Ms) &&
		(s.P99Ms == 0 || q.P99Ms <= s.P99Ms)
}

// Bucket is one bar of a latency histogram, in milliseconds: [LoMs, HiMs).
type Bucket struct {
	LoMs  float64 `json:"lo_ms"`
	HiMs  float64 `json:"hi_ms"`
	Count uint64  `json:"count"`
}

// StageLatency is one stage's latency ([TotalStage] for end to end).
type StageLatency struct {
	Stage   string      `json:"stage"`
	Windows []Quantiles `json:"windows"`
	// SLO holds the stage's targets (drawn on the chart).
	SLO SLO `json:"slo"`
	// Objectives are the latency tracker's own verdicts on its SLOs
	// (latency.Tracker.CheckSLOs), one per target; empty offline.
	Objectives []Objective `json:"objectives,omitempty"`
	// Histogram is the distribution over the widest window with data.
	Histogram []Bucket `json:"histogram,omitempty"`
}

// Objective is the state of one latency target at the last check, as the
// latency tracker evaluated it.
type Objective struct {
	Window      string  `json:"window"`
	Target      string  `json:"target"` // "avg", "p95" or "p99"
	ObjectiveMs float64 `json:"objective_ms"`
	ObservedMs  float64 `json:"observed_ms"`
	Count       uint64  `json:"count"`
	// Evaluated is false while the window holds fewer observations than
	// the SLO's MinCount; OK then holds the previous state.
	Evaluated bool      `json:"evaluated"`
	OK        bool      `json:"ok"`
	Since     time.Time `json:"since"`
}

// Arm is one variant of an experiment.
type Arm struct {
	Variant string `json:"variant"`
	// Units is the number of distinct exposed units.
	Units int64 `json:"units"`
	// ExpectedShare is the configured (or, without a design, assumed equal)
	// traffic share.
	ExpectedShare float64 `json:"expected_share"`
}

// Experiment is one experiment's exposures and sample-ratio check, from
// personalize/experiment.
type Experiment struct {
	Name string `json:"name"`
	Arms []Arm  `json:"arms"`
	// SRMPValue is the chi-square goodness-of-fit p-value of the unit
	// counts against the expected shares; -1 when not computed.
	SRMPValue float64 `json:"srm_p_value"`
	// SRMThreshold is the p-value below which a mismatch is declared.
	SRMThreshold float64 `json:"srm_threshold,omitempty"`
	// SRM is "ok", "mismatch" or "not computed".
	SRM string `json:"srm"`
	// WeightsAssumed is true when no design was given and an equal split
	// was assumed.
	WeightsAssumed bool `json:"weights_assumed,omitempty"`
}

// SRM verdicts.
const (
	SRMOK          = "ok"
	SRMMismatch    = "mismatch"
	SRMNotComputed = "not computed"
)

// CalibrationBin is one bin of a reliability curve: scores in (Lo, Hi]
// (the first bin is closed on both sides).
type CalibrationBin struct {
	Lo            float64 `json:"lo"`
	Hi            float64 `json:"hi"`
	Count         int64   `json:"count"`
	MeanPredicted float64 `json:"mean_predicted"`
	// Observed is the share of the bin's items that got an outcome with a
	// positive relevance grade (a click, signup or purchase by default).
	Observed float64 `json:"observed"`
}

// Calibration is the reliability of the model's scores as probabilities
// of a positive outcome, from personalize/relevance (equal-width bins).
type Calibration struct {
	Bins []CalibrationBin `json:"bins"`
	// ECE is the expected calibration error, the count-weighted mean of
	// |Observed - MeanPredicted|; MCE the largest such gap.
	ECE   float64 `json:"ece"`
	MCE   float64 `json:"mce"`
	Brier Float   `json:"brier"`
	Count int64   `json:"count"`
	// Rejected counts scores outside [0, 1], left out of the curve.
	Rejected int64 `json:"rejected,omitempty"`
}

// PositionCTR is the click-through rate at one rank position, with a 95%
// Wilson score interval.
type PositionCTR struct {
	Position    int     `json:"position"`
	Impressions int64   `json:"impressions"`
	Clicks      int64   `json:"clicks"`
	CTR         float64 `json:"ctr"`
	Lo          float64 `json:"lo"`
	Hi          float64 `json:"hi"`
	// Examination is the position-based click model's examination
	// probability relative to position 1 (personalize/relevance); null
	// where the model could not estimate it.
	Examination Float `json:"examination"`
}

// Ranking is the ranking quality of finalized impressions judged by their
// outcomes (personalize/relevance): means over impressions with at least
// one positive outcome.
type Ranking struct {
	K           int   `json:"k"`
	Impressions int64 `json:"impressions"`
	Judged      int64 `json:"judged"`
	NDCG        Float `json:"ndcg"`
	MRR         Float `json:"mrr"`
}

// GroupExposure is the position-weighted exposure an item group (provider
// by default) received beside its share of the model's expected relevance
// and of clicks, from personalize/fairness.
type GroupExposure struct {
	Group      string `json:"group"`
	Placements int64  `json:"placements"`
	// ExposureShare is the group's share of position-weighted exposure
	// (weight 1/log2(1+position)).
	ExposureShare Float `json:"exposure_share"`
	// RelevanceShare is the group's share of expected relevance (the sum
	// of its items' scores).
	RelevanceShare Float `json:"relevance_share"`
	// ClickShare is the group's share of joined clicks.
	ClickShare Float `json:"click_share"`
	// ShareRatio is ExposureShare / RelevanceShare: 1 when the group gets
	// exposure in proportion to its expected relevance, above 1 when it is
	// over-exposed for its merit, below 1 under-exposed. Disparate
	// treatment is min over max of this ratio across groups.
	ShareRatio Float `json:"share_ratio"`
	// ExposurePerRelevance is the group's exposure divided by its summed
	// scores, in position weights per unit of score (personalize/fairness
	// GroupReport.ExposurePerRelevance). Its level depends on the score
	// scale (about 4.5 for scores near 0.1 at weights near 0.45), so only
	// its ratios across groups mean something; ShareRatio is the same
	// comparison normalized to 1 at parity.
	ExposurePerRelevance Float `json:"exposure_per_relevance"`
	CTR                  Float `json:"ctr"`
}

// Fairness is exposure fairness and diversity over all traffic.
type Fairness struct {
	Groups []GroupExposure `json:"groups,omitempty"`
	// Ratios are min over groups / max over groups (1 is parity; null when
	// fewer than two groups qualify) of mean exposure (demographic
	// parity), exposure per relevance (disparate treatment) and clicks per
	// relevance (disparate impact).
	DemographicParity  Float     `json:"demographic_parity"`
	DisparateTreatment Float     `json:"disparate_treatment"`
	DisparateImpact    Float     `json:"disparate_impact"`
	Diversity          Diversity `json:"diversity"`
}

// Diversity describes variety within rankings and spread of exposure
// across items.
type Diversity struct {
	// MeanCategories is the mean number of distinct categories per
	// ranking; MeanEntropyBits the mean Shannon entropy (bits) of the
	// categories within a ranking.
	MeanCategories  Float `json:"mean_categories"`
	MeanEntropyBits Float `json:"mean_entropy_bits"`
	// ItemGini is the Gini coefficient of position-weighted exposure
	// across the items shown (0: equal; near 1: a few items take it all).
	ItemGini Float `json:"item_gini"`
	// TopShare is the share of exposure of the most exposed 1% of items.
	TopShare Float `json:"top_share"`
	// DistinctItems is the number of distinct items shown; exact when
	// DistinctExact, else a HyperLogLog estimate.
	DistinctItems int64 `json:"distinct_items"`
	DistinctExact bool  `json:"distinct_exact"`
}
