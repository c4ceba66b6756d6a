package replay

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/exporters/file/filetest"
	"github.com/rankscope/rankscope/internal/benchcpu"
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
		Start: start, End: start.Add(5 * time.Millisecond), Service: "shop", Surface: "home", UserID: personalize.Pseudonym{ID: "u" + strconv.Itoa(g.i%1000)},
		Context: []personalize.Attr{{Key: personalize.AttrDevice, Value: "ios"}}, Items: make([]personalize.Item, 10)}
	for k := range im.Items {
		im.Items[k] = personalize.Item{ID: strconv.Itoa(g.rng.IntN(100)), Position: k + 1, Score: g.rng.Float64(), Propensity: 0.05 + 0.9*g.rng.Float64()}
	}
	if g.rng.Float64() < 0.3 {
		g.next = &personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{RequestID: rid, Item: im.Items[g.rng.IntN(3)].ID,
			Kind: personalize.OutcomeClick, Time: im.End.Add(200 * time.Millisecond), UserID: im.UserID}}
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
	cpu0 := benchcpu.Now()
	for i := 0; i < b.N; i++ {
		if err := e.Add(g.event()); err != nil {
			b.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(benchcpu.Now()-cpu0)/float64(b.N), "cpu-ns/event")
}

// BenchmarkOfflineEvents is BenchmarkOffline without the generator's
// cost: events are made in chunks of 4096 with the timer stopped, and
// cpu-ns/event counts only Add (and the final Flush).
func BenchmarkOfflineEvents(b *testing.B) {
	g := newGen()
	e := benchEvaluator(b)
	buf := make([]personalize.Event, 0, 4096)
	var cpu time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += cap(buf) {
		b.StopTimer()
		buf = buf[:0]
		for range min(cap(buf), b.N-i) {
			buf = append(buf, g.event())
		}
		b.StartTimer()
		c := benchcpu.Now()
		for _, ev := range buf {
			if err := e.Add(ev); err != nil {
				b.Fatal(err)
			}
		}
		cpu += benchcpu.Now() - c
	}
	c := benchcpu.Now()
	if err := e.Flush(); err != nil {
		b.Fatal(err)
	}
	cpu += benchcpu.Now() - c
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/event")
}

// BenchmarkOfflineFiles is the offline path from files: 60,000 events of
// the generator (impressions of 10 items, clicks for about 30%; valid
// events with a user on every click) written by the file exporter, read
// with file.ReadDir decoding on two goroutines (ReadConfig.Workers = 2)
// into a new Evaluator per read, then Flush. One op is one event.
func BenchmarkOfflineFiles(b *testing.B) {
	g := newGen()
	evs := make([]personalize.Event, 60000)
	for i := range evs {
		evs[i] = g.event()
	}
	dir := filetest.WriteDir(b, evs)
	per := len(evs)
	evs = nil
	rc := file.ReadConfig{Workers: 2}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchcpu.Now()
	var n int
	for n < b.N {
		e := benchEvaluator(b)
		if _, err := rc.ReadDir(dir, e.Add); err != nil {
			b.Fatal(err)
		}
		if err := e.Flush(); err != nil {
			b.Fatal(err)
		}
		n += per
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(benchcpu.Now()-cpu0)/float64(n), "cpu-ns/event")
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

// TestEvaluatorAddAllocs pins the offline path's allocations: with scored
// impressions recycled, adding decoded impressions and clicks allocates
// nothing per event once the evaluator is warm.
func TestEvaluatorAddAllocs(t *testing.T) {
	g := newGen()
	e, err := New(Config{Policy: RankBy(func(c *Context, i int) float64 { return -c.Items[i].Score }), Window: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	const warm, runs = 20000, 2000
	evs := make([]personalize.Event, warm+runs+1)
	for i := range evs {
		evs[i] = g.event()
	}
	n := 0
	add := func() {
		if err := e.Add(evs[n]); err != nil {
			t.Fatal(err)
		}
		n++
	}
	for range warm {
		add()
	}
	if allocs := testing.AllocsPerRun(runs, add); allocs != 0 {
		t.Errorf("%v allocations per event, want 0", allocs)
	}
}
