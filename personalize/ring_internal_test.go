package personalize

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRingCapacityIsPowerOfTwo(t *testing.T) {
	for n, want := range map[int]int{0: 2, 1: 2, 2: 2, 3: 4, 341: 512, 1024: 1024, 1025: 2048} {
		assert.Equal(t, want, newRing(n).Cap(), "n=%d", n)
	}
}

// A ring takes envelopes in the order put, refuses when full without
// waiting, and has room again once the batcher took some.
func TestRingOrderAndDoor(t *testing.T) {
	r := newRing(4)
	for i := range 4 {
		require.True(t, r.put(envelope{uh: uint64(i + 1)}))
	}
	assert.False(t, r.put(envelope{uh: 99}), "full")
	assert.Equal(t, 4, r.Len())
	for i := range 2 {
		env, ok := r.take()
		require.True(t, ok)
		assert.EqualValues(t, i+1, env.uh)
	}
	assert.Equal(t, 4, r.Len(), "Len moves at drained, not per take")
	r.drained()
	assert.Equal(t, 2, r.Len())
	require.True(t, r.put(envelope{uh: 5}))
	require.True(t, r.put(envelope{uh: 6}))
	assert.False(t, r.put(envelope{uh: 7}))
	for i := 3; i <= 6; i++ {
		env, ok := r.take()
		require.True(t, ok)
		assert.EqualValues(t, i, env.uh)
	}
	_, ok := r.take()
	assert.False(t, ok)
	assert.False(t, r.ready())
}

// A taken slot lets its envelope go (the ring holds no event the batcher
// has taken).
func TestRingClearsTakenSlots(t *testing.T) {
	r := newRing(2)
	ev := Event{Outcome: &Outcome{User: "u"}}
	require.True(t, r.put(envelope{ev: ev}))
	_, ok := r.take()
	require.True(t, ok)
	for i := range r.slots {
		assert.Zero(t, r.slots[i].env, "slot %d", i)
	}
}

// A producer under BlockTimeout waits for room and gets it when the
// batcher drains; one whose time runs out is refused.
func TestRingPutWithin(t *testing.T) {
	r := newRing(2)
	require.True(t, r.put(envelope{uh: 1}))
	require.True(t, r.put(envelope{uh: 2}))
	start := time.Now()
	assert.False(t, r.putWithin(envelope{uh: 3}, 20*time.Millisecond))
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)

	done := make(chan bool)
	go func() { done <- r.putWithin(envelope{uh: 3}, 10*time.Second) }()
	require.Eventually(t, func() bool { return r.waiters.Load() == 1 }, time.Second, time.Millisecond)
	_, ok := r.take()
	require.True(t, ok)
	select {
	case <-done:
		t.Fatal("woke before the batcher said room was made")
	case <-time.After(20 * time.Millisecond):
	}
	r.drained()
	assert.True(t, <-done)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, r.putCtx(ctx, envelope{uh: 4}), context.Canceled)
}

// A parked batcher is woken by the next put, and a put that came before
// it parked keeps it from sleeping.
func TestRingParkAndWake(t *testing.T) {
	r := newRing(4)
	require.True(t, r.park())
	require.True(t, r.put(envelope{uh: 1}))
	select {
	case <-r.wake:
	default:
		t.Fatal("a put while parked sent no wake-up")
	}
	assert.False(t, r.parked.Load())
	assert.False(t, r.park(), "an envelope is ready: do not sleep")
	assert.False(t, r.parked.Load())
	r.take()
	require.True(t, r.park())
	r.unpark()
	require.True(t, r.put(envelope{uh: 2}))
	select {
	case <-r.wake:
		t.Fatal("woken while not parked")
	default:
	}
}

// Many producers and one consumer that parks when it finds nothing (go
// test -race): every envelope arrives once, each producer's in order, and
// the consumer is never left asleep with envelopes queued.
func TestRingConcurrent(t *testing.T) {
	const producers, each = 8, 20000
	r := newRing(64)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				env := envelope{uh: uint64(p)<<32 | uint64(i)}
				if i%2 == 0 {
					require.True(t, r.putWithin(env, time.Minute))
					continue
				}
				for !r.put(env) {
					time.Sleep(time.Microsecond)
				}
			}
		}()
	}
	next := make([]uint64, producers)
	got := 0
	for got < producers*each {
		env, ok := r.take()
		if !ok {
			r.drained()
			if r.park() {
				select {
				case <-r.wake:
				case <-time.After(10 * time.Second):
					t.Fatalf("asleep with %d of %d taken, ready %v", got, producers*each, r.ready())
				}
			}
			continue
		}
		p, i := env.uh>>32, env.uh&(1<<32-1)
		require.Equal(t, next[p], i, "producer %d out of order", p)
		next[p]++
		got++
	}
	wg.Wait()
}
