package attribution

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/rankscope/rankscope/internal/statecodec"
)

// Mergeable models. A [Markov] (transition counts) and a [Shapley]
// (conversions per channel coalition) are sums over journeys, so a fleet
// can split journeys over workers (each journey whole, in one worker),
// have each fill its own model, ship it with MarshalBinary, and merge the
// decoded models in one process before Solve.
//
// Exactness: channels are matched by name. Counts are sums of journey
// weights, exact in float64 when the weights are whole numbers (as the
// engine's and event streams' are) and totals stay below 2^53, so merged
// counts equal one pass bit for bit. Conversion values are float64 sums:
// merged in another order they may differ in the last bits (relative
// error about n·2^-53 for n journeys). The encodings list channels sorted
// by name, so models with equal counts encode to equal bytes whatever the
// order in which each met its channels; a decoded model numbers its
// channels in that sorted order.

// Limits of the decoders (far above what Shapley can solve or a Markov
// chain over channels holds).
const (
	maxModelChannels = 1 << 9 // a decoded chain is (k+1)·k float64s: 2 MiB at most
	maxModelName     = 1 << 10
)

const (
	markovMagic   = "RSMK"
	shapleyMagic  = "RSSH"
	modelsVersion = 1
)

func (m *Markov) channel(name string) int32 {
	if m.index == nil {
		m.index = make(map[string]int32)
	}
	id, ok := m.index[name]
	if !ok {
		id = int32(len(m.names))
		m.index[name] = id
		m.names = append(m.names, name)
	}
	return id
}

// Merge adds o's journeys to m, matching channels by name.
func (m *Markov) Merge(o *Markov) error {
	if m == o {
		return fmt.Errorf("attribution: Markov.Merge: a model cannot merge itself")
	}
	remap := make([]int32, len(o.names))
	for i, n := range o.names {
		remap[i] = m.channel(n)
	}
	m.c.ensure(len(m.names))
	state := func(s int) int { // o's state (0 start, c+1 channel) in m
		if s == 0 {
			return 0
		}
		return int(remap[s-1]) + 1
	}
	for f := 0; f <= o.c.k; f++ {
		mf := state(f)
		for to := 0; to < o.c.k; to++ {
			if w := o.c.next[f*o.c.stride+to]; w != 0 {
				m.c.next[mf*m.c.stride+int(remap[to])] += w
			}
		}
		if w := o.c.conv[f]; w != 0 {
			m.c.conv[mf] += w
		}
		if w := o.c.null[f]; w != 0 {
			m.c.null[mf] += w
		}
	}
	m.c.convs += o.c.convs
	m.c.value += o.c.value
	return nil
}

// ensure grows the chain to k channels and allocates the start state's
// row of a zero chain.
func (c *chain) ensure(k int) {
	c.grow(k)
	if c.conv == nil {
		c.conv, c.null = make([]float64, 1), make([]float64, 1)
	}
}

// sortedOrder returns channel ids in name order.
func sortedOrder(names []string) []int {
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(names[a], names[b]) })
	return order
}

// MarshalBinary encodes the model's transition counts: magic "RSMK", a
// version byte, the channel names sorted, the non-zero transitions as
// (from, to, weight) in order (states numbered start = 0, then channels
// in name order from 1), the conversion and null counts per state, the
// conversions and the conversion value.
func (m *Markov) MarshalBinary() ([]byte, error) {
	order := sortedOrder(m.names)
	k := len(m.names)
	m.c.ensure(k)
	state := func(s int) int { // sorted state -> m's state
		if s == 0 {
			return 0
		}
		return order[s-1] + 1
	}
	w := statecodec.Writer{}
	w.Header(markovMagic, modelsVersion)
	w.Uint(uint64(k))
	for _, id := range order {
		w.String(m.names[id])
	}
	var nz int
	for f := 0; f <= k; f++ {
		for to := 0; to < k; to++ {
			if m.c.next[state(f)*m.c.stride+order[to]] != 0 {
				nz++
			}
		}
	}
	w.Uint(uint64(nz))
	for f := 0; f <= k; f++ {
		for to := 0; to < k; to++ {
			if v := m.c.next[state(f)*m.c.stride+order[to]]; v != 0 {
				w.Uint(uint64(f))
				w.Uint(uint64(to))
				w.Float(v)
			}
		}
	}
	for f := 0; f <= k; f++ {
		w.Float(m.c.conv[state(f)])
		w.Float(m.c.null[state(f)])
	}
	w.Float(m.c.convs)
	w.Float(m.c.value)
	return w.B, nil
}

