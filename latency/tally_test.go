package latency

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sameWindows fails unless a and b hold the same sketch and status counts
// for every stage of a, over every window.
func sameWindows(t *testing.T, a, b *Tracker) {
	t.Helper()
	require.ElementsMatch(t, a.Stages(), b.Stages())
	for _, stage := range a.Stages() {
		for _, w := range []Window{WindowMinute, WindowHour, WindowDay} {
			ska, sta, _ := a.window(stage, w, a.nowNS())
			skb, stb, _ := b.window(stage, w, b.nowNS())
			require.Equal(t, sta, stb, "%s %v: status counts", stage, w)
			require.Equal(t, ska.Count(), skb.Count(), "%s %v: count", stage, w)
			require.Equal(t, ska.Sum(), skb.Sum(), "%s %v: sum", stage, w)
			require.Equal(t, ska.Min(), skb.Min(), "%s %v: min", stage, w)
			require.Equal(t, ska.Max(), skb.Max(), "%s %v: max", stage, w)
			require.Equal(t, ska.Underflow(), skb.Underflow(), "%s %v: underflow", stage, w)
			require.Equal(t, ska.Overflow(), skb.Overflow(), "%s %v: overflow", stage, w)
			require.Equal(t, ska.Buckets(), skb.Buckets(), "%s %v: buckets", stage, w)
		}
	}
}

// A Tally flushed after each batch leaves the windows exactly as
// ObserveWindows would have: same buckets, sums, extremes, statuses and
// slots, over observations spread across many 5-second slots, with
// durations under, inside and over the sketch's range.
func TestTallyMatchesObserveWindows(t *testing.T) {
	ca, cb := newFakeClock(), newFakeClock()
	a := newTestTracker(t, ca, Config{})
	b := newTestTracker(t, cb, Config{})
	y := b.NewTally()
	r := rand.New(rand.NewPCG(1, 2))
	stages := []string{"features", "score", "network", EndToEnd}
	durations := []time.Duration{-5, 0, 50, SketchMin, time.Microsecond, 3 * time.Millisecond, SketchMax, 2 * SketchMax, 20 * 24 * time.Hour}
	for batch := range 300 {
		for range r.IntN(40) {
			d := time.Duration(r.Int64N(int64(50 * time.Millisecond)))
			if r.IntN(10) == 0 {
				d = durations[r.IntN(len(durations))]
			}
			o := Observation{Stage: stages[r.IntN(len(stages))], Duration: d, Status: Status(r.IntN(5))}
			if r.IntN(20) != 0 { // otherwise zero: ended now, by the tracker's clock
				o.Start = ca.Now().Add(-time.Duration(r.Int64N(int64(3 * time.Second))))
			}
			a.ObserveWindows(o)
			y.ObserveWindows(o)
			step := time.Duration(r.Int64N(int64(400 * time.Millisecond)))
			ca.Add(step)
			cb.Add(step)
		}
		y.Flush()
		if batch%50 == 0 {
			sameWindows(t, a, b)
		}
	}
	sameWindows(t, a, b)
	assert.Equal(t, a.Stats(), b.Stats())
}

// Observations held by a Tally are not in the windows until Flush, and
// are there, counted once, after it.
func TestTallyHoldsUntilFlush(t *testing.T) {
	c := newFakeClock()
	tr := newTestTracker(t, c, Config{})
	y := tr.NewTally()
	for i := range 10 {
		y.ObserveWindows(Observation{Stage: "score", Start: c.Now(), Duration: time.Duration(i+1) * time.Millisecond})
	}
	s, ok := tr.Summary("score", WindowMinute)
	require.True(t, ok) // the stage exists from its first observation
	assert.Zero(t, s.Count)
	y.Flush()
	y.Flush()
	s, _ = tr.Summary("score", WindowMinute)
	assert.EqualValues(t, 10, s.Count)
	assert.Equal(t, 10*time.Millisecond, s.Max)
}

