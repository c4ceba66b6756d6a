package latency

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/internal/tsc"
)

// simClock drives a clock with simulated sources: a system clock at
// epoch+T and a counter at rate ticks per ns of T, from which tests move
// T, change the rate and make the counter jump.
type simClock struct {
	T      int64   // ns since epoch
	rate   float64 // ticks per ns
	base   float64 // ticks at T = at
	at     int64
	jitter int64 // ticks of noise in each counter read
	r      *rand.Rand
}

func (s *simClock) now() time.Time                  { return epoch.Add(time.Duration(s.T)) }
func (s *simClock) since(t time.Time) time.Duration { return s.now().Sub(t) }
func (s *simClock) ticks() uint64 {
	v := s.base + float64(s.T-s.at)*s.rate
	if s.jitter > 0 {
		v += float64(s.r.Int64N(2*s.jitter+1) - s.jitter)
	}
	return uint64(v)
}

// step is a random time between reads: half of them within a
// microsecond, so a reading that steps back by more than that at an
// anchor is caught, the rest up to 20 ms.
func (s *simClock) step() int64 {
	if s.r.IntN(2) == 0 {
		return 1 + s.r.Int64N(int64(time.Microsecond))
	}
	return 1 + s.r.Int64N(int64(20*time.Millisecond))
}

// setRate changes the counter's rate from now on, continuously.
func (s *simClock) setRate(r float64) {
	s.base += float64(s.T-s.at) * s.rate
	s.at, s.rate = s.T, r
}

func (s *simClock) clock(counter bool) *clock {
	k := &clock{now: s.now, since: s.since, counter: func() func() uint64 { return nil }}
	if counter {
		k.counter = func() func() uint64 { return s.ticks }
	}
	return k
}

// run reads k at random steps over d, checking readings never go
// backwards, and returns the largest gap to the system clock seen after
// the first settle (absolute).
func (s *simClock) run(t *testing.T, k *clock, d, settle time.Duration, prev *time.Time) time.Duration {
	t.Helper()
	// A noisy counter may read lower than the read before by up to twice
	// its noise, and Now with it.
	slack := time.Duration(float64(2*s.jitter) / max(s.rate, 1e-9))
	end := s.T + int64(d)
	var worst time.Duration
	for s.T < end {
		s.T += s.step()
		got := k.read()
		require.False(t, got.Add(slack).Before(*prev), "went back at %v: %v then %v", time.Duration(s.T), *prev, got)
		*prev = got
		if gap := got.Sub(s.now()); s.T >= end-int64(d)+int64(settle) {
			worst = max(worst, gap, -gap)
		}
	}
	return worst
}

// With a steady counter, Now uses it from the second anchor on and stays
// within a microsecond of the system clock, never stepping back, over a
// simulated minute of reads a few milliseconds apart; a 0.02% change of
// rate (NTP slewing the kernel's clock) keeps it in use and in step.
// A counter read with noise (±40 ticks, as reads on different cores may
// differ) is as usable: within a microsecond, back by no more than the
// noise.
func TestClockFollowsSteadyCounter(t *testing.T) {
	for _, jitter := range []int64{0, 40} {
		s := &simClock{rate: 2.9, base: 1e12, jitter: jitter, r: rand.New(rand.NewPCG(1, 2))}
		k := s.clock(true)
		prev := k.read()
		worst := s.run(t, k, time.Minute, 3*time.Second, &prev)
		require.Less(t, worst, time.Microsecond)
		require.NotZero(t, k.anchor.Load().step, "the counter is in use")

		s.setRate(2.9 * 1.0002)
		worst = s.run(t, k, time.Minute, 3*time.Second, &prev)
		require.Less(t, worst, time.Microsecond)
		require.NotZero(t, k.anchor.Load().step)
	}
}

// A counter whose rate moves by 0.5% just after an anchor (more than
// maxRateChange) runs Now 5 ms ahead by the next one; Now keeps that lead
// rather than step back, absorbs it over the next second, and uses the
// system clock until two measurements of the new rate agree. Reads every
// 100 µs would see any step back.
func TestClockDistrustsMovedRate(t *testing.T) {
	s := &simClock{rate: 2.9, base: 1e12, r: rand.New(rand.NewPCG(3, 4))}
	k := s.clock(true)
	prev := k.read()
	s.run(t, k, 5*time.Second, 0, &prev)
	for a := k.anchor.Load(); k.anchor.Load() == a; { // to just after an anchor
		s.T += int64(100 * time.Microsecond)
		prev = k.read()
	}
	require.NotZero(t, k.anchor.Load().step)
	s.setRate(2.9 * 1.005)
	var leads []time.Duration
	distrusted := false
	for a, end := k.anchor.Load(), s.T+int64(4*time.Second); s.T < end; {
		s.T += int64(100 * time.Microsecond)
		got := k.read()
		require.False(t, got.Before(prev), "went back at %v: %v then %v", time.Duration(s.T), prev, got)
		prev = got
		if b := k.anchor.Load(); b != a {
			a = b
			leads = append(leads, b.t.Sub(b.sys))
			distrusted = distrusted || b.step == 0
		}
	}
	require.True(t, distrusted, "the moved rate was used at once")
	require.Greater(t, leads[0], 4*time.Millisecond, "the lead built in the second of the change")
	require.Less(t, leads[1], time.Microsecond, "absorbed by the next anchor")
	worst := s.run(t, k, 10*time.Second, 3*time.Second, &prev)
	require.Less(t, worst, time.Microsecond)
	require.NotZero(t, k.anchor.Load().step, "trusted again")
}