func readNames(r *statecodec.Reader) []string {
	k := r.Count("channels", 1, maxModelChannels)
	names := make([]string, 0, k)
	for i := 0; i < k && r.Err() == nil; i++ {
		n := r.String(fmt.Sprintf("channels[%d]", i), maxModelName)
		if r.Err() == nil && (n == "" || (i > 0 && names[i-1] >= n)) {
			r.Fail(fmt.Sprintf("channels[%d]", i), "%q: names must be non-empty, sorted and distinct", n)
		}
		names = append(names, n)
	}
	return names
}

func readWeight(r *statecodec.Reader, field string) float64 {
	v := r.Float(field)
	if r.Err() == nil && !(v >= 0 && !math.IsInf(v, 0)) {
		r.Fail(field, "must be finite and >= 0, got %v", v)
	}
	return v
}

// UnmarshalBinary replaces m with the model encoded by
// [Markov.MarshalBinary]; its channels are numbered in name order. It
// rejects truncated or non-canonical input, another magic or version,
// unsorted or duplicate channels, transitions out of range or out of
// order, and negative or non-finite counts, with an error naming the
// field.
func (m *Markov) UnmarshalBinary(data []byte) error {
	r, err := statecodec.NewReader(data, "attribution.Markov", markovMagic, modelsVersion)
	if err != nil {
		return err
	}
	names := readNames(r)
	k := len(names)
	var d Markov
	if r.Err() == nil {
		for _, n := range names {
			d.channel(n)
		}
		d.c.ensure(k)
	}
	nz := r.Count("transitions", 10, (k+1)*k)
	last := -1
	for i := 0; i < nz && r.Err() == nil; i++ {
		f, to := r.Uint(fmt.Sprintf("transitions[%d].from", i)), r.Uint(fmt.Sprintf("transitions[%d].to", i))
		v := readWeight(r, fmt.Sprintf("transitions[%d].weight", i))
		if r.Err() != nil {
			break
		}
		if f > uint64(k) || to >= uint64(k) {
			r.Fail(fmt.Sprintf("transitions[%d]", i), "(%d, %d) outside %d channels", f, to, k)
			break
		}
		pos := int(f)*k + int(to)
		if pos <= last || v == 0 {
			r.Fail(fmt.Sprintf("transitions[%d]", i), "out of order, repeated or zero (not canonical)")
			break
		}
		last = pos
		d.c.next[int(f)*d.c.stride+int(to)] = v
	}
	for f := 0; f <= k && r.Err() == nil; f++ {
		d.c.conv[f] = readWeight(r, fmt.Sprintf("conversions[%d]", f))
		d.c.null[f] = readWeight(r, fmt.Sprintf("nulls[%d]", f))
	}
	d.c.convs = readWeight(r, "converted")
	d.c.value = readWeight(r, "value")
	if err := r.End(); err != nil {
		return err
	}
	*m = d
	return nil
}

// Merge adds o's conversions to s, matching channels by name. A channel
// whose id in s would be 64 or more marks s as having too many channels
// to solve, as AddPath does.
func (s *Shapley) Merge(o *Shapley) error {
	if s == o {
		return fmt.Errorf("attribution: Shapley.Merge: a model cannot merge itself")
	}
	if s.index == nil {
		s.index = make(map[string]int32)
	}
	remap := make([]int32, len(o.names))
	for i, n := range o.names {
		id, ok := s.index[n]
		if !ok {
			id = int32(len(s.names))
			s.index[n] = id
			s.names = append(s.names, n)
		}
		remap[i] = id
	}
	s.c.overflow = s.c.overflow || o.c.overflow
	for mask, cr := range o.c.sets {
		var ids []int32
		for b := range 64 {
			if mask&(1<<b) != 0 {
				ids = append(ids, remap[b])
			}
		}
		var nm uint64
		over := false
		for _, id := range ids {
			if id >= 64 {
				over = true
				break
			}
			nm |= 1 << id
		}
		if over {
			s.c.overflow = true
			continue
		}
		if s.c.sets == nil {
			s.c.sets = make(map[uint64]Credit)
		}
		c := s.c.sets[nm]
		c.add(cr.Conversions, cr.Value)
		s.c.sets[nm] = c
	}
	return nil
}

