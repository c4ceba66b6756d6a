package stats_test

import (
	"fmt"

	"github.com/rankscope/rankscope/personalize/experiment/stats"
)

// A one-sided sequential test: is the treatment better? Looks at growing
// samples with a steady +0.05 difference and per-unit variance 1.
func ExampleOneSidedMixture() {
	rho, _ := stats.RhoFor(5000, 0.05)
	mon, _ := stats.NewOneSidedMonitor(stats.OneSidedMixture{Rho: rho}, 0.05)
	for _, perArm := range []float64{1000, 2000, 4000, 8000} {
		v := 2 / perArm    // variance of the difference of means
		neff := perArm / 2 // 1/(1/n_c + 1/n_t)
		p, _ := mon.Look(0.05, v, neff)
		fmt.Printf("n=%5.0f p=%.3f lower=%+.4f reject=%v\n", perArm, p, mon.Interval().Lo, mon.Reject())
	}
	// Output:
	// n= 1000 p=0.658 lower=-0.1023 reject=false
	// n= 2000 p=0.418 lower=-0.0449 reject=false
	// n= 4000 p=0.156 lower=-0.0129 reject=false
	// n= 8000 p=0.018 lower=+0.0063 reject=true
}
