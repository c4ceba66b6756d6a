package dashtest

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/rankscope/rankscope/personalize"
)

// Events makes a deterministic, already pseudonymized event stream: n
// rankings of 5 items for 400 users in a two-arm experiment whose
// treatment converts more, with clicks falling off by position, over the
// 24 hours before [Now].
func Events(n int) []personalize.Event {
	rng := rand.New(rand.NewPCG(7, 11))
	// Deterministic event ids (version 4 layout): the attribution
	// bootstrap seeds each journey's weights with its event id.
	var seq uint64
	nextID := func() personalize.EventID {
		seq++
		var id personalize.EventID
		binary.BigEndian.PutUint64(id[8:], seq)
		id[6], id[8] = 0x40, 0x80
		return id
	}
	var out []personalize.Event
	t0 := Now.Add(-24 * time.Hour)
	for i := range n {
		u := rng.IntN(400)
		user := personalize.Pseudonym{ID: fmt.Sprintf("%032x", u*7919+13), KeyID: "k1"}
		arm := "control"
		if u%2 == 1 {
			arm = "treatment"
		}
		at := t0.Add(time.Duration(i) * 24 * time.Hour / time.Duration(n))
		var items []personalize.Item
		for p := 1; p <= 5; p++ {
			items = append(items, personalize.Item{ID: fmt.Sprintf("item-%d", rng.IntN(12)*5+p), Position: p, Score: 0.3 / float64(p),
				Category: []string{"news", "sport", "music"}[rng.IntN(3)], Provider: []string{"provider-a", "provider-b"}[p%2]})
		}
		req := fmt.Sprintf("req-%d", i)
		scoring := time.Duration(2+rng.IntN(20)) * time.Millisecond
		im := &personalize.Impression{EventID: nextID(), RequestID: req, Start: at.Add(-scoring - 3*time.Millisecond), End: at,
			Service: "feed-ranker", Surface: []string{"home_feed", "search"}[i%2], UserID: user, Items: items,
			Experiments: []personalize.Assignment{{Experiment: "ranker-v42", Variant: arm}},
			Stages:      []personalize.StageTiming{{Name: "feature_retrieval", Duration: 3 * time.Millisecond}, {Name: "model_scoring", Offset: 3 * time.Millisecond, Duration: scoring}}}
		out = append(out, personalize.Event{Type: personalize.EventImpression, Impression: im})
		for _, it := range items {
			if rng.Float64() < 0.3/float64(it.Position) {
				out = append(out, personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{EventID: nextID(),
					RequestID: req, Item: it.ID, Kind: personalize.OutcomeClick, Surface: im.Surface, UserID: user, Time: at.Add(time.Second), Service: "feed-ranker"}})
				p := 0.02
				if arm == "treatment" {
					p = 0.05
				}
				if rng.Float64() < p*5 {
					out = append(out, personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{EventID: nextID(),
						Item: it.ID, Kind: personalize.OutcomePurchase, Value: 10, Currency: "EUR", UserID: user, Time: at.Add(2 * time.Second), Service: "feed-ranker"}})
				}
			}
		}
	}
	return out
}
