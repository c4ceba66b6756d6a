// Command report turns rankscope event files into one self-contained HTML
// report (charts inline, no external assets) and a JSON summary:
//
//	go run ./examples/report -in rankscope-out -o report.html
//
// writes report.html and report.json. A progress bar goes to stderr when
// the input is larger than -progress-over bytes. Malformed lines are
// skipped; their count goes to stderr and into the report's notes.
//
// Every number comes from the measurement packages: experiments from
// personalize/experiment (analysed with the same design, metrics and
// pre-registered plan as go run ./examples/experiment, so the two agree),
// attribution credit and cohort lift from attribution (configured as
// go run ./examples/attribution), calibration, CTR by position and NDCG
// from personalize/relevance, exposure fairness and diversity from
// personalize/fairness. -cohort sets the lift cohort period; "auto" picks
// a round period giving about eight cohorts over the data's time span.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rankscope/rankscope/attribution"
	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/dashboard/panel"
	"github.com/rankscope/rankscope/personalize/dashboard/report"
	"github.com/rankscope/rankscope/personalize/experiment"
	"github.com/rankscope/rankscope/personalize/experiment/stats"
)

// quickstartPlan returns the design and pre-registered plan of the
// quickstart's experiment and the metrics to analyse: the same as
// examples/experiment declares, so both commands print the same numbers.
// A real deployment loads these from its experiment registry.
func quickstartPlan() (map[string]experiment.AnalysisConfig, []experiment.Metric, error) {
	const name = "ranker-v42"
	design, err := experiment.New(experiment.Config{Name: name, Variants: []experiment.Variant{{Name: "control", Weight: 1}, {Name: "treatment", Weight: 1}}})
	if err != nil {
		return nil, nil, err
	}
	n, err := stats.SampleSizeProportions(0.30, 0.33, 0.05, 0.8)
	if err != nil {
		return nil, nil, err
	}
	reg, err := experiment.Register(experiment.Plan{Experiment: name, PrimaryMetric: "conversion",
		Hypotheses: []string{"ranker v42 raises the share of users who buy", "and does not lower the click rate"},
		Guardrails: []string{"click_rate", "dwell_seconds_per_unit"}, Alpha: 0.05, MDE: 0.03, Power: 0.8,
		SampleSize: int64(n + 1), Control: "control"}, time.Now())
	if err != nil {
		return nil, nil, err
	}
	metrics := append(experiment.DefaultMetrics(),
		experiment.Metric{Name: "dwell_seconds_per_unit", Kind: personalize.OutcomeDwell, Aggregate: experiment.AggregateValue})
	return map[string]experiment.AnalysisConfig{name: {Design: design, Registration: reg}}, metrics, nil
}

// cohortPeriod parses -cohort; "auto" reads the first event of the first
// file and the last complete line of the last file and picks the round
// period (1s, 10s, 1m, 10m, 1h, 6h, 1d, 7d) closest, on a log scale, to
// an eighth of the span between them.
func cohortPeriod(dir, flagValue string) (time.Duration, error) {
	if flagValue != "auto" {
		d, err := time.ParseDuration(flagValue)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("-cohort: want a positive duration or auto, got %q", flagValue)
		}
		return d, nil
	}
	first, last, err := timeSpan(dir)
	if err != nil || !last.After(first) {
		return 24 * time.Hour, nil //nolint:nilerr // no usable span: daily cohorts
	}
	want := float64(last.Sub(first) / 8)
	best, bestDist := time.Second, math.Inf(1)
	for _, d := range []time.Duration{time.Second, 10 * time.Second, time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour} {
		if dist := math.Abs(math.Log(float64(d) / want)); dist < bestDist {
			best, bestDist = d, dist
		}
	}
	return best, nil
}

// timeSpan returns the times of the first and the last event of the
// directory's files, reading only the head of the first file and the tail
// of the last; malformed lines there are passed over.
func timeSpan(dir string) (first, last time.Time, err error) {
	names, err := filepath.Glob(filepath.Join(dir, "*"+file.Ext+"*"))
	if err != nil || len(names) == 0 {
		return first, last, errors.New("no event files")
	}
	sort.Strings(names)
	f, err := os.Open(names[0])
	if err != nil {
		return first, last, err
	}
	head := make([]byte, 1<<16)
	n, err := io.ReadFull(f, head)
	f.Close()
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return first, last, err
	}
	for line := range bytes.Lines(head[:n]) {
		if e, err := personalize.UnmarshalEvent(bytes.TrimSpace(line)); err == nil {
			first = e.Time()
			break
		}
	}
	if first.IsZero() {
		return first, last, errors.New("no complete line at the start")
	}
	g, err := os.Open(names[len(names)-1])
	if err != nil {
		return first, last, err
	}
	defer g.Close()
	st, err := g.Stat()
	if err != nil {
		return first, last, err
	}
	off := max(0, st.Size()-1<<16)
	tail := make([]byte, st.Size()-off)
	if _, err := g.ReadAt(tail, off); err != nil && !errors.Is(err, io.EOF) {
		return first, last, err
	}
	lines := bytes.Split(bytes.TrimRight(tail, "\n"), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		if e, err := personalize.UnmarshalEvent(lines[i]); err == nil {
			return first, e.Time(), nil
		}
	}
	return first, last, errors.New("no complete line at the end")
}

