package attribution

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/exporters/file/filetest"
	"github.com/rankscope/rankscope/internal/benchcpu"
	"github.com/rankscope/rankscope/personalize"
)

// benchStream produces, on the fly, journeys of 1..20 impressions over 8
// channels ending in a conversion, one person after another in time.
type benchStream struct {
	arms  bool // impressions carry an experiment assignment (two arms)
	r     *rand.Rand
	g     gen
	users []string
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

var benchItems = func() []string {
	s := make([]string, 5000)
	for i := range s {
		s[i] = fmt.Sprintf("item-%d", i)
	}
	return s
}()

var benchArms = []string{"control", "treatment"}

var benchChannels = []string{"email", "push", "web", "app", "search", "social", "display", "affiliate"}

// next feeds one journey (touchpoints and conversion) to e.
func (s *benchStream) next(b *testing.B, e *Engine) int {
	user := personalize.Pseudonym{ID: s.users[s.p%len(s.users)]}
	s.p++
	n := 1 + s.r.IntN(20)
	for range n {
		s.at += time.Second
		im := &personalize.Impression{EventID: s.g.id(), Start: t0.Add(s.at), End: t0.Add(s.at),
			Channel: benchChannels[s.r.IntN(len(benchChannels))], Surface: "home", UserID: user}
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

// journey appends one journey's events to dst as a decoder returns them:
// valid events (request ids, service, items) of 1..20 impressions of
// 10 items over 8 channels, then a purchase naming one of the items.
func (s *benchStream) journey(dst []personalize.Event) []personalize.Event {
	user := personalize.Pseudonym{ID: s.users[s.p%len(s.users)], KeyID: "k1"}
	s.p++
	n := 1 + s.r.IntN(20)
	var item string
	for range n {
		s.at += time.Second
		req := "req-" + strconv.FormatUint(s.g.n, 10)
		im := &personalize.Impression{EventID: s.g.id(), RequestID: personalize.RequestID(req),
			Service: "shop", Start: t0.Add(s.at - time.Millisecond), End: t0.Add(s.at),
			Channel: benchChannels[s.r.IntN(len(benchChannels))], Surface: "home", UserID: user,
			Items: make([]personalize.Item, 10)}
		for k := range im.Items {
			im.Items[k] = personalize.Item{ID: benchItems[s.r.IntN(len(benchItems))], Position: k + 1, Score: 0.5}
		}
		if s.arms {
			im.Experiments = []personalize.Assignment{{Experiment: "ranker", Variant: benchArms[s.p%2]}}
		}
		item = im.Items[s.r.IntN(10)].ID
		dst = append(dst, personalize.Event{Type: personalize.EventImpression, Impression: im})
	}
	s.at += time.Second
	o := &personalize.Outcome{EventID: s.g.id(), Service: "shop", UserID: user, Kind: personalize.OutcomePurchase,
		Item: item, Value: 10, Currency: "EUR", Time: t0.Add(s.at)}
	return append(dst, personalize.Event{Type: personalize.EventOutcome, Outcome: o})
}

// benchChunk is how many journeys' events are built at once, with the
// timer stopped, by the decoded-events benchmark: about 700 events, so
// they are still in cache when added, as a batch file.ReadDir has just
// decoded would be.
const benchChunk = 64

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

// BenchmarkEngineEvents attributes b.N conversions from already decoded
// events (what file.ReadDir or the pipeline hands the engine): the event
// path (dedup, identity, eviction, touchpoints) plus the models. Events are
// built in chunks of [benchChunk] journeys with the timer stopped. Run the
// 1 M figure with -benchtime=1000000x.
func BenchmarkEngineEvents(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  Config
		arms bool
	}{
		{"rules", Config{NoMarkov: true, NoShapley: true}, false},
		{"markov", Config{Rules: []Rule{}, NoShapley: true}, false},
		{"all", Config{}, false},
		// Impressions in an experiment: arms and lift are tracked too.
		{"rules_arms", Config{NoMarkov: true, NoShapley: true}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := bc.cfg
			cfg.ClickWindow, cfg.ViewWindow = time.Hour, time.Hour
			e, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			s := newBenchStream()
			s.arms = bc.arms
			var peak uint64
			var ms runtime.MemStats
			var buf []personalize.Event
			var events int
			var cpu time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += benchChunk {
				b.StopTimer()
				buf = buf[:0]
				for range min(benchChunk, b.N-i) {
					buf = s.journey(buf)
				}
				events += len(buf)
				b.StartTimer()
				c0 := benchcpu.Now()
				for _, ev := range buf {
					if err := e.Add(ev); err != nil {
						b.Fatal(err)
					}
				}
				cpu += benchcpu.Now() - c0
				b.StopTimer()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
				b.StartTimer()
			}
			c0 := benchcpu.Now()
			e.Close()
			rep := e.Report()
			cpu += benchcpu.Now() - c0
			b.StopTimer()
			if len(rep.Errors) > 0 {
				b.Fatal(rep.Errors)
			}
			if got := e.Stats().Conversions; got != int64(b.N) {
				b.Fatalf("%d conversions attributed, want %d", got, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conv/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(b.N)/cpu.Seconds(), "conv/cpu-s")
			b.ReportMetric(float64(events)/float64(b.N), "events/conv")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// BenchmarkEngineFiles reads a directory of event files written by the
// file exporter (the journeys of BenchmarkEngineEvents: impressions of 10
// items and purchases) with file.ReadDir, decoding on two goroutines
// (ReadConfig.Workers = 2), into a new engine per read: the "from files"
// figure, decoding included. One op is one conversion.
func BenchmarkEngineFiles(b *testing.B) {
	const journeys = 20000
	s := newBenchStream()
	var evs []personalize.Event
	for range journeys {
		evs = s.journey(evs)
	}
	dir := filetest.WriteDir(b, evs)
	nev := len(evs)
	evs = nil
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"rules", Config{NoMarkov: true, NoShapley: true}},
		{"markov", Config{Rules: []Rule{}, NoShapley: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := bc.cfg
			cfg.ClickWindow, cfg.ViewWindow = time.Hour, time.Hour
			rc := file.ReadConfig{Workers: 2}
			b.ReportAllocs()
			b.ResetTimer()
			c0 := benchcpu.Now()
			var reads int
			for i := 0; i < b.N; i += journeys {
				e, err := New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := rc.ReadDir(dir, e.Add); err != nil {
					b.Fatal(err)
				}
				e.Close()
				if got := e.Stats().Conversions; got != journeys {
					b.Fatalf("%d conversions, want %d", got, journeys)
				}
				reads++
			}
			cpu := benchcpu.Now() - c0
			b.StopTimer()
			conv := float64(reads * journeys)
			b.ReportMetric(conv/b.Elapsed().Seconds(), "conv/s")
			b.ReportMetric(float64(reads*nev)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/conv, "cpu-ns/conv")
		})
	}
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

// TestEngineAddAllocs pins the event path's allocations: once persons are
// recycled and the tables are warm, adding decoded impressions and
// conversions (10 items each, 8 channels, arms, rules and Markov)
// allocates nothing per event.
func TestEngineAddAllocs(t *testing.T) {
	e, err := New(Config{ClickWindow: time.Hour, ViewWindow: time.Hour, NoShapley: true})
	if err != nil {
		t.Fatal(err)
	}
	s := newBenchStream()
	s.arms = true
	const warm, runs = 3000, 300
	var evs []personalize.Event
	for range warm + runs + 1 {
		evs = s.journey(evs)
	}
	n := 0
	add := func() {
		if err := e.Add(evs[n]); err != nil {
			t.Fatal(err)
		}
		n++
	}
	for range len(evs) - (runs+1)*12 {
		add()
	}
	if allocs := testing.AllocsPerRun(runs*11, add); allocs != 0 {
		t.Errorf("%v allocations per event, want 0", allocs)
	}
}
