package attribution

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// chain holds the transition counts of a first-order Markov chain over
// channel states. State 0 is "start"; channel c is state c+1. The
// absorbing states conversion and null have their own columns.
type chain struct {
	k      int       // channels with a row (capacity may be larger)
	stride int       // row stride of next = capacity
	next   []float64 // next[from*stride+to]: from in [0,cap], to a channel
	conv   []float64 // conv[from]: from -> conversion
	null   []float64 // null[from]: from -> null
	convs  float64   // conversions observed (weighted)
	value  float64   // conversion value observed (weighted)
}

func (c *chain) grow(k int) {
	if k <= c.k {
		return
	}
	if k > c.stride {
		ns := max(2*c.stride, k, 8)
		next := make([]float64, (ns+1)*ns)
		for f := 0; f <= c.k; f++ {
			copy(next[f*ns:f*ns+c.k], c.next[f*c.stride:f*c.stride+c.k])
		}
		conv := make([]float64, ns+1)
		copy(conv, c.conv)
		null := make([]float64, ns+1)
		copy(null, c.null)
		c.next, c.conv, c.null, c.stride = next, conv, null, ns
	}
	c.k = k
}

// observe adds one journey over channel ids (each < the grown size) with
// weight w; converted journeys end in the conversion state with value v.
func (c *chain) observe(ids []int32, converted bool, value, w float64) {
	if len(ids) == 0 || w == 0 {
		return
	}
	from := 0
	for _, id := range ids {
		to := int(id)
		if to >= c.k {
			c.grow(to + 1)
		}
		c.next[from*c.stride+to] += w
		from = to + 1
	}
	if converted {
		c.conv[from] += w
		c.convs += w
		c.value += w * value
	} else {
		c.null[from] += w
	}
}

// MarkovSolution is the exact solution of the absorbing chain.
type MarkovSolution struct {
	Channels []string
	// ConversionProbability is the probability that a journey starting at
	// "start" is absorbed in the conversion state.
	ConversionProbability float64
	// RemovalEffects[i] is 1 - P(conversion | channel i removed) / P(conversion).
	RemovalEffects []float64
	// Shares are the removal effects normalized to sum to 1 (all zero when
	// no journey converted).
	Shares []float64
	// Credit[i] is Shares[i] times the conversions and value observed.
	Credit []Credit
}

// solve computes the absorption probabilities exactly.
//
// With Q the k×k transition matrix among channel states, r the vector of
// one-step conversion probabilities and s the start distribution, the
// probability of conversion from each state is x = (I - Q)^-1 r, and from
// start s·x. Removing channel c turns state c into a null sink: its row of
// Q and its r entry become 0. I - Q is non-singular because every observed
// state has at least one observed exit and every journey ends absorbed,
// so absorption is reachable from every state; states never entered have
// an all-zero row. The cost is one LU factorization per channel, O(k^4).
func (c *chain) solve(names []string) (*MarkovSolution, error) {
	k := c.k
	sol := &MarkovSolution{Channels: names[:k:k], RemovalEffects: make([]float64, k),
		Shares: make([]float64, k), Credit: make([]Credit, k)}
	if k == 0 || c.convs == 0 {
		return sol, nil
	}
	out := make([]float64, k+1)
	for f := 0; f <= k; f++ {
		sum := c.conv[f] + c.null[f]
		for t := range k {
			sum += c.next[f*c.stride+t]
		}
		out[f] = sum
	}
	if out[0] == 0 {
		return nil, errors.New("attribution: markov: no journey starts")
	}
	s := mat.NewVecDense(k, nil)
	for t := range k {
		s.SetVec(t, c.next[t]/out[0])
	}
	absorb := func(removed int) (float64, error) {
		a := mat.NewDense(k, k, nil)
		r := mat.NewVecDense(k, nil)
		for i := range k {
			a.Set(i, i, 1)
			if i == removed || out[i+1] == 0 {
				continue
			}
			for t := range k {
				a.Set(i, t, a.At(i, t)-c.next[(i+1)*c.stride+t]/out[i+1])
			}
			r.SetVec(i, c.conv[i+1]/out[i+1])
		}
		var x mat.VecDense
		if err := x.SolveVec(a, r); err != nil {
			var cond mat.Condition
			if !errors.As(err, &cond) {
				return 0, fmt.Errorf("attribution: markov: solve: %w", err)
			}
		}
		return mat.Dot(s, &x), nil
	}
	p, err := absorb(-1)
	if err != nil {
		return nil, err
	}
	sol.ConversionProbability = p
	var total float64
	for i := range k {
		pi, err := absorb(i)
		if err != nil {
			return nil, err
		}
		re := 0.0
		if p > 0 {
			re = max(0, 1-pi/p)
		}
		sol.RemovalEffects[i] = re
		total += re
	}
	if total > 0 {
		for i := range k {
			sol.Shares[i] = sol.RemovalEffects[i] / total
			sol.Credit[i] = Credit{sol.Shares[i] * c.convs, sol.Shares[i] * c.value}
		}
	}
	return sol, nil
}

