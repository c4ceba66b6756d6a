package prefetch

import "unsafe"

// lineSize is the cache line size assumed, and the stride of the
// assembly loops (written there as 64 and ~63): 64 bytes on every amd64
// and arm64 processor Go targets, except Apple's 128-byte lines, where
// prefetching every other line is still right.
const lineSize = 64

// Lines hints that the n bytes at p will be read soon. p must be nil or
// point to memory the caller may read; n may run past its end, since a
// prefetch never faults.
func Lines(p unsafe.Pointer, n uintptr) {
	if n == 0 || p == nil {
		return
	}
	lines(p, n)
}

// LinesForWrite hints that the n bytes at p will be written soon: the
// processor requests their lines for ownership (PREFETCHW on amd64,
// PRFM PSTL1KEEP on arm64), so that a later store need not wait for
// another core to give them up. Like Lines it never faults, waits or
// writes.
func LinesForWrite(p unsafe.Pointer, n uintptr) {
	if n == 0 || p == nil {
		return
	}
	linesW(p, n)
}
