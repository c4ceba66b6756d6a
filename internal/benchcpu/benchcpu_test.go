package benchcpu

import (
	"testing"
	"time"
)

// TestMeterCountsBusyWork: busy work on this goroutine must show up as
// process CPU. It spins until the meter reports 5 ms, failing only if
// the meter never does within 10 s of wall time, so a loaded machine (which
// gives the test less CPU per wall second) slows it down but cannot fail it.
func TestMeterCountsBusyWork(t *testing.T) {
	m := Start()
	giveUp := time.Now().Add(10 * time.Second)
	x := 0
	for now()-m.start < 5*time.Millisecond {
		for range 100_000 {
			x++
		}
		if time.Now().After(giveUp) {
			t.Fatalf("10 s of busy work measured as %v of CPU", now()-m.start)
		}
	}
	_ = x
}
