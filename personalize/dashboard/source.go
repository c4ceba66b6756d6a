package dashboard

import (
	"context"
	"math"
	"runtime"
	"runtime/metrics"
	"sync"

	"github.com/rankscope/rankscope/personalize/dashboard/internal/page"
)

// Source fills part of a [Snapshot]. The handler calls every source in
// order for each snapshot it builds (at most once per Config.CacheFor), one
// at a time, with a context that ends with the request. A source must only
// write aggregates into the snapshot, never identifiers.
type Source interface {
	Collect(ctx context.Context, s *Snapshot) error
}

// SourceFunc adapts a function to a [Source].
type SourceFunc func(ctx context.Context, s *Snapshot) error

// Collect calls f.
func (f SourceFunc) Collect(ctx context.Context, s *Snapshot) error { return f(ctx, s) }

var _ Source = SourceFunc(nil)

// RuntimeSource reads the Go runtime's state from runtime/metrics: CPU
// (from the runtime's CPU-time estimates), heap, goroutines and GC pauses.
// It is safe for concurrent use; it keeps the previous CPU reading to turn
// totals into a rate.
type RuntimeSource struct {
	mu        sync.Mutex
	samples   []metrics.Sample
	lastBusy  float64
	lastTotal float64
	lastFrac  float64
}

var _ Source = (*RuntimeSource)(nil)

const (
	rmGoroutines = "/sched/goroutines:goroutines"
	rmHeap       = "/memory/classes/heap/objects:bytes"
	rmHeapGoal   = "/gc/heap/goal:bytes"
	rmGCCycles   = "/gc/cycles/total:gc-cycles"
	rmGCPauses   = "/sched/pauses/total/gc:seconds"
	rmCPUTotal   = "/cpu/classes/total:cpu-seconds"
	rmCPUIdle    = "/cpu/classes/idle:cpu-seconds"
	rmGOMAXPROCS = "/sched/gomaxprocs:threads"
)

// Collect implements [Source].
func (r *RuntimeSource) Collect(_ context.Context, s *Snapshot) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.samples == nil {
		for _, n := range []string{rmGoroutines, rmHeap, rmHeapGoal, rmGCCycles, rmGCPauses, rmCPUTotal, rmCPUIdle, rmGOMAXPROCS} {
			r.samples = append(r.samples, metrics.Sample{Name: n})
		}
	}
	metrics.Read(r.samples)
	rt := &Runtime{GOMAXPROCS: runtime.GOMAXPROCS(0)}
	var cpuTotal, cpuIdle float64
	for _, sm := range r.samples {
		switch sm.Value.Kind() {
		case metrics.KindUint64:
			v := sm.Value.Uint64()
			switch sm.Name {
			case rmGoroutines:
				rt.Goroutines = int(v)
			case rmHeap:
				rt.HeapBytes = v
			case rmHeapGoal:
				rt.HeapGoal = v
			case rmGCCycles:
				rt.GCCycles = v
			case rmGOMAXPROCS:
				rt.GOMAXPROCS = int(v)
			}
		case metrics.KindFloat64:
			switch sm.Name {
			case rmCPUTotal:
				cpuTotal = sm.Value.Float64()
			case rmCPUIdle:
				cpuIdle = sm.Value.Float64()
			}
		case metrics.KindFloat64Histogram:
			h := sm.Value.Float64Histogram()
			rt.GCPauseP50Ms = page.Round3(histQuantile(h, 0.5) * 1000)
			rt.GCPauseP99Ms = page.Round3(histQuantile(h, 0.99) * 1000)
			rt.GCPauseMaxMs = page.Round3(histQuantile(h, 1) * 1000)
		}
	}
	// The runtime's CPU classes are estimates: total is GOMAXPROCS
	// integrated over wall time, busy time is total minus idle. The
	// fraction is the busy share of the time since the previous reading.
	busy := cpuTotal - cpuIdle
	if dt := cpuTotal - r.lastTotal; r.lastTotal > 0 && dt > 0 {
		r.lastFrac = page.Round3(math.Max(0, math.Min(1, (busy-r.lastBusy)/dt)))
	}
	rt.CPUFraction = r.lastFrac
	r.lastBusy, r.lastTotal = busy, cpuTotal
	s.Runtime = rt
	return nil
}

// histQuantile returns the q-quantile of a runtime histogram (the upper
// edge of the bucket holding it; finite).
func histQuantile(h *metrics.Float64Histogram, q float64) float64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.Counts {
		seen += c
		if seen >= rank {
			hi := h.Buckets[i+1]
			if math.IsInf(hi, 1) {
				hi = h.Buckets[i]
			}
			return hi
		}
	}
	return 0
}
