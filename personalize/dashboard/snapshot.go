package dashboard

import (
	"time"

	"github.com/rankscope/rankscope/personalize/dashboard/panel"
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

	Latency     []panel.StageLatency `json:"latency,omitempty"`
	Traffic     *Traffic             `json:"traffic,omitempty"`
	Pipeline    *Pipeline            `json:"pipeline,omitempty"`
	Runtime     *Runtime             `json:"runtime,omitempty"`
	Experiments []panel.Experiment   `json:"experiments,omitempty"`
	Calibration *panel.Calibration   `json:"calibration,omitempty"`
	// CTRByPosition is the click-through rate of each rank position.
	CTRByPosition []panel.PositionCTR `json:"ctr_by_position,omitempty"`
	Ranking       *panel.Ranking      `json:"ranking,omitempty"`
	Fairness      *panel.Fairness     `json:"fairness,omitempty"`
	Drift         []FeatureDrift      `json:"drift,omitempty"`
	Freshness     []Freshness         `json:"freshness,omitempty"`
	Alerts        []Alert             `json:"alerts,omitempty"`
	Notes         []string            `json:"notes,omitempty"`
	Truncated     map[string]int      `json:"truncated,omitempty"`
	SourceErrors  int                 `json:"source_errors,omitempty"`
	Extra         map[string]string   `json:"extra,omitempty"`
}

// Window names of the live page's latency summaries ([panel.Quantiles]).
const (
	WindowMinute = "1m"
	WindowHour   = "1h"
	WindowDay    = "1d"
)

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

// FeatureDrift is one feature's drift against its reference, from
// personalize/drift. The page explains each statistic under the table
// (see driftMeanings).
type FeatureDrift struct {
	Feature string `json:"feature"`
	// PSI is the population stability index over the reference's bins
	// (no unit; 0.1 and 0.25 are the usual warning and alarm levels).
	PSI float64 `json:"psi"`
	// KS is the Kolmogorov-Smirnov statistic: the largest gap between the
	// live and reference cumulative distributions (a share, 0 to 1).
	KS float64 `json:"ks,omitempty"`
	// JS is the Jensen-Shannon distance (square root of the divergence,
	// base 2) between the binned distributions, 0 to 1.
	JS float64 `json:"js,omitempty"`
	// WassersteinSD is the Wasserstein (earth mover's) distance between
	// the live and reference samples in reference standard deviations.
	WassersteinSD float64 `json:"wasserstein_sd,omitempty"`
	// MissingChange is the live share of missing values minus the
	// reference's; OutOfRange the share of live values outside the
	// reference's range or categories.
	MissingChange float64 `json:"missing_change,omitempty"`
	OutOfRange    float64 `json:"out_of_range,omitempty"`
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
