// Command experiment analyses the A/B test in the event files written by
// the quickstart (go run ./examples/quickstart, then
// go run ./examples/experiment). For each metric it prints each arm's
// estimate, the difference with its interval, the p-value adjusted for
// multiple comparisons, the sample-ratio-mismatch check and the
// always-valid sequential verdict.
//
// Flags: -in DIR (default ./rankscope-out), -experiment NAME (default
// ranker-v42), -control NAME (default control), -correction
// holm|bonferroni|BH|BY|none.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/experiment"
	"github.com/rankscope/rankscope/personalize/experiment/stats"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "experiment:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, args []string) error {
	fs := flag.NewFlagSet("experiment", flag.ContinueOnError)
	in := fs.String("in", "rankscope-out", "directory of event files")
	name := fs.String("experiment", "ranker-v42", "experiment to analyse")
	control := fs.String("control", "control", "control variant")
	corr := fs.String("correction", "holm", "multiple-comparison correction: none, bonferroni, holm, BH, BY")
	if err := fs.Parse(args); err != nil {
		return err
	}
	correction, ok := stats.ParseCorrection(*corr)
	if !ok {
		return fmt.Errorf("-correction: unknown method %q", *corr)
	}
	if st, err := os.Stat(*in); err != nil || !st.IsDir() {
		return errors.New("-in: " + *in + " is not a directory; run go run ./examples/quickstart first")
	}

	// The design the quickstart runs: two arms, 50/50 (the SRM check
	// compares the observed split with these weights).
	design, err := experiment.New(experiment.Config{Name: *name,
		Variants: []experiment.Variant{{Name: *control, Weight: 1}, {Name: "treatment", Weight: 1}}})
	if err != nil {
		return err
	}
	// The pre-registered plan. In a real experiment it is registered
	// before launch and changed only through Registration.Amend; here it
	// is declared in code to show how it travels with the analysis.
	n, err := stats.SampleSizeProportions(0.30, 0.33, 0.05, 0.8)
	if err != nil {
		return err
	}
	reg, err := experiment.Register(experiment.Plan{
		Experiment:    *name,
		Hypotheses:    []string{"ranker v42 raises the share of users who buy", "and does not lower the click rate"},
		PrimaryMetric: "conversion",
		Guardrails:    []string{"click_rate", "dwell_seconds_per_unit"},
		Alpha:         0.05, MDE: 0.03, Power: 0.8,
		SampleSize: int64(n + 1),
		Control:    *control,
	}, time.Now())
	if err != nil {
		return err
	}

	metrics := append(experiment.DefaultMetrics(),
		experiment.Metric{Name: "dwell_seconds_per_unit", Kind: personalize.OutcomeDwell, Aggregate: experiment.AggregateValue})
	c, err := experiment.NewCollector(experiment.CollectorConfig{Metrics: metrics, Experiments: []string{*name}})
	if err != nil {
		return err
	}
	if err := c.ReadDir(*in); err != nil {
		return err
	}
	st := c.Stats()
	fmt.Fprintf(w, "read %d lines from %s: %d events (%d impressions, %d exposures, %d outcomes), %d malformed, %d torn\n\n",
		st.Lines, *in, st.Events, st.Impressions, st.Exposures, st.Outcomes, st.Malformed, st.TornLines)
	r, err := c.Analyze(experiment.AnalysisConfig{Experiment: *name, Design: design, Registration: reg, Correction: correction})
	if err != nil {
		return err
	}
	return r.WriteText(w)
}
