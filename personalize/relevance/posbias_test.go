package relevance

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPositionBiasRecoversSimulatedPBM(t *testing.T) {
	// Clicks simulated from a known position-based model with randomized
	// placement (every item appears at every position): EM must recover
	// theta_k/theta_1, while the naive CTR ratio is biased when the
	// placement is not random (checked below).
	theta := []float64{0.9, 0.6, 0.45, 0.3, 0.2}
	rng := rand.New(rand.NewPCG(1, 2))
	const items = 40
	gamma := make([]float64, items)
	for i := range gamma {
		gamma[i] = 0.05 + 0.5*rng.Float64()
	}
	pb, err := NewPositionBias(len(theta), 1000)
	require.NoError(t, err)
	perm := make([]int, items)
	for i := range perm {
		perm[i] = i
	}
	for range 40000 {
		rng.Shuffle(items, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		for k := range theta {
			d := perm[k]
			clicked := rng.Float64() < theta[k]*gamma[d]
			pb.Observe(fmt.Sprint("item", d), k+1, clicked)
		}
	}
	est := pb.Estimate(500)
	for k := range theta {
		assert.InDelta(t, theta[k]/theta[0], est.Examination[k], 0.03, "position %d", k+1)
	}
	assert.Equal(t, items, est.Items)
}

func TestPositionBiasCorrectsForRankerQuality(t *testing.T) {
	// A ranker that mostly puts good items on top inflates the naive CTR
	// ratio's drop; with some exploration EM still finds the true bias.
	theta := []float64{1, 0.5, 0.25}
	gamma := []float64{0.6, 0.3, 0.1}
	rng := rand.New(rand.NewPCG(3, 4))
	pb, _ := NewPositionBias(3, 10)
	orders := [][]int{{0, 1, 2}, {1, 2, 0}, {2, 0, 1}}
	for n := range 200000 {
		o := orders[0]
		if n%10 >= 8 { // a fifth of the traffic explores
			o = orders[1+n%2]
		}
		for k, d := range o {
			pb.Observe(fmt.Sprint(d), k+1, rng.Float64() < theta[k]*gamma[d])
		}
	}
	est := pb.Estimate(1000)
	assert.InDelta(t, 0.5, est.Examination[1], 0.03)
	assert.InDelta(t, 0.25, est.Examination[2], 0.03)
	assert.Less(t, est.NaiveCTRRatio[2], est.Examination[2]-0.05, "naive ratio is biased low here")
}

func TestPositionBiasBounds(t *testing.T) {
	pb, err := NewPositionBias(3, 2)
	require.NoError(t, err)
	pb.Observe("a", 1, true)
	pb.Observe("b", 2, false)
	pb.Observe("c", 1, true) // item cap
	pb.Observe("a", 4, true) // position cap
	pb.Observe("a", 0, true)
	assert.Equal(t, int64(3), pb.Overflow)
	_, err = NewPositionBias(1, 2)
	require.ErrorContains(t, err, "maxPosition")
	_, err = NewPositionBias(3, 0)
	require.ErrorContains(t, err, "maxItems")
	other, _ := NewPositionBias(4, 2)
	require.Error(t, pb.Merge(other))
}