// A Tally flushed only after its slot was recycled for a later one (over
// a minute late) adds what it held to the slot in progress: nothing is
// lost, and nothing lands in the recycled slot's new window twice.
func TestTallyLateFlush(t *testing.T) {
	c := newFakeClock()
	tr := newTestTracker(t, c, Config{})
	y := tr.NewTally()
	y.ObserveWindows(Observation{Stage: "score", Start: c.Now(), Duration: time.Millisecond, Status: StatusTimeout})
	y.ObserveWindows(Observation{Stage: "score", Start: c.Now(), Duration: 3 * time.Millisecond})
	// Others move the stage on for two minutes: the held slot leaves the
	// minute window and is recycled.
	for range 24 {
		c.Add(5 * time.Second)
		tr.ObserveWindows(Observation{Stage: "score", Start: c.Now(), Duration: 2 * time.Millisecond})
	}
	y.Flush()
	s, _ := tr.Summary("score", WindowMinute)
	// The last 12 or 13 slots of others' observations, plus the two late ones.
	assert.Contains(t, []uint64{14, 15}, s.Count)
	assert.EqualValues(t, 1, s.Timeouts)
	assert.Equal(t, 3*time.Millisecond, s.Max)
	h, _ := tr.Summary("score", WindowHour)
	assert.EqualValues(t, 26, h.Count)
}

// A Tally flushed after a clock jump expired its slot, and others with
// it, at once (the first expired slot is recycled, the rest merged upward
// and dropped) adds what it held to the slot in progress, not to a
// dropped slot.
func TestTallyFlushAfterJump(t *testing.T) {
	c := newFakeClock()
	tr := newTestTracker(t, c, Config{})
	y := tr.NewTally()
	tr.ObserveWindows(Observation{Stage: "score", Start: c.Now(), Duration: time.Millisecond})
	c.Add(5 * time.Second)
	y.ObserveWindows(Observation{Stage: "score", Start: c.Now(), Duration: 7 * time.Millisecond})
	for range 3 {
		c.Add(5 * time.Second)
		tr.ObserveWindows(Observation{Stage: "score", Start: c.Now(), Duration: time.Millisecond})
	}
	c.Add(2 * time.Minute)
	tr.ObserveWindows(Observation{Stage: "score", Start: c.Now(), Duration: time.Millisecond})
	y.Flush()
	h, _ := tr.Summary("score", WindowHour)
	assert.EqualValues(t, 6, h.Count)
	assert.Equal(t, 7*time.Millisecond, h.Max)
	m, _ := tr.Summary("score", WindowMinute)
	assert.EqualValues(t, 2, m.Count, "the late observation joins the slot in progress")
}

// A Tally holds at most maxTallyStages stages; observations of further
// ones go to the windows at once.
func TestTallyStageBound(t *testing.T) {
	c := newFakeClock()
	tr := newTestTracker(t, c, Config{})
	y := tr.NewTally()
	for i := range maxTallyStages + 3 {
		y.ObserveWindows(Observation{Stage: fmt.Sprintf("s%02d", i), Start: c.Now(), Duration: time.Millisecond})
	}
	assert.Len(t, y.stages, maxTallyStages)
	for i := range maxTallyStages + 3 {
		s, ok := tr.Summary(fmt.Sprintf("s%02d", i), WindowMinute)
		require.True(t, ok)
		if i < maxTallyStages {
			assert.Zero(t, s.Count, "stage %d is held", i)
		} else {
			assert.EqualValues(t, 1, s.Count, "stage %d is past the bound", i)
		}
	}
	y.Flush()
	for i := range maxTallyStages + 3 {
		s, _ := tr.Summary(fmt.Sprintf("s%02d", i), WindowMinute)
		assert.EqualValues(t, 1, s.Count)
	}
}

// Tallies of several goroutines, direct observers and readers run at once
// (go test -race): after the last Flush every observation is counted once.
func TestTallyConcurrent(t *testing.T) {
	c := newFakeClock()
	tr := newTestTracker(t, c, Config{})
	const writers, each = 4, 3000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
				tr.Summary("score", WindowHour)
				c.Add(5 * time.Millisecond)
			}
		}
	}()
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			y := tr.NewTally()
			for i := range each {
				o := Observation{Stage: "score", Start: c.Now(), Duration: time.Duration(i%500+1) * time.Microsecond}
				if g == 0 {
					tr.ObserveWindows(o)
					continue
				}
				y.ObserveWindows(o)
				if i%100 == 99 {
					y.Flush()
				}
			}
			y.Flush()
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	s, _ := tr.Summary("score", WindowDay)
	assert.EqualValues(t, writers*each, s.Count)
}

func BenchmarkTally(b *testing.B) {
	tr, err := NewTracker(Config{})
	require.NoError(b, err)
	y := tr.NewTally()
	start := time.Now()
	n := 0
	for b.Loop() {
		y.ObserveWindows(Observation{Stage: "score", Start: start, Duration: time.Duration(700 + n%300)})
		if n++; n%512 == 0 {
			y.Flush()
		}
	}
}
