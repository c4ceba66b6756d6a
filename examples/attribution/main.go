// Command attribution runs the attribution models and the lift report over
// the event files of the quickstart (JSON lines written by exporters/file)
// and prints the credit per surface and the lift per experiment arm with
// confidence intervals.
//
//	go run ./examples/quickstart            # writes ./rankscope-out
//	go run ./examples/attribution -in rankscope-out
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/rankscope/rankscope/attribution"
	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
)

func main() {
	in := flag.String("in", "rankscope-out", "directory of event files (the file exporter's)")
	lateness := flag.Duration("lateness", 6*time.Hour, "how far out of order events may arrive (a concurrent service writes outcomes minutes to hours after others' impressions)")
	reps := flag.Int("bootstrap", 200, "bootstrap replicates for channel credit intervals (0: off)")
	seed := flag.Uint64("seed", 1, "bootstrap seed")
	flag.Parse()
	if err := run(os.Stdout, *in, *lateness, *reps, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "attribution:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, dir string, lateness time.Duration, reps int, seed uint64) error {
	eng, err := attribution.New(attribution.Config{
		Lateness:  lateness,
		Bootstrap: attribution.Bootstrap{Replicates: reps, Seed: seed},
		// Credit surfaces as channels: the quickstart serves one channel.
		Channel: func(tp *attribution.Touchpoint) string { return tp.Surface },
	})
	if err != nil {
		return err
	}
	bad, err := readDir(dir, eng.Add)
	if err != nil {
		return err
	}
	eng.Close()
	rep := eng.Report()
	st := rep.Stats
	fmt.Fprintf(w, "events %d (impressions %d, engagements %d, conversions %d); skipped: %d bad lines, %d duplicates, %d late\n",
		st.Events, st.Impressions, st.Engagements, st.Conversions, bad, st.Duplicates, st.Late)
	fmt.Fprintf(w, "unattributed conversions %d; non-converting journeys %d\n\n", st.Unattributed, st.NullJourneys)
	printCredit(w, rep)
	printLift(w, rep.Lift)
	for m, err := range rep.Errors {
		fmt.Fprintf(w, "model %s: %v\n", m, err)
	}
	return nil
}

// readDir reads dir's event files with the one reader of event files
// (exporters/file: creation order, torn last lines of unfinished files
// skipped); malformed lines, torn lines and events fn refuses are counted
// as bad.
func readDir(dir string, fn func(personalize.Event) error) (bad int, err error) {
	refused := 0
	st, err := file.ReadConfig{SkipMalformed: true}.ReadDir(dir, func(ev personalize.Event) error {
		if fn(ev) != nil {
			refused++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if st.Files == 0 {
		return 0, fmt.Errorf("no event files in %s (run go run ./examples/quickstart first)", dir)
	}
	return int(st.Skipped) + len(st.Torn) + refused, nil
}

func printCredit(w io.Writer, rep *attribution.Report) {
	surfaces := map[string]bool{}
	for _, m := range rep.Models {
		for s := range m.Surfaces {
			surfaces[s] = true
		}
	}
	names := make([]string, 0, len(surfaces))
	for s := range surfaces {
		names = append(names, s)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "Conversions credited per surface (bootstrap 95% interval):")
	fmt.Fprintf(w, "%-16s", "model")
	for _, s := range names {
		fmt.Fprintf(w, " %26s", s)
	}
	fmt.Fprintf(w, " %12s\n", "unattributed")
	for _, m := range rep.Models {
		fmt.Fprintf(w, "%-16s", m.Model)
		for _, s := range names {
			c := m.Surfaces[s].Conversions
			if iv, ok := m.Intervals[s]; ok {
				fmt.Fprintf(w, " %26s", fmt.Sprintf("%.1f [%.1f, %.1f]", c, iv.Lo, iv.Hi))
			} else {
				fmt.Fprintf(w, " %26.1f", c)
			}
		}
		fmt.Fprintf(w, " %12.0f\n", m.Unattributed.Conversions)
	}
	fmt.Fprintln(w)
}

func printLift(w io.Writer, l attribution.Lift) {
	fmt.Fprintln(w, "Funnel per arm (users: impressed -> clicked -> converted; all cohorts):")
	for _, a := range l.Arms {
		if !a.Period.IsZero() {
			continue
		}
		fmt.Fprintf(w, "  %s/%-12s users %6d  %6d -> %6d -> %6d  conv rate %.4f  value/user %.3f\n",
			a.Experiment, a.Variant, a.Users, a.Impressed, a.Clicked, a.Converted, a.ConversionRate(), a.ValuePerUser())
	}
	fmt.Fprintln(w, "\nLift vs control (95% intervals):")
	for _, c := range l.Comparisons {
		period := "all"
		if !c.Period.IsZero() {
			period = c.Period.Format("2006-01-02")
		}
		fmt.Fprintf(w, "  %s %s vs %s [%s]: rate diff %s, ratio %s; value/user diff %s, ratio %s\n",
			c.Experiment, c.Treatment, c.Control, period, est(c.RateDiff), est(c.RateRatio), est(c.ValueDiff), est(c.ValueRatio))
	}
}

func est(e attribution.Estimate) string {
	if math.IsNaN(e.Value) {
		return "n/a"
	}
	return strings.TrimSpace(fmt.Sprintf("%.4f [%.4f, %.4f]", e.Value, e.CI.Lo, e.CI.Hi))
}
