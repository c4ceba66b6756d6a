package experiment

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
)

type fakeEmitter struct {
	mu   sync.Mutex
	got  []personalize.Exposure
	fail atomic.Bool
}

func (f *fakeEmitter) Expose(_ context.Context, x personalize.Exposure) error {
	if f.fail.Load() {
		return errors.New("queue full")
	}
	f.mu.Lock()
	f.got = append(f.got, x)
	f.mu.Unlock()
	return nil
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func TestExposerOncePerPeriod(t *testing.T) {
	em := &fakeEmitter{}
	clk := &fakeClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	x, err := NewExposer(ExposerConfig{Emitter: em, Period: time.Hour, Now: clk.Now})
	require.NoError(t, err)
	ctx := context.Background()
	a := personalize.Assignment{Experiment: "ranker-v42", Variant: "treatment"}
	ok, err := x.Expose(ctx, "user-1", a, "home")
	require.NoError(t, err)
	assert.True(t, ok)
	for i := 0; i < 5; i++ {
		clk.t = clk.t.Add(10 * time.Minute)
		ok, err = x.Expose(ctx, "user-1", a, "home")
		require.NoError(t, err)
		assert.False(t, ok, "repeat within the period")
	}
	clk.t = clk.t.Add(11 * time.Minute) // 61 minutes after the first
	ok, _ = x.Expose(ctx, "user-1", a, "home")
	assert.True(t, ok, "after the period")
	ok, _ = x.Expose(ctx, "user-1", personalize.Assignment{Experiment: "ranker-v42", Variant: "control"}, "home")
	assert.True(t, ok, "a new variant is a new exposure")
	ok, _ = x.Expose(ctx, "user-2", a, "home")
	assert.True(t, ok)
	require.Len(t, em.got, 4)
	assert.Equal(t, personalize.Exposure{User: "user-1", Experiment: "ranker-v42", Variant: "treatment",
		Time: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC), Surface: "home"}, em.got[0])
	assert.Equal(t, ExposerStats{Emitted: 4, Suppressed: 5}, x.Stats())

	_, err = x.Expose(ctx, "", a, "")
	require.Error(t, err)
}

func TestExposerRetryAfterError(t *testing.T) {
	em := &fakeEmitter{}
	x, err := NewExposer(ExposerConfig{Emitter: em})
	require.NoError(t, err)
	a := personalize.Assignment{Experiment: "e", Variant: "v"}
	em.fail.Store(true)
	_, err = x.Expose(context.Background(), "u", a, "")
	require.Error(t, err)
	em.fail.Store(false)
	ok, err := x.Expose(context.Background(), "u", a, "")
	require.NoError(t, err)
	assert.True(t, ok, "a failed emission is not remembered")
	assert.Equal(t, int64(1), x.Stats().Failed)
}

func TestExposerBound(t *testing.T) {
	em := &fakeEmitter{}
	x, err := NewExposer(ExposerConfig{Emitter: em, MaxEntries: 160})
	require.NoError(t, err)
	a := personalize.Assignment{Experiment: "e", Variant: "v"}
	for i := 0; i < 10000; i++ {
		_, err := x.Expose(context.Background(), "u"+strconv.Itoa(i), a, "")
		require.NoError(t, err)
	}
	var entries int
	for i := range x.shards {
		entries += len(x.shards[i].cur) + len(x.shards[i].prev)
		assert.LessOrEqual(t, len(x.shards[i].cur), 10)
	}
	assert.LessOrEqual(t, entries, 2*160, "memory stays within 2*MaxEntries keys")
	assert.Positive(t, x.Stats().Rotations)
	// A recent unit is still deduplicated.
	ok, _ := x.Expose(context.Background(), "u9999", a, "")
	assert.False(t, ok)
	// An old one was forgotten: exposed again (a duplicate, never a loss).
	ok, _ = x.Expose(context.Background(), "u0", a, "")
	assert.True(t, ok)

	_, err = NewExposer(ExposerConfig{})
	require.ErrorContains(t, err, "Emitter")
	_, err = NewExposer(ExposerConfig{Emitter: em, Period: -1})
	require.ErrorContains(t, err, "Period")
}

func TestExposerConcurrent(t *testing.T) {
	em := &fakeEmitter{}
	x, err := NewExposer(ExposerConfig{Emitter: em})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				_ = x.ExposeAll(context.Background(), "u"+strconv.Itoa(i), []personalize.Assignment{{Experiment: "e", Variant: "v"}}, "")
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 500, len(em.got), "each unit exposed exactly once across goroutines")
	assert.Equal(t, int64(3500), x.Stats().Suppressed)
}

func BenchmarkExpose(b *testing.B) {
	x, err := NewExposer(ExposerConfig{Emitter: EmitterFunc(func(context.Context, personalize.Exposure) error { return nil })})
	require.NoError(b, err)
	a := personalize.Assignment{Experiment: "ranker-v42", Variant: "treatment"}
	us := millionUnits()[:1024]
	for _, u := range us {
		_, _ = x.Expose(context.Background(), u, a, "")
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			_, _ = x.Expose(context.Background(), us[i&1023], a, "")
			i++
		}
	})
}

func TestExposeAtUsesTheGivenTime(t *testing.T) {
	em := &fakeEmitter{}
	x, err := NewExposer(ExposerConfig{Emitter: em, Period: 24 * time.Hour})
	require.NoError(t, err)
	ctx := context.Background()
	day1 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	a := []personalize.Assignment{{Experiment: "e", Variant: "b"}}
	require.NoError(t, x.ExposeAllAt(ctx, "u1", a, "home", day1))
	require.NoError(t, x.ExposeAllAt(ctx, "u1", a, "home", day1.Add(23*time.Hour)))
	require.NoError(t, x.ExposeAllAt(ctx, "u1", a, "home", day1.Add(25*time.Hour)))
	em.mu.Lock()
	defer em.mu.Unlock()
	require.Len(t, em.got, 2, "the period is measured in the given times")
	require.True(t, em.got[0].Time.Equal(day1))
	require.True(t, em.got[1].Time.Equal(day1.Add(25*time.Hour)))
}
