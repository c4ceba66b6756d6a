package alert

import (
	"context"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type recorder struct {
	mu  sync.Mutex
	got []Alert
}

func (r *recorder) Handle(_ context.Context, a Alert) {
	r.mu.Lock()
	r.got = append(r.got, a)
	r.mu.Unlock()
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestHysteresis(t *testing.T) {
	type step struct {
		at    time.Duration
		value float64
		state State
		fired int // transitions notified so far
	}
	tests := []struct {
		name  string
		rule  Rule
		steps []step
	}{
		{
			name: "above: band between exit and enter does not flap",
			rule: Rule{Name: "r", Enter: 10, Exit: 5},
			steps: []step{
				{0, 4, StateOK, 0},
				{1, 10, StateFiring, 1}, // inclusive enter
				{2, 9, StateFiring, 1},  // inside the band: still firing
				{3, 11, StateFiring, 1},
				{4, 6, StateFiring, 1},
				{5, 5, StateOK, 2}, // inclusive exit
				{6, 9, StateOK, 2}, // inside the band: stays ok
			},
		},
		{
			name: "above: For requires a continuous breach",
			rule: Rule{Name: "r", Enter: 10, Exit: 5, For: 3 * time.Second},
			steps: []step{
				{0, 12, StatePending, 0},
				{2 * time.Second, 12, StatePending, 0},
				{2500 * time.Millisecond, 9, StateOK, 0}, // one sample back inside resets
				{3 * time.Second, 12, StatePending, 0},
				{5 * time.Second, 12, StatePending, 0},
				{6 * time.Second, 12, StateFiring, 1},
			},
		},
		{
			name: "above: ResolveFor requires a continuous recovery",
			rule: Rule{Name: "r", Enter: 10, Exit: 5, ResolveFor: 2 * time.Second},
			steps: []step{
				{0, 20, StateFiring, 1},
				{1 * time.Second, 1, StateResolving, 1},
				{2 * time.Second, 7, StateFiring, 1}, // back above exit
				{3 * time.Second, 1, StateResolving, 1},
				{5 * time.Second, 2, StateOK, 2},
			},
		},
		{
			name: "below: conversion rate falls",
			rule: Rule{Name: "r", Direction: DirectionBelow, Enter: 0.02, Exit: 0.03},
			steps: []step{
				{0, 0.05, StateOK, 0},
				{1, 0.02, StateFiring, 1},
				{2, 0.025, StateFiring, 1},
				{3, 0.031, StateOK, 2},
			},
		},
		{
			name: "out-of-order observation ignored",
			rule: Rule{Name: "r", Enter: 10, Exit: 5},
			steps: []step{
				{10, 20, StateFiring, 1},
				{5, 0, StateFiring, 1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			e, err := New(Config{Handler: rec, Rules: []Rule{tt.rule}})
			require.NoError(t, err)
			for i, s := range tt.steps {
				require.NoError(t, e.Observe(context.Background(), t0.Add(s.at), "r", "k", s.value))
				assert.Equal(t, s.state, e.State("r", "k"), "step %d", i)
				assert.Len(t, rec.got, s.fired, "step %d", i)
			}
		})
	}
}

func TestAlertContents(t *testing.T) {
	rec := &recorder{}
	e, err := New(Config{Handler: rec, Rules: []Rule{{Name: "lag", Severity: SeverityCritical, Enter: 60, Exit: 30, For: time.Minute}}})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, e.Observe(ctx, t0, "lag", "features", 90))
	require.NoError(t, e.Observe(ctx, t0.Add(time.Minute), "lag", "features", 95))
	require.Len(t, rec.got, 1)
	a := rec.got[0]
	assert.Equal(t, Alert{Rule: "lag", Key: "features", Severity: SeverityCritical, State: StateFiring, Value: 95, Threshold: 60, Since: t0, At: t0.Add(time.Minute)}, a)
	assert.True(t, a.Firing())
	assert.Contains(t, a.String(), "critical lag[features] firing")

	act := e.Active()
	require.Len(t, act, 1)
	assert.Equal(t, "features", act[0].Key)

	require.NoError(t, e.Observe(ctx, t0.Add(2*time.Minute), "lag", "features", 10))
	require.Len(t, rec.got, 2)
	assert.Equal(t, StateOK, rec.got[1].State)
	assert.Equal(t, 30.0, rec.got[1].Threshold)
	assert.Empty(t, e.Active())
}

func TestKeysIndependentAndBounded(t *testing.T) {
	rec := &recorder{}
	e, err := New(Config{Handler: rec, MaxKeys: 2, Rules: []Rule{{Name: "psi", Enter: 0.25, Exit: 0.1}}})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, e.Observe(ctx, t0, "psi", "a", 0.3))
	require.NoError(t, e.Observe(ctx, t0, "psi", "b", 0.01))
	assert.Equal(t, StateFiring, e.State("psi", "a"))
	assert.Equal(t, StateOK, e.State("psi", "b"))
	assert.ErrorIs(t, e.Observe(ctx, t0, "psi", "c", 1), ErrTooManyKeys)
	assert.Equal(t, uint64(1), e.Dropped())
	e.Forget("a")
	require.NoError(t, e.Observe(ctx, t0, "psi", "c", 1))
	assert.Equal(t, StateFiring, e.State("psi", "c"))
}

func TestObserveErrors(t *testing.T) {
	e, err := New(Config{Handler: Discard, Rules: []Rule{{Name: "r", Enter: 1, Exit: 0}}})
	require.NoError(t, err)
	assert.ErrorContains(t, e.Observe(context.Background(), t0, "nope", "", 1), `unknown rule "nope"`)
	assert.ErrorContains(t, e.Observe(context.Background(), t0, "r", "k", math.NaN()), "NaN")
	assert.True(t, e.Has("r"))
	assert.False(t, e.Has("nope"))
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no handler", Config{}, "Config.Handler"},
		{"negative keys", Config{Handler: Discard, MaxKeys: -1}, "Config.MaxKeys"},
		{"no name", Config{Handler: Discard, Rules: []Rule{{}}}, "Rule.Name"},
		{"exit above enter", Config{Handler: Discard, Rules: []Rule{{Name: "a", Enter: 1, Exit: 2}}}, "Exit: must be <= Enter"},
		{"exit below enter", Config{Handler: Discard, Rules: []Rule{{Name: "a", Direction: DirectionBelow, Enter: 1, Exit: 0}}}, "Exit: must be >= Enter"},
		{"nan enter", Config{Handler: Discard, Rules: []Rule{{Name: "a", Enter: math.NaN()}}}, "Enter: must be finite"},
		{"negative for", Config{Handler: Discard, Rules: []Rule{{Name: "a", For: -1}}}, "For: must be >= 0"},
		{"bad severity", Config{Handler: Discard, Rules: []Rule{{Name: "a", Severity: 9}}}, "Severity"},
		{"duplicate", Config{Handler: Discard, Rules: []Rule{{Name: "a"}, {Name: "a"}}}, "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// TestDropZ checks the binomial normal approximation by hand: base 0.05,
// 30 of 1000 converted: (0.05-0.03)/sqrt(0.05*0.95/1000) = 0.02/0.00689202
// = 2.901905.
func TestDropZ(t *testing.T) {
	assert.InDelta(t, 2.9019050004, DropZ(0.05, 30, 1000), 1e-9)
	assert.InDelta(t, -2.9019050004, DropZ(0.05, 70, 1000), 1e-9)
	assert.Equal(t, 0.0, DropZ(0.05, 0, 0))
	assert.Equal(t, 0.0, DropZ(0, 1, 10))
	assert.Equal(t, 0.0, DropZ(1, 1, 10))
}

func TestConcurrentObserve(t *testing.T) {
	rec := &recorder{}
	e, err := New(Config{Handler: rec, Rules: []Rule{{Name: "r", Enter: 10, Exit: 5}}})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				_ = e.Observe(context.Background(), t0.Add(time.Duration(i)), "r", "k", float64(i%20))
			}
		}()
	}
	wg.Wait()
	// Transitions alternate firing/resolved whatever the interleaving.
	for i, a := range rec.got {
		assert.Equal(t, i%2 == 0, a.Firing(), "transition %d", i)
	}
}

