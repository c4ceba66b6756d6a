package stats

import (
	"fmt"
	"math"
)

// BivariateFromMoments returns the [Bivariate] of n units whose outcome Y
// and covariate X have the given means and centred sums of squares and
// cross-products:
//
//	ssY = Σ (y - meanY)²   ssX = Σ (x - meanX)²   spXY = Σ (x - meanX)(y - meanY)
//
// It is how a summary computed elsewhere (a mergeable state, a warehouse
// aggregate) enters [CUPED] and [Welch] (through [Bivariate.Y]). The
// values must be finite, the sums of squares >= 0 and spXY² at most
// ssX·ssY (plus rounding), as for any real data.
func BivariateFromMoments(n int64, meanY, meanX, ssY, ssX, spXY float64) (Bivariate, error) {
	if n < 0 {
		return Bivariate{}, fmt.Errorf("stats: BivariateFromMoments: n: must be >= 0, got %d", n)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"meanY", meanY}, {"meanX", meanX}, {"ssY", ssY}, {"ssX", ssX}, {"spXY", spXY}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return Bivariate{}, fmt.Errorf("stats: BivariateFromMoments: %s: must be finite, got %v", f.name, f.v)
		}
	}
	if ssY < 0 || ssX < 0 {
		return Bivariate{}, fmt.Errorf("stats: BivariateFromMoments: ssY, ssX: must be >= 0, got %v, %v", ssY, ssX)
	}
	if spXY*spXY > ssX*ssY*(1+1e-9)+1e-300 {
		return Bivariate{}, fmt.Errorf("stats: BivariateFromMoments: spXY: %v exceeds sqrt(ssX*ssY) (|correlation| > 1)", spXY)
	}
	if n == 0 {
		return Bivariate{}, nil
	}
	return Bivariate{n: n, my: meanY, mx: meanX, syy: ssY, sxx: ssX, sxy: spXY}, nil
}
