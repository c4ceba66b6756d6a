package chart

import (
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden SVG files in testdata")

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		n      int
		want   []float64
	}{
		// the ticks 3.32, 6.99, 14.7 came from splitting the range
		// in four equal parts; round ticks instead:
		{3.32, 14.7, 5, []float64{0, 5, 10, 15}},
		{0, 0.873, 5, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{-15.9, 22.9, 5, []float64{-20, -10, 0, 10, 20, 30}},
		{0, 1, 4, []float64{0, 0.5, 1}}, // 0.25 is not 1, 2 or 5 times a power of ten
		{0, 100, 4, []float64{0, 50, 100}},
		{0.0012, 0.0047, 4, []float64{0.001, 0.002, 0.003, 0.004, 0.005}},
		{1990, 1984 + 100, 4, []float64{1950, 2000, 2050, 2100}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.lo, "..", tt.hi), func(t *testing.T) {
			got := niceTicks(tt.lo, tt.hi, tt.n)
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, len(got)-1, tt.n)
			step := got[1] - got[0]
			mant := step / math.Pow(10, math.Floor(math.Log10(step)))
			assert.Contains(t, []float64{1, 2, 5}, math.Round(mant*1e9)/1e9, "step %v is 1, 2 or 5 times a power of ten", step)
		})
	}
}

func TestLogTicks(t *testing.T) {
	assert.Equal(t, []float64{5, 10, 20, 50}, logTicks(3.12, 65.4))
	assert.Equal(t, []float64{0.5, 1, 2, 5, 10, 20}, logTicks(0.332, 29.2))
	// within one decade: round linear ticks
	assert.Equal(t, []float64{4, 6, 8}, logTicks(3, 9))
}

func TestWrap(t *testing.T) {
	assert.Nil(t, wrap("", 100))
	lines := wrap("ranker-v42: conversion lift of treatment per cohort (points, 95% CI)", 200)
	assert.Greater(t, len(lines), 1)
	for _, l := range lines {
		assert.LessOrEqual(t, textWidth(l), 200.0, l)
	}
}

// svgText is one <text> of a chart with its estimated box.
type svgText struct {
	s   string
	box box
}

// texts parses the chart's unrotated texts and estimates their boxes with
// the layout's own metrics.
func texts(t *testing.T, svg string) (width float64, out []svgText) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	var cur *svgText
	var x, y float64
	var anchor string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return width, out
		}
		require.NoError(t, err)
		switch tok := tok.(type) {
		case xml.StartElement:
			attr := map[string]string{}
			for _, a := range tok.Attr {
				attr[a.Name.Local] = a.Value
			}
			switch tok.Name.Local {
			case "svg":
				width, _ = strconv.ParseFloat(attr["width"], 64)
			case "text":
				if attr["transform"] != "" {
					continue
				}
				x, _ = strconv.ParseFloat(attr["x"], 64)
				y, _ = strconv.ParseFloat(attr["y"], 64)
				anchor = attr["text-anchor"]
				cur = &svgText{}
			}
		case xml.CharData:
			if cur != nil {
				cur.s += string(tok)
			}
		case xml.EndElement:
			if tok.Name.Local == "text" && cur != nil {
				cur.box = textBox(x, y, anchor, cur.s)
				out = append(out, *cur)
				cur = nil
			}
		}
	}
}

