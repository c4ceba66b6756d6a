package experiment

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/rankscope/rankscope/personalize/experiment/stats"
)

// AnalysisConfig says how to analyse one experiment. Zero values mean defaults.
type AnalysisConfig struct {
	// Experiment to analyse. Required.
	Experiment string
	// Design, when set, gives the configured variants and weights for the
	// SRM check (and their order). Without it every observed variant is
	// expected to have an equal share, which is stated in the report.
	Design *Experiment
	// Registration carries the pre-registered plan: alpha, control,
	// primary metric and guardrails, planned sample size. Optional.
	Registration *Registration
	// Control variant; default the plan's, else "control".
	Control string
	// Alpha overrides the plan's alpha (default 0.05).
	Alpha float64
	// Correction for multiple comparisons over all (metric, treatment)
	// pairs; default Holm.
	Correction stats.Correction
	// SRMThreshold is the SRM alarm level; default stats.DefaultSRMThreshold.
	SRMThreshold float64
	// SequentialN is the effective sample size (n_c n_t/(n_c+n_t)) at which
	// the sequential test is tuned to be most sensitive; default the plan's
	// SampleSize/2, else 10,000. It must be fixed before looking at data.
	SequentialN float64
}

// Report is the analysis of one experiment.
type Report struct {
	Experiment string
	Plan       *PlanRecord // nil without a registration
	Control    string
	Alpha      float64
	Correction stats.Correction
	// FirstExposure and LastExposure bound the exposures seen.
	FirstExposure, LastExposure time.Time
	Arms                        []ArmCount
	SRM                         stats.SRM
	// SRMWeightsAssumed is true when no Design was given and equal weights
	// were assumed.
	SRMWeightsAssumed bool
	// Conflicts counts units seen in more than one variant (excluded).
	Conflicts int64
	Metrics   []MetricResult
	// SequentialN is the effective sample size the sequential test is tuned to.
	SequentialN float64
	Notes       []string
}

// ArmCount is the number of units of one variant.
type ArmCount struct {
	Variant string
	Units   int64
	Weight  float64 // configured (or assumed) share
}

// MetricResult is one metric across arms.
type MetricResult struct {
	Metric    Metric
	Primary   bool
	Guardrail bool
	Arms      []ArmEstimate
	// Comparisons of each treatment with the control.
	Comparisons []Comparison
}

// ArmEstimate is one arm's estimate of a metric: a rate with its Wilson
// interval, or a mean with its normal interval.
type ArmEstimate struct {
	Variant  string
	Units    int64
	Estimate float64
	CI       stats.Interval
}

// Comparison is one treatment against the control on one metric.
type Comparison struct {
	Treatment string
	Diff      float64        // treatment - control
	CI        stats.Interval // Newcombe for rates, Welch for means
	Lift      float64        // relative, treatment/control - 1
	LiftCI    stats.Interval // delta method
	P         float64        // fixed-horizon two-sided p-value
	AdjustedP float64        // after the report's Correction
	// Rates carry the full proportion test, means the Welch test and,
	// when the pre-period covariate varies, CUPED.
	Proportion *stats.ProportionTest
	Mean       *stats.MeanTest
	CUPED      *stats.CUPEDResult
	// SequentialP is the always-valid mixture-SPRT p-value at this look
	// and ConfidenceSequence the matching always-valid interval of Diff.
	SequentialP        float64
	ConfidenceSequence stats.Interval
	Verdict            string
	Err                string // why a test could not be computed, if so
}

// Analyze analyses one experiment from what the collector has seen: it is
// [State.Analyze] of the collector's state for that experiment.
func (c *Collector) Analyze(cfg AnalysisConfig) (*Report, error) {
	a, err := prepareAnalysis(cfg)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	ei, ok := c.expIdx[cfg.Experiment]
	var es ExperimentState
	if ok {
		es = c.experimentState(ei)
	}
	metrics := c.metrics
	c.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("experiment: AnalysisConfig.Experiment: no exposure or impression of %q was seen", cfg.Experiment)
	}
	return a.finish(cfg, metrics, &es)
}

// analysis is a report whose configuration is settled, before the data.
type analysis struct {
	r    *Report
	plan *Plan
	mix  stats.Mixture
}

