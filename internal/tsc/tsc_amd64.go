package tsc

// Ticks returns the processor's time-stamp counter (RDTSC). It is
// meaningful as a clock only when [Usable] is true.
//
//go:noescape
func Ticks() uint64

// invariant reports whether CPUID says the counter runs at a constant
// rate in every power state.
func invariant() bool
