package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Observational is an effect estimated without randomization. Its
// Assumptions are what must hold for Estimate to be causal; they cannot be
// checked from the data and are reported next to the number on purpose.
type Observational struct {
	Method      string
	Estimate    float64
	SE          float64
	P           float64 // two-sided normal p-value of Estimate = 0
	CI          Interval
	Assumptions []string
	// Diagnostics are checks that can be made from the data (overlap,
	// clipped weights, effective sample sizes...), as "name: value" lines.
	Diagnostics []string
}

var didAssumptions = []string{
	"parallel trends: without treatment, the treated group's mean would have moved like the control group's",
	"no anticipation: the treated group did not react before the treatment started",
	"stable composition: the units in each group are comparable across the two periods",
	"no spillover: the treatment did not change the control group's outcome (SUTVA)",
}

// DiD is the difference-in-differences estimate
// (treatedPost - treatedPre) - (controlPost - controlPre) from four
// independent samples (repeated cross-sections): its variance is the sum
// of the four variances of the means. For the same units measured twice
// use [DiDPanel], which accounts for the within-unit correlation.
func DiD(treatedPre, treatedPost, controlPre, controlPost Summary, alpha float64) (Observational, error) {
	names := []string{"treatedPre", "treatedPost", "controlPre", "controlPost"}
	ss := []Summary{treatedPre, treatedPost, controlPre, controlPost}
	var v float64
	for i, s := range ss {
		if err := s.check(names[i]); err != nil {
			return Observational{}, err
		}
		v += s.Var / float64(s.N)
	}
	if err := checkAlpha(alpha); err != nil {
		return Observational{}, err
	}
	est := (treatedPost.Mean - treatedPre.Mean) - (controlPost.Mean - controlPre.Mean)
	r := normalResult("difference-in-differences (repeated cross-sections)", est, math.Sqrt(v), alpha)
	r.Assumptions = didAssumptions
	return r, nil
}

// DiDPanel is difference-in-differences on panel data: treatedChange and
// controlChange summarise each unit's post - pre change. The estimate is
// the difference of mean changes with a Welch interval.
func DiDPanel(treatedChange, controlChange Summary, alpha float64) (Observational, error) {
	w, err := Welch(controlChange, treatedChange, alpha)
	if err != nil {
		return Observational{}, err
	}
	return Observational{
		Method: "difference-in-differences (panel, Welch on per-unit changes)", Estimate: w.Diff,
		SE: w.SE, P: w.P, CI: w.CI, Assumptions: didAssumptions,
	}, nil
}

func normalResult(method string, est, se, alpha float64) Observational {
	r := Observational{Method: method, Estimate: est, SE: se, CI: NormalInterval(est, se, alpha)}
	switch {
	case se > 0:
		r.P = normP(est / se)
	case est == 0:
		r.P = 1
	}
	return r
}

// ObservedUnit is one unit for [IPW].
type ObservedUnit struct {
	Treated    bool
	Outcome    float64
	Covariates []float64 // observed confounders, same length for every unit
}

// IPWConfig configures [IPW]. The zero value means defaults.
type IPWConfig struct {
	Alpha float64 // default 0.05
	// Clip bounds propensities to [Clip, 1-Clip] so a few units cannot
	// dominate; default 0.01. Clipped units are counted in Diagnostics.
	Clip float64
	// MaxIter bounds Newton iterations of the logistic fit; default 50.
	MaxIter int
}