// A counter that steps backwards (which a counter the kernel uses as its
// clock does not do) gives wrong readings until Now next reads the system
// clock, at most a second, and then Now is back in step and monotonic;
// a step back past the anchor is caught at once.
func TestClockCounterStepsBack(t *testing.T) {
	for _, back := range []float64{1e9, 1e11} { // a third of a second; longer than an anchor lives
		s := &simClock{rate: 2.9, base: 1e12, r: rand.New(rand.NewPCG(5, 6))}
		k := s.clock(true)
		prev := k.read()
		s.run(t, k, 5*time.Second, 0, &prev)
		s.base -= back
		for range 300 {
			s.T += int64(5 * time.Millisecond)
			prev = k.read()
		}
		worst := s.run(t, k, 10*time.Second, 3*time.Second, &prev)
		require.Less(t, worst, time.Microsecond)
		require.NotZero(t, k.anchor.Load().step)
	}
}

// An anchor replaced early (under half a second on) keeps the previous
// rate, and uses the counter only if that rate was trusted: a rate
// still being measured again is not trusted by a short interval.
func TestCalibrateShortInterval(t *testing.T) {
	prev := &clockAnchor{sys: epoch, c: 1000, rate: 0.345}
	sys := epoch.Add(100 * time.Millisecond)
	rate, step := calibrate(prev, sys, 1000+290_000_000, 0)
	require.Equal(t, 0.345, rate)
	require.Zero(t, step, "an untrusted rate was used")
	prev.step = 0.345
	rate, step = calibrate(prev, sys, 1000+290_000_000, 0)
	require.Equal(t, 0.345, rate)
	require.Equal(t, 0.345, step)
}

// Without a counter Now extends each system reading by the monotonic time
// elapsed, exactly.
func TestClockWithoutCounter(t *testing.T) {
	s := &simClock{r: rand.New(rand.NewPCG(7, 8))}
	k := s.clock(false)
	prev := k.read()
	worst := s.run(t, k, time.Minute, 0, &prev)
	require.Zero(t, worst)
	require.Zero(t, k.anchor.Load().step)
}

// On this machine, where the counter is usable, Now is within 50 µs of
// time.Now after it calibrated (2.5 s), in both parts of the reading.
func TestNowUsesCounter(t *testing.T) {
	if !tsc.Usable() {
		t.Skip("no usable time-stamp counter here")
	}
	if testing.Short() {
		t.Skip("takes 2.5 s")
	}
	k := &clock{now: time.Now, since: time.Since, counter: func() func() uint64 { return tsc.Ticks }}
	deadline := time.Now().Add(2500 * time.Millisecond)
	prev := k.read()
	var worst time.Duration
	for time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		before := time.Now()
		got := k.read()
		after := time.Now()
		require.False(t, got.Before(prev))
		prev = got
		if k.anchor.Load().step != 0 {
			worst = max(worst, before.Sub(got), got.Sub(after))
			wall := got.Round(0).Sub(before.Round(0))
			require.True(t, wall > -50*time.Microsecond && wall < time.Second+50*time.Microsecond, "wall part off by %v", wall)
		}
	}
	require.NotZero(t, k.anchor.Load().step, "the counter was not calibrated in 2.5 s")
	require.Less(t, worst, 50*time.Microsecond)
}

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

// calibrated waits, up to 3 s, for Now to use the counter where it is
// usable, so a benchmark measures the steady state.
func calibrated() {
	for deadline := time.Now().Add(3 * time.Second); tsc.Usable() && time.Now().Before(deadline); {
		Now()
		if a := sysClock.anchor.Load(); a != nil && a.step != 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func BenchmarkClock(b *testing.B) {
	calibrated()
	b.Run("time.Now", func(b *testing.B) {
		for b.Loop() {
			_ = time.Now()
		}
	})
	b.Run("time.Since", func(b *testing.B) {
		t0 := time.Now()
		for b.Loop() {
			_ = time.Since(t0)
		}
	})
	b.Run("latency.Now", func(b *testing.B) {
		for b.Loop() {
			_ = Now()
		}
	})
}
