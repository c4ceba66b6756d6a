package chart

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wellFormed parses s as strict XML and returns the number of elements
// named name.
func wellFormed(t *testing.T, s string, name string) int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	n := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return n
		}
		require.NoError(t, err, s)
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == name {
			n++
		}
	}
}

func TestNum(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {1, "1"}, {0.5, "0.5"}, {0.123456, "0.123"}, {12.345, "12.3"},
		{123.4, "123"}, {9999, "9999"}, {12345, "12.3k"}, {2.5e6, "2.5M"},
		{3e9, "3G"}, {-0.25, "-0.25"}, {0.00001234, "1.23e-05"},
		{math.NaN(), "n/a"}, {math.Inf(1), "inf"}, {math.Inf(-1), "-inf"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) { assert.Equal(t, tt.want, Num(tt.in)) })
	}
}

func TestChartsAreWellFormedAndEscaped(t *testing.T) {
	evil := `<script>alert("x")</script>&`
	tests := []struct {
		name  string
		svg   string
		shape string
		n     int
	}{
		{"bars", Bars{Title: evil, Bars: []Bar{{Label: evil, Value: 3}, {Label: "b", Value: math.NaN()}, {Label: "c", Value: -1}}, Ref: evil, RefValue: 2}.SVG(), "rect", 3},
		{"lines", Lines{Title: evil, XLabel: evil, YLabel: evil, Diagonal: true, HRef: evil, HRefValue: 0.5,
			Series: []Series{{Name: evil, Points: []Point{{X: 0, Y: 0.1, Lo: 0, Hi: 0.2}, {X: 1, Y: math.NaN()}, {X: 0.5, Y: 0.4, Lo: 0.3, Hi: 0.5}}}, {Name: "b"}}}.SVG(), "circle", 2},
		{"histogram", Histogram{Title: evil, LogX: true, Bins: []Bin{{Lo: 1, Hi: 2, Count: 3}, {Lo: 0, Hi: 1, Count: 9}, {Lo: 2, Hi: 4, Count: math.Inf(1)}},
			Markers: []Marker{{Label: evil, X: 1.5}, {Label: "neg", X: -1}}}.SVG(), "rect", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.NotContains(t, tt.svg, "<script")
			assert.Contains(t, tt.svg, "&lt;script&gt;")
			assert.NotContains(t, tt.svg, "NaN")
			assert.NotContains(t, tt.svg, "Inf")
			assert.Equal(t, 1, wellFormed(t, tt.svg, "svg"))
			assert.Equal(t, tt.n, wellFormed(t, tt.svg, tt.shape))
		})
	}
}

func TestBoundsLeaveOutAndSay(t *testing.T) {
	bars := make([]Bar, MaxBars+10)
	for i := range bars {
		bars[i] = Bar{Label: "x", Value: float64(i)}
	}
	s := Bars{Title: "many", Bars: bars}.SVG()
	assert.Equal(t, MaxBars, wellFormed(t, s, "rect"))
	assert.Contains(t, s, "(10 more not shown)")

	series := make([]Series, MaxSeries+2)
	for i := range series {
		series[i] = Series{Name: "s", Points: make([]Point, MaxPoints+5)}
		for j := range series[i].Points {
			series[i].Points[j] = Point{X: float64(j), Y: 1}
		}
	}
	l := Lines{Title: "many", Series: series}.SVG()
	assert.Equal(t, MaxSeries*MaxPoints, wellFormed(t, l, "circle"))
	assert.Contains(t, l, "(2 more not shown)")
}

func TestBarWidthsAreProportional(t *testing.T) {
	s := Bars{Bars: []Bar{{Label: "a", Value: 1}, {Label: "b", Value: 2}}, Max: 4, Width: 420}.SVG()
	widths := regexp.MustCompile(`<rect x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"`).FindAllStringSubmatch(s, -1)
	require.Len(t, widths, 2)
	a, _ := strconv.ParseFloat(widths[0][2], 64)
	b, _ := strconv.ParseFloat(widths[1][2], 64)
	assert.InDelta(t, 2*a, b, 0.11)
	// the tick 4 (= Max) stands at the end of the longer bar doubled
	x0, _ := strconv.ParseFloat(widths[0][1], 64)
	tick := regexp.MustCompile(`<text x="([0-9.]+)" y="[0-9.]+" text-anchor="middle" fill="#777">4</text>`).FindStringSubmatch(s)
	require.NotNil(t, tick)
	assert.Equal(t, strconv.FormatFloat(math.Round((x0+2*b)*10)/10, 'f', -1, 64), tick[1])
}

func TestEmptyChartsSayNoData(t *testing.T) {
	for _, s := range []string{Bars{}.SVG(), Lines{}.SVG(), Histogram{}.SVG()} {
		assert.Contains(t, s, "no data")
		wellFormed(t, s, "svg")
	}
}

func TestClipKeepsRunes(t *testing.T) {
	s := clip(strings.Repeat("é", 20), 5)
	assert.True(t, strings.HasSuffix(s, "…"))
	assert.Equal(t, "éé…", s)
}

func FuzzBars(f *testing.F) {
	f.Add("label", 1.0, "ref", 0.5)
	f.Add("<&>\"'", math.NaN(), "", math.Inf(1))
	f.Fuzz(func(t *testing.T, label string, v float64, ref string, rv float64) {
		s := Bars{Title: label, Bars: []Bar{{Label: label, Value: v}}, Ref: ref, RefValue: rv}.SVG()
		if !strings.HasPrefix(s, "<svg") || !strings.HasSuffix(s, "</svg>") {
			t.Fatalf("not an svg: %q", s)
		}
	})
}
