// Command experiment analyses the A/B test in the event files written by
// the quickstart (go run ./examples/quickstart, then
// go run ./examples/experiment). For each metric it prints each arm's
// estimate, the difference with its interval, the p-value adjusted for
// multiple comparisons, the sample-ratio-mismatch check and the
// always-valid sequential verdict.
//
// Flags: -in DIR (default ./rankscope-out), -experiment NAME (default
// ranker-v42), -control NAME (default control), -correction
// holm|bonferroni|BH|BY|none, -shards N (default 0: one collector).
//
// With -shards N the events are split by a hash of the user pseudonym
// into N collectors, as N workers of a fleet would see them; each
// collector's experiment.State is serialized, decoded and merged, and the
// report comes from the merged state. It is the same report as without
// -shards, bit for bit (shards.go).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rankscope/rankscope/exporters/file"
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
	shards := fs.Int("shards", 0, "split events by user into this many mergeable states (0: one collector)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	correction, ok := stats.ParseCorrection(*corr)
	if !ok {
		return fmt.Errorf("-correction: unknown method %q", *corr)
	}
	if *shards < 0 || *shards > 1024 {
		return fmt.Errorf("-shards: must be in [0, 1024], got %d", *shards)
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
	ccfg := experiment.CollectorConfig{Metrics: metrics, Experiments: []string{*name}}
	acfg := experiment.AnalysisConfig{Experiment: *name, Design: design, Registration: reg, Correction: correction}
	var r *experiment.Report
	var st experiment.CollectorStats
	var rs file.ReadStats
	if *shards > 0 {
		merged, sst, srs, bytes, err := shardedState(*in, *shards, ccfg)
		if err != nil {
			return err
		}
		st, rs = sst, srs
		fmt.Fprintf(w, "merged %d shard states (%d bytes serialized)\n", *shards, bytes)
		if r, err = merged.Analyze(acfg); err != nil {
			return err
		}
	} else {
		c, err := experiment.NewCollector(ccfg)
		if err != nil {
			return err
		}
		// One reader for every event file: creation order, torn and
		// encrypted files handled; the collector's projection fast path
		// reads each line.
		if rs, err = file.ReadLines(*in, func(b []byte) error { _ = c.AddLine(b); return nil }); err != nil {
			return err
		}
		st = c.Stats()
		if r, err = c.Analyze(acfg); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "read %d lines from %s: %d events (%d impressions, %d exposures, %d outcomes), %d malformed, %d torn\n\n",
		st.Lines, *in, st.Events, st.Impressions, st.Exposures, st.Outcomes, st.Malformed, len(rs.Torn))
	return r.WriteText(w)
}
