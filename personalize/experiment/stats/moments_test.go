package stats

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBivariateFromMomentsMatchesAdd(t *testing.T) {
	// Summaries of the same data, one by Add, one from its moments
	// computed by hand: y = 1,2,3,4 (mean 2.5, ss 5), x = 2,1,4,3
	// (mean 2.5, ss 5), sp = (-1.5)(-0.5)+(-0.5)(-1.5)+(0.5)(1.5)+(1.5)(0.5) = 3.
	var b Bivariate
	for i, y := range []float64{1, 2, 3, 4} {
		b.Add(y, []float64{2, 1, 4, 3}[i])
	}
	m, err := BivariateFromMoments(4, 2.5, 2.5, 5, 5, 3)
	require.NoError(t, err)
	assert.InDelta(t, b.Y().Var, m.Y().Var, 1e-15)
	assert.Equal(t, b.N(), m.N())
	assert.Equal(t, 5.0/3, m.Y().Var)
	_, err = BivariateFromMoments(4, 2.5, 2.5, 5, 5, 6)
	assert.ErrorContains(t, err, "spXY")
	_, err = BivariateFromMoments(-1, 0, 0, 0, 0, 0)
	assert.ErrorContains(t, err, "n:")
	_, err = BivariateFromMoments(3, math.NaN(), 0, 0, 0, 0)
	assert.ErrorContains(t, err, "meanY")
}
