// Package tsc reads the processor's time-stamp counter, where the
// processor and the kernel vouch for it as a clock.
//
// # Why
//
// A stage costs two clock readings and an inference of three stages six.
// Through the vDSO a reading of the monotonic clock costs about 23 ns on
// the project's VM, most of it the runtime's switch to the system stack
// and the kernel's consistency checks around the same counter read; the
// counter itself, read with RDTSC, costs about 9 ns. Package latency
// extrapolates the monotonic clock from the counter between readings of
// the real clock a second apart (see latency.Now).
//
// # When
//
// [Usable] is true only on linux/amd64 when the processor reports an
// invariant counter (CPUID leaf 0x80000007, EDX bit 8: constant rate,
// running in every sleep state) and the kernel's current clocksource is
// "tsc", which it chooses only after checking that the counters of all
// processors agree. Elsewhere [Ticks] returns 0 and callers use the
// system clock.
package tsc
