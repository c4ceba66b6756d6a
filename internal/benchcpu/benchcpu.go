// Package benchcpu reports process CPU time per benchmark operation
// ("cpu-ns/op") next to the wall-clock ns/op. On a shared, noisy machine
// wall time counts the time a benchmark waited for a CPU; CPU time does
// not. It includes every goroutine of the process, so background work a
// benchmark causes (a batcher, an exporter) is charged to it too.
package benchcpu

import (
	"testing"
	"time"
)

// Now returns the process's CPU time so far (user + system), or 0 where
// the platform cannot tell.
func Now() time.Duration { return now() }

// Meter measures CPU time from Start to Report.
type Meter struct{ start time.Duration }

// Start begins measuring; call it after b.ResetTimer.
func Start() Meter { return Meter{start: now()} }

// Report adds the cpu-ns/op metric to b. For RunParallel benchmarks it is
// the CPU of one operation summed over cores.
func (m Meter) Report(b *testing.B) {
	if b.N > 0 {
		if used := now() - m.start; used > 0 {
			b.ReportMetric(float64(used)/float64(b.N), "cpu-ns/op")
		}
	}
}
