package attribution

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/experiment/stats"
)

// Bootstrap configures confidence intervals for channel credit.
//
// The stream cannot be held in memory, so the engine uses the Poisson
// bootstrap (Hanley & MacGibbon 2006; Chamandy et al. 2012): each journey
// enters replicate b with a weight drawn from Poisson(1), the large-sample
// limit of the multinomial counts of resampling journeys with replacement.
// Weights come from a PCG generator seeded by Seed and the journey's
// event id, so results are reproducible and do not depend on arrival
// order. Memory is Replicates × channels floats per model (Markov:
// Replicates × channels² for the chains).
type Bootstrap struct {
	// Replicates is the number of bootstrap replicates; 0 turns the
	// bootstrap off. At most 10000.
	Replicates int
	// Seed seeds the generator.
	Seed uint64
}

// weights fills w with the Poisson(1) weights of the journey with id for
// each replicate.
func (b *Bootstrap) weights(id personalize.EventID, w []float64) {
	hi := binary.LittleEndian.Uint64(id[:8])
	lo := binary.LittleEndian.Uint64(id[8:])
	rng := rand.New(rand.NewPCG(b.Seed^hi, lo*0x9e3779b97f4a7c15+1))
	for i := range w {
		w[i] = float64(poisson1(rng))
	}
}

// poisson1 draws from Poisson(1) by inversion of the CDF.
func poisson1(r *rand.Rand) int {
	u := r.Float64()
	p := math.Exp(-1)
	cdf := p
	k := 0
	for u > cdf && k < 30 {
		k++
		p /= float64(k)
		cdf += p
	}
	return k
}

// nullID derives a stable id for a null journey from its last touchpoint.
func nullID(j *Journey) personalize.EventID {
	id := j.Touchpoints[len(j.Touchpoints)-1].EventID
	id[0] ^= 0xa5 // distinct from the touchpoint's own id
	return id
}

// percentile sorts xs in place and returns its p-quantile
// ([stats.Quantile]: Hyndman & Fan type 7, R's default).
func percentile(xs []float64, p float64) float64 {
	slices.Sort(xs)
	return stats.Quantile(xs, p)
}

// repSums is a channels × replicates matrix of credit sums.
type repSums struct {
	b    int
	sums []float64 // sums[ch*b + r]
}

func (r *repSums) add(ch int32, w []float64, credit float64) {
	need := (int(ch) + 1) * r.b
	if need > len(r.sums) {
		r.sums = append(r.sums, make([]float64, need-len(r.sums))...)
	}
	row := r.sums[int(ch)*r.b : need]
	for i, wi := range w {
		row[i] += wi * credit
	}
}

func (r *repSums) interval(ch int, level float64, buf []float64) Interval {
	if (ch+1)*r.b > len(r.sums) {
		return Interval{}
	}
	buf = append(buf[:0], r.sums[ch*r.b:(ch+1)*r.b]...)
	a := (1 - level) / 2
	lo := percentile(buf, a)
	hi := percentile(buf, 1-a)
	return Interval{lo, hi}
}
