//go:build unix

package latency

import (
	"syscall"
	"testing"
	"time"
)

// cpuMeter reports process CPU time per operation ("cpu-ns/op") next to the
// wall-clock ns/op, which on a shared machine counts time the benchmark
// spent waiting for a CPU. For RunParallel benchmarks it is the CPU cost of
// one operation summed over cores.
type cpuMeter struct{ start time.Duration }

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuMeter { return cpuMeter{cpuNow()} }

func (c cpuMeter) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(cpuNow()-c.start)/float64(b.N), "cpu-ns/op")
	}
}
