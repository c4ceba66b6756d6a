package dashboard

import (
	"time"
)

// Snapshot is everything the live page shows at one moment. Sources fill
// it; the handler renders it as HTML and as JSON. Every field is an
// aggregate: no field may hold a user, session or request identifier.
//
// A nil pointer or empty slice means "no source provides this panel"; the
// page says so rather than drawing an empty chart.
type Snapshot struct {
	Service string    `json:"service,omitempty"`
	Time    time.Time `json:"time"`
	// UptimeSeconds is the time since the handler was built.
	UptimeSeconds float64 `json:"uptime_seconds"`

	Latency     []StageLatency `json:"latency,omitempty"`
	Traffic     *Traffic       `json:"traffic,omitempty"`
	Pipeline    *Pipeline      `json:"pipeline,omitempty"`
	Runtime     *Runtime       `json:"runtime,omitempty"`
	Experiments []Experiment   `json:"experiments,omitempty"`
	Calibration *Calibration   `json:"calibration,omitempty"`
	// CTRByPosition is the click-through rate of each rank position.
	CTRByPosition []PositionCTR     `json:"ctr_by_position,omitempty"`
	Ranking       *Ranking          `json:"ranking,omitempty"`
	Fairness      *Fairness         `json:"fairness,omitempty"`
	Drift         []FeatureDrift    `json:"drift,omitempty"`
	Freshness     []Freshness       `json:"freshness,omitempty"`
	Alerts        []Alert           `json:"alerts,omitempty"`
	Notes         []string          `json:"notes,omitempty"`
	Truncated     map[string]int    `json:"truncated,omitempty"`
	SourceErrors  int               `json:"source_errors,omitempty"`
	Extra         map[string]string `json:"extra,omitempty"`
}

// Window names used by [StageLatency.Windows].
const (
	WindowMinute = "1m"
	WindowHour   = "1h"
	WindowDay    = "1d"
)

// Quantiles summarises one latency distribution in milliseconds.
type Quantiles struct {
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

// StageLatency is one stage's latency (or "total" for end to end).
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

// Traffic is request and event throughput.
type Traffic struct {
	// RequestsPerSecond and EventsPerSecond are averaged over the last
	// minute.
	RequestsPerSecond float64 `json:"requests_per_second"`
	EventsPerSecond   float64 `json:"events_per_second"`
	// Series holds per-interval rates, oldest first.
	Series []RatePoint `json:"series,omitempty"`
	// LastEventAgeSeconds is how old the newest event was when it reached
	// the dashboard; -1 when none has.
	LastEventAgeSeconds float64 `json:"last_event_age_seconds"`
	// LagP95Seconds is the 95th percentile of event age at arrival over the
	// last minute (data freshness).
	LagP95Seconds float64 `json:"lag_p95_seconds"`
}

// RatePoint is one interval of a throughput series.
type RatePoint struct {
	Time              time.Time `json:"time"`
	RequestsPerSecond float64   `json:"requests_per_second"`
	EventsPerSecond   float64   `json:"events_per_second"`
}

// Count is a labelled count.
type Count struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
}

// Pipeline is the instrumentation pipeline's health.
type Pipeline struct {
	Accepted      int64            `json:"accepted"`
	Queued        int              `json:"queued"`
	QueueCapacity int              `json:"queue_capacity"`
	Dropped       []Count          `json:"dropped,omitempty"`
	Rejected      []Count          `json:"rejected,omitempty"`
	OptedOut      int64            `json:"opted_out"`
	Exporters     []ExporterHealth `json:"exporters,omitempty"`
}

// ExporterHealth is one exporter's books.
type ExporterHealth struct {
	Name     string `json:"name"`
	Exported int64  `json:"exported"`
	Dropped  int64  `json:"dropped"`
	InFlight int64  `json:"in_flight"`
	// LastExportAgeSeconds is the time since the last successful export;
	// -1 when there was none.
	LastExportAgeSeconds float64 `json:"last_export_age_seconds"`
	// LastError is the exporter's last error classification.
	LastError string `json:"last_error,omitempty"`
	Healthy   bool   `json:"healthy"`
}

// Runtime is the process's state from runtime/metrics.
type Runtime struct {
	GOMAXPROCS int `json:"gomaxprocs"`
	Goroutines int `json:"goroutines"`
	// CPUFraction is the process's CPU time over wall time times
	// GOMAXPROCS since the previous snapshot (0 on the first).
	CPUFraction  float64 `json:"cpu_fraction"`
	HeapBytes    uint64  `json:"heap_bytes"`
	HeapGoal     uint64  `json:"heap_goal_bytes"`
	GCCycles     uint64  `json:"gc_cycles"`
	GCPauseP50Ms float64 `json:"gc_pause_p50_ms"`
	GCPauseP99Ms float64 `json:"gc_pause_p99_ms"`
	GCPauseMaxMs float64 `json:"gc_pause_max_ms"`
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
	// ExposurePerRelevance is exposure per unit of expected relevance:
	// groups far apart receive disparate treatment.
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

// FeatureDrift is one feature's drift against its reference.
type FeatureDrift struct {
	Feature string  `json:"feature"`
	PSI     float64 `json:"psi"`
	KS      float64 `json:"ks,omitempty"`
	// Status is the drift level: "ok", "warn" or "critical".
	Status string `json:"status"`
}

// Freshness is the age of data of one source when it was consumed, from
// the drift monitor's freshness sources.
type Freshness struct {
	Source string  `json:"source"`
	Count  uint64  `json:"count"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
}

// Alert is one alert currently firing.
type Alert struct {
	Rule     string    `json:"rule"`
	Key      string    `json:"key,omitempty"`
	Severity string    `json:"severity"`
	Value    float64   `json:"value"`
	Limit    float64   `json:"threshold"`
	Since    time.Time `json:"since"`
}
