package latency

import (
	"sync"
	"testing"
	"time"
)

func TestNowTracksTheClock(t *testing.T) {
	for i := 0; i < 1000; i++ {
		before := time.Now()
		got := Now()
		after := time.Now()
		// Within the anchor's lag of the real wall clock, and monotonic
		// readings consistent with time.Now's.
		if got.Sub(before) < -time.Millisecond || after.Sub(got) < -time.Millisecond {
			t.Fatalf("Now %v outside [%v, %v]", got, before, after)
		}
		if d := got.Round(0).Sub(before.Round(0)); d < -time.Millisecond || d > time.Second+time.Millisecond {
			t.Fatalf("wall clock part off by %v", d)
		}
	}
}

func TestNowIsMonotonicAcrossGoroutines(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prev := Now()
			for i := 0; i < 10000; i++ {
				cur := Now()
				if cur.Before(prev) {
					t.Errorf("Now went backwards: %v then %v", prev, cur)
					return
				}
				prev = cur
			}
		}()
	}
	wg.Wait()
}

func BenchmarkClock(b *testing.B) {
	b.Run("time.Now", func(b *testing.B) {
		for b.Loop() {
			_ = time.Now()
		}
	})
	b.Run("latency.Now", func(b *testing.B) {
		for b.Loop() {
			_ = Now()
		}
	})
}
