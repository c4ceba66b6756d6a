package relevance

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/exporters/file/filetest"
	"github.com/rankscope/rankscope/internal/benchcpu"
	"github.com/rankscope/rankscope/personalize"
)

func BenchmarkCalibratorObserve(b *testing.B) {
	c, _ := NewCalibrator(10, 100)
	b.ReportAllocs()
	p := 0.0
	for i := 0; b.Loop(); i++ {
		p += 0.0007
		if p > 1 {
			p = 0
		}
		c.Observe(p, i&7 == 0)
	}
}

// eventPool is one pass of synthetic traffic: requests of 10 items at one
// second spacing, each followed by a click and a dwell.
func eventPool(requests, offset int) []personalize.Event {
	ev := make([]personalize.Event, 0, 3*requests)
	devices := []string{"mobile", "desktop", "tv"}
	for r := range requests {
		at := t0.Add(time.Duration(offset+r) * time.Second)
		req := fmt.Sprint("req-", offset+r)
		im := &personalize.Impression{RequestID: req, Start: at, End: at, Surface: "home",
			UserID: personalize.Pseudonym{ID: fmt.Sprint("u", r%5000)}, SessionID: personalize.Pseudonym{ID: fmt.Sprint("s", r%5000, "-", r/20000)},
			Context:     []personalize.Attr{{Key: personalize.AttrDevice, Value: devices[r%3]}, {Key: personalize.AttrRegion, Value: "eu"}},
			Experiments: []personalize.Assignment{{Experiment: "ranker", Variant: []string{"a", "b"}[r%2]}}}
		for i := range 10 {
			im.Items = append(im.Items, personalize.Item{ID: fmt.Sprint("item", (r*7+i*13)%3000), Position: i + 1, Score: float64((r+i)%97) / 97})
		}
		clicked := im.Items[r%10].ID
		ev = append(ev,
			personalize.Event{Type: personalize.EventImpression, Impression: im},
			personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{RequestID: req, UserID: im.UserID, Item: clicked, Kind: personalize.OutcomeClick, Time: at.Add(2 * time.Second)}},
			personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{RequestID: req, UserID: im.UserID, Item: clicked, Kind: personalize.OutcomeDwell, Dwell: 20 * time.Second, Time: at.Add(30 * time.Second)}},
		)
	}
	return ev
}

func shift(ev []personalize.Event, d time.Duration) {
	for _, e := range ev {
		if e.Impression != nil {
			e.Impression.Start = e.Impression.Start.Add(d)
			e.Impression.End = e.Impression.End.Add(d)
		} else {
			e.Outcome.Time = e.Outcome.Time.Add(d)
		}
	}
}

// BenchmarkAnalyzerOffline feeds decoded events through the whole
// analyzer (join, segments, calibration, ranking metrics, CTR, position
// bias, stability, engagement). Two pools of 10,000 requests (30,000
// events, 2.8 h of event time each) alternate; a pool is re-timed after
// all its impressions were finalized, so every event takes the real path.
// Run with -benchtime=10000000x for the 10-million-event figure.
func BenchmarkAnalyzerOffline(b *testing.B) {
	const requests = 10_000
	span := time.Duration(requests) * time.Second
	pools := [2][]personalize.Event{eventPool(requests, 0), eventPool(requests, requests)}
	a, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchcpu.Now()
	var setup time.Duration
	n := 0
	pass := 0
	for i := 0; i < b.N; i++ {
		p := pools[pass%2]
		if err := a.Observe(p[n]); err != nil {
			b.Fatal(err)
		}
		n++
		if n == len(p) {
			n = 0
			pass++
			if pass >= 2 {
				// The next pool was finished a whole pass (2.8 h of event
				// time) ago, so all its impressions are finalized.
				b.StopTimer()
				c := benchcpu.Now()
				shift(pools[pass%2], 2*span)
				setup += benchcpu.Now() - c
				b.StartTimer()
			}
		}
	}
	a.Flush()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(benchcpu.Now()-cpu0-setup)/float64(b.N), "cpu-ns/event")
	if rep := a.Report(0); rep.Stats.Join.Duplicates != 0 {
		b.Fatalf("benchmark fed duplicates: %+v", rep.Stats.Join)
	}
}

// BenchmarkReadEventsAnalyze is the end-to-end offline path: JSON lines
// decoded by personalize.UnmarshalEvent (as file.ReadDir does), then
// analyzed. One op is one event; the 30,000-line buffer is re-read with
// fresh request ids per pass.
func BenchmarkReadEventsAnalyze(b *testing.B) {
	pool := eventPool(10_000, 0)
	var lines [][]byte
	for _, e := range pool {
		l, err := personalize.AppendJSON(nil, e)
		if err != nil {
			b.Fatal(err)
		}
		lines = append(lines, l)
	}
	a, _ := New(Config{})
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchcpu.Now()
	for i := 0; i < b.N; i++ {
		e, err := personalize.UnmarshalEvent(lines[i%len(lines)])
		if err != nil {
			b.Fatal(err)
		}
		// Re-time and re-key each pass so the join sees fresh traffic.
		pass := time.Duration(i/len(lines)) * 3 * time.Hour
		if e.Impression != nil {
			e.Impression.Start = e.Impression.Start.Add(pass)
			e.Impression.End = e.Impression.End.Add(pass)
			e.Impression.RequestID += strconv.Itoa(i / len(lines))
		} else {
			e.Outcome.Time = e.Outcome.Time.Add(pass)
			e.Outcome.RequestID += strconv.Itoa(i / len(lines))
		}
		_ = a.Observe(e)
	}
	a.Flush()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(benchcpu.Now()-cpu0)/float64(b.N), "cpu-ns/event")
	if s := a.Report(0).Stats.Join; s.Unjoined != 0 || s.Duplicates != 0 {
		b.Fatalf("join mismatch: %+v", s)
	}
}

// BenchmarkAnalyzerFiles is the offline path from files: a directory of
// 90,000 events (three pools of BenchmarkAnalyzerOffline's traffic,
// 7.5 h of event time) read with file.ReadDir, decoding on two goroutines
// (ReadConfig.Workers = 2), into a new Analyzer per read, then Flush. One
// op is one event; the directory is re-read as often as b.N needs.
func BenchmarkAnalyzerFiles(b *testing.B) {
	const requests = 10_000
	var evs []personalize.Event
	for k := range 3 {
		evs = append(evs, eventPool(requests, k*requests)...)
	}
	dir := filetest.WriteDir(b, evs)
	per := len(evs)
	evs = nil
	rc := file.ReadConfig{Workers: 2}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchcpu.Now()
	var check time.Duration // the report checking each read, not timed
	var n int
	for n < b.N {
		a, err := New(Config{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := rc.ReadDir(dir, a.Observe); err != nil {
			b.Fatal(err)
		}
		a.Flush()
		b.StopTimer()
		c := benchcpu.Now()
		if s := a.Report(0).Stats.Join; s.Unjoined != 0 || s.Duplicates != 0 {
			b.Fatalf("join mismatch: %+v", s)
		}
		check += benchcpu.Now() - c
		b.StartTimer()
		n += per
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(benchcpu.Now()-cpu0-check)/float64(n), "cpu-ns/event")
}
