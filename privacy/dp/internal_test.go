package dp

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chiSquareCrit is the 1-1e-6 quantile of the chi-square distribution
// with 9 degrees of freedom: R's qchisq(1 - 1e-6, df = 9) = 44.811 (the
// 0.999 quantile, 27.877, is the one in the NIST/SEMATECH e-Handbook,
// §1.3.6.7.4). At the 0.1% level two assertions failed one clean run in
// about five hundred; at 1e-6, with the seeded half fixed, a uniform
// sampler fails one run in a million, and any real bias at n = 5000
// still lands far beyond it.
const chiSquareCrit = 44.811

func chiSquare(counts []int, n int) float64 {
	exp := float64(n) / float64(len(counts))
	x := 0.0
	for _, c := range counts {
		d := float64(c) - exp
		x += d * d / exp
	}
	return x
}

// TestBoundingIsUniform checks that the kept contribution (reservoir) and
// the kept segment (smallest keyed hash) are uniform over what the user
// offered: a chi-square goodness-of-fit test over 10 outcomes at the 1e-6
// level. The reservoir's generator is seeded from the iteration, so that
// half is deterministic; the segment hash's seed is the process's own.
func TestBoundingIsUniform(t *testing.T) {
	b, err := NewBudget("t", 1, 0)
	require.NoError(t, err)
	const n = 5000
	values := make([]int, 10)
	segments := make([]int, 10)
	for i := range n {
		a, err := New(Config{Budget: b, Epsilon: 1, MaxPartitions: 1, Segments: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}})
		require.NoError(t, err)
		a.rng = rand.New(rand.NewChaCha8([32]byte{byte(i), byte(i >> 8)}))
		for v := range 10 {
			require.NoError(t, a.Add("u", "0", float64(v)))
		}
		values[int(a.users["u"].parts[0].values[0])]++

		a, err = New(Config{Budget: b, Epsilon: 1, MaxPartitions: 1, Segments: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}})
		require.NoError(t, err)
		for s := range 10 {
			require.NoError(t, a.Add("u", fmt.Sprint(s), 0))
		}
		var seg int
		_, _ = fmt.Sscan(a.users["u"].parts[0].segment, &seg)
		segments[seg]++
	}
	assert.Less(t, chiSquare(values, n), chiSquareCrit, "kept value counts %v", values)
	assert.Less(t, chiSquare(segments, n), chiSquareCrit, "kept segment counts %v", segments)
}
