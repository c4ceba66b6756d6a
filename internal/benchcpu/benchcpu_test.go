package benchcpu

import (
	"testing"
	"time"
)

func TestMeterCountsBusyWork(t *testing.T) {
	m := Start()
	deadline := time.Now().Add(30 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	if used := now() - m.start; used < 10*time.Millisecond {
		t.Fatalf("30ms of busy work measured as %v of CPU", used)
	}
	_ = x
}
