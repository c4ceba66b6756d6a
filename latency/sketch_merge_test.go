package latency_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func encode(t *testing.T, s *latency.Sketch) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	return b
}

func decode(t *testing.T, b []byte) *latency.Sketch {
	t.Helper()
	var s latency.Sketch
	require.NoError(t, s.UnmarshalBinary(b))
	require.Equal(t, b, encode(t, &s), "canonical")
	return &s
}

// TestSketchMergeEqualsOnePass: the stage durations of random events,
// each assigned at random to one of 1..8 shards, sketched per shard,
// serialized, decoded and merged in a random order (and along a random
// tree), encode to the same bytes as one sketch of all durations. Counts
// are integers and the sum is a sum of whole nanoseconds (exact in a
// float64 below 2^53 ns), so equality is exact.
func TestSketchMergeEqualsOnePass(t *testing.T) {
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 1))
		alpha := []float64{latency.DefaultRelativeAccuracy, 0.005, 0.02}[seed%3]
		var ds []time.Duration
		for _, e := range personalizetest.RandomEvents(rng, 50+rng.IntN(2000)) {
			if im := e.Impression; im != nil {
				for _, st := range im.Stages {
					ds = append(ds, st.Duration)
				}
				ds = append(ds, im.End.Sub(im.Start))
			}
		}
		ds = append(ds, 0, 50*time.Nanosecond, 2000*time.Second) // under- and overflow
		one, err := latency.NewSketch(alpha)
		require.NoError(t, err)
		k := 1 + rng.IntN(8)
		shards := make([]*latency.Sketch, k)
		for i := range shards {
			shards[i], _ = latency.NewSketch(alpha)
		}
		for _, d := range ds {
			one.Add(d)
			shards[rng.IntN(k)].Add(d)
		}
		want := encode(t, one)

		merged, _ := latency.NewSketch(alpha)
		for _, i := range rng.Perm(k) {
			require.NoError(t, merged.Merge(decode(t, encode(t, shards[i]))))
		}
		require.Equal(t, want, encode(t, merged), "seed %d: fold of %d", seed, k)

		pool := append([]*latency.Sketch(nil), shards...)
		for len(pool) > 1 {
			i := rng.IntN(len(pool))
			a := pool[i]
			pool = append(pool[:i], pool[i+1:]...)
			j := rng.IntN(len(pool))
			c := decode(t, encode(t, pool[j]))
			require.NoError(t, c.Merge(a))
			pool[j] = c
		}
		require.Equal(t, want, encode(t, pool[0]), "seed %d: tree of %d", seed, k)
		for _, q := range []float64{0, 0.5, 0.99, 1} {
			a, _ := one.Quantile(q)
			b, _ := pool[0].Quantile(q)
			assert.Equal(t, a, b)
		}
	}
}

func TestSketchMergeRejectsOtherAccuracy(t *testing.T) {
	a, _ := latency.NewSketch(0.01)
	b, _ := latency.NewSketch(0.02)
	b.Add(time.Millisecond)
	before := encode(t, a)
	require.ErrorContains(t, a.Merge(b), "relative accuracy")
	assert.Equal(t, before, encode(t, a), "unchanged")
}

func TestSketchUnmarshalRejects(t *testing.T) {
	s, _ := latency.NewSketch(0.01)
	for _, d := range []time.Duration{10, time.Millisecond, 3 * time.Millisecond, 2000 * time.Second} {
		s.Add(d)
	}
	good := encode(t, s)
	var d latency.Sketch
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"short":   {good[:4], "header"},
		"magic":   {append([]byte("XXLS"), good[4:]...), "magic"},
		"version": {append([]byte("RSLS\x09"), good[5:]...), "version: 9"},
		"trunc":   {good[:len(good)-1], "latency.Sketch: Buckets"},
		"extra":   {append(append([]byte(nil), good...), 1), "after the end"},
		"alpha":   {append([]byte("RSLS\x01"), 0, 0, 0, 0, 0, 0, 0xf0, 0x3f), "RelativeAccuracy"},
	} {
		err := d.UnmarshalBinary(tc.b)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.want, name)
	}
	// A count that disagrees with the buckets.
	bad := append([]byte(nil), good...)
	bad[13]++ // the Count uvarint follows the 5-byte header and 8-byte accuracy
	err := d.UnmarshalBinary(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Count")
}

func FuzzSketchUnmarshal(f *testing.F) {
	for _, alpha := range []float64{0.01, 0.05} {
		s, _ := latency.NewSketch(alpha)
		f.Add(mustEncode(s))
		for _, d := range []time.Duration{0, 150, time.Microsecond, time.Second, 3000 * time.Second} {
			s.Add(d)
			f.Add(mustEncode(s))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s latency.Sketch
		if err := s.UnmarshalBinary(b); err != nil {
			if !strings.HasPrefix(err.Error(), "latency.Sketch: ") {
				t.Fatalf("error does not name the state: %v", err)
			}
			return
		}
		require.Equal(t, b, encode(t, &s), "re-encodes to the same bytes")
		prev := time.Duration(-1)
		for _, q := range []float64{0, 0.25, 0.5, 0.9, 0.99, 1} {
			v, err := s.Quantile(q)
			require.NoError(t, err)
			require.GreaterOrEqual(t, v, prev)
			prev = v
		}
		var m latency.Sketch
		m2, _ := latency.NewSketch(s.RelativeAccuracy())
		m = *m2
		require.NoError(t, m.Merge(&s))
		require.Equal(t, s.Count(), m.Count())
	})
}

func mustEncode(s *latency.Sketch) []byte {
	b, err := s.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return b
}