// Weights splits one journey's credit in proportion to the removal effect
// of each touchpoint's channel, shared equally among that channel's
// touchpoints in the journey; when every channel of the journey has a zero
// removal effect the split is linear. This per-journey split explains a
// single conversion; the channel totals of [MarkovSolution.Credit] are the
// model's global output and do not equal the sum of per-journey splits.
func (s *MarkovSolution) Weights(j *Journey, w []float64) {
	idx := make(map[string]int, len(s.Channels))
	for i, name := range s.Channels {
		idx[name] = i
	}
	perJourneyWeights(j, w, func(ch string) float64 {
		if i, ok := idx[ch]; ok {
			return s.RemovalEffects[i]
		}
		return 0
	})
}

func perJourneyWeights(j *Journey, w []float64, score func(string) float64) {
	n := make(map[string]int, len(w))
	for i := range j.Touchpoints {
		n[j.Touchpoints[i].Channel]++
	}
	var sum float64
	for ch, cnt := range n {
		_ = cnt
		sum += score(ch)
	}
	if sum <= 0 {
		Linear{}.Weights(j, w)
		return
	}
	for i := range j.Touchpoints {
		ch := j.Touchpoints[i].Channel
		w[i] = score(ch) / sum / float64(n[ch])
	}
}

// Markov is the first-order Markov chain removal-effect model over
// channel paths (Anderl et al. 2016; the ChannelAttribution R package's
// markov_model with order 1), solved exactly rather than by simulation.
// Use it directly over paths; the [Engine] feeds one for you.
//
// The zero value is ready to use. Memory is O(k²) for k channels. A Markov
// is not safe for concurrent use.
type Markov struct {
	names []string
	index map[string]int32
	c     chain
	buf   []int32
}

// AddPath adds count journeys that went through path (channel names,
// oldest first); conversions of them converted with total value, the
// rest ended without conversion. Empty paths are ignored.
func (m *Markov) AddPath(path []string, conversions, nulls, value float64) error {
	if conversions < 0 || nulls < 0 || value < 0 {
		return fmt.Errorf("attribution: Markov.AddPath: counts and value must be >= 0, got %v, %v, %v", conversions, nulls, value)
	}
	if m.index == nil {
		m.index = make(map[string]int32)
	}
	m.buf = m.buf[:0]
	for _, ch := range path {
		id, ok := m.index[ch]
		if !ok {
			id = int32(len(m.names))
			m.index[ch] = id
			m.names = append(m.names, ch)
		}
		m.buf = append(m.buf, id)
	}
	if conversions > 0 {
		m.c.observe(m.buf, true, value/conversions, conversions)
	}
	m.c.observe(m.buf, false, 0, nulls)
	return nil
}

// Solve returns the exact removal effects and the credit per channel.
func (m *Markov) Solve() (*MarkovSolution, error) { return m.c.solve(m.names) }
