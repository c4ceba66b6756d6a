package drift

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// stateConfig builds references from a reference period of random events
// and returns a monitor configuration over every event feature, the user
// and item ids, and the event-age source.
func stateConfig(t *testing.T, rng *rand.Rand) Config {
	t.Helper()
	b, err := NewReferenceBuilder(ReferenceConfig{Bins: 8, MaxCategories: 3}, 5000)
	require.NoError(t, err)
	for _, e := range personalizetest.RandomEvents(rng, 800) {
		require.NoError(t, b.Add(e))
	}
	refs, err := b.Build()
	require.NoError(t, err)
	return Config{References: refs, IDs: []string{FeatureUser, FeatureItem}, Sources: []string{SourceEvents}}
}

func observeEvent(m *Monitor, e personalize.Event) {
	im := e.Impression
	if im == nil {
		m.Observe("not-configured", 1)
		return
	}
	EventFeatures(im, m.Observe, m.ObserveCategory)
	m.ObserveID(FeatureUser, im.UserID.ID)
	for _, it := range im.Items {
		m.ObserveID(FeatureItem, it.ID)
	}
	m.ObserveAge(SourceEvents, time.Duration(im.Start.UnixNano()%int64(time.Hour)))
}

func encodeState(t *testing.T, s *State) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	return b
}

func decodeState(t *testing.T, b []byte) *State {
	t.Helper()
	var s State
	require.NoError(t, s.UnmarshalBinary(b))
	require.Equal(t, b, encodeState(t, &s), "canonical")
	return &s
}

// TestStateMergeEqualsOnePass: observations of random events split at
// random over 1..8 monitors; their states, serialized, decoded and merged
// in a random order and along a random tree, encode to the bytes of the
// state of one monitor that saw everything, and a monitor fed the merged
// state reports the same PSI, Jensen-Shannon, rates and distinct counts,
// bit for bit.
func TestStateMergeEqualsOnePass(t *testing.T) {
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 3))
		cfg := stateConfig(t, rng)
		one, err := New(cfg)
		require.NoError(t, err)
		k := 1 + rng.IntN(8)
		shards := make([]*Monitor, k)
		for i := range shards {
			shards[i], err = New(cfg)
			require.NoError(t, err)
		}
		for _, e := range personalizetest.RandomEvents(rng, 100+rng.IntN(1500)) {
			observeEvent(one, e)
			observeEvent(shards[rng.IntN(k)], e)
		}
		want := encodeState(t, one.State())

		merged := &State{}
		for _, i := range rng.Perm(k) {
			require.NoError(t, merged.Merge(decodeState(t, encodeState(t, shards[i].State()))))
		}
		require.Equal(t, want, encodeState(t, merged), "seed %d: fold of %d", seed, k)

		pool := make([]*State, k)
		for i := range pool {
			pool[i] = shards[i].State()
		}
		for len(pool) > 1 {
			i := rng.IntN(len(pool))
			a := pool[i]
			pool = append(pool[:i], pool[i+1:]...)
			j := rng.IntN(len(pool))
			c := decodeState(t, encodeState(t, pool[j]))
			require.NoError(t, c.Merge(a))
			pool[j] = c
		}
		require.Equal(t, want, encodeState(t, pool[0]), "seed %d: tree of %d", seed, k)

		coord, err := New(cfg)
		require.NoError(t, err)
		require.NoError(t, coord.MergeState(merged))
		require.Equal(t, want, encodeState(t, coord.State()))
		r1, r2 := one.Report(), coord.Report()
		require.Len(t, r2.Features, len(r1.Features))
		for i, a := range r1.Features {
			b := r2.Features[i]
			assert.Equal(t, a.Count, b.Count, a.Feature)
			assert.Equal(t, a.Cardinality, b.Cardinality, a.Feature)
			for _, p := range [][2]float64{{a.PSI, b.PSI}, {a.JS, b.JS}, {a.MissingRate, b.MissingRate}, {a.OutOfRangeRate, b.OutOfRangeRate}} {
				assert.Equal(t, math.Float64bits(p[0]), math.Float64bits(p[1]), "%s: %v vs %v", a.Feature, p[0], p[1])
			}
			assert.True(t, math.IsNaN(b.KS.Statistic), "no live sample in a merged state")
		}
		assert.Equal(t, r1.Sources, r2.Sources)
		assert.Equal(t, r1.Unknown, r2.Unknown)
		assert.Positive(t, r1.Unknown)
	}
}

func TestStateMergeRejectsOtherReferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	a, err := New(stateConfig(t, rng))
	require.NoError(t, err)
	b, err := New(stateConfig(t, rng)) // another reference period: other edges
	require.NoError(t, err)
	for _, e := range personalizetest.RandomEvents(rng, 200) {
		observeEvent(a, e)
		observeEvent(b, e)
	}
	sa, sb := a.State(), b.State()
	before := encodeState(t, sa)
	err = sa.Merge(sb)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "feature")
	assert.Regexp(t, "Edges|Categories|Min, Max", err.Error())
	assert.Equal(t, before, encodeState(t, sa), "a failed merge changes nothing")
	require.Error(t, a.MergeState(sb))

	c, err := New(Config{IDs: []string{"other"}})
	require.NoError(t, err)
	assert.ErrorContains(t, c.MergeState(sa), "not configured")
}

func TestStateUnmarshalRejects(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	m, err := New(stateConfig(t, rng))
	require.NoError(t, err)
	for _, e := range personalizetest.RandomEvents(rng, 100) {
		observeEvent(m, e)
	}
	good := encodeState(t, m.State())
	var s State
	assert.ErrorContains(t, s.UnmarshalBinary(good[:2]), "header")
	assert.ErrorContains(t, s.UnmarshalBinary(append([]byte("RSDX"), good[4:]...)), "magic")
	v := append([]byte(nil), good...)
	v[4] = 7
	assert.ErrorContains(t, s.UnmarshalBinary(v), "version: 7")
	assert.ErrorContains(t, s.UnmarshalBinary(good[:len(good)-3]), "drift.State: ")
	assert.ErrorContains(t, s.UnmarshalBinary(append(append([]byte(nil), good...), 0)), "after the end")

	st := m.State()
	st.Features[0].Seen++
	assert.ErrorContains(t, st.Validate(), "Features[0].Seen")
	st = m.State()
	st.Sources[0].N++
	assert.ErrorContains(t, st.Validate(), "Sources[0].N")
}

func FuzzStateUnmarshal(f *testing.F) {
	rng := rand.New(rand.NewPCG(8, 8))
	b, _ := NewReferenceBuilder(ReferenceConfig{Bins: 4, MaxCategories: 2}, 1000)
	for _, e := range personalizetest.RandomEvents(rng, 100) {
		_ = b.Add(e)
	}
	refs, _ := b.Build()
	m, _ := New(Config{References: refs, IDs: []string{FeatureUser}, Sources: []string{SourceEvents}})
	seed, _ := m.State().MarshalBinary()
	f.Add(seed)
	for _, e := range personalizetest.RandomEvents(rng, 30) {
		observeEvent(m, e)
	}
	seed, _ = m.State().MarshalBinary()
	f.Add(seed)
	empty, _ := (&State{}).MarshalBinary()
	f.Add(empty)
	f.Fuzz(func(t *testing.T, b []byte) {
		var s State
		if err := s.UnmarshalBinary(b); err != nil {
			if !strings.HasPrefix(err.Error(), "drift") {
				t.Fatalf("error does not name the state: %v", err)
			}
			return
		}
		again, err := s.MarshalBinary()
		require.NoError(t, err)
		var d State
		require.NoError(t, d.UnmarshalBinary(again))
		third, err := d.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, again, third, "decoding is idempotent")
		require.NoError(t, d.Merge(&s))
	})
}