func BenchmarkObserve(b *testing.B) {
	e, _ := New(Config{Handler: Discard, Rules: []Rule{{Name: "r", Enter: 10, Exit: 5}}})
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = e.Observe(ctx, t0.Add(time.Duration(i)), "r", "k", float64(i%20))
	}
}

// TestConcurrentObserveOrdered hammers a few (rule, key) pairs from many
// goroutines, with observations flipping between bad and good so that
// nearly every one is a transition, and a handler that yields before
// recording to widen any gap between deciding a transition and delivering
// it. Per pair the delivered alerts must alternate firing, resolved,
// firing..., starting with firing; their At times must not go backwards
// (observations older than the pair's last one are ignored, so the
// transitions happen in time order); and the last delivered alert must
// agree with the evaluator's final state.
func TestConcurrentObserveOrdered(t *testing.T) {
	rules := []Rule{
		{Name: "instant", Enter: 10, Exit: 5},
		{Name: "held", Enter: 10, Exit: 5, For: 2, ResolveFor: 2},
		{Name: "below", Direction: DirectionBelow, Enter: 5, Exit: 10},
	}
	keys := []string{"", "a", "b"}
	type pair struct{ rule, key string }
	var (
		mu  sync.Mutex
		got = map[pair][]Alert{}
	)
	h := HandlerFunc(func(_ context.Context, a Alert) {
		runtime.Gosched()
		mu.Lock()
		got[pair{a.Rule, a.Key}] = append(got[pair{a.Rule, a.Key}], a)
		mu.Unlock()
	})
	e, err := New(Config{Handler: h, Rules: rules})
	require.NoError(t, err)

	goroutines := 4 * runtime.GOMAXPROCS(0)
	if goroutines < 16 {
		goroutines = 16
	}
	const perGoroutine = 2000
	var clock atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range perGoroutine {
				r := rules[(g+i)%len(rules)]
				k := keys[(g*7+i)%len(keys)]
				v := 20.0 // bad for "above" rules
				if (g+i/len(rules))%2 == 1 {
					v = 0
				}
				if r.Direction == DirectionBelow {
					v = 15 - v // 20 -> -5 (bad), 0 -> 15 (good)
				}
				now := t0.Add(time.Duration(clock.Add(1)))
				assert.NoError(t, e.Observe(ctx, now, r.Name, k, v))
			}
		}()
	}
	wg.Wait()

	total := 0
	for _, r := range rules {
		for _, k := range keys {
			seq := got[pair{r.Name, k}]
			total += len(seq)
			for i, a := range seq {
				if !assert.Equal(t, i%2 == 0, a.Firing(), "%s[%s]: alert %d of %d out of order", r.Name, k, i, len(seq)) {
					break
				}
				if i > 0 && !assert.False(t, a.At.Before(seq[i-1].At), "%s[%s]: alert %d delivered before an earlier transition", r.Name, k, i) {
					break
				}
			}
			final := e.State(r.Name, k)
			lastFiring := len(seq) > 0 && seq[len(seq)-1].Firing()
			assert.Equal(t, final == StateFiring || final == StateResolving, lastFiring,
				"%s[%s]: final state %v, last delivered firing=%v", r.Name, k, final, lastFiring)
		}
	}
	// The test means nothing unless the goroutines raced through many
	// transitions.
	assert.Greater(t, total, goroutines*perGoroutine/10)
}

// TestHandlerPanicPassesTurn checks that a handler that panics does not
// leave the pair's later transitions waiting for a turn that never comes.
func TestHandlerPanicPassesTurn(t *testing.T) {
	rec := &recorder{}
	calls := 0
	h := HandlerFunc(func(ctx context.Context, a Alert) {
		if calls++; calls == 1 {
			panic("handler failed")
		}
		rec.Handle(ctx, a)
	})
	e, err := New(Config{Handler: h, Rules: []Rule{{Name: "r", Enter: 10, Exit: 5}}})
	require.NoError(t, err)
	ctx := context.Background()
	assert.PanicsWithValue(t, "handler failed", func() { _ = e.Observe(ctx, t0, "r", "k", 20) })
	assert.Equal(t, StateFiring, e.State("r", "k"))

	done := make(chan struct{})
	go func() {
		defer close(done)
		assert.NoError(t, e.Observe(ctx, t0.Add(1), "r", "k", 0))
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Observe after a panicking handler call is still waiting for its turn")
	}
	require.Len(t, rec.got, 1)
	assert.False(t, rec.got[0].Firing())
}
