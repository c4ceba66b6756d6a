package exactsum

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomFloat draws values across the whole float64 range, including
// subnormals, huge magnitudes and exact cancellations.
func randomFloat(rng *rand.Rand) float64 {
	switch rng.IntN(6) {
	case 0:
		return math.Float64frombits(rng.Uint64() &^ (0x7ff << 52)) // subnormal or zero, either sign
	case 1:
		return (rng.Float64() - 0.5) * math.MaxFloat64
	case 2:
		return math.Ldexp(rng.Float64()-0.5, rng.IntN(2000)-1000)
	default:
		return rng.NormFloat64() * 100
	}
}

func TestSumIsExactAndOrderFree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := rng.IntN(60)
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = randomFloat(rng)
		}
		if n > 2 && trial%3 == 0 {
			xs = append(xs, -xs[0], -xs[1]) // exact cancellation
		}
		want := new(big.Float).SetPrec(4000)
		var s Sum
		for _, x := range xs {
			want.Add(want, new(big.Float).SetFloat64(x))
			s.Add(x)
		}
		require.Zero(t, s.Big().Cmp(want), "exact value, trial %d", trial)
		wf, _ := want.Float64()
		require.Equal(t, math.Float64bits(wf), math.Float64bits(s.Float64()), "rounded once, trial %d", trial)

		// Any split, merged in any order, is the same value and encoding.
		rng.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
		parts := make([]Sum, 1+rng.IntN(5))
		for _, x := range xs {
			parts[rng.IntN(len(parts))].Add(x)
		}
		var m Sum
		for _, i := range rng.Perm(len(parts)) {
			enc := parts[i].AppendBinary(nil)
			d, rest, err := Decode(enc)
			require.NoError(t, err)
			require.Empty(t, rest)
			m.Merge(&d)
		}
		require.True(t, m.Equal(&s))
		require.Equal(t, s.AppendBinary(nil), m.AppendBinary(nil))
	}
}

func TestAddProductIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		a, b := rng.NormFloat64()*1e6, rng.NormFloat64()*1e-3
		var s Sum
		s.AddProduct(a, b)
		want := new(big.Float).SetPrec(200).Mul(big.NewFloat(a), big.NewFloat(b))
		require.Zero(t, s.Big().Cmp(want))
	}
}

func TestCancellationThatFloatsLose(t *testing.T) {
	// 1e16 + 1 - 1e16 is 0 in float64 arithmetic (1 is below half an
	// ulp of 1e16); the exact sum keeps it.
	var s Sum
	for _, x := range []float64{1e16, 1, -1e16} {
		s.Add(x)
	}
	assert.Equal(t, 1.0, s.Float64())
	f := 1e16
	f += 1
	f -= 1e16
	assert.Equal(t, 0.0, f)
}

func TestSpecials(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{1, math.Inf(1)}, math.Inf(1)},
		{[]float64{math.Inf(-1), 3}, math.Inf(-1)},
		{[]float64{math.Inf(1), math.Inf(-1)}, math.NaN()},
		{[]float64{math.NaN(), 1}, math.NaN()},
		{[]float64{math.MaxFloat64, math.MaxFloat64}, math.Inf(1)},
		{[]float64{-math.MaxFloat64, -math.MaxFloat64, math.MaxFloat64}, -math.MaxFloat64},
	} {
		var s Sum
		for _, x := range tc.in {
			s.Add(x)
		}
		got := s.Float64()
		if math.IsNaN(tc.want) {
			assert.True(t, math.IsNaN(got), "%v", tc.in)
		} else {
			assert.Equal(t, tc.want, got, "%v", tc.in)
		}
		d, _, err := Decode(s.AppendBinary(nil))
		require.NoError(t, err)
		assert.True(t, d.Equal(&s))
	}
}

func TestInt64(t *testing.T) {
	var s Sum
	for range 1000 {
		s.Add(3)
	}
	i, ok := s.Int64()
	assert.True(t, ok)
	assert.Equal(t, int64(3000), i)
	s.Add(0.5)
	_, ok = s.Int64()
	assert.False(t, ok)
}

func TestDecodeRejects(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":        {},
		"flags":        {0x80, 0, 0},
		"short count":  {0, 0},
		"range":        {0, 66, 2, 1, 1},
		"edge zero":    {0, 3, 2, 0, 1},
		"word too big": {0, 3, 2, 0xff, 0xff, 0xff, 0xff, 0x1f, 1},
		"neg zero":     {flagNeg, 0, 0},
		"short words":  {0, 3, 2, 1},
	} {
		_, _, err := Decode(b)
		assert.Error(t, err, name)
	}
}

func FuzzDecode(f *testing.F) {
	var s Sum
	f.Add(s.AppendBinary(nil))
	for _, x := range []float64{1, -2.5, math.MaxFloat64, math.SmallestNonzeroFloat64, -1e-300} {
		s.Add(x)
		f.Add(s.AppendBinary(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, rest, err := Decode(b)
		if err != nil {
			return
		}
		enc := d.AppendBinary(nil)
		require.Equal(t, b[:len(b)-len(rest)], enc, "canonical: re-encodes to the same bytes")
	})
}

func BenchmarkAdd(b *testing.B) {
	xs := make([]float64, 1024)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range xs {
		xs[i] = rng.NormFloat64() * 100
	}
	b.ReportAllocs()
	var s Sum
	for i := 0; b.Loop(); i++ {
		s.Add(xs[i&1023])
	}
	_ = s.Float64()
}
