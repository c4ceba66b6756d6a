package attribution_test

import (
	"fmt"
	"time"

	"github.com/rankscope/rankscope/attribution"
	"github.com/rankscope/rankscope/personalize"
)

func Example() {
	eng, err := attribution.New(attribution.Config{})
	if err != nil {
		panic(err)
	}
	t0 := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	id := func(n byte) personalize.EventID { return personalize.EventID{0x01, 15: n} }
	show := func(n byte, at time.Duration, surface string) personalize.Event {
		return personalize.Event{Type: personalize.EventImpression, Impression: &personalize.Impression{
			EventID: id(n), RequestID: fmt.Sprint("r", n), Start: t0.Add(at), End: t0.Add(at),
			Surface: surface, UserID: personalize.Pseudonym{ID: "p-1"}}}
	}
	_ = eng.Add(show(1, 0, "home"))
	_ = eng.Add(show(2, time.Hour, "search"))
	_ = eng.Add(personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{
		EventID: id(3), UserID: personalize.Pseudonym{ID: "p-1"}, Kind: personalize.OutcomePurchase,
		Value: 30, Time: t0.Add(2 * time.Hour)}})
	eng.Close()
	rep := eng.Report()
	for _, model := range []string{"last_touch", "linear", "position_based"} {
		r := rep.Model(model)
		fmt.Printf("%-14s home=%.2f search=%.2f\n", model, r.Surfaces["home"].Value, r.Surfaces["search"].Value)
	}
	// Output:
	// last_touch     home=0.00 search=30.00
	// linear         home=15.00 search=15.00
	// position_based home=15.00 search=15.00
}

func ExampleMarkov() {
	var m attribution.Markov
	_ = m.AddPath([]string{"email", "search"}, 1, 0, 80)
	_ = m.AddPath([]string{"email"}, 0, 1, 0)
	_ = m.AddPath([]string{"search"}, 1, 1, 40)
	sol, _ := m.Solve()
	for i, ch := range sol.Channels {
		fmt.Printf("%s removal=%.3f credit=%.3f\n", ch, sol.RemovalEffects[i], sol.Credit[i].Conversions)
	}
	// Output:
	// email removal=0.333 credit=0.500
	// search removal=1.000 credit=1.500
}
