package attribution

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

type journey struct {
	path      []string
	converted bool
	value     float64
}

// journeysOf groups random events' outcomes by user: the channels of the
// non-purchase outcomes in order form the path, a purchase converts it
// (value: the purchases' values). Channel names combine channel and
// surface so there are a dozen of them.
func journeysOf(events []personalize.Event) []journey {
	by := map[string]*journey{}
	var order []string
	for _, e := range events {
		o := e.Outcome
		if o == nil {
			continue
		}
		j := by[o.UserID.ID]
		if j == nil {
			j = &journey{}
			by[o.UserID.ID] = j
			order = append(order, o.UserID.ID)
		}
		if o.Kind == personalize.OutcomePurchase {
			j.converted = true
			j.value += o.Value
			continue
		}
		j.path = append(j.path, o.Channel+"/"+o.Kind.String())
	}
	out := make([]journey, 0, len(order))
	for _, u := range order {
		out = append(out, *by[u])
	}
	return out
}

func addJourney(t *testing.T, m *Markov, s *Shapley, j journey) {
	t.Helper()
	conv, null := 0.0, 1.0
	if j.converted {
		conv, null = 1, 0
	}
	require.NoError(t, m.AddPath(j.path, conv, null, j.value))
	require.NoError(t, s.AddPath(j.path, conv, j.value))
}

// canonical strips the value fields (float sums, compared apart) so the
// rest of two encodings can be compared byte for byte.
func markovCounts(t *testing.T, m *Markov) ([]byte, float64) {
	t.Helper()
	b, err := m.MarshalBinary()
	require.NoError(t, err)
	return b[:len(b)-8], m.c.value
}

// TestModelsMergeEqualsOnePass: journeys of random events, split at
// random over 1..8 workers, each filling a Markov and a Shapley model,
// serialized, decoded and merged in a random order and along a random
// tree, give one pass's transition and coalition counts bit for bit and
// the same solutions. Conversion values are float sums in another order:
// compared within 1e-12 relative (the documented reason in merge.go).
func TestModelsMergeEqualsOnePass(t *testing.T) {
	for seed := range uint64(25) {
		rng := rand.New(rand.NewPCG(seed, 77))
		js := journeysOf(personalizetest.RandomEvents(rng, 300+rng.IntN(3000)))
		var m1 Markov
		var s1 Shapley
		k := 1 + rng.IntN(8)
		ms, ss := make([]*Markov, k), make([]*Shapley, k)
		for i := range ms {
			ms[i], ss[i] = &Markov{}, &Shapley{}
		}
		for _, j := range js {
			addJourney(t, &m1, &s1, j)
			w := rng.IntN(k)
			addJourney(t, ms[w], ss[w], j)
		}
		wantM, wantV := markovCounts(t, &m1)
		wantS, err := s1.MarshalBinary()
		require.NoError(t, err)

		var fm Markov
		var fs Shapley
		for _, i := range rng.Perm(k) {
			b, err := ms[i].MarshalBinary()
			require.NoError(t, err)
			var d Markov
			require.NoError(t, d.UnmarshalBinary(b))
			require.NoError(t, fm.Merge(&d))
			b, err = ss[i].MarshalBinary()
			require.NoError(t, err)
			var e Shapley
			require.NoError(t, e.UnmarshalBinary(b))
			require.NoError(t, fs.Merge(&e))
		}
		gotM, gotV := markovCounts(t, &fm)
		require.Equal(t, wantM, gotM, "seed %d: markov counts, %d workers", seed, k)
		require.InEpsilon(t, wantV+1, gotV+1, 1e-12)
		gotS, err := fs.MarshalBinary()
		require.NoError(t, err)
		requireShapleyEqual(t, wantS, gotS)

		// A random tree.
		pool := append([]*Markov(nil), ms...)
		for len(pool) > 1 {
			i := rng.IntN(len(pool))
			a := pool[i]
			pool = append(pool[:i], pool[i+1:]...)
			j := rng.IntN(len(pool))
			b, _ := pool[j].MarshalBinary()
			var c Markov
			require.NoError(t, c.UnmarshalBinary(b))
			require.NoError(t, c.Merge(a))
			pool[j] = &c
		}
		gotM, _ = markovCounts(t, pool[0])
		require.Equal(t, wantM, gotM, "seed %d: tree", seed)

		// Solutions agree (the decoded models number channels alike).
		var a, b Markov
		full1, _ := m1.MarshalBinary()
		full2, _ := fm.MarshalBinary()
		require.NoError(t, a.UnmarshalBinary(full1))
		require.NoError(t, b.UnmarshalBinary(full2))
		sa, err1 := a.Solve()
		sb, err2 := b.Solve()
		require.Equal(t, err1 == nil, err2 == nil)
		if err1 == nil {
			assert.Equal(t, sa.Channels, sb.Channels)
			for i := range sa.RemovalEffects {
				assert.Equal(t, math.Float64bits(sa.RemovalEffects[i]), math.Float64bits(sb.RemovalEffects[i]))
			}
		}
	}
}

