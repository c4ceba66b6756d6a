package stats_test

import (
	"fmt"

	"github.com/rankscope/rankscope/personalize/experiment/stats"
)

func ExampleTwoProportions() {
	control := stats.Proportion{Successes: 48, Trials: 80}
	treatment := stats.Proportion{Successes: 56, Trials: 70}
	r, err := stats.TwoProportions(control, treatment, 0.05)
	if err != nil {
		panic(err)
	}
	fmt.Printf("diff %.3f, Newcombe 95%% CI [%.4f, %.4f], p = %.4f\n", r.Diff, r.Newcombe.Lo, r.Newcombe.Hi, r.P)
	// Output: diff 0.200, Newcombe 95% CI [0.0524, 0.3339], p = 0.0080
}

func ExampleAdjust() {
	p := []float64{0.01, 0.04, 0.03, 0.20}
	holm, _ := stats.Adjust(p, stats.CorrectionHolm)
	bh, _ := stats.Adjust(p, stats.CorrectionBH)
	fmt.Printf("holm %.2f\nBH   %.3f\n", holm, bh)
	// Output:
	// holm [0.04 0.09 0.09 0.20]
	// BH   [0.040 0.053 0.053 0.200]
}

func ExampleMonitor() {
	// Tune the mixture to be tightest at the planned 10,000 units per arm
	// (effective n = 5,000), before looking at any data.
	rho, _ := stats.RhoFor(5000, 0.05)
	mon, _ := stats.NewMonitor(stats.Mixture{Rho: rho}, 0.05)
	// Daily looks: cumulative difference, its variance, effective n.
	for _, day := range []struct{ d, v, n float64 }{
		{0.030, 4e-4, 1000}, {0.032, 2e-4, 2000}, {0.031, 1e-4, 4000},
	} {
		p, _ := mon.Look(day.d, day.v, day.n)
		fmt.Printf("n=%.0f always-valid p=%.3f reject=%v\n", day.n, p, mon.Reject())
	}
	// Output:
	// n=1000 always-valid p=0.808 reject=false
	// n=2000 always-valid p=0.291 reject=false
	// n=4000 always-valid p=0.043 reject=true
}

func ExampleCheckSRM() {
	s, _ := stats.CheckSRM([]int64{101000, 99000}, []float64{0.5, 0.5}, 0)
	fmt.Printf("chi2=%.1f p=%.2g mismatch=%v\n", s.Stat, s.P, s.Mismatch)
	// Output: chi2=20.0 p=7.7e-06 mismatch=true
}
