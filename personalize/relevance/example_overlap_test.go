package relevance_test

import (
	"fmt"

	"github.com/rankscope/rankscope/personalize/relevance"
)

// Two successive rankings of the same user compared by overlap, and the
// association of two paired score vectors with its p-value.
func ExampleAverageOverlap() {
	prev := []string{"a", "b", "c"}
	cur := []string{"b", "a", "d", "c"}
	rbo, _ := relevance.RBO(prev, cur, 0.9)
	fmt.Printf("AO@4 %.4f\n", relevance.AverageOverlap(prev, cur, 4))
	fmt.Printf("RBO_ext(p=0.9) %.4f\n", rbo.Ext)
	// Kendall tau-b with its p-value (SciPy's kendalltau example).
	kt, _ := relevance.KendallTauBTest([]float64{12, 2, 1, 12, 2}, []float64{1, 4, 7, 1, 0})
	fmt.Printf("tau-b %.4f p %.4f\n", kt.TauB, kt.P)
	// Output:
	// AO@4 0.6042
	// RBO_ext(p=0.9) 0.8123
	// tau-b -0.4714 p 0.2827
}
