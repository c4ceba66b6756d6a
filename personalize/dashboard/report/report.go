package report

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/axiomhq/hyperloglog"

	"github.com/rankscope/rankscope/attribution"
	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/dashboard/internal/page"
	"github.com/rankscope/rankscope/personalize/dashboard/panel"
	"github.com/rankscope/rankscope/personalize/experiment"
	"github.com/rankscope/rankscope/personalize/fairness"
	"github.com/rankscope/rankscope/personalize/relevance"
	"github.com/rankscope/rankscope/personalize/segment"
)

// Config configures a [Builder]. The zero value of every field
// means its documented default. The measurement packages' own
// configurations pass through unchanged unless a field says otherwise.
type Config struct {
	// Title heads the report. Default "Personalization report".
	Title string

	// Experiment configures the experiment collector (metrics, unit
	// bound). Default: experiment.DefaultMetrics.
	Experiment experiment.CollectorConfig
	// Analyses configures the analysis of each experiment by name: design
	// (weights for the sample-ratio check), pre-registered plan, control,
	// alpha, correction and the sequential test's tuning. Its Experiment
	// field is set from the key. Experiments seen without an entry get the
	// zero AnalysisConfig (equal split assumed, control "control", Holm).
	Analyses map[string]experiment.AnalysisConfig
	// PrimaryMetric is the metric the executive summary headlines for an
	// experiment whose plan names none. Default "conversion".
	PrimaryMetric string

	// Attribution configures the attribution engine. Defaults here: the
	// channel of a touchpoint is its surface (so bootstrap intervals are
	// per surface), Lateness 6 hours (a concurrent service writes outcomes
	// minutes to hours after other requests' impressions), Bootstrap 200
	// replicates with seed 1 (a
	// negative Replicates turns it off), and lift cohorts of 24 hours.
	Attribution attribution.Config
	// HeadlineModel is the attribution model the summary and chart show.
	// Default "last_touch".
	HeadlineModel string

	// Relevance configures the relevance analyzer (calibration, CTR by
	// position, NDCG). Default segments: by surface.
	Relevance relevance.Config
	// Fairness configures the fairness tracker (exposure per provider,
	// diversity, catalog Gini). Default segments: by surface.
	Fairness fairness.Config

	// SLO holds latency targets by stage ([panel.TotalStage] for end to end),
	// compared with the quantiles of the whole period.
	SLO map[string]panel.SLO
	// MaxStages bounds the stages whose latency is kept (a latency sketch
	// of a few KiB each). Default 64; further stages are counted in a note.
	MaxStages int
	// MaxExperiments bounds the experiments analysed. Default 100.
	MaxExperiments int
	// MaxModels bounds the lineage section's state: distinct (model,
	// version, feature set) triples of impressions and distinct (model,
	// version) pairs of lineage records, each a few strings. Default
	// DefaultMaxModels (256); past it events are counted, not kept.
	MaxModels int
	// Explanations configures the explanations section.
	Explanations ExplanationsConfig
	// Now stamps Report.Generated. Default time.Now.
	Now func() time.Time
}

// ErrDone is returned by [Builder.Add] after
// [Builder.Report].
var ErrDone = errors.New("report: already built")

