package peerbench

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rankscope/rankscope/internal/benchcpu"
	"github.com/rankscope/rankscope/personalize"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if s := summary(); s != "" {
		fmt.Print(s)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Goroutines is the number of goroutines the parallel mode runs, whatever
// GOMAXPROCS (rounded up to a multiple of it).
const Goroutines = 64

// parallelism is the b.SetParallelism argument giving at least Goroutines
// goroutines at GOMAXPROCS procs.
func parallelism(procs int) int { return (Goroutines + procs - 1) / procs }

// BenchmarkPeer runs every contender through the same unit of work (see the
// package doc), sequentially and from 64 goroutines. Metrics:
//
//   - ns/op: caller wall time per inference (the timed loop only).
//   - cpu-ns/op: process CPU (all goroutines) from the start of the loop
//     until Close returned, i.e. until every accepted event was on disk,
//     per inference.
//   - allocs/op, B/op: during the timed loop, all goroutines.
//   - delivered/op: events on disk (lines read back after Close) per
//     inference; the floor counts events its goroutine received.
//   - delivered/s: events on disk per wall second from the start of the
//     loop until Close returned.
//   - dropped/op (rankscope): drops End reported to the caller.
//   - spans/op (otel): span lines on disk per inference.
//
// With -rounds N each mode runs N times over, every contender once per
// round (the later rounds are named mode#01, mode#02, ...): use it with
// -count 1 on a noisy machine. -count repeats each contender's rounds back
// to back, so a change in the machine's load between contenders moves
// their ratio; interleaved rounds share it.
func BenchmarkPeer(b *testing.B) {
	for range *rounds {
		for _, mode := range []string{"sequential", "parallel"} {
			b.Run(mode, func(b *testing.B) {
				for _, c := range Contenders {
					b.Run(c.Name, func(b *testing.B) { benchContender(b, c, mode == "parallel") })
				}
			})
		}
	}
}

// rounds is the -rounds flag: how many times BenchmarkPeer and
// BenchmarkPaced run every contender, interleaved.
var rounds = flag.Int("rounds", 1, "run every contender this many times, interleaved (use with -count 1)")

// openSink builds c's stack in a fresh temporary directory. Call closeSink
// once to deliver and stop it; if the benchmark ends without it (a
// failure), the stack is closed anyway, before its directory is removed.
func openSink(b *testing.B, c Contender) (s Sink, closeSink func() error) {
	s, err := c.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	closed := false
	b.Cleanup(func() { // runs before TempDir's removal, registered earlier
		if !closed {
			_ = s.Close()
		}
	})
	return s, func() error { closed = true; return s.Close() }
}

func benchContender(b *testing.B, c Contender, parallel bool) {
	s, closeSink := openSink(b, c)
	procs := runtime.GOMAXPROCS(0)
	var dropped atomic.Int64
	var firstErr errOnce
	infer := func(cl *Caller) {
		if err := s.Infer(cl); err != nil {
			if errors.Is(err, personalize.ErrQueueFull) {
				dropped.Add(1) // counted and reported: the contract under overload
			} else {
				firstErr.set(err)
			}
		}
	}
	if parallel {
		b.SetParallelism(parallelism(procs))
	}
	b.ReportAllocs()
	// Start every contender from a page cache with nothing dirty: the
	// files of the one before (hundreds of MB for the OTel contenders)
	// would otherwise be written back during this one's loop, and the
	// kernel charges part of that to whoever is writing.
	syncDisks()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	b.ResetTimer()
	cpu0 := benchcpu.Now()
	t0 := time.Now()
	if parallel {
		var g atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			cl := NewCaller(int(g.Add(1)))
			for pb.Next() {
				infer(cl)
			}
		})
	} else {
		cl := NewCaller(0)
		for i := 0; i < b.N; i++ {
			infer(cl)
		}
	}
	b.StopTimer()
	loop := time.Since(t0)
	runtime.ReadMemStats(&ms)
	mallocs = ms.Mallocs - mallocs
	if err := closeSink(); err != nil {
		b.Fatal(err)
	}
	all := time.Since(t0)
	cpu := benchcpu.Now() - cpu0
	if err := firstErr.get(); err != nil {
		b.Fatal(err)
	}
	delivered, size, err := s.Delivered()
	if err != nil {
		b.Fatal(err)
	}
	n := float64(b.N)
	r := result{
		n: b.N, ns: float64(loop) / n, cpu: float64(cpu) / n,
		delivered: float64(delivered) / n, perSec: float64(delivered) / all.Seconds(),
		dropped: float64(dropped.Load()) / n, allocs: float64(mallocs) / n,
	}
	if cpu > 0 {
		b.ReportMetric(r.cpu, "cpu-ns/op")
	} else {
		r.cpu = -1 // unknown on this platform
	}
	b.ReportMetric(r.delivered, "delivered/op")
	b.ReportMetric(r.perSec, "delivered/s")
	if delivered > 0 && size > 0 {
		r.lineBytes = float64(size) / float64(delivered)
		b.ReportMetric(r.lineBytes, "B/event")
	}
	if r.dropped > 0 || c.Name == "rankscope/default" {
		b.ReportMetric(r.dropped, "dropped/op")
	}
	if sc, ok := s.(SpanCounter); ok {
		spans, err := sc.Spans()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(spans)/n, "spans/op")
	}
	mode := "sequential"
	if parallel {
		mode = "parallel"
	}
	record(key{mode: mode, name: c.Name, procs: procs}, r)
}

// errOnce keeps the first error reported by any goroutine.
type errOnce struct {
	once sync.Once
	err  error
}

func (e *errOnce) set(err error) { e.once.Do(func() { e.err = err }) }

// get returns the first error; call it after the goroutines are done.
func (e *errOnce) get() error { return e.err }