// requireShapleyEqual compares two encodings with the values within
// 1e-12 and everything else exactly.
func requireShapleyEqual(t *testing.T, a, b []byte) {
	t.Helper()
	var x, y Shapley
	require.NoError(t, x.UnmarshalBinary(a))
	require.NoError(t, y.UnmarshalBinary(b))
	require.Equal(t, x.names, y.names)
	require.Equal(t, x.c.overflow, y.c.overflow)
	require.Len(t, y.c.sets, len(x.c.sets))
	for m, cr := range x.c.sets {
		o, ok := y.c.sets[m]
		require.True(t, ok)
		require.Equal(t, cr.Conversions, o.Conversions)
		require.InEpsilon(t, cr.Value+1, o.Value+1, 1e-12)
	}
}

func TestModelsUnmarshalRejects(t *testing.T) {
	var m Markov
	require.NoError(t, m.AddPath([]string{"b", "a"}, 1, 2, 10))
	good, err := m.MarshalBinary()
	require.NoError(t, err)
	var d Markov
	assert.ErrorContains(t, d.UnmarshalBinary(good[:3]), "header")
	assert.ErrorContains(t, d.UnmarshalBinary(append([]byte("RSMX"), good[5:]...)), "magic")
	assert.ErrorContains(t, d.UnmarshalBinary(append([]byte("RSMK\x05"), good[5:]...)), "version")
	assert.ErrorContains(t, d.UnmarshalBinary(good[:len(good)-1]), "attribution.Markov: value")
	unsorted := []byte("RSMK\x01\x02\x01b\x01a")
	assert.ErrorContains(t, d.UnmarshalBinary(unsorted), "channels[1]")

	var s Shapley
	require.NoError(t, s.AddPath([]string{"b", "a"}, 1, 10))
	sg, err := s.MarshalBinary()
	require.NoError(t, err)
	var e Shapley
	require.NoError(t, e.UnmarshalBinary(sg))
	assert.ErrorContains(t, e.UnmarshalBinary(sg[:len(sg)-2]), "attribution.Shapley: coalitions")
	beyond := append([]byte("RSSH\x01\x00\x01\x01a\x01\x02"), make([]byte, 16)...)
	assert.ErrorContains(t, e.UnmarshalBinary(beyond), "coalitions[0].mask")
}

func FuzzMarkovUnmarshal(f *testing.F) {
	var m Markov
	b, _ := m.MarshalBinary()
	f.Add(b)
	_ = m.AddPath([]string{"email", "app", "email"}, 2, 3, 40)
	_ = m.AddPath([]string{"web"}, 0, 1, 0)
	b, _ = m.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Markov
		if err := m.UnmarshalBinary(b); err != nil {
			if !strings.HasPrefix(err.Error(), "attribution.Markov: ") {
				t.Fatalf("error does not name the state: %v", err)
			}
			return
		}
		again, err := m.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, b, again)
		_, _ = m.Solve()
		var n Markov
		require.NoError(t, n.Merge(&m))
	})
}

func FuzzShapleyUnmarshal(f *testing.F) {
	var s Shapley
	b, _ := s.MarshalBinary()
	f.Add(b)
	_ = s.AddPath([]string{"email", "app"}, 2, 40)
	_ = s.AddPath([]string{"web"}, 1, 5)
	b, _ = s.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Shapley
		if err := s.UnmarshalBinary(b); err != nil {
			if !strings.HasPrefix(err.Error(), "attribution.Shapley: ") {
				t.Fatalf("error does not name the state: %v", err)
			}
			return
		}
		again, err := s.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, b, again)
		_, _ = s.Solve()
		var n Shapley
		require.NoError(t, n.Merge(&s))
	})
}
