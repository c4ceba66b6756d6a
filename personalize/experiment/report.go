package experiment

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// WriteText writes the report for people: plan, arms, SRM, and per
// metric each arm's estimate and each comparison with its interval,
// adjusted p-value, CUPED and sequential verdict.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "experiment %s  (exposures %s .. %s)\n", r.Experiment,
		r.FirstExposure.Format("2006-01-02 15:04:05"), r.LastExposure.Format("2006-01-02 15:04:05"))
	if p := r.Plan; p != nil {
		c := p.Current
		fmt.Fprintf(&b, "plan: primary %s, guardrails %v, alpha %g, MDE %g, power %g, planned n/arm %d\n",
			c.PrimaryMetric, c.Guardrails, c.Alpha, c.MDE, c.Power, c.SampleSize)
		for _, h := range c.Hypotheses {
			fmt.Fprintf(&b, "  hypothesis: %s\n", h)
		}
		for _, a := range p.Amendments {
			when := "before exposure"
			if a.AfterExposure {
				when = "AFTER EXPOSURE START"
			}
			fmt.Fprintf(&b, "  amendment %s (%s): %s %s -> %s: %s\n", a.Time.Format("2006-01-02 15:04"), when, a.Field, a.From, a.To, a.Reason)
		}
	} else {
		b.WriteString("plan: none registered (exploratory analysis)\n")
	}
	b.WriteString("arms:")
	for _, a := range r.Arms {
		fmt.Fprintf(&b, "  %s %d units (weight %.3g)", a.Variant, a.Units, a.Weight)
	}
	b.WriteString("\n")
	verdict := "ok"
	if r.SRM.Mismatch {
		verdict = "MISMATCH: do not trust the results until the cause is found"
	}
	assumed := ""
	if r.SRMWeightsAssumed {
		assumed = ", equal weights assumed"
	}
	fmt.Fprintf(&b, "SRM: chi2 %.3f, df %d, p %.4g (alarm below %g%s): %s\n", r.SRM.Stat, r.SRM.DF, r.SRM.P, r.SRM.Threshold, assumed, verdict)
	fmt.Fprintf(&b, "p-values adjusted with %s over %d comparisons; sequential test tuned to effective n %.0f\n",
		r.Correction, r.comparisons(), r.SequentialN)
	for _, m := range r.Metrics {
		role := ""
		switch {
		case m.Primary:
			role = " [primary]"
		case m.Guardrail:
			role = " [guardrail]"
		}
		fmt.Fprintf(&b, "\n%s%s (%s of %s)\n", m.Metric.Name, role, m.Metric.Aggregate, m.Metric.Kind)
		for _, a := range m.Arms {
			fmt.Fprintf(&b, "  %-12s %10.5g  [%.5g, %.5g]  n=%d\n", a.Variant, a.Estimate, a.CI.Lo, a.CI.Hi, a.Units)
		}
		for _, c := range m.Comparisons {
			if c.Err != "" {
				fmt.Fprintf(&b, "  %s vs %s: not computed: %s\n", c.Treatment, r.Control, c.Err)
				continue
			}
			lift := "lift n/a (control is 0)"
			if !math.IsNaN(c.Lift) && !math.IsInf(c.Lift, 0) {
				lift = fmt.Sprintf("lift %+.2f%% [%+.2f%%, %+.2f%%]", 100*c.Lift, 100*c.LiftCI.Lo, 100*c.LiftCI.Hi)
			}
			fmt.Fprintf(&b, "  %s - %s: %+.5g  %.0f%% CI [%.5g, %.5g]  %s  p %.4g  adjusted p %.4g\n",
				c.Treatment, r.Control, c.Diff, 100*(1-r.Alpha), c.CI.Lo, c.CI.Hi, lift, c.P, c.AdjustedP)
			if c.CUPED != nil {
				fmt.Fprintf(&b, "    CUPED: %+.5g [%.5g, %.5g], variance reduction %.1f%%\n", c.CUPED.Adjusted.Diff,
					c.CUPED.Adjusted.CI.Lo, c.CUPED.Adjusted.CI.Hi, 100*c.CUPED.VarianceReduction)
			}
			fmt.Fprintf(&b, "    sequential: always-valid p %.4g, confidence sequence [%.5g, %.5g]: %s\n",
				c.SequentialP, c.ConfidenceSequence.Lo, c.ConfidenceSequence.Hi, c.Verdict)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) comparisons() int {
	n := 0
	for _, m := range r.Metrics {
		for _, c := range m.Comparisons {
			if c.Err == "" {
				n++
			}
		}
	}
	return n
}