type options struct {
	in, out, json, title, cohort string
	progressOver                 int64
}

func main() {
	var o options
	flag.StringVar(&o.in, "in", "rankscope-out", "directory of event files")
	flag.StringVar(&o.out, "o", "report.html", "HTML report to write")
	flag.StringVar(&o.json, "json", "", "JSON summary to write (default: -o with .json)")
	flag.StringVar(&o.title, "title", "", "report title")
	flag.StringVar(&o.cohort, "cohort", "auto", `lift cohort period (a duration such as 24h), or "auto"`)
	flag.Int64Var(&o.progressOver, "progress-over", 8<<20, "show a progress bar when the input exceeds this many bytes (-1: never)")
	flag.Parse()
	if err := run(o, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func inputSize(dir string) (int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range entries {
		if strings.Contains(e.Name(), file.Ext) {
			if info, err := e.Info(); err == nil {
				n += info.Size()
			}
		}
	}
	return n, nil
}

// progress draws a bar on w from an estimate of bytes read: the encoded
// size of the first events sets the mean line length.
type progress struct {
	w          io.Writer
	total      int64
	events     int64
	sampleN    int64
	sampleSize int64
	last       time.Time
	buf        []byte
}

func (p *progress) add(e personalize.Event) {
	p.events++
	if p.sampleN < 1000 {
		p.buf, _ = personalize.AppendJSON(p.buf[:0], e)
		p.sampleN++
		p.sampleSize += int64(len(p.buf)) + 1
	}
	if now := time.Now(); now.Sub(p.last) >= 200*time.Millisecond {
		p.last = now
		p.draw(false)
	}
}

func (p *progress) draw(done bool) {
	frac := 1.0
	if !done && p.sampleN > 0 && p.total > 0 {
		frac = min(0.99, float64(p.events)*float64(p.sampleSize)/float64(p.sampleN)/float64(p.total))
	}
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%% %d events", strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100, p.events)
	if done {
		fmt.Fprintln(p.w)
	}
}

// quickstartLabels are the user-facing labels of the quickstart model's
// explanation features, for the report's "why am I seeing this" sample.
var quickstartLabels = map[string]string{"taste_match": "the kind of items you like", "other_signals": "other signals"}

func run(o options, stderr io.Writer) error {
	size, err := inputSize(o.in)
	if err != nil {
		return fmt.Errorf("-in %s: %w", o.in, err)
	}
	if size == 0 {
		return fmt.Errorf("-in %s: no event files (*%s) found", o.in, file.Ext)
	}
	period, err := cohortPeriod(o.in, o.cohort)
	if err != nil {
		return err
	}
	analyses, metrics, err := quickstartPlan()
	if err != nil {
		return err
	}
	b, err := report.NewBuilder(report.Config{Title: o.title, Analyses: analyses,
		Experiment:   experiment.CollectorConfig{Metrics: metrics},
		Attribution:  attribution.Config{Lift: attribution.LiftConfig{Period: period}},
		SLO:          map[string]panel.SLO{panel.TotalStage: {P95Ms: 40, P99Ms: 60}},
		Explanations: report.ExplanationsConfig{Labels: quickstartLabels}})
	if err != nil {
		return err
	}
	var pr *progress
	if o.progressOver >= 0 && size > o.progressOver {
		pr = &progress{w: stderr, total: size}
	}
	// Skip malformed lines, as examples/experiment and examples/attribution
	// do, and say how many: one bad line should not cost the whole report.
	stats, err := file.ReadConfig{SkipMalformed: true}.ReadDir(o.in, func(e personalize.Event) error {
		if pr != nil {
			pr.add(e)
		}
		return b.Add(e)
	})
	if pr != nil {
		pr.draw(true)
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", o.in, err)
	}
	rep := b.Report()
	if stats.Skipped > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d malformed line(s) were skipped.", stats.Skipped))
	}
	if len(stats.Torn) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d torn trailing line(s) of files still being written were skipped.", len(stats.Torn)))
	}
	var html bytes.Buffer
	if err := report.WriteHTML(&html, rep); err != nil {
		return err
	}
	jsonPath := o.json
	if jsonPath == "" {
		jsonPath = strings.TrimSuffix(o.out, filepath.Ext(o.out)) + ".json"
	}
	if jsonPath == o.out {
		return errors.New("-json: must differ from -o")
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.out, html.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(jsonPath, append(js, '\n'), 0o644); err != nil {
		return err
	}
	for _, le := range stats.SkippedErrors[:min(len(stats.SkippedErrors), 3)] {
		fmt.Fprintln(stderr, "report: skipped", le)
	}
	fmt.Fprintf(stderr, "report: %d impressions, %d outcomes, %d malformed line(s) skipped -> %s, %s\n",
		rep.Counts.Impressions, rep.Counts.Outcomes, stats.Skipped, o.out, jsonPath)
	if l := rep.Lineage; l != nil {
		fmt.Fprintf(stderr, "report: lineage: %d model version(s) served, %d of %d rankings without a lineage record, %d feature-hash conflict(s)\n",
			len(l.Models), l.Unregistered, l.Impressions, len(l.Conflicts))
	}
	return nil
}
