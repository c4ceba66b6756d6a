package chart_test

import (
	"fmt"
	"strings"

	"github.com/rankscope/rankscope/personalize/dashboard/chart"
)

func ExampleBars() {
	svg := chart.Bars{
		Title: "Dropped events by reason",
		Bars:  []chart.Bar{{Label: "queue_full", Value: 12, Tone: chart.ToneBad}, {Label: "shutdown", Value: 3}},
	}.SVG()
	fmt.Println(strings.HasPrefix(svg, "<svg"), strings.Count(svg, "<rect"))
	// Output: true 2
}

func ExampleNum() {
	fmt.Println(chart.Num(0.061234), chart.Num(41.27), chart.Num(20000))
	// Output: 0.0612 41.3 20k
}