// Report is the summary of a set of event files. Every field is an
// aggregate; no identifier appears in it.
type Report struct {
	Title     string    `json:"title"`
	Generated time.Time `json:"generated"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Services  []string  `json:"services,omitempty"`
	// Summary is the executive summary: plain sentences with the headline
	// numbers and their uncertainty.
	Summary       []string             `json:"summary"`
	Counts        Counts               `json:"counts"`
	Latency       []panel.StageLatency `json:"latency"`
	CTR           panel.Rate           `json:"ctr"`
	CTRByPosition []panel.PositionCTR  `json:"ctr_by_position"`
	Ranking       *panel.Ranking       `json:"ranking,omitempty"`
	Calibration   *panel.Calibration   `json:"calibration,omitempty"`
	Fairness      *panel.Fairness      `json:"fairness,omitempty"`
	Attribution   Attribution          `json:"attribution"`
	Experiments   []ExperimentResult   `json:"experiments,omitempty"`
	Lift          []LiftSeries         `json:"lift,omitempty"`
	Lineage       *Lineage             `json:"lineage,omitempty"`
	Explanations  *Explanations        `json:"explanations,omitempty"`
	Notes         []string             `json:"notes,omitempty"`
}

// Counts are the event totals.
type Counts struct {
	Impressions int64 `json:"impressions"`
	ItemsShown  int64 `json:"items_shown"`
	Outcomes    int64 `json:"outcomes"`
	Clicks      int64 `json:"clicks"`
	Conversions int64 `json:"conversions"`
	Exposures   int64 `json:"exposures"`
	Links       int64 `json:"links"`
	// Users estimates the distinct pseudonymous users (HyperLogLog, about
	// 0.8% standard error; exact for small counts).
	Users int64 `json:"users"`
}

// Attribution is conversion credit by surface under every model of
// package attribution.
type Attribution struct {
	// Headline is the model the summary and chart show.
	Headline string         `json:"headline"`
	Models   []ModelCredit  `json:"models"`
	Periods  string         `json:"cohort_period"`
	Stats    AttributionRun `json:"stats"`
}

// AttributionRun counts what the attribution engine did.
type AttributionRun struct {
	Conversions  int64 `json:"conversions"`
	Unattributed int64 `json:"unattributed"`
	Late         int64 `json:"late"`
	Duplicates   int64 `json:"duplicates"`
	// Replicates is the number of bootstrap replicates behind the
	// intervals (0: no intervals).
	Replicates int `json:"bootstrap_replicates"`
}

// ModelCredit is one attribution model's credit per surface.
type ModelCredit struct {
	Model        string          `json:"model"`
	Surfaces     []SurfaceCredit `json:"surfaces"`
	Unattributed float64         `json:"unattributed"`
	Error        string          `json:"error,omitempty"`
}

// SurfaceCredit is one surface's conversion credit with its bootstrap
// percentile interval (null without bootstrap).
type SurfaceCredit struct {
	Surface     string      `json:"surface"`
	Conversions float64     `json:"conversions"`
	Value       float64     `json:"value"`
	Share       float64     `json:"share"`
	Lo          panel.Float `json:"lo"`
	Hi          panel.Float `json:"hi"`
}

// ExperimentResult is one experiment's analysis by personalize/experiment.
type ExperimentResult struct {
	panel.Experiment
	Control    string  `json:"control"`
	Alpha      float64 `json:"alpha"`
	Correction string  `json:"correction"`
	// Primary is the headline metric: the plan's primary metric, else
	// Config.PrimaryMetric when the analysis has it, else the first.
	Primary     string  `json:"primary"`
	SequentialN float64 `json:"sequential_n"`
	// PlannedUnits is the pre-registered plan's sample size per arm (0
	// without a plan or without a size). SmallestArm is the units of the
	// smallest arm; PlanReached is true when it is at least PlannedUnits.
	// Before that, only the sequential (always-valid) results may be acted
	// on: a fixed-horizon p-value holds only at the planned size.
	PlannedUnits int64          `json:"planned_units,omitempty"`
	SmallestArm  int64          `json:"smallest_arm"`
	PlanReached  bool           `json:"plan_reached"`
	Metrics      []MetricResult `json:"metrics"`
	Notes        []string       `json:"notes,omitempty"`
}

// MetricResult is one metric across arms.
type MetricResult struct {
	Name string `json:"name"`
	// Aggregate is "any" (a rate: share of units with the outcome),
	// "count" or "value" (means per unit).
	Aggregate   string        `json:"aggregate"`
	Outcome     string        `json:"outcome"`
	Primary     bool          `json:"primary,omitempty"`
	Guardrail   bool          `json:"guardrail,omitempty"`
	Arms        []ArmEstimate `json:"arms"`
	Comparisons []Comparison  `json:"comparisons"`
}

// ArmEstimate is one arm's estimate with its 95% interval (Wilson for
// rates, normal for means).
type ArmEstimate struct {
	Variant  string      `json:"variant"`
	Units    int64       `json:"units"`
	Estimate panel.Float `json:"estimate"`
	Lo       panel.Float `json:"lo"`
	Hi       panel.Float `json:"hi"`
}

// Comparison is one treatment against the control on one metric.
type Comparison struct {
	Treatment string `json:"treatment"`
	// Difference is treatment minus control with its fixed-horizon
	// interval (Newcombe for rates, Welch for means).
	Difference
	// Lift is the relative difference with its delta-method interval.
	Lift   panel.Float `json:"lift"`
	LiftLo panel.Float `json:"lift_lo"`
	LiftHi panel.Float `json:"lift_hi"`
	P      panel.Float `json:"p"`
	// AdjustedP is corrected for multiple comparisons across every
	// (metric, treatment) pair of the experiment.
	AdjustedP panel.Float `json:"adjusted_p"`
	// SequentialP is the always-valid (mixture SPRT) p-value, CSLo and
	// CSHi the always-valid confidence sequence of Diff.
	SequentialP panel.Float `json:"sequential_p"`
	CSLo        panel.Float `json:"cs_lo"`
	CSHi        panel.Float `json:"cs_hi"`
	Verdict     string      `json:"verdict"`
	Error       string      `json:"error,omitempty"`
}

// LiftSeries is one treatment's conversion lift over control per cohort
// period (users grouped by when they were first seen in an arm), from
// package attribution.
type LiftSeries struct {
	Experiment string `json:"experiment"`
	Treatment  string `json:"treatment"`
	Control    string `json:"control"`
	// Overall is the comparison over all cohorts.
	Overall LiftPoint   `json:"overall"`
	Points  []LiftPoint `json:"points"`
}

// LiftPoint is one cohort's comparison: conversion rates (users with a
// conversion over users) and their difference with its Wald interval.
type LiftPoint struct {
	Period         time.Time   `json:"period,omitzero"`
	ControlUsers   int64       `json:"control_users"`
	TreatmentUsers int64       `json:"treatment_users"`
	ControlRate    panel.Float `json:"control_rate"`
	TreatmentRate  panel.Float `json:"treatment_rate"`
	Difference
	ValuePerUserDiff panel.Float `json:"value_per_user_diff"`
}

// Difference is treatment minus control with the ends of its 95%
// interval (JSON diff, lo, hi).
type Difference struct {
	Diff panel.Float `json:"diff"`
	Lo   panel.Float `json:"lo"`
	Hi   panel.Float `json:"hi"`
}

type stageAgg struct {
	sk       *latency.Sketch
	degraded uint64
}

// Builder feeds events to the measurement packages (experiment,
// attribution, relevance, fairness) and to latency sketches, and turns
// their results into a [Report]. Memory is bounded by those packages'
// configured bounds (see [Config]) plus a latency sketch per stage
// and a 16 KiB user count. It is not safe for concurrent use.
type Builder struct {
	cfg      Config
	counts   Counts
	from, to time.Time
	services map[string]bool
	users    *hyperloglog.Sketch
	stages   map[string]*stageAgg
	overflow int64 // stage timings beyond MaxStages

	exp      *experiment.Collector
	expNames []string
	expSeen  map[string]bool
	expOver  int64

	attr    *attribution.Engine
	lineage *lineageAgg
	invalid int64
	rel     *relevance.Analyzer
	fair    *fairness.Tracker
	expl    *explanations

	done *Report
}

// NewBuilder validates cfg and returns a builder.
func NewBuilder(cfg Config) (*Builder, error) {
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"MaxStages", &cfg.MaxStages, 64}, {"MaxExperiments", &cfg.MaxExperiments, 100}, {"MaxModels", &cfg.MaxModels, DefaultMaxModels}} {
		if *f.v < 0 {
			return nil, fmt.Errorf("report: Config.%s: must be >= 0, got %d", f.name, *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	for name, a := range cfg.Analyses {
		if a.Experiment != "" && a.Experiment != name {
			return nil, fmt.Errorf("report: Config.Analyses[%q].Experiment: is %q", name, a.Experiment)
		}
	}
	if cfg.Title == "" {
		cfg.Title = "Personalization report"
	}
	if cfg.PrimaryMetric == "" {
		cfg.PrimaryMetric = "conversion"
	}
	if cfg.HeadlineModel == "" {
		cfg.HeadlineModel = attribution.LastTouch{}.Name()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ac := cfg.Attribution
	if ac.Channel == nil {
		ac.Channel = func(tp *attribution.Touchpoint) string { return tp.Surface }
	}
	if ac.Lateness == 0 {
		ac.Lateness = 6 * time.Hour
	}
	switch {
	case ac.Bootstrap.Replicates == 0:
		ac.Bootstrap = attribution.Bootstrap{Replicates: 200, Seed: 1}
	case ac.Bootstrap.Replicates < 0:
		ac.Bootstrap.Replicates = 0
	}
	cfg.Attribution = ac
	var err error
	b := &Builder{cfg: cfg, services: map[string]bool{}, users: hyperloglog.New(), stages: map[string]*stageAgg{}, expSeen: map[string]bool{},
		lineage: newLineageAgg(cfg.MaxModels)}
	if b.exp, err = experiment.NewCollector(cfg.Experiment); err != nil {
		return nil, fmt.Errorf("report: Config.Experiment: %w", err)
	}
	if b.attr, err = attribution.New(ac); err != nil {
		return nil, fmt.Errorf("report: Config.Attribution: %w", err)
	}
	rc := cfg.Relevance
	if rc.Segments == nil {
		if rc.Segments, err = segment.NewKeyer(segment.Config{Dims: segment.DimSurface}); err != nil {
			return nil, err
		}
	}
	if b.rel, err = relevance.New(rc); err != nil {
		return nil, fmt.Errorf("report: Config.Relevance: %w", err)
	}
	fc := cfg.Fairness
	if fc.Segments == nil {
		fc.Segments = rc.Segments
	}
	if b.fair, err = fairness.New(fc); err != nil {
		return nil, fmt.Errorf("report: Config.Fairness: %w", err)
	}
	if b.expl, err = newExplanations(cfg.Explanations); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *Builder) span(t time.Time) {
	if t.IsZero() {
		return
	}
	if b.from.IsZero() || t.Before(b.from) {
		b.from = t
	}
	if t.After(b.to) {
		b.to = t
	}
}

func (b *Builder) user(id string) {
	if id != "" {
		b.users.Insert([]byte(id))
	}
}

func (b *Builder) service(s string) {
	if s != "" && (b.services[s] || len(b.services) < 100) {
		b.services[s] = true
	}
}

func (b *Builder) stage(name string, d time.Duration, degraded bool) {
	st := b.stages[name]
	if st == nil {
		if len(b.stages) >= b.cfg.MaxStages {
			b.overflow++
			return
		}
		sk, err := latency.NewSketch(latency.DefaultRelativeAccuracy)
		if err != nil {
			return
		}
		st = &stageAgg{sk: sk}
		b.stages[name] = st
	}
	st.sk.Add(d)
	if degraded {
		st.degraded++
	}
}

func (b *Builder) experiment(name string) {
	if name == "" || b.expSeen[name] {
		return
	}
	if len(b.expNames) >= b.cfg.MaxExperiments {
		b.expOver++
		return
	}
	b.expSeen[name] = true
	b.expNames = append(b.expNames, name)
}

// Add feeds one event, in file order, to every measurement. It has the
// signature of file.ReadDir's callback. It returns [ErrDone] after
// Report; events the packages cannot use (no payload, no time) are
// counted in a note, not returned.
func (b *Builder) Add(e personalize.Event) error {
	if b.done != nil {
		return ErrDone
	}
	if e.Model != nil { // a lineage record: no measurement uses it
		b.lineage.record(e.Model)
		return nil
	}
	t := e.Time()
	switch {
	case e.Impression != nil:
		im := e.Impression
		b.lineage.impression(im)
		b.span(t)
		b.counts.Impressions++
		b.counts.ItemsShown += int64(len(im.Items))
		b.service(im.Service)
		b.user(im.UserID.ID)
		b.stage(panel.TotalStage, im.Duration(), im.Status != personalize.StageOK)
		for i := range im.Stages {
			s := &im.Stages[i]
			b.stage(s.Name, s.Duration, s.Status != personalize.StageOK)
		}
		for _, a := range im.Experiments {
			b.experiment(a.Experiment)
		}
		b.expl.add(im)
	case e.Outcome != nil:
		o := e.Outcome
		b.span(t)
		b.counts.Outcomes++
		b.service(o.Service)
		b.user(o.UserID.ID)
		switch {
		case o.Kind == personalize.OutcomeClick:
			b.counts.Clicks++
		case o.Kind.IsConversion():
			b.counts.Conversions++
		}
	case e.Exposure != nil:
		x := e.Exposure
		b.span(t)
		b.counts.Exposures++
		b.service(x.Service)
		b.user(x.UserID.ID)
		b.experiment(x.Experiment)
	case e.Link != nil:
		b.counts.Links++
	}
	b.exp.Add(e)
	if err := b.attr.Add(e); err != nil {
		b.invalid++
	}
	_ = b.rel.Observe(e)  // never fails on content
	_ = b.fair.Observe(e) // never fails on content
	return nil
}

// Report finishes the input and builds the report: it closes the
// attribution engine (pending conversions are attributed) and finalizes
// impressions still waiting for outcomes. Later calls return the same
// report; later Adds fail with [ErrDone].
func (b *Builder) Report() *Report {
	if b.done != nil {
		return b.done
	}
	b.attr.Close()
	b.rel.Flush()
	b.fair.Flush()
	r := &Report{Title: b.cfg.Title, Generated: b.cfg.Now().UTC().Truncate(time.Second), From: b.from.UTC(), To: b.to.UTC(), Counts: b.counts}
	for s := range b.services {
		r.Services = append(r.Services, s)
	}
	sort.Strings(r.Services)
	r.Counts.Users = int64(b.users.Estimate())
	b.latency(r)
	b.relevance(r)
	b.fairness(r)
	b.attribution(r)
	b.experiments(r)
	b.expl.report(r)
	if b.invalid > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d events without a payload or time were left out of attribution.", b.invalid))
	}
	r.Notes = append(r.Notes,
		"Latency quantiles from latency sketches (relative error at most 1%). Experiments: personalize/experiment. Attribution and cohort lift: attribution. Calibration, CTR by position and NDCG: personalize/relevance. Exposure fairness and diversity: personalize/fairness.",
		"Intervals are 95%: Wilson for rates, Newcombe for differences of rates, Welch for means, bootstrap percentiles for attribution credit, Wald for cohort lift.")
	r.Lineage = b.lineage.report()
	r.Summary = summarize(r, b.cfg)
	summary, notes := lineageNotes(r)
	r.Summary = append(r.Summary, summary...)
	r.Notes = append(r.Notes, notes...)
	b.done = r
	return r
}

func (b *Builder) latency(r *Report) {
	names := make([]string, 0, len(b.stages))
	for n := range b.stages {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == panel.TotalStage) != (names[j] == panel.TotalStage) {
			return names[i] == panel.TotalStage
		}
		return names[i] < names[j]
	})
	for _, n := range names {
		st := b.stages[n]
		r.Latency = append(r.Latency, panel.StageLatency{Stage: n, SLO: b.cfg.SLO[n], Windows: []panel.Quantiles{sketchSummary("all", st.sk, st.degraded)},
			Histogram: page.Histogram(st.sk.Buckets(), 40)})
	}
	if b.overflow > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d stage timings of stages beyond the first %d were left out.", b.overflow, b.cfg.MaxStages))
	}
}

// sketchSummary summarizes a sketch of a whole period.
func sketchSummary(window string, sk *latency.Sketch, degraded uint64) panel.Quantiles {
	q := panel.Quantiles{Window: window, Count: sk.Count(), Degraded: degraded}
	if sk.Count() == 0 {
		return q
	}
	q.MeanMs = page.Millis(sk.Mean())
	for _, p := range []struct {
		q   float64
		dst *float64
	}{{0.5, &q.P50Ms}, {0.95, &q.P95Ms}, {0.99, &q.P99Ms}} {
		if d, err := sk.Quantile(p.q); err == nil {
			*p.dst = page.Millis(d)
		}
	}
	return q
}

// relevance and fairness convert the analyzers' reports as the live
// page's sources do (package page), so both pages show them one way.
func (b *Builder) relevance(r *Report) {
	rr := b.rel.Report(segment.DimNone)
	if rel, ok := page.FromRelevance(rr); ok {
		r.Calibration, r.CTRByPosition, r.Ranking = rel.Calibration, rel.CTRByPosition, rel.Ranking
	}
	var clicks, shown int64
	for _, p := range r.CTRByPosition {
		clicks += p.Clicks
		shown += p.Impressions
	}
	r.CTR = page.Rate(clicks, shown)
	if n := rr.Stats.Join.Unjoined; n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d outcomes could not be joined to their ranking by request id (no request id, ranking not in the files, or later than the join window).", n))
	}
	if c := r.Calibration; c != nil && c.Rejected > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d item scores outside [0, 1] were left out of the calibration curve.", c.Rejected))
	}
}

func (b *Builder) fairness(r *Report) {
	r.Fairness, _ = page.FromFairness(b.fair.Report(segment.DimNone))
}

func (b *Builder) attribution(r *Report) {
	rep := b.attr.Report()
	st := rep.Stats
	a := &r.Attribution
	a.Headline = b.cfg.HeadlineModel
	a.Stats = AttributionRun{Conversions: st.Conversions, Unattributed: st.Unattributed, Late: st.Late, Duplicates: st.Duplicates,
		Replicates: b.cfg.Attribution.Bootstrap.Replicates}
	period := b.cfg.Attribution.Lift.Period
	if period == 0 {
		period = 24 * time.Hour
	}
	a.Periods = durationText(period)
	for _, m := range rep.Models {
		mc := ModelCredit{Model: m.Model, Unattributed: page.Round6(m.Unattributed.Conversions)}
		for s, c := range m.Surfaces {
			sc := SurfaceCredit{Surface: s, Conversions: page.Round6(c.Conversions), Value: page.Round6(c.Value), Lo: panel.Float(math.NaN()), Hi: panel.Float(math.NaN())}
			if m.Attributed.Conversions > 0 {
				sc.Share = page.Round6(c.Conversions / m.Attributed.Conversions)
			}
			if iv, ok := m.Intervals[s]; ok {
				sc.Lo, sc.Hi = page.Float(iv.Lo), page.Float(iv.Hi)
			}
			mc.Surfaces = append(mc.Surfaces, sc)
		}
		sort.Slice(mc.Surfaces, func(i, j int) bool {
			if mc.Surfaces[i].Conversions != mc.Surfaces[j].Conversions {
				return mc.Surfaces[i].Conversions > mc.Surfaces[j].Conversions
			}
			return mc.Surfaces[i].Surface < mc.Surfaces[j].Surface
		})
		a.Models = append(a.Models, mc)
	}
	errNames := make([]string, 0, len(rep.Errors))
	for name := range rep.Errors {
		errNames = append(errNames, name)
	}
	sort.Strings(errNames)
	for _, name := range errNames {
		a.Models = append(a.Models, ModelCredit{Model: name, Error: rep.Errors[name].Error()})
	}
	if st.Late > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d events arrived later than the attribution lateness bound and were left out of attribution.", st.Late))
	}
	r.Lift = liftOf(rep.Lift)
}

// liftOf groups the lift comparisons per (experiment, treatment), overall
// and per cohort period.
func liftOf(l attribution.Lift) []LiftSeries {
	type key struct {
		exp, variant string
		period       int64
	}
	arms := map[key]attribution.ArmStats{}
	periodKey := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.UnixNano()
	}
	for _, a := range l.Arms {
		arms[key{a.Experiment, a.Variant, periodKey(a.Period)}] = a
	}
	var out []LiftSeries
	idx := map[[2]string]int{}
	for _, c := range l.Comparisons {
		k := [2]string{c.Experiment, c.Treatment}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, LiftSeries{Experiment: c.Experiment, Treatment: c.Treatment, Control: c.Control})
		}
		ps := periodKey(c.Period)
		ca, ta := arms[key{c.Experiment, c.Control, ps}], arms[key{c.Experiment, c.Treatment, ps}]
		p := LiftPoint{ControlUsers: ca.Users, TreatmentUsers: ta.Users, ControlRate: page.Float(ca.ConversionRate()), TreatmentRate: page.Float(ta.ConversionRate()),
			Difference: Difference{page.Float(c.RateDiff.Value), page.Float(c.RateDiff.CI.Lo), page.Float(c.RateDiff.CI.Hi)}, ValuePerUserDiff: page.Float(c.ValueDiff.Value)}
		if c.Period.IsZero() {
			out[i].Overall = p
			continue
		}
		p.Period = c.Period.UTC()
		out[i].Points = append(out[i].Points, p)
	}
	for i := range out {
		sort.Slice(out[i].Points, func(a, b int) bool { return out[i].Points[a].Period.Before(out[i].Points[b].Period) })
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Experiment != out[j].Experiment {
			return out[i].Experiment < out[j].Experiment
		}
		return out[i].Treatment < out[j].Treatment
	})
	return out
}

func (b *Builder) experiments(r *Report) {
	names := append([]string(nil), b.expNames...)
	sort.Strings(names)
	for _, name := range names {
		ac := b.cfg.Analyses[name]
		ac.Experiment = name
		rep, err := b.exp.Analyze(ac)
		if err != nil {
			r.Notes = append(r.Notes, fmt.Sprintf("Experiment %s could not be analysed: %v.", name, err))
			continue
		}
		r.Experiments = append(r.Experiments, experimentResultOf(rep, b.cfg.PrimaryMetric))
	}
	if b.expOver > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("Experiments beyond the first %d were not analysed.", b.cfg.MaxExperiments))
	}
	if st := b.exp.Stats(); st.DroppedUnits > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d events of units beyond the experiment collector's bound were left out of the experiments.", st.DroppedUnits))
	}
}

func experimentResultOf(rep *experiment.Report, primary string) ExperimentResult {
	x := ExperimentResult{Experiment: page.FromExperiment(rep), Control: rep.Control, Alpha: rep.Alpha, Correction: rep.Correction.String(),
		SequentialN: page.Round6(rep.SequentialN), Notes: rep.Notes}
	for i, a := range rep.Arms {
		if i == 0 || a.Units < x.SmallestArm {
			x.SmallestArm = a.Units
		}
	}
	if rep.Plan != nil {
		x.PlannedUnits = rep.Plan.Current.SampleSize
	}
	x.PlanReached = x.PlannedUnits > 0 && x.SmallestArm >= x.PlannedUnits
	for _, m := range rep.Metrics {
		mr := MetricResult{Name: m.Metric.Name, Aggregate: m.Metric.Aggregate.String(), Outcome: m.Metric.Kind.String(), Primary: m.Primary, Guardrail: m.Guardrail}
		if m.Metric.Custom != "" {
			mr.Outcome += ":" + m.Metric.Custom
		}
		for _, a := range m.Arms {
			mr.Arms = append(mr.Arms, ArmEstimate{Variant: a.Variant, Units: a.Units, Estimate: page.Float(a.Estimate), Lo: page.Float(a.CI.Lo), Hi: page.Float(a.CI.Hi)})
		}
		for _, c := range m.Comparisons {
			mr.Comparisons = append(mr.Comparisons, Comparison{Treatment: c.Treatment, Difference: Difference{page.Float(c.Diff), page.Float(c.CI.Lo), page.Float(c.CI.Hi)},
				Lift: page.Float(c.Lift), LiftLo: page.Float(c.LiftCI.Lo), LiftHi: page.Float(c.LiftCI.Hi), P: page.Float(c.P), AdjustedP: page.Float(c.AdjustedP),
				SequentialP: page.Float(c.SequentialP), CSLo: page.Float(c.ConfidenceSequence.Lo), CSHi: page.Float(c.ConfidenceSequence.Hi), Verdict: c.Verdict, Error: c.Err})
		}
		if m.Primary {
			x.Primary = mr.Name
		}
		x.Metrics = append(x.Metrics, mr)
	}
	if x.Primary == "" {
		for _, m := range x.Metrics {
			if m.Name == primary {
				x.Primary = m.Name
			}
		}
	}
	if x.Primary == "" && len(x.Metrics) > 0 {
		x.Primary = x.Metrics[0].Name
	}
	return x
}

// metric returns the named metric of x.
func (x *ExperimentResult) metric(name string) *MetricResult {
	for i := range x.Metrics {
		if x.Metrics[i].Name == name {
			return &x.Metrics[i]
		}
	}
	return nil
}

// isRate reports whether m is a rate (shown in percent).
func (m *MetricResult) isRate() bool { return m.Aggregate == experiment.AggregateAny.String() }

func (m *MetricResult) arm(v string) (ArmEstimate, bool) {
	for _, a := range m.Arms {
		if a.Variant == v {
			return a, true
		}
	}
	return ArmEstimate{}, false
}
