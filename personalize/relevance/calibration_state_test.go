package relevance

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize/personalizetest"
)

type prediction struct {
	p   float64
	pos bool
}

// predictions turns random events' items into calibrated-ish predictions:
// the score through a logistic, the label from a hash of the item id
// drawn with that probability, plus a few invalid scores to reject.
func predictions(rng *rand.Rand, n int) []prediction {
	var out []prediction
	for _, e := range personalizetest.RandomEvents(rng, n) {
		im := e.Impression
		if im == nil {
			continue
		}
		for _, it := range im.Items {
			p := 1 / (1 + math.Exp(-it.Score))
			h := fnv.New64a()
			h.Write([]byte(it.ID))
			u := float64(h.Sum64()>>11) / (1 << 53)
			out = append(out, prediction{p, u < p})
		}
		if rng.IntN(50) == 0 {
			out = append(out, prediction{1.5, true}, prediction{math.NaN(), false})
		}
	}
	return out
}

func encodeCal(t *testing.T, c *Calibrator) []byte {
	t.Helper()
	b, err := c.MarshalBinary()
	require.NoError(t, err)
	return b
}

func decodeCal(t *testing.T, b []byte) *Calibrator {
	t.Helper()
	var c Calibrator
	require.NoError(t, c.UnmarshalBinary(b))
	require.Equal(t, b, encodeCal(t, &c), "round trip")
	return &c
}

// TestCalibratorMergeEqualsOnePass: predictions split at random over 1..8
// calibrators, serialized, decoded and merged in a random order and along
// a random tree, give one pass's counts, positives and curve counts bit
// for bit. The float sums (predicted probabilities, Brier, log loss) are
// summed in another order, so they are compared with a relative tolerance
// of 1e-12: the documented reason on Calibrator's encoding; n·2^-53 for
// these n is below 1e-11.
func TestCalibratorMergeEqualsOnePass(t *testing.T) {
	for seed := range uint64(25) {
		rng := rand.New(rand.NewPCG(seed, 5))
		bins := []int{5, 10, 20}[seed%3]
		one, err := NewCalibrator(bins, bins*10)
		require.NoError(t, err)
		k := 1 + rng.IntN(8)
		parts := make([]*Calibrator, k)
		for i := range parts {
			parts[i], _ = NewCalibrator(bins, bins*10)
		}
		for _, p := range predictions(rng, 50+rng.IntN(800)) {
			one.Observe(p.p, p.pos)
			parts[rng.IntN(k)].Observe(p.p, p.pos)
		}
		check := func(got *Calibrator, what string) {
			t.Helper()
			require.Equal(t, one.N(), got.N(), what)
			require.Equal(t, one.Rejected, got.Rejected, what)
			for i := range one.fine {
				require.Equal(t, one.fine[i].n, got.fine[i].n, what)
				require.Equal(t, one.fine[i].sumY, got.fine[i].sumY, what)
				require.InEpsilon(t, one.fine[i].sumP+1, got.fine[i].sumP+1, 1e-12, what)
			}
			require.InEpsilon(t, one.Brier(), got.Brier(), 1e-12, what)
			require.InEpsilon(t, one.LogLoss(), got.LogLoss(), 1e-12, what)
			for _, b := range []Binning{BinningEqualWidth, BinningEqualMass} {
				a, g := one.Curve(b), got.Curve(b)
				require.Len(t, g.Bins, len(a.Bins), what)
				for i := range a.Bins {
					require.Equal(t, a.Bins[i].Count, g.Bins[i].Count, what)
					require.Equal(t, a.Bins[i].Lo, g.Bins[i].Lo, what)
					require.Equal(t, math.Float64bits(a.Bins[i].FractionPositive), math.Float64bits(g.Bins[i].FractionPositive), what)
					require.InDelta(t, a.Bins[i].MeanPredicted, g.Bins[i].MeanPredicted, 1e-12, what)
				}
				require.InDelta(t, a.ECE, g.ECE, 1e-12, what)
			}
		}
		fold, _ := NewCalibrator(bins, bins*10)
		for _, i := range rng.Perm(k) {
			require.NoError(t, fold.Merge(decodeCal(t, encodeCal(t, parts[i]))))
		}
		check(fold, "fold")
		pool := append([]*Calibrator(nil), parts...)
		for len(pool) > 1 {
			i := rng.IntN(len(pool))
			a := pool[i]
			pool = append(pool[:i], pool[i+1:]...)
			j := rng.IntN(len(pool))
			c := decodeCal(t, encodeCal(t, pool[j]))
			require.NoError(t, c.Merge(a))
			pool[j] = c
		}
		check(pool[0], "tree")
	}
}

func TestCalibratorMergeRejectsOtherBins(t *testing.T) {
	a, _ := NewCalibrator(10, 100)
	b, _ := NewCalibrator(10, 200)
	b.Observe(0.3, true)
	before := encodeCal(t, a)
	require.ErrorContains(t, a.Merge(b), "bins differ")
	assert.Equal(t, before, encodeCal(t, a))
}

func TestCalibratorUnmarshalRejects(t *testing.T) {
	c, _ := NewCalibrator(2, 4)
	c.Observe(0.1, false)
	c.Observe(0.8, true)
	good := encodeCal(t, c)
	var d Calibrator
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"header":  {good[:3], "header"},
		"magic":   {append([]byte("RSCX"), good[4:]...), "magic"},
		"version": {append([]byte("RSCA\x02"), good[5:]...), "version: 2"},
		"bins":    {[]byte("RSCA\x01\x03\x04"), "fineBins"},
		"short":   {good[:len(good)-1], "relevance.Calibrator: Rejected"},
		"extra":   {append(append([]byte(nil), good...), 0), "after the end"},
	} {
		err := d.UnmarshalBinary(tc.b)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.want, name)
	}
	bad := append([]byte(nil), good...)
	// fine[0].n is the 8 bytes after header (5), bins (1) and fineBins (1).
	bad[7+6] = 0xe0 // a fractional count
	assert.ErrorContains(t, d.UnmarshalBinary(bad), "fine[0].n")
}

func FuzzCalibratorUnmarshal(f *testing.F) {
	c, _ := NewCalibrator(2, 4)
	f.Add(mustCal(c))
	for _, p := range []float64{0, 0.2, 0.5, 0.99, 1} {
		c.Observe(p, p > 0.4)
		f.Add(mustCal(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Calibrator
		if err := c.UnmarshalBinary(b); err != nil {
			if !strings.HasPrefix(err.Error(), "relevance.Calibrator: ") {
				t.Fatalf("error does not name the state: %v", err)
			}
			return
		}
		require.Equal(t, b, encodeCal(t, &c))
		_ = c.Curve(BinningEqualWidth)
		_ = c.Curve(BinningEqualMass)
		m, err := NewCalibrator(c.bins, len(c.fine))
		require.NoError(t, err)
		require.NoError(t, m.Merge(&c))
	})
}

func mustCal(c *Calibrator) []byte {
	b, err := c.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return b
}
