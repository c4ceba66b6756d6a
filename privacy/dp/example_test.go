package dp_test

import (
	"errors"
	"fmt"

	"github.com/rankscope/rankscope/privacy/dp"
)

// Release click-through counts and mean dwell per device segment, twice;
// the budget allows only two releases, so a third is refused.
func Example() {
	budget, err := dp.NewBudget("clicks-2026-11", 1.0, 0)
	if err != nil {
		panic(err)
	}
	agg, err := dp.New(dp.Config{
		Budget:           budget,
		Epsilon:          0.5, // per release
		Metrics:          []dp.Metric{dp.MetricCount, dp.MetricMean},
		MaxPartitions:    1,            // a user counts in one device segment
		MaxContributions: 5,            // and at most 5 clicks there
		Lower:            0, Upper: 60, // dwell seconds, clamped
		Segments: []string{"desktop", "mobile"},
	})
	if err != nil {
		panic(err)
	}
	for u := range 2000 {
		seg := []string{"desktop", "mobile"}[u%2]
		for c := range u % 7 {
			_ = agg.Add(fmt.Sprint("user-", u), seg, float64(10+c))
		}
	}
	for range 3 {
		tab, err := agg.Release()
		var spent *dp.BudgetError
		if errors.As(err, &spent) {
			fmt.Println("refused:", spent.Field, "budget of", spent.Dataset, "spent")
			break
		}
		r := tab.Rows[0]
		// The figures are random; their noise is not.
		fmt.Printf("%s: count noise scale %.0f (sd %.1f), mean with a %.0f%% interval\n",
			r.Segment, r.Count.Scale, r.Count.StdDev, 100*(1-tab.Alpha))
	}
	// Output:
	// desktop: count noise scale 20 (sd 28.3), mean with a 95% interval
	// desktop: count noise scale 20 (sd 28.3), mean with a 95% interval
	// refused: epsilon budget of clicks-2026-11 spent
}
