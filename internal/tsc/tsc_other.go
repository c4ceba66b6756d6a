//go:build !amd64

package tsc

// Ticks returns 0: there is no time-stamp counter to read here.
func Ticks() uint64 { return 0 }

func invariant() bool { return false }
