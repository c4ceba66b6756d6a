package tsc

import (
	"errors"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestCheck(t *testing.T) {
	file := func(s string, err error) func(string) ([]byte, error) {
		return func(p string) ([]byte, error) {
			assert.Equal(t, clocksourcePath, p)
			return []byte(s), err
		}
	}
	assert.True(t, check("linux", true, file("tsc\n", nil)))
	assert.False(t, check("linux", true, file("kvm-clock\n", nil)), "another clocksource")
	assert.False(t, check("linux", true, file("", errors.New("no sysfs"))), "unreadable")
	assert.False(t, check("linux", false, file("tsc\n", nil)), "counter not invariant")
	assert.False(t, check("darwin", true, file("tsc\n", nil)), "not Linux")
}

// Where the counter is usable it advances at a steady rate: over 20 ms
// of the monotonic clock, twice, the two rates agree within 0.1%.
func TestTicksAdvance(t *testing.T) {
	if !Usable() {
		b, _ := os.ReadFile(clocksourcePath)
		t.Skipf("counter not usable here (%s, clocksource %q)", runtime.GOARCH, b)
	}
	rate := func() float64 {
		t0, c0 := time.Now(), Ticks()
		time.Sleep(20 * time.Millisecond)
		t1, c1 := time.Now(), Ticks()
		return float64(c1-c0) / float64(t1.Sub(t0))
	}
	r1, r2 := rate(), rate()
	assert.Greater(t, r1, 0.1, "ticks per ns")
	assert.InEpsilon(t, r1, r2, 1e-3)
}

func BenchmarkTicks(b *testing.B) {
	var s uint64
	for b.Loop() {
		s += Ticks()
	}
	_ = s
}