// prepareAnalysis validates cfg and settles the report's configuration.
func prepareAnalysis(cfg AnalysisConfig) (*analysis, error) {
	if cfg.Experiment == "" {
		return nil, fmt.Errorf("experiment: AnalysisConfig.Experiment: must be set")
	}
	var plan *Plan
	r := &Report{Experiment: cfg.Experiment}
	if cfg.Registration != nil {
		rec := cfg.Registration.Record()
		if rec.Current.Experiment != cfg.Experiment {
			return nil, fmt.Errorf("experiment: AnalysisConfig.Registration: plan is for %q, not %q", rec.Current.Experiment, cfg.Experiment)
		}
		plan = &rec.Current
		r.Plan = &rec
	}
	r.Control = cfg.Control
	if r.Control == "" && plan != nil {
		r.Control = plan.Control
	}
	if r.Control == "" {
		r.Control = "control"
	}
	r.Alpha = cfg.Alpha
	if r.Alpha == 0 && plan != nil {
		r.Alpha = plan.Alpha
	}
	if r.Alpha == 0 {
		r.Alpha = 0.05
	}
	if !(r.Alpha > 0 && r.Alpha < 1) {
		return nil, fmt.Errorf("experiment: AnalysisConfig.Alpha: must be in (0,1), got %v", r.Alpha)
	}
	r.Correction = cfg.Correction
	if r.Correction == 0 {
		r.Correction = stats.CorrectionHolm
	}
	r.SequentialN = cfg.SequentialN
	if r.SequentialN == 0 && plan != nil && plan.SampleSize > 0 {
		r.SequentialN = float64(plan.SampleSize) / 2
	}
	if r.SequentialN == 0 {
		r.SequentialN = 10000
		r.Notes = append(r.Notes, "sequential test tuned to the default effective n = 10000 (no planned sample size)")
	}
	rho, err := stats.RhoFor(r.SequentialN, r.Alpha)
	if err != nil {
		return nil, fmt.Errorf("experiment: AnalysisConfig.SequentialN: %w", err)
	}
	return &analysis{r: r, plan: plan, mix: stats.Mixture{Rho: rho}}, nil
}

// finish computes the report from one experiment's state.
func (an *analysis) finish(cfg AnalysisConfig, metrics []Metric, e *ExperimentState) (*Report, error) {
	r, plan, mix := an.r, an.plan, an.mix
	r.FirstExposure, r.LastExposure = e.FirstExposure, e.LastExposure
	if cfg.Registration != nil {
		cfg.Registration.MarkExposureStart(r.FirstExposure)
		rec := cfg.Registration.Record()
		r.Plan = &rec
		if rec.AmendedAfterExposure {
			r.Notes = append(r.Notes, "the plan was amended after exposure started: see the amendment log")
		}
	}

	// Arms: design order first, then any variant seen but not designed,
	// by name.
	var variants []string
	var weights []float64
	if cfg.Design != nil {
		if cfg.Design.Name() != cfg.Experiment {
			return nil, fmt.Errorf("experiment: AnalysisConfig.Design: is %q, not %q", cfg.Design.Name(), cfg.Experiment)
		}
		variants, weights = cfg.Design.Variants(), cfg.Design.Weights()
	}
	armOf := map[string]*ArmState{}
	for i := range e.Arms {
		v := e.Arms[i].Variant
		armOf[v] = &e.Arms[i]
		if !slices.Contains(variants, v) {
			if cfg.Design != nil {
				r.Notes = append(r.Notes, fmt.Sprintf("variant %q was seen but is not in the design", v))
			}
			variants = append(variants, v)
		}
	}
	if cfg.Design == nil {
		r.SRMWeightsAssumed = true
		weights = make([]float64, len(variants))
		for i := range weights {
			weights[i] = 1 / float64(len(variants))
		}
	} else {
		for len(weights) < len(variants) {
			weights = append(weights, 0)
		}
	}
	ctl := slices.Index(variants, r.Control)
	if ctl < 0 {
		return nil, fmt.Errorf("experiment: AnalysisConfig.Control: variant %q not seen in %q (variants %v)", r.Control, cfg.Experiment, variants)
	}

	// Per-arm, per-metric statistics from the state's exact sums.
	nm := len(metrics)
	counts := make([]int64, len(variants))
	success := make([][]int64, nm)
	post := make([][]stats.Bivariate, nm)
	for i := range metrics {
		success[i] = make([]int64, len(variants))
		post[i] = make([]stats.Bivariate, len(variants))
	}
	for a, v := range variants {
		arm := armOf[v]
		if arm == nil {
			continue // designed but never seen
		}
		counts[a] = arm.Units
		for i, met := range metrics {
			sm := &arm.Metrics[i]
			if met.Aggregate == AggregateAny {
				success[i][a], _ = sm.successes()
			}
			b, err := sm.bivariate()
			if err != nil {
				return nil, fmt.Errorf("experiment: arm %q, metric %q: %w", v, met.Name, err)
			}
			post[i][a] = b
		}
	}
	r.Conflicts = e.Conflicts
	for i, v := range variants {
		r.Arms = append(r.Arms, ArmCount{Variant: v, Units: counts[i], Weight: weights[i]})
	}
	if r.Conflicts > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d units were seen in more than one variant and were excluded", r.Conflicts))
	}
	// SRM over designed arms with weight > 0 (an undesigned arm with units is itself a mismatch).
	var obs []int64
	var ws []float64
	for i := range variants {
		if weights[i] > 0 {
			obs = append(obs, counts[i])
			ws = append(ws, weights[i])
		} else if counts[i] > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("SRM: %d units in undesigned variant %q", counts[i], variants[i]))
		}
	}
	if srm, err := stats.CheckSRM(obs, ws, cfg.SRMThreshold); err == nil {
		r.SRM = srm
	} else {
		r.Notes = append(r.Notes, "SRM check not possible: "+err.Error())
	}

	var ps []float64
	var where [][2]int
	for i, met := range metrics {
		mr := MetricResult{Metric: met}
		if plan != nil {
			mr.Primary = plan.PrimaryMetric == met.Name
			mr.Guardrail = slices.Contains(plan.Guardrails, met.Name)
		}
		for a, v := range variants {
			est := ArmEstimate{Variant: v, Units: counts[a]}
			if counts[a] > 0 {
				if met.Aggregate == AggregateAny {
					p := stats.Proportion{Successes: success[i][a], Trials: counts[a]}
					est.Estimate = p.Rate()
					est.CI.Lo, est.CI.Hi = stats.Wilson(p, r.Alpha)
				} else {
					s := post[i][a].Y()
					est.Estimate = s.Mean
					est.CI = stats.NormalInterval(s.Mean, math.Sqrt(s.Var/float64(s.N)), r.Alpha)
				}
			}
			mr.Arms = append(mr.Arms, est)
		}
		for a, v := range variants {
			if a == ctl || counts[a] == 0 {
				continue
			}
			cmp := compare(met, success[i][ctl], success[i][a], counts[ctl], counts[a], post[i][ctl], post[i][a], r.Alpha, mix)
			cmp.Treatment = v
			if plan != nil && plan.SampleSize > 0 && min(counts[ctl], counts[a]) >= plan.SampleSize && cmp.SequentialP >= r.Alpha {
				cmp.Verdict = "planned sample reached: no significant effect: stop"
			}
			if cmp.Err == "" {
				ps = append(ps, cmp.P)
				where = append(where, [2]int{len(r.Metrics), len(mr.Comparisons)})
			}
			mr.Comparisons = append(mr.Comparisons, cmp)
		}
		r.Metrics = append(r.Metrics, mr)
	}
	adj, err := stats.Adjust(ps, r.Correction)
	if err != nil {
		return nil, err
	}
	for j, w := range where {
		r.Metrics[w[0]].Comparisons[w[1]].AdjustedP = adj[j]
	}
	return r, nil
}

