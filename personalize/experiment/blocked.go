package experiment

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
)

// ErrCapacity is returned by [Blocked.Assign] when its memory bound is
// reached; the caller should fall back to [Experiment.Assign] (hash
// assignment stays valid, only the within-stratum balance guarantee is lost).
var ErrCapacity = errors.New("experiment: blocked assignment at capacity")

// BlockedConfig configures stratified, blocked assignment. Zero values mean defaults.
type BlockedConfig struct {
	// Experiment gives the variants, weights, salt and traffic. Required.
	Experiment *Experiment
	// BlockSize is the length of each permuted block; every weight times
	// BlockSize must be a whole number. Default: the smallest size from
	// the number of variants up to 100 times it that makes them whole.
	BlockSize int
	// MaxStrata bounds the number of strata tracked (default 4096).
	MaxStrata int
	// MaxUnits bounds the number of units remembered (default 1<<20, about
	// 64 MB with typical 24-byte ids).
	MaxUnits int
}

// Blocked assigns units to variants with permuted blocks within each
// stratum (country, platform...), so arms stay balanced inside every
// stratum at every moment: after N units of a stratum, arm i has
// w_i*N units give or take less than w_i*BlockSize. Hash assignment only
// balances in expectation.
//
// Unlike hash assignment this needs state: the position in each stratum's
// current block, and each unit's arm so that a returning unit keeps it.
// Both live in memory, bounded by MaxStrata and MaxUnits; beyond either,
// Assign returns [ErrCapacity] (never a silent re-randomization). After a
// restart, rebuild the state with [Blocked.Restore] from the exposure
// log, which records every unit's arm. Block permutations are
// pseudo-random, seeded by Hash(salt, stratum) and the block number, so a
// replay of the same arrival order reproduces the same assignments.
//
// Blocked is safe for concurrent use (one mutex; it is meant for the
// moment of enrolment, not for every request: carry the arm afterwards).
type Blocked struct {
	exp       *Experiment
	perBlock  []int
	blockSize int
	maxStrata int
	maxUnits  int

	mu     sync.Mutex
	strata map[string]*stratum
	units  map[string]uint8
}

type stratum struct {
	seed  uint64
	block []uint8
	pos   int
	num   uint64
}

// NewBlocked validates cfg and returns a blocked assigner.
func NewBlocked(cfg BlockedConfig) (*Blocked, error) {
	if cfg.Experiment == nil {
		return nil, fmt.Errorf("experiment: BlockedConfig.Experiment: must be set")
	}
	if cfg.MaxStrata == 0 {
		cfg.MaxStrata = 4096
	}
	if cfg.MaxUnits == 0 {
		cfg.MaxUnits = 1 << 20
	}
	if cfg.MaxStrata < 1 {
		return nil, fmt.Errorf("experiment: BlockedConfig.MaxStrata: must be > 0, got %d", cfg.MaxStrata)
	}
	if cfg.MaxUnits < 1 {
		return nil, fmt.Errorf("experiment: BlockedConfig.MaxUnits: must be > 0, got %d", cfg.MaxUnits)
	}
	w := cfg.Experiment.weights
	if len(w) > 255 {
		return nil, fmt.Errorf("experiment: BlockedConfig.Experiment: at most 255 variants, got %d", len(w))
	}
	whole := func(size int) ([]int, bool) {
		out := make([]int, len(w))
		for i, x := range w {
			c := x * float64(size)
			r := math.Round(c)
			if r < 1 || math.Abs(c-r) > 1e-9*float64(size) {
				return nil, false
			}
			out[i] = int(r)
		}
		return out, true
	}
	b := &Blocked{exp: cfg.Experiment, maxStrata: cfg.MaxStrata, maxUnits: cfg.MaxUnits,
		strata: map[string]*stratum{}, units: map[string]uint8{}}
	if cfg.BlockSize != 0 {
		per, ok := whole(cfg.BlockSize)
		if !ok || cfg.BlockSize < 0 {
			return nil, fmt.Errorf("experiment: BlockedConfig.BlockSize: %d does not give every variant a whole number of units at weights %v", cfg.BlockSize, w)
		}
		b.perBlock, b.blockSize = per, cfg.BlockSize
		return b, nil
	}
	for size := len(w); size <= 100*len(w); size++ {
		if per, ok := whole(size); ok {
			b.perBlock, b.blockSize = per, size
			return b, nil
		}
	}
	return nil, fmt.Errorf("experiment: BlockedConfig.BlockSize: weights %v need an explicit block size", w)
}

// BlockSize returns the block length in use.
func (b *Blocked) BlockSize() int { return b.blockSize }

// Assign returns the unit's variant within stratum. A unit keeps its
// first arm whatever stratum it later reports. Units outside the
// experiment's traffic get "" and ReasonNoTraffic, as with hash assignment.
func (b *Blocked) Assign(stratumKey, unit string) (string, Reason, error) {
	if _, r := b.exp.Assign(unit); r != ReasonAssigned {
		return "", r, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if i, ok := b.units[unit]; ok {
		return b.exp.variants[i], ReasonAssigned, nil
	}
	if len(b.units) >= b.maxUnits {
		return "", ReasonAssigned, ErrCapacity
	}
	s, err := b.stratumLocked(stratumKey)
	if err != nil {
		return "", ReasonAssigned, err
	}
	if s.pos == len(s.block) {
		b.refill(s)
	}
	i := s.block[s.pos]
	s.pos++
	b.units[unit] = i
	return b.exp.variants[i], ReasonAssigned, nil
}

func (b *Blocked) stratumLocked(key string) (*stratum, error) {
	s := b.strata[key]
	if s == nil {
		if len(b.strata) >= b.maxStrata {
			return nil, ErrCapacity
		}
		s = &stratum{seed: hashFrom(b.exp.state, key), block: make([]uint8, 0, b.blockSize)}
		b.strata[key] = s
	}
	return s, nil
}

func (b *Blocked) refill(s *stratum) {
	s.block = s.block[:0]
	for i, c := range b.perBlock {
		for range c {
			s.block = append(s.block, uint8(i))
		}
	}
	rng := rand.New(rand.NewPCG(s.seed, s.num))
	rng.Shuffle(len(s.block), func(i, j int) { s.block[i], s.block[j] = s.block[j], s.block[i] })
	s.pos = 0
	s.num++
}

// Restore records that unit already has variant in stratum (replayed
// from the exposure log after a restart). Restored units count towards the
// stratum's balance: the current block is advanced past one slot of that
// arm when one is left, so balance is kept within the bound.
func (b *Blocked) Restore(stratumKey, unit, variant string) error {
	idx := -1
	for i, v := range b.exp.variants {
		if v == variant {
			idx = i
		}
	}
	if idx < 0 {
		return fmt.Errorf("experiment: Restore: variant %q is not in experiment %q", variant, b.exp.name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.units[unit]; ok {
		return nil
	}
	if len(b.units) >= b.maxUnits {
		return ErrCapacity
	}
	s, err := b.stratumLocked(stratumKey)
	if err != nil {
		return err
	}
	if s.pos == len(s.block) {
		b.refill(s)
	}
	// Swap a remaining slot of this arm to the current position and consume it.
	for j := s.pos; j < len(s.block); j++ {
		if int(s.block[j]) == idx {
			s.block[s.pos], s.block[j] = s.block[j], s.block[s.pos]
			s.pos++
			break
		}
	}
	b.units[unit] = uint8(idx)
	return nil
}
