package replay

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/rankscope/rankscope/personalize"
)

// gen produces a synthetic log: impressions of 10 items served 1 ms apart
// by an epsilon-greedy logger (propensities known), and a click for about
// 30% of them.
type gen struct {
	rng  *rand.Rand
	i    int
	next *personalize.Event
}

func newGen() *gen { return &gen{rng: rand.New(rand.NewPCG(1, 1))} }

func (g *gen) event() personalize.Event {
	if g.next != nil {
		e := *g.next
		g.next = nil
		return e
	}
	g.i++
	start := t0.Add(time.Duration(g.i) * time.Millisecond)
	rid := "req-" + strconv.Itoa(g.i)
	im := &personalize.Impression{EventID: personalize.EventID{byte(g.i), byte(g.i >> 8), byte(g.i >> 16), byte(g.i >> 24)}, RequestID: rid,
		Start: start, End: start.Add(5 * time.Millisecond), Service: "shop", Surface: "home", User: personalize.Pseudonym{ID: "u" + strconv.Itoa(g.i%1000)},
		Context: []personalize.Attr{{Key: personalize.AttrDevice, Value: "ios"}}, Items: make([]personalize.Item, 10)}
	for k := range im.Items {
		im.Items[k] = personalize.Item{ID: strconv.Itoa(g.rng.IntN(100)), Position: k + 1, Score: g.rng.Float64(), Propensity: 0.05 + 0.9*g.rng.Float64()}
	}
	if g.rng.Float64() < 0.3 {
		g.next = &personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{RequestID: rid, Item: im.Items[g.rng.IntN(3)].ID,
			Kind: personalize.OutcomeClick, Time: im.End.Add(200 * time.Millisecond), UserID: im.User}}
	}
	return personalize.Event{Type: personalize.EventImpression, Impression: im}
}

func benchEvaluator(b *testing.B) *Evaluator {
	e, err := New(Config{Policy: RankBy(func(c *Context, i int) float64 { return -c.Items[i].Score }), Window: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkOffline replays b.N decoded events (run with
// -benchtime=10000000x for the 10 million).
func BenchmarkOffline(b *testing.B) {
	g := newGen()
	e := benchEvaluator(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.Add(g.event()); err != nil {
			b.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkOfflineJSON adds decoding with personalize.UnmarshalEvent, as
// when reading event files: lines come from a ring of 20,000 encoded
// events (so repeated request ids arrive after their window closed).
func BenchmarkOfflineJSON(b *testing.B) {
	g := newGen()
	var lines [][]byte
	for len(lines) < 20000 {
		l, err := personalize.AppendJSON(nil, g.event())
		if err != nil {
			b.Fatal(err)
		}
		lines = append(lines, l)
	}
	e := benchEvaluator(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev, err := personalize.UnmarshalEvent(lines[i%len(lines)])
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Add(ev); err != nil {
			b.Fatal(err)
		}
	}
	_ = e.Flush()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
