package replay_test

import (
	"fmt"

	"github.com/rankscope/rankscope/personalize/replay"
)

// Estimates from plain arrays, one entry per logged action: the worked
// example of TestEstimateRoundsByHand.
func ExampleEstimateRounds() {
	r, err := replay.EstimateRounds(replay.Rounds{
		Reward:     []float64{1, 0, 1, 0},
		Propensity: []float64{0.5, 0.25, 0.5, 0.8}, // logging policy
		Target:     []float64{1, 0.5, 0.25, 0.4},   // candidate, same actions
		QLogged:    []float64{0.6, 0.2, 0.5, 0.3},  // model, logged action
		QTarget:    []float64{0.7, 0.3, 0.4, 0.35}, // model, expected under the candidate
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range []struct {
		name string
		v    replay.PointEstimate
	}{{"IPS", r.IPS}, {"SNIPS", r.SNIPS}, {"DM", r.DM}, {"DR", r.DR}, {"SNDR", r.SNDR}} {
		fmt.Printf("%-5s %.4f ± %.4f\n", e.name, e.v.Value, e.v.StdErr)
	}
	fmt.Printf("ESS %.2f of %d\n", r.EffectiveSampleSize, r.N)
	// Output:
	// IPS   0.6250 ± 0.4732
	// SNIPS 0.5000 ± 0.3367
	// DM    0.4375 ± 0.0898
	// DR    0.5625 ± 0.3484
	// SNDR  0.5375 ± 0.2900
	// ESS 2.94 of 4
}
