package peerbench

import (
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/rankscope/rankscope/internal/benchcpu"
	"github.com/rankscope/rankscope/personalize"
)

// pacedContenders are the stacks the paced mode runs.
var pacedContenders = []string{"floor/file", "rankscope/default", "rankscope/block", "zap"}

// BenchmarkPaced runs the unit of work at PacedRate from one goroutine, in
// bursts of PacedBurst, sleeping between them: the load of a service that
// the pipeline keeps up with, where a spinning loop (BenchmarkPeer)
// measures the pipeline's throughput instead. Metrics, besides those of
// BenchmarkPeer (ns/op is the pace here, about 10 µs):
//
//   - caller-ns/op: wall time the caller spends in the instrumentation per
//     inference (each burst timed as a whole, divided by its size), the
//     latency a request pays;
//   - cpu-ns/op: process CPU per inference from the first burst until
//     Close returned, idle wake-ups of background goroutines included;
//   - rate/s: the rate achieved (below PacedRate when a burst overran its
//     tick).
//
// -rounds interleaves rounds as for BenchmarkPeer.
func BenchmarkPaced(b *testing.B) {
	for range *rounds {
		for _, c := range Contenders {
			if slices.Contains(pacedContenders, c.Name) {
				b.Run(c.Name, func(b *testing.B) { benchPaced(b, c) })
			}
		}
	}
}

func benchPaced(b *testing.B, c Contender) {
	s, closeSink := openSink(b, c)
	var dropped int64
	cl := NewCaller(0)
	tick := time.Second * PacedBurst / PacedRate
	b.ReportAllocs()
	syncDisks()
	runtime.GC()
	b.ResetTimer()
	cpu0 := benchcpu.Now()
	t0 := time.Now()
	next := t0
	var inCaller time.Duration
	for done := 0; done < b.N; {
		// Between bursts the caller always gives up its processor, as a
		// service waiting for its next requests does. Behind schedule (a
		// burst overran its tick) it yields and starts the next tick from
		// now rather than issuing bursts back to back, which on one core
		// would starve the pipeline's goroutines as BenchmarkPeer's
		// spinning loop does.
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		} else {
			runtime.Gosched()
			next = time.Now()
		}
		next = next.Add(tick)
		n := min(PacedBurst, b.N-done)
		start := time.Now()
		for range n {
			if err := s.Infer(cl); err != nil {
				if !errors.Is(err, personalize.ErrQueueFull) {
					b.Fatal(err)
				}
				dropped++
			}
		}
		inCaller += time.Since(start)
		done += n
	}
	b.StopTimer()
	loop := time.Since(t0)
	if err := closeSink(); err != nil {
		b.Fatal(err)
	}
	all := time.Since(t0)
	cpu := benchcpu.Now() - cpu0
	delivered, size, err := s.Delivered()
	if err != nil {
		b.Fatal(err)
	}
	n := float64(b.N)
	r := result{
		n: b.N, ns: float64(loop) / n, cpu: float64(cpu) / n, caller: float64(inCaller) / n,
		delivered: float64(delivered) / n, perSec: float64(delivered) / all.Seconds(),
		dropped: float64(dropped) / n, rate: n / loop.Seconds(),
	}
	b.ReportMetric(r.caller, "caller-ns/op")
	if cpu > 0 {
		b.ReportMetric(r.cpu, "cpu-ns/op")
	} else {
		r.cpu = -1
	}
	b.ReportMetric(r.delivered, "delivered/op")
	b.ReportMetric(r.rate, "rate/s")
	if delivered > 0 && size > 0 {
		r.lineBytes = float64(size) / float64(delivered)
	}
	if dropped > 0 {
		b.ReportMetric(r.dropped, "dropped/op")
	}
	record(key{mode: "paced", name: c.Name, procs: runtime.GOMAXPROCS(0)}, r)
}
