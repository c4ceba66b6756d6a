// Command report turns rankscope event files into one self-contained HTML
// report (charts inline, no external assets) and a JSON summary:
//
//	go run ./examples/report -in rankscope-out -o report.html
//
// writes report.html and report.json. A progress bar goes to stderr when
// the input is larger than -progress-over bytes.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/dashboard"
)

type options struct {
	in, out, json, title string
	progressOver         int64
}

func main() {
	var o options
	flag.StringVar(&o.in, "in", "rankscope-out", "directory of event files")
	flag.StringVar(&o.out, "o", "report.html", "HTML report to write")
	flag.StringVar(&o.json, "json", "", "JSON summary to write (default: -o with .json)")
	flag.StringVar(&o.title, "title", "", "report title")
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

func run(o options, stderr io.Writer) error {
	size, err := inputSize(o.in)
	if err != nil {
		return fmt.Errorf("-in %s: %w", o.in, err)
	}
	if size == 0 {
		return fmt.Errorf("-in %s: no event files (*%s) found", o.in, file.Ext)
	}
	b, err := dashboard.NewReportBuilder(dashboard.ReportConfig{Title: o.title})
	if err != nil {
		return err
	}
	var pr *progress
	if o.progressOver >= 0 && size > o.progressOver {
		pr = &progress{w: stderr, total: size}
	}
	stats, err := file.ReadDir(o.in, func(e personalize.Event) error {
		b.Add(e)
		if pr != nil {
			pr.add(e)
		}
		return nil
	})
	if pr != nil {
		pr.draw(true)
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", o.in, err)
	}
	rep := b.Report()
	if len(stats.Torn) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d torn trailing line(s) of files still being written were skipped.", len(stats.Torn)))
	}
	var html bytes.Buffer
	if err := dashboard.WriteReportHTML(&html, rep); err != nil {
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
	fmt.Fprintf(stderr, "report: %d impressions, %d outcomes -> %s, %s\n", rep.Counts.Impressions, rep.Counts.Outcomes, o.out, jsonPath)
	return nil
}
