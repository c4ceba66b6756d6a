package relevance_test

import (
	"fmt"

	"github.com/rankscope/rankscope/personalize/relevance"
)

// Two workers calibrate their own predictions; one process decodes and
// merges them.
func ExampleCalibrator_MarshalBinary() {
	all, _ := relevance.NewCalibrator(2, 10)
	for w := range 2 {
		c, _ := relevance.NewCalibrator(2, 10)
		for i := range 50 {
			p := float64(i%10)/10 + 0.05
			c.Observe(p, (i+w)%3 == 0)
		}
		b, _ := c.MarshalBinary()
		var got relevance.Calibrator
		if err := got.UnmarshalBinary(b); err != nil {
			fmt.Println(err)
			return
		}
		if err := all.Merge(&got); err != nil {
			fmt.Println(err)
			return
		}
	}
	for _, b := range all.Curve(relevance.BinningEqualWidth).Bins {
		fmt.Printf("[%.1f, %.1f): %d predictions, mean %.3f, positive %.3f\n", b.Lo, b.Hi, b.Count, b.MeanPredicted, b.FractionPositive)
	}
	// Output:
	// [0.0, 0.5): 50 predictions, mean 0.250, positive 0.320
	// [0.5, 1.0): 50 predictions, mean 0.750, positive 0.340
}
