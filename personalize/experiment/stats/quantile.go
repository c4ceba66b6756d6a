package stats

import "math"

// Quantile returns the p-quantile of sorted (ascending) by linear
// interpolation between order statistics: Hyndman & Fan (1996) type 7,
// the default of R's quantile() and NumPy's "linear" method. It is the
// percentile of a bootstrap interval. It returns NaN for an empty slice
// or p outside [0,1].
func Quantile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 || !(p >= 0 && p <= 1) {
		return math.NaN()
	}
	h := p * float64(len(sorted)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}
