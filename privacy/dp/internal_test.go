package dp

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chiSquare999 are the 0.999 quantiles of the chi-square distribution
// for 9 degrees of freedom (NIST/SEMATECH e-Handbook of Statistical
// Methods, §1.3.6.7.4, "Critical Values of the Chi-Square Distribution").
const chiSquare999df9 = 27.877

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
// offered: a chi-square goodness-of-fit test over 10 outcomes at the 0.1%
// level.
func TestBoundingIsUniform(t *testing.T) {
	b, err := NewBudget("t", 1, 0)
	require.NoError(t, err)
	const n = 5000
	values := make([]int, 10)
	segments := make([]int, 10)
	for range n {
		a, err := New(Config{Budget: b, Epsilon: 1, MaxPartitions: 1, Segments: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}})
		require.NoError(t, err)
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
	assert.Less(t, chiSquare(values, n), chiSquare999df9, "kept value counts %v", values)
	assert.Less(t, chiSquare(segments, n), chiSquare999df9, "kept segment counts %v", segments)
}
