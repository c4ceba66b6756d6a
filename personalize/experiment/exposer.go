package experiment

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rankscope/rankscope/personalize"
)

// Emitter sends an exposure event into the pipeline;
// *personalize.Instrument satisfies it.
type Emitter interface {
	Expose(ctx context.Context, x personalize.Exposure) error
}

// EmitterFunc adapts a function to an [Emitter].
type EmitterFunc func(ctx context.Context, x personalize.Exposure) error

// Expose calls f.
func (f EmitterFunc) Expose(ctx context.Context, x personalize.Exposure) error { return f(ctx, x) }

// ExposerConfig configures an [Exposer]. Zero values mean defaults.
type ExposerConfig struct {
	// Emitter receives the exposure events. Required.
	Emitter Emitter
	// Period is the dedup window: at most one exposure per (unit,
	// experiment, variant) per Period. Default 24h.
	Period time.Duration
	// MaxEntries bounds the dedup memory: at most 2*MaxEntries remembered
	// keys (two generations), 8-byte hash plus 8-byte time each, about
	// 40 bytes with map overhead: 80 MB at the default 1<<20.
	MaxEntries int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

const exposerShards = 16

// Exposer emits an exposure event the first time a unit meets an
// experiment's variant within Period, and suppresses repeats.
//
// # Memory bound
//
// Keys are 64-bit hashes of (experiment, variant, unit) in two
// generations per shard. When the current generation of a shard is full
// it becomes the previous one and the old previous one is dropped. A unit
// whose key was dropped is exposed again if it returns within Period: a
// duplicate, never a loss. Duplicates are harmless to analysis, which keys
// each unit by its first exposure, and are visible as
// [ExposerStats].Rotations. A hash collision (odds about n^2/2^65, 3e-8
// for a million keys) suppresses one exposure.
//
// Exposer is safe for concurrent use.
type Exposer struct {
	emit     Emitter
	period   int64
	perShard int
	now      func() time.Time
	shards   [exposerShards]exposerShard

	emitted, suppressed, rotations, failed atomic.Int64
}

type exposerShard struct {
	mu        sync.Mutex
	cur, prev map[uint64]int64
	_         [40]byte // keep shards on separate cache lines
}

// ExposerStats are counters of an [Exposer].
type ExposerStats struct {
	Emitted    int64 // exposure events handed to the emitter successfully
	Suppressed int64 // repeats within Period
	Rotations  int64 // dedup generations dropped because the bound was reached
	Failed     int64 // emitter errors (the key is forgotten so a later call retries)
}

// NewExposer validates cfg and returns an exposer.
func NewExposer(cfg ExposerConfig) (*Exposer, error) {
	if cfg.Emitter == nil {
		return nil, fmt.Errorf("experiment: ExposerConfig.Emitter: must be set")
	}
	if cfg.Period == 0 {
		cfg.Period = 24 * time.Hour
	}
	if cfg.Period < 0 {
		return nil, fmt.Errorf("experiment: ExposerConfig.Period: must be > 0, got %v", cfg.Period)
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = 1 << 20
	}
	if cfg.MaxEntries < exposerShards {
		return nil, fmt.Errorf("experiment: ExposerConfig.MaxEntries: must be >= %d, got %d", exposerShards, cfg.MaxEntries)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	x := &Exposer{emit: cfg.Emitter, period: int64(cfg.Period), perShard: cfg.MaxEntries / exposerShards, now: cfg.Now}
	for i := range x.shards {
		x.shards[i].cur = make(map[uint64]int64)
		x.shards[i].prev = make(map[uint64]int64)
	}
	return x, nil
}

func exposureKey(unit string, a personalize.Assignment) uint64 {
	h := saltState(a.Experiment)
	for i := 0; i < len(a.Variant); i++ {
		h ^= uint64(a.Variant[i])
		h *= fnvPrime
	}
	h ^= 0xFF
	h *= fnvPrime
	return hashFrom(h, unit)
}

// Expose emits {unit, a.Experiment, a.Variant, now, surface} unless the
// same key was emitted within Period. It reports whether it emitted. An
// emitter error is returned and the key forgotten, so the next call retries.
func (x *Exposer) Expose(ctx context.Context, unit string, a personalize.Assignment, surface string) (bool, error) {
	return x.ExposeAt(ctx, unit, a, surface, x.now())
}

// ExposeAt is Expose for an exposure that happened at a given time, for
// backfills, replays and simulations; the dedup period is measured in
// these times.
func (x *Exposer) ExposeAt(ctx context.Context, unit string, a personalize.Assignment, surface string, now time.Time) (bool, error) {
	if unit == "" || a.Experiment == "" || a.Variant == "" {
		return false, fmt.Errorf("experiment: Expose: unit, experiment and variant must be set (got %q, %q, %q)", unit, a.Experiment, a.Variant)
	}
	t := now.UnixNano()
	k := exposureKey(unit, a)
	s := &x.shards[k%exposerShards]
	s.mu.Lock()
	last, ok := s.cur[k]
	if !ok {
		last, ok = s.prev[k]
	}
	if ok && t-last < x.period { // also when another goroutine stored a later time first
		s.mu.Unlock()
		x.suppressed.Add(1)
		return false, nil
	}
	if len(s.cur) >= x.perShard {
		s.prev, s.cur = s.cur, make(map[uint64]int64, len(s.cur))
		x.rotations.Add(1)
	}
	s.cur[k] = t
	s.mu.Unlock()

	err := x.emit.Expose(ctx, personalize.Exposure{User: unit, Experiment: a.Experiment, Variant: a.Variant, Time: now, Surface: surface})
	if err != nil {
		s.mu.Lock()
		if s.cur[k] == t {
			delete(s.cur, k)
		}
		s.mu.Unlock()
		x.failed.Add(1)
		return false, err
	}
	x.emitted.Add(1)
	return true, nil
}

// ExposeAll calls Expose for every assignment and returns the first error.
func (x *Exposer) ExposeAll(ctx context.Context, unit string, as []personalize.Assignment, surface string) error {
	return x.ExposeAllAt(ctx, unit, as, surface, x.now())
}

// ExposeAllAt is ExposeAll at a given time (see ExposeAt).
func (x *Exposer) ExposeAllAt(ctx context.Context, unit string, as []personalize.Assignment, surface string, at time.Time) error {
	var first error
	for _, a := range as {
		if _, err := x.ExposeAt(ctx, unit, a, surface, at); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Stats returns the counters.
func (x *Exposer) Stats() ExposerStats {
	return ExposerStats{Emitted: x.emitted.Load(), Suppressed: x.suppressed.Load(), Rotations: x.rotations.Load(), Failed: x.failed.Load()}
}