// layoutCases are charts that crowded their labels before: close latency
// markers, long bar texts, a time axis of 14 cohorts, a calibration curve
// on fixed axes, many series.
func layoutCases() map[string]string {
	day := func(i int) float64 { return float64(time.Date(2026, 11, 2+i, 0, 0, 0, 0, time.UTC).Unix()) }
	var cohorts []Point
	var starts []float64
	for i := range 14 {
		y := []float64{2.29, 11.2, 2.01, 11.3, 7.12, 6.33, 10.6, 6.05, -0.06, 2.09, -4.06, -4.38, 6.41, -1.63}[i]
		cohorts = append(cohorts, Point{X: day(i), Y: y, Lo: y - 4 - float64(i)/2, Hi: y + 4 + float64(i)/2})
		starts = append(starts, day(i))
	}
	dates := func(x float64) string { return time.Unix(int64(x), 0).UTC().Format("01-02") }
	groups := []Bar{}
	for _, g := range []string{"globex", "hooli", "acme", "umbrella", "initech"} {
		groups = append(groups, Bar{Label: g, Value: 0.2, Text: "20.3% of exposure, 20.2% of expected relevance"})
	}
	var series []Series
	for i := range 5 {
		series = append(series, Series{Name: fmt.Sprintf("series number %d", i), Points: []Point{{X: 0, Y: float64(i)}, {X: 10, Y: float64(2 * i)}}})
	}
	return map[string]string{
		"latency": Histogram{Title: "total latency (all)", XLabel: "milliseconds (log scale)", LogX: true,
			Bins: []Bin{{Lo: 3.12, Hi: 5, Count: 10}, {Lo: 5, Hi: 9.7, Count: 300}, {Lo: 9.7, Hi: 17, Count: 120}, {Lo: 17, Hi: 31, Count: 20}, {Lo: 31, Hi: 65.4, Count: 2}},
			Markers: []Marker{{Label: "p50 9.73", X: 9.73}, {Label: "p95 17", X: 17}, {Label: "p99 31", X: 31},
				{Label: "SLO p95", X: 30, Tone: ToneBad, Dashed: true}, {Label: "SLO p99", X: 50, Tone: ToneBad, Dashed: true}}}.SVG(),
		"exposure": Bars{Title: "Position-weighted exposure per group", Bars: groups, Max: 1}.SVG(),
		"lift": Lines{Title: "ranker-v42: conversion lift of treatment per cohort (points, 95% CI)", YLabel: "points",
			Series: []Series{{Name: "treatment − control", Points: cohorts}}, HRef: "no effect", XFormat: dates, XTicks: starts}.SVG(),
		"calibration": Lines{Title: "Calibration (ECE 0.0771; 95% Wilson bands)", XLabel: "mean predicted probability", YLabel: "observed positive rate",
			Series:   []Series{{Name: "model", Points: []Point{{X: 0.057, Y: 0.010, Lo: 0.009, Hi: 0.011}, {X: 0.138, Y: 0.038, Lo: 0.036, Hi: 0.039}, {X: 0.23, Y: 0.078, Lo: 0.07, Hi: 0.09}}}},
			Diagonal: true, Fixed: true, XMax: 0.3, YMax: 0.3}.SVG(),
		"drift": Bars{Title: "Drift per feature (population stability index)", Bars: []Bar{{Label: "user_age_days", Value: 0.31, Text: "PSI 0.31 (critical)", Tone: ToneBad}, {Label: "item_price", Value: 0.01, Text: "PSI 0.01 (ok)"}},
			Ref: "PSI 0.25", RefValue: 0.25}.SVG(),
		"legend": Lines{Title: "Throughput", YLabel: "per second", Series: series, Width: 300}.SVG(),
	}
}

// TestLabelsDoNotOverlap checks, with the layout's width estimates, that
// no two texts of a chart overlap and none leaves the canvas. The
// browser test checks the same on the rendered page with the browser's
// own font metrics.
func TestLabelsDoNotOverlap(t *testing.T) {
	for name, svg := range layoutCases() {
		t.Run(name, func(t *testing.T) {
			width, ts := texts(t, svg)
			require.NotEmpty(t, ts)
			for i, a := range ts {
				assert.GreaterOrEqual(t, a.box.x0, -0.5, "%q starts left of the canvas", a.s)
				assert.LessOrEqual(t, a.box.x1, width+0.5, "%q ends right of the canvas", a.s)
				assert.NotContains(t, a.s, "…", "no label is cut")
				for _, b := range ts[i+1:] {
					assert.False(t, a.box.overlaps(b.box), "%q overlaps %q", a.s, b.s)
				}
			}
		})
	}
}

// TestGolden compares each chart with its golden SVG; go test -update
// rewrites them (look at them in a browser before committing).
func TestGolden(t *testing.T) {
	for name, svg := range layoutCases() {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name+".svg")
			if *update {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(path, []byte(svg+"\n"), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -update to create it")
			assert.Equal(t, string(want), svg+"\n")
		})
	}
}