func compare(met Metric, sc, st, nc, nt int64, bc, bt stats.Bivariate, alpha float64, mix stats.Mixture) Comparison {
	var cmp Comparison
	var v float64
	if met.Aggregate == AggregateAny {
		pt, err := stats.TwoProportions(stats.Proportion{Successes: sc, Trials: nc}, stats.Proportion{Successes: st, Trials: nt}, alpha)
		if err != nil {
			cmp.Err = err.Error()
			return cmp
		}
		cmp.Proportion = &pt
		cmp.Diff, cmp.CI, cmp.Lift, cmp.LiftCI, cmp.P = pt.Diff, pt.Newcombe, pt.Lift, pt.LiftCI, pt.P
		v = pt.Control*(1-pt.Control)/float64(nc) + pt.Treatment*(1-pt.Treatment)/float64(nt)
	} else {
		mt, err := stats.Welch(bc.Y(), bt.Y(), alpha)
		if err != nil {
			cmp.Err = err.Error()
			return cmp
		}
		cmp.Mean = &mt
		cmp.Diff, cmp.CI, cmp.Lift, cmp.LiftCI, cmp.P = mt.Diff, mt.CI, mt.Lift, mt.LiftCI, mt.P
		v = mt.SE * mt.SE
		if cu, err := stats.CUPED(bc, bt, alpha); err == nil {
			cmp.CUPED = &cu
		}
	}
	neff := 1 / (1/float64(nc) + 1/float64(nt))
	if v > 0 {
		cmp.SequentialP, _ = mix.PValue(cmp.Diff, v, neff)
		cmp.ConfidenceSequence, _ = mix.Interval(cmp.Diff, v, neff, alpha)
	} else {
		cmp.SequentialP = 1
		cmp.ConfidenceSequence = stats.Interval{Lo: cmp.Diff, Hi: cmp.Diff}
	}
	switch {
	case cmp.SequentialP < alpha && cmp.Diff > 0:
		cmp.Verdict = "significant increase (always-valid): safe to stop"
	case cmp.SequentialP < alpha:
		cmp.Verdict = "significant decrease (always-valid): safe to stop"
	default:
		cmp.Verdict = "not significant yet: continue"
	}
	return cmp
}
