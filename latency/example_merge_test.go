package latency_test

import (
	"fmt"
	"time"

	"github.com/rankscope/rankscope/latency"
)

// Each replica sketches its own latencies and ships the bytes; the merged
// sketch answers quantiles over the whole fleet, exactly as one sketch of
// every duration would.
func ExampleSketch_MarshalBinary() {
	var fleet latency.Sketch
	for replica := range 3 {
		var s latency.Sketch
		for i := range 100 {
			s.Add(time.Duration(1+replica*100+i) * time.Millisecond)
		}
		b, _ := s.MarshalBinary()
		var got latency.Sketch
		if err := got.UnmarshalBinary(b); err != nil {
			fmt.Println(err)
			return
		}
		if err := fleet.Merge(&got); err != nil {
			fmt.Println(err)
			return
		}
	}
	p50, _ := fleet.Quantile(0.5)
	p99, _ := fleet.Quantile(0.99)
	fmt.Println(fleet.Count(), p50.Round(time.Millisecond), p99.Round(time.Millisecond))
	// Output:
	// 300 151ms 297ms
}