// IPW estimates the average treatment effect by inverse propensity
// weighting on observed confounders. The propensity e(x) = P(treated | x)
// is a logistic regression with intercept fitted by Newton-Raphson; the
// estimate is the normalised (Hajek) difference
//
//	sum(T y/e)/sum(T/e) - sum((1-T) y/(1-e))/sum((1-T)/(1-e))
//
// and its standard error comes from the estimator's influence function
// with the propensity treated as known, which is conservative for the ATE
// (Lunceford & Davidian 2004, Stat. Med. 23:2937).
func IPW(units []ObservedUnit, cfg IPWConfig) (Observational, error) {
	if cfg.Alpha == 0 {
		cfg.Alpha = 0.05
	}
	if cfg.Clip == 0 {
		cfg.Clip = 0.01
	}
	if cfg.MaxIter == 0 {
		cfg.MaxIter = 50
	}
	if err := checkAlpha(cfg.Alpha); err != nil {
		return Observational{}, err
	}
	if !(cfg.Clip > 0 && cfg.Clip < 0.5) {
		return Observational{}, fmt.Errorf("stats: IPWConfig.Clip: must be in (0,0.5), got %v", cfg.Clip)
	}
	if len(units) < 4 {
		return Observational{}, fmt.Errorf("stats: units: need at least 4, got %d", len(units))
	}
	p := len(units[0].Covariates) + 1
	var nt int
	for i, u := range units {
		if len(u.Covariates) != p-1 {
			return Observational{}, fmt.Errorf("stats: units[%d].Covariates: need %d values, got %d", i, p-1, len(u.Covariates))
		}
		if math.IsNaN(u.Outcome) || math.IsInf(u.Outcome, 0) {
			return Observational{}, fmt.Errorf("stats: units[%d].Outcome: must be finite, got %v", i, u.Outcome)
		}
		for j, x := range u.Covariates {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return Observational{}, fmt.Errorf("stats: units[%d].Covariates[%d]: must be finite, got %v", i, j, x)
			}
		}
		if u.Treated {
			nt++
		}
	}
	if nt == 0 || nt == len(units) {
		return Observational{}, fmt.Errorf("stats: units: need both treated and untreated units, got %d of %d treated", nt, len(units))
	}
	beta, converged, err := logistic(units, p, cfg.MaxIter)
	if err != nil {
		return Observational{}, err
	}
	e := make([]float64, len(units))
	clipped := 0
	minE, maxE := 1.0, 0.0
	for i, u := range units {
		eta := beta[0]
		for j, x := range u.Covariates {
			eta += beta[j+1] * x
		}
		v := 1 / (1 + math.Exp(-eta))
		minE, maxE = math.Min(minE, v), math.Max(maxE, v)
		if v < cfg.Clip || v > 1-cfg.Clip {
			v = math.Min(math.Max(v, cfg.Clip), 1-cfg.Clip)
			clipped++
		}
		e[i] = v
	}
	var s1, w1, s0, w0, w1sq, w0sq float64
	for i, u := range units {
		if u.Treated {
			w := 1 / e[i]
			s1 += w * u.Outcome
			w1 += w
			w1sq += w * w
		} else {
			w := 1 / (1 - e[i])
			s0 += w * u.Outcome
			w0 += w
			w0sq += w * w
		}
	}
	mu1, mu0 := s1/w1, s0/w0
	n := float64(len(units))
	var vsum float64
	for i, u := range units {
		var phi float64
		if u.Treated {
			phi = (u.Outcome - mu1) / e[i] / (w1 / n)
		} else {
			phi = -(u.Outcome - mu0) / (1 - e[i]) / (w0 / n)
		}
		vsum += phi * phi
	}
	r := normalResult("inverse propensity weighting (Hajek, logistic propensity)", mu1-mu0, math.Sqrt(vsum)/n, cfg.Alpha)
	r.Assumptions = []string{
		"no unmeasured confounding: given the covariates, treatment is independent of the potential outcomes",
		"positivity (overlap): every covariate profile has a propensity strictly between 0 and 1",
		"correct propensity model: the logistic regression on these covariates is well specified",
		"no interference: one unit's treatment does not change another's outcome (SUTVA)",
	}
	r.Diagnostics = []string{
		fmt.Sprintf("propensity range: [%.4g, %.4g]", minE, maxE),
		fmt.Sprintf("clipped to [%g, %g]: %d of %d units", cfg.Clip, 1-cfg.Clip, clipped, len(units)),
		fmt.Sprintf("effective sample size (Kish): treated %.1f of %d, control %.1f of %d", w1*w1/w1sq, nt, w0*w0/w0sq, len(units)-nt),
		fmt.Sprintf("logistic fit converged: %v", converged),
	}
	return r, nil
}

// logistic fits P(treated) = 1/(1+exp(-x'beta)) with intercept by Newton-Raphson.
func logistic(units []ObservedUnit, p, maxIter int) ([]float64, bool, error) {
	beta := make([]float64, p)
	x := make([]float64, p)
	for iter := 0; iter < maxIter; iter++ {
		grad := mat.NewVecDense(p, nil)
		hess := mat.NewSymDense(p, nil)
		for _, u := range units {
			x[0] = 1
			copy(x[1:], u.Covariates)
			eta := 0.0
			for j := range x {
				eta += beta[j] * x[j]
			}
			mu := 1 / (1 + math.Exp(-eta))
			y := 0.0
			if u.Treated {
				y = 1
			}
			w := mu * (1 - mu)
			for j := 0; j < p; j++ {
				grad.SetVec(j, grad.AtVec(j)+(y-mu)*x[j])
				for l := j; l < p; l++ {
					hess.SetSym(j, l, hess.At(j, l)+w*x[j]*x[l])
				}
			}
		}
		var step mat.VecDense
		var chol mat.Cholesky
		if !chol.Factorize(hess) {
			return nil, false, fmt.Errorf("stats: units: covariates are collinear or perfectly separate the groups; the propensity model cannot be fitted")
		}
		if err := chol.SolveVecTo(&step, grad); err != nil {
			return nil, false, fmt.Errorf("stats: propensity fit: %w", err)
		}
		maxStep := 0.0
		for j := range beta {
			beta[j] += step.AtVec(j)
			maxStep = math.Max(maxStep, math.Abs(step.AtVec(j)))
		}
		if maxStep > 50 {
			return nil, false, fmt.Errorf("stats: units: the covariates separate treated from untreated units (no overlap); IPW is not identified")
		}
		if maxStep < 1e-10 {
			return beta, true, nil
		}
	}
	// Without convergence, saturated fitted probabilities mean (quasi-)
	// separation: some covariate profile is only ever treated or untreated.
	for _, u := range units {
		eta := beta[0]
		for j, x := range u.Covariates {
			eta += beta[j+1] * x
		}
		if math.Abs(eta) > 15 {
			return nil, false, fmt.Errorf("stats: units: the covariates separate treated from untreated units (no overlap); IPW is not identified")
		}
	}
	return beta, false, nil
}
