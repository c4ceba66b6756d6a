package attribution

import (
	"fmt"
	"math/bits"
)

// MaxShapleyChannels is the largest number of players [ShapleyValues] and
// the Shapley model solve exactly: the work is O(n·2^n) time and 2^n
// floats of memory (16 channels: about 1 M operations and 512 KiB).
const MaxShapleyChannels = 16

// ShapleyValues returns the exact Shapley value of each of n players of
// the cooperative game v, where v(S) is the worth of the coalition whose
// members are the set bits of S (v(0) is taken as 0):
//
//	φ_i = Σ_{S ⊆ N∖{i}} |S|!(n-|S|-1)!/n! · (v(S ∪ {i}) − v(S))
//
// v is called once per coalition. n must be in [1, MaxShapleyChannels].
func ShapleyValues(n int, v func(coalition uint32) float64) ([]float64, error) {
	if n < 1 || n > MaxShapleyChannels {
		return nil, fmt.Errorf("attribution: ShapleyValues: n must be in [1,%d], got %d", MaxShapleyChannels, n)
	}
	worth := make([]float64, 1<<n)
	for s := 1; s < len(worth); s++ {
		worth[s] = v(uint32(s))
	}
	return shapleyFromWorth(n, worth), nil
}

func shapleyFromWorth(n int, worth []float64) []float64 {
	// weight[s] = s!(n-s-1)!/n!, computed as 1/(n·C(n-1, s)).
	weight := make([]float64, n)
	binom := 1.0
	for s := range n {
		weight[s] = 1 / (float64(n) * binom)
		binom = binom * float64(n-1-s) / float64(s+1)
	}
	phi := make([]float64, n)
	for s := range worth {
		size := bits.OnesCount32(uint32(s))
		if size == n {
			continue
		}
		w := weight[size]
		for i := range n {
			if s&(1<<i) == 0 {
				phi[i] += w * (worth[s|1<<i] - worth[s])
			}
		}
	}
	return phi
}

// ShapleySolution is the Shapley attribution over channel coalitions.
type ShapleySolution struct {
	Channels []string
	// Values[i] is channel i's Shapley value of the conversions game:
	// v(S) = conversions of journeys whose channel set is a subset of S
	// (Zhao et al. 2018, "Shapley value methods for attribution modeling
	// in online advertising"). They sum to the conversions observed.
	Values []float64
	// Credit[i] is the conversions and value credited to channel i (the
	// value game is solved the same way with conversion value as worth).
	Credit []Credit
}

// coalitions accumulates conversions per channel set (bitmask over
// channel ids < 64).
type coalitions struct {
	sets     map[uint64]Credit
	overflow bool // a channel id >= 64 took part in a conversion
}

func (c *coalitions) observe(ids []int32, value, w float64) {
	var mask uint64
	for _, id := range ids {
		if id >= 64 {
			c.overflow = true
			return
		}
		mask |= 1 << id
	}
	if c.sets == nil {
		c.sets = make(map[uint64]Credit)
	}
	cr := c.sets[mask]
	cr.add(w, w*value)
	c.sets[mask] = cr
}

func (c *coalitions) solve(names []string) (*ShapleySolution, error) {
	if c.overflow {
		return nil, fmt.Errorf("attribution: shapley: more than 64 channels in use; at most %d can be solved exactly", MaxShapleyChannels)
	}
	var all uint64
	for m := range c.sets {
		all |= m
	}
	n := bits.OnesCount64(all)
	if n > MaxShapleyChannels {
		return nil, fmt.Errorf("attribution: shapley: %d channels in converting journeys, at most %d can be solved exactly", n, MaxShapleyChannels)
	}
	// Compact the channel ids in use to bits 0..n-1.
	var members []int
	for id := range 64 {
		if all&(1<<id) != 0 {
			members = append(members, id)
		}
	}
	sol := &ShapleySolution{}
	for _, id := range members {
		sol.Channels = append(sol.Channels, names[id])
	}
	if n == 0 {
		return sol, nil
	}
	conv := make([]float64, 1<<n)
	val := make([]float64, 1<<n)
	for m, cr := range c.sets {
		var cm int
		for b, id := range members {
			if m&(1<<id) != 0 {
				cm |= 1 << b
			}
		}
		conv[cm] += cr.Conversions
		val[cm] += cr.Value
	}
	// Zeta transform: worth(S) = Σ_{T ⊆ S} conv(T).
	for b := range n {
		for s := range conv {
			if s&(1<<b) != 0 {
				conv[s] += conv[s^1<<b]
				val[s] += val[s^1<<b]
			}
		}
	}
	sol.Values = shapleyFromWorth(n, conv)
	vv := shapleyFromWorth(n, val)
	sol.Credit = make([]Credit, n)
	for i := range n {
		sol.Credit[i] = Credit{sol.Values[i], vv[i]}
	}
	return sol, nil
}

// Shapley is the Shapley-value model over channel coalitions. The zero
// value is ready to use; it is not safe for concurrent use. Memory is one
// entry per distinct channel set seen in a conversion.
type Shapley struct {
	names []string
	index map[string]int32
	c     coalitions
	buf   []int32
}

// AddPath adds conversions journeys (with total value) through the
// channels of path; order and repetition do not matter to this model.
func (s *Shapley) AddPath(path []string, conversions, value float64) error {
	if conversions < 0 || value < 0 {
		return fmt.Errorf("attribution: Shapley.AddPath: conversions and value must be >= 0, got %v, %v", conversions, value)
	}
	if s.index == nil {
		s.index = make(map[string]int32)
	}
	s.buf = s.buf[:0]
	for _, ch := range path {
		id, ok := s.index[ch]
		if !ok {
			id = int32(len(s.names))
			s.index[ch] = id
			s.names = append(s.names, ch)
		}
		s.buf = append(s.buf, id)
	}
	if conversions > 0 && len(path) > 0 {
		s.c.observe(s.buf, value/conversions, conversions)
	}
	return nil
}

// Solve returns the exact Shapley values per channel.
func (s *Shapley) Solve() (*ShapleySolution, error) { return s.c.solve(s.names) }
