package experiment

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBlockedBalanceWithinStrata(t *testing.T) {
	e, err := New(Config{Name: "ranker-v42", Variants: []Variant{{"control", 2}, {"a", 1}, {"b", 1}}})
	require.NoError(t, err)
	b, err := NewBlocked(BlockedConfig{Experiment: e})
	require.NoError(t, err)
	require.Equal(t, 4, b.BlockSize())
	w := map[string]float64{"control": 0.5, "a": 0.25, "b": 0.25}
	strata := []string{"DE", "US", "FR"}
	counts := map[string]map[string]int{}
	n := map[string]int{}
	for i := 0; i < 3000; i++ {
		s := strata[(i*7)%3]
		u := "user-" + strconv.Itoa(i)
		v, r, err := b.Assign(s, u)
		require.NoError(t, err)
		require.Equal(t, ReasonAssigned, r)
		if counts[s] == nil {
			counts[s] = map[string]int{}
		}
		counts[s][v]++
		n[s]++
		// The documented bound, at every step: |n_i - w_i N| < w_i * B.
		for arm, wi := range w {
			dev := float64(counts[s][arm]) - wi*float64(n[s])
			require.Less(t, dev, wi*4, "stratum %s arm %s after %d", s, arm, n[s])
			require.Greater(t, dev, -wi*4)
		}
		// Returning unit keeps its arm, whatever stratum it reports.
		v2, _, err := b.Assign("other", u)
		require.NoError(t, err)
		require.Equal(t, v, v2)
	}
}

func TestBlockedReplayAndRestore(t *testing.T) {
	e, err := New(Config{Name: "x", Variants: []Variant{{"c", 1}, {"t", 1}}})
	require.NoError(t, err)
	run := func() []string {
		b, err := NewBlocked(BlockedConfig{Experiment: e, BlockSize: 4})
		require.NoError(t, err)
		var out []string
		for i := 0; i < 100; i++ {
			v, _, err := b.Assign("s", strconv.Itoa(i))
			require.NoError(t, err)
			out = append(out, v)
		}
		return out
	}
	assert.Equal(t, run(), run(), "same arrival order, same assignments")

	b, err := NewBlocked(BlockedConfig{Experiment: e, BlockSize: 4})
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		require.NoError(t, b.Restore("s", "old-"+strconv.Itoa(i), "c"))
	}
	v, _, err := b.Assign("s", "old-1")
	require.NoError(t, err)
	assert.Equal(t, "c", v, "restored unit keeps its arm")
	// The block had 2 c and 2 t; after restoring c, c, (c into next block) the
	// next arrivals must rebalance towards t.
	var tc int
	for i := 0; i < 3; i++ {
		v, _, err := b.Assign("s", "new-"+strconv.Itoa(i))
		require.NoError(t, err)
		if v == "t" {
			tc++
		}
	}
	assert.GreaterOrEqual(t, tc, 2)
	require.ErrorContains(t, b.Restore("s", "u", "nope"), "not in experiment")
}

func TestBlockedCapacity(t *testing.T) {
	e, err := New(Config{Name: "x", Variants: []Variant{{"c", 1}, {"t", 1}}})
	require.NoError(t, err)
	b, err := NewBlocked(BlockedConfig{Experiment: e, MaxUnits: 2, MaxStrata: 1})
	require.NoError(t, err)
	_, _, err = b.Assign("s", "1")
	require.NoError(t, err)
	_, _, err = b.Assign("other", "2")
	require.ErrorIs(t, err, ErrCapacity, "strata bound")
	_, _, err = b.Assign("s", "2")
	require.NoError(t, err)
	_, _, err = b.Assign("s", "3")
	require.ErrorIs(t, err, ErrCapacity, "unit bound")
	_, _, err = b.Assign("s", "1")
	require.NoError(t, err, "known units still answer at capacity")

	_, err = NewBlocked(BlockedConfig{Experiment: e, BlockSize: 3})
	require.ErrorContains(t, err, "BlockSize")
	odd, err := New(Config{Name: "y", Variants: []Variant{{"c", 1}, {"t", 1.2345}}})
	require.NoError(t, err)
	_, err = NewBlocked(BlockedConfig{Experiment: odd})
	require.ErrorContains(t, err, "explicit block size")
}

func TestBlockedConcurrent(t *testing.T) {
	e, err := New(Config{Name: "x", Variants: []Variant{{"c", 1}, {"t", 1}}})
	require.NoError(t, err)
	b, err := NewBlocked(BlockedConfig{Experiment: e, BlockSize: 2})
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				v, _, err := b.Assign("s", strconv.Itoa(g*1000+i))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				counts[v]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1000, counts["c"])
	assert.Equal(t, 1000, counts["t"])
}
