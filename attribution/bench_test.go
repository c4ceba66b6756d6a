package attribution

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/rankscope/rankscope/personalize"
)

// benchStream produces, on the fly, journeys of 1..20 impressions over 8
// channels ending in a conversion, one person after another in time.
type benchStream struct {
	r     *rand.Rand
	g     gen
	users []string
	imps  []personalize.Impression
	outs  []personalize.Outcome
	at    time.Duration
	p     int
}

func newBenchStream() *benchStream {
	s := &benchStream{r: rand.New(rand.NewPCG(1, 2))}
	for i := range 4096 {
		s.users = append(s.users, fmt.Sprintf("user-%06d", i))
	}
	return s
}

var benchChannels = []string{"email", "push", "web", "app", "search", "social", "display", "affiliate"}

// next feeds one journey (touchpoints and conversion) to e.
func (s *benchStream) next(b *testing.B, e *Engine) int {
	user := personalize.Pseudonym{ID: s.users[s.p%len(s.users)]}
	s.p++
	n := 1 + s.r.IntN(20)
	for range n {
		s.at += time.Second
		im := &personalize.Impression{EventID: s.g.id(), Start: t0.Add(s.at), End: t0.Add(s.at),
			Channel: benchChannels[s.r.IntN(len(benchChannels))], Surface: "home", User: user}
		if err := e.Add(personalize.Event{Type: personalize.EventImpression, Impression: im}); err != nil {
			b.Fatal(err)
		}
	}
	s.at += time.Second
	o := &personalize.Outcome{EventID: s.g.id(), UserID: user, Kind: personalize.OutcomePurchase, Value: 10, Time: t0.Add(s.at)}
	if err := e.Add(personalize.Event{Type: personalize.EventOutcome, Outcome: o}); err != nil {
		b.Fatal(err)
	}
	return n + 1
}

func benchEngine(b *testing.B, cfg Config) {
	cfg.ClickWindow, cfg.ViewWindow = time.Hour, time.Hour
	e, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	s := newBenchStream()
	var peak uint64
	var ms runtime.MemStats
	events := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		events += s.next(b, e)
		if i%100000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	e.Close()
	rep := e.Report()
	b.StopTimer()
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapInuse)
	if len(rep.Errors) > 0 {
		b.Fatal(rep.Errors)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conv/s")
	b.ReportMetric(float64(events)/float64(b.N), "events/conv")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// BenchmarkEngine attributes b.N conversions over journeys of 1..20
// touchpoints, end to end (identity, windows, dedup, eviction). Run the
// 1 M figure with -benchtime=1000000x.
func BenchmarkEngine(b *testing.B) {
	b.Run("rules", func(b *testing.B) { benchEngine(b, Config{NoMarkov: true, NoShapley: true}) })
	b.Run("last_touch", func(b *testing.B) {
		benchEngine(b, Config{Rules: []Rule{LastTouch{}}, NoMarkov: true, NoShapley: true})
	})
	b.Run("markov", func(b *testing.B) { benchEngine(b, Config{Rules: []Rule{}, NoShapley: true}) })
	b.Run("shapley", func(b *testing.B) { benchEngine(b, Config{Rules: []Rule{}, NoMarkov: true}) })
	b.Run("all", func(b *testing.B) { benchEngine(b, Config{}) })
}

// BenchmarkAttribute attributes b.N prebuilt conversions over journeys of
// 1..20 touchpoints (8 channels) with AddJourney: the models' throughput
// without event handling. Run the 1 M figure with -benchtime=1000000x.
func BenchmarkAttribute(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"rules", Config{NoMarkov: true, NoShapley: true}},
		{"last_touch", Config{Rules: []Rule{LastTouch{}}, NoMarkov: true, NoShapley: true}},
		{"markov", Config{Rules: []Rule{}, NoShapley: true}},
		{"shapley", Config{Rules: []Rule{}, NoMarkov: true}},
		{"all", Config{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e, err := New(bc.cfg)
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewPCG(5, 6))
			var g gen
			const pool = 1024
			js := make([]Journey, pool)
			for i := range js {
				n := 1 + r.IntN(20)
				js[i] = Journey{Converted: true, Value: 10, Time: t0.Add(time.Hour), EventID: g.id()}
				for k := range n {
					js[i].Touchpoints = append(js[i].Touchpoints, Touchpoint{Time: t0.Add(time.Duration(k) * time.Minute),
						Kind: TouchImpression, Channel: benchChannels[r.IntN(len(benchChannels))], Surface: "home", Arm: "exp:a"})
				}
			}
			var ms runtime.MemStats
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := e.AddJourney(&js[i%pool]); err != nil {
					b.Fatal(err)
				}
			}
			rep := e.Report()
			b.StopTimer()
			runtime.ReadMemStats(&ms)
			if len(rep.Errors) > 0 {
				b.Fatal(rep.Errors)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conv/s")
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
		})
	}
}

func BenchmarkMarkovSolve(b *testing.B) {
	var m Markov
	r := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		path := make([]string, 1+r.IntN(20))
		for i := range path {
			path[i] = benchChannels[r.IntN(len(benchChannels))]
		}
		_ = m.AddPath(path, float64(r.IntN(2)), float64(r.IntN(2)), 10)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Solve(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRuleWeightsAllocs(t *testing.T) {
	j := journeyAt(t0, 3*day, 2*day, day, 0)
	w := make([]float64, 4)
	for _, r := range DefaultRules() {
		if n := testing.AllocsPerRun(100, func() { r.Weights(j, w) }); n != 0 {
			t.Errorf("%s: %v allocs per Weights", r.Name(), n)
		}
	}
}
