package drift_test

import (
	"fmt"

	"github.com/rankscope/rankscope/personalize/drift"
)

// Each replica monitors its own traffic; a central process merges their
// states into a monitor of the same configuration and reports.
func ExampleMonitor_MergeState() {
	ref, _ := drift.NewCategoricalReference("device", []string{"ios", "ios", "android", "web"}, drift.ReferenceConfig{})
	cfg := drift.Config{References: []*drift.Reference{ref}, IDs: []string{"user"}}
	central, _ := drift.New(cfg)
	var merged drift.State
	for replica := range 3 {
		m, _ := drift.New(cfg)
		for i := range 200 {
			m.ObserveCategory("device", []string{"ios", "android", "android", "web"}[i%4])
			m.ObserveID("user", fmt.Sprintf("u%d-%d", replica, i%50))
		}
		b, _ := m.State().MarshalBinary()
		var s drift.State
		if err := s.UnmarshalBinary(b); err != nil {
			fmt.Println(err)
			return
		}
		if err := merged.Merge(&s); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := central.MergeState(&merged); err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range central.Report().Features {
		fmt.Printf("%s: %d observations, ~%d distinct, PSI %.3f\n", f.Feature, f.Count, f.Cardinality, f.PSI)
	}
	// Output:
	// device: 600 observations, ~3 distinct, PSI 0.347
	// user: 600 observations, ~151 distinct, PSI NaN
}
