package replay_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/replay"
)

// A logger that shows one of three items uniformly at random; item "c"
// gets clicked most. The candidate always shows "c".
func Example() {
	ctr := map[string]float64{"a": 0.05, "b": 0.10, "c": 0.30}
	rng := rand.New(rand.NewPCG(7, 7))
	ev, err := replay.New(replay.Config{
		Slots: 1,
		Policy: replay.RankBy(func(c *replay.Context, i int) float64 {
			if c.Items[i].ID == "c" {
				return 1
			}
			return 0
		}),
	})
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 30000; i++ {
		ids := []string{"a", "b", "c"}
		rng.Shuffle(3, func(x, y int) { ids[x], ids[y] = ids[y], ids[x] })
		im := &personalize.Impression{EventID: personalize.NewEventID(), RequestID: strconv.Itoa(i),
			Start: start.Add(time.Duration(i) * time.Second), End: start.Add(time.Duration(i) * time.Second),
			UserID: personalize.Pseudonym{ID: "u"}}
		for k, id := range ids {
			im.Items = append(im.Items, personalize.Item{ID: id, Position: k + 1, Propensity: 1.0 / 3})
		}
		_ = ev.Add(personalize.Event{Type: personalize.EventImpression, Impression: im})
		if rng.Float64() < ctr[ids[0]] {
			_ = ev.Add(personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{
				RequestID: im.RequestID, Item: ids[0], Kind: personalize.OutcomeClick, Time: im.End}})
		}
	}
	if err := ev.Flush(); err != nil {
		panic(err)
	}
	r, _ := ev.Result()
	fmt.Printf("logged CTR %.2f\n", r.Logged.Value)
	fmt.Printf("candidate CTR by IPS %.2f, interval covers 0.30: %v\n", r.IPS.Value, r.IPS.Lower <= 0.30 && 0.30 <= r.IPS.Upper)
	fmt.Printf("no support for %.0f%% of logged actions\n", 100*r.Diagnostics.NoSupportShare)
	// Output:
	// logged CTR 0.15
	// candidate CTR by IPS 0.30, interval covers 0.30: true
	// no support for 67% of logged actions
}
