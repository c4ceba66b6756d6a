package attribution_test

import (
	"fmt"

	"github.com/rankscope/rankscope/attribution"
)

// Two workers each count the journeys of their own users; the merged
// chain is solved once.
func ExampleMarkov_Merge() {
	var a, b attribution.Markov
	_ = a.AddPath([]string{"email", "search"}, 3, 1, 90)
	_ = a.AddPath([]string{"display"}, 0, 4, 0)
	_ = b.AddPath([]string{"search"}, 2, 2, 40)
	_ = b.AddPath([]string{"display", "search"}, 1, 1, 30)

	bytes, _ := b.MarshalBinary() // what worker b sends
	var got attribution.Markov
	if err := got.UnmarshalBinary(bytes); err != nil {
		fmt.Println(err)
		return
	}
	if err := a.Merge(&got); err != nil {
		fmt.Println(err)
		return
	}
	sol, _ := a.Solve()
	for i, ch := range sol.Channels {
		fmt.Printf("%s %.3f\n", ch, sol.Shares[i])
	}
	// Output:
	// email 0.250
	// search 0.625
	// display 0.125
}