// MarshalBinary encodes the model's coalitions: magic "RSSH", a version
// byte, whether a channel beyond the 64th took part, the names of the
// channels that appear in a coalition, sorted, and the coalitions as
// (mask over those sorted channels, conversions, value) in mask order.
// Channels seen only in journeys that did not convert are not part of the
// state: they do not change the solution.
func (s *Shapley) MarshalBinary() ([]byte, error) {
	var all uint64
	for m := range s.c.sets {
		all |= m
	}
	var used []int
	for id := range 64 {
		if all&(1<<id) != 0 {
			used = append(used, id)
		}
	}
	slices.SortFunc(used, func(a, b int) int { return cmp.Compare(s.names[a], s.names[b]) })
	bit := map[int]int{}
	for r, id := range used {
		bit[id] = r
	}
	type set struct {
		mask uint64
		cr   Credit
	}
	sets := make([]set, 0, len(s.c.sets))
	for m, cr := range s.c.sets {
		var nm uint64
		for id := range 64 {
			if m&(1<<id) != 0 {
				nm |= 1 << bit[id]
			}
		}
		sets = append(sets, set{nm, cr})
	}
	slices.SortFunc(sets, func(a, b set) int { return cmp.Compare(a.mask, b.mask) })
	w := statecodec.Writer{}
	w.Header(shapleyMagic, modelsVersion)
	w.Bool(s.c.overflow)
	w.Uint(uint64(len(used)))
	for _, id := range used {
		w.String(s.names[id])
	}
	w.Uint(uint64(len(sets)))
	for _, st := range sets {
		w.Uint(st.mask)
		w.Float(st.cr.Conversions)
		w.Float(st.cr.Value)
	}
	return w.B, nil
}

// UnmarshalBinary replaces s with the model encoded by
// [Shapley.MarshalBinary], rejecting truncated or non-canonical input,
// another magic or version, masks naming channels not listed, channels
// listed but in no coalition, and negative or non-finite counts, with an
// error naming the field.
func (s *Shapley) UnmarshalBinary(data []byte) error {
	r, err := statecodec.NewReader(data, "attribution.Shapley", shapleyMagic, modelsVersion)
	if err != nil {
		return err
	}
	var d Shapley
	d.c.overflow = r.Bool("overflow")
	names := readNames(r)
	if r.Err() == nil && len(names) > 64 {
		r.Fail("channels", "%d channels; coalitions hold at most 64", len(names))
	}
	n := r.Count("coalitions", 17, 1<<min(len(names), 24))
	var all, prev uint64
	for i := 0; i < n && r.Err() == nil; i++ {
		f := fmt.Sprintf("coalitions[%d]", i)
		mask := r.Uint(f + ".mask")
		cr := Credit{Conversions: readWeight(r, f+".conversions"), Value: readWeight(r, f+".value")}
		if r.Err() != nil {
			break
		}
		if len(names) < 64 && mask>>len(names) != 0 {
			r.Fail(f+".mask", "%#x names channels beyond the %d listed", mask, len(names))
			break
		}
		if mask == 0 || mask <= prev {
			r.Fail(f+".mask", "%#x: zero, repeated or out of order (not canonical)", mask)
			break
		}
		if d.c.sets == nil {
			d.c.sets = make(map[uint64]Credit, n)
		}
		d.c.sets[mask] = cr
		prev = mask
		all |= mask
	}
	if r.Err() == nil && len(names) > 0 && all != (uint64(1)<<len(names))-1 && len(names) < 64 {
		r.Fail("channels", "listed channels must each appear in a coalition")
	}
	if err := r.End(); err != nil {
		return err
	}
	d.index = make(map[string]int32, len(names))
	for i, nm := range names {
		d.index[nm] = int32(i)
	}
	d.names = names
	*s = d
	return nil
}
