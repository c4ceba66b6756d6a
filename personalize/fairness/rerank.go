package fairness

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/rankscope/rankscope/personalize"
)

// Target says what share of exposure a group deserves.
type Target uint8

// Targets.
const (
	// TargetMerit gives each group a share of exposure equal to its share
	// of total relevance (disparate treatment, Singh and Joachims 2018).
	TargetMerit Target = iota + 1
	// TargetEqual gives each group a share of exposure equal to its share of
	// the items (demographic parity).
	TargetEqual
)

// Method says how a re-ranking was found.
type Method uint8

// Methods.
const (
	// MethodExact searched every group interleaving (with pruning) and
	// returned the feasible ranking of highest expected relevance.
	MethodExact Method = iota + 1
	// MethodGreedy filled positions top-down with the most relevant item
	// whose group keeps every band reachable; not always optimal.
	MethodGreedy
)

func (m Method) String() string {
	switch m {
	case MethodExact:
		return "exact"
	case MethodGreedy:
		return "greedy"
	}
	return "unknown"
}

// RerankConfig configures a [Reranker]. The zero value means the defaults.
type RerankConfig struct {
	// Group names an item's group (nil: Item.Provider, "_none" if empty).
	Group func(*personalize.Item) string
	// Relevance is the item's expected relevance, >= 0 (nil: Item.Score,
	// which must then be >= 0).
	Relevance func(*personalize.Item) float64
	// Weight is the position weight (nil: LogDiscount).
	Weight func(position int) float64
	// Target is the exposure each group deserves (default TargetMerit).
	Target Target
	// Tolerance is the relative band around the target share: a group's
	// exposure share must lie in [target*(1-Tolerance),
	// target*(1+Tolerance)] (default 0.2; must be in (0, 1]).
	Tolerance float64
	// MaxExact is the largest number of group interleavings
	// (n!/prod n_g!) searched exactly (default 200,000); larger lists use
	// the greedy method.
	MaxExact int
}

// Reranker re-orders a scored list so that each group's share of
// position-weighted exposure stays within a band around its target, at the
// least loss of expected relevance sum_i rel_i * weight(position_i).
//
// Within a group the optimal order is always by decreasing relevance
// (swapping two items of one group does not change the group's exposure
// and, by the rearrangement inequality, never lowers utility), so the
// search is over which group fills each position. Up to MaxExact
// interleavings it is exhaustive with branch-and-bound pruning; beyond, a
// greedy fill with a per-group reachability check is used.
//
// Safe for concurrent use (it holds only configuration).
type Reranker struct {
	cfg RerankConfig
}

// NewReranker validates cfg.
func NewReranker(cfg RerankConfig) (*Reranker, error) {
	if cfg.Target == 0 {
		cfg.Target = TargetMerit
	}
	if cfg.Target > TargetEqual {
		return nil, fmt.Errorf("fairness: RerankConfig.Target: unknown value %d", cfg.Target)
	}
	if cfg.Tolerance == 0 {
		cfg.Tolerance = 0.2
	}
	if !(cfg.Tolerance > 0 && cfg.Tolerance <= 1) {
		return nil, fmt.Errorf("fairness: RerankConfig.Tolerance: must be in (0, 1], got %v", cfg.Tolerance)
	}
	if cfg.MaxExact == 0 {
		cfg.MaxExact = 200_000
	}
	if cfg.MaxExact < 0 {
		return nil, fmt.Errorf("fairness: RerankConfig.MaxExact: must be >= 0, got %d", cfg.MaxExact)
	}
	if cfg.Weight == nil {
		cfg.Weight = LogDiscount
	}
	return &Reranker{cfg: cfg}, nil
}

// GroupShare is one group's exposure share before and after re-ranking.
type GroupShare struct {
	Group         string
	Items         int
	Target        float64 // deserved share of exposure
	Lo, Hi        float64 // accepted band
	Before, After float64 // share of exposure in the input and output
	InBandAfter   bool
}

// Result is a re-ranking with its trade-off.
type Result struct {
	// Items is the new ranking: copies of the input items with Position
	// 1..n in the new order.
	Items  []personalize.Item
	Method Method
	// WithinBand reports whether every group's share is in its band.
	WithinBand bool
	// Utility is sum rel*weight: of the input order, of the unconstrained
	// best order (by decreasing relevance), and of the output.
	UtilityInput, UtilityBest, UtilityAfter float64
	// RelevanceLost is 1 - UtilityAfter/UtilityBest: the share of expected
	// relevance given up for fairness (0 when UtilityBest is 0).
	RelevanceLost float64
	Groups        []GroupShare
}

type rgroup struct {
	name   string
	items  []int     // indexes into input, by decreasing relevance
	rel    []float64 // relevance of items, same order
	target float64
	lo, hi float64
}

// Rerank re-orders items (taken in their Position order).
func (rr *Reranker) Rerank(items []personalize.Item) (Result, error) {
	n := len(items)
	if n == 0 {
		return Result{WithinBand: true}, nil
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return items[a].Position - items[b].Position })
	rel := make([]float64, n)
	names := make([]string, n)
	for i := range items {
		it := &items[i]
		r := it.Score
		if rr.cfg.Relevance != nil {
			r = rr.cfg.Relevance(it)
		}
		if !(r >= 0) || math.IsInf(r, 0) {
			return Result{}, fmt.Errorf("fairness: Rerank: items[%d] (%q): relevance must be finite and >= 0, got %v", i, it.ID, r)
		}
		rel[i] = r
		if rr.cfg.Group != nil {
			names[i] = rr.cfg.Group(it)
		} else if names[i] = it.Provider; names[i] == "" {
			names[i] = "_none"
		}
	}
	w := make([]float64, n)
	var totalW float64
	for p := range w {
		w[p] = rr.cfg.Weight(p + 1)
		if !(w[p] >= 0) || math.IsInf(w[p], 0) {
			return Result{}, fmt.Errorf("fairness: Rerank: weight(%d) = %v, must be finite and >= 0", p+1, w[p])
		}
		totalW += w[p]
	}
	// Groups, each with its items by decreasing relevance.
	var groups []*rgroup
	gi := make(map[string]int)
	byRel := slices.Clone(order)
	slices.SortStableFunc(byRel, func(a, b int) int {
		switch {
		case rel[a] > rel[b]:
			return -1
		case rel[a] < rel[b]:
			return 1
		}
		return 0
	})
	var totalRel float64
	for _, i := range byRel {
		k, ok := gi[names[i]]
		if !ok {
			k = len(groups)
			gi[names[i]] = k
			groups = append(groups, &rgroup{name: names[i]})
		}
		groups[k].items = append(groups[k].items, i)
		groups[k].rel = append(groups[k].rel, rel[i])
		totalRel += rel[i]
	}
	for _, g := range groups {
		var gr float64
		for _, r := range g.rel {
			gr += r
		}
		if rr.cfg.Target == TargetEqual || totalRel == 0 {
			g.target = float64(len(g.items)) / float64(n)
		} else {
			g.target = gr / totalRel
		}
		g.lo, g.hi = g.target*(1-rr.cfg.Tolerance), g.target*(1+rr.cfg.Tolerance)
	}
	res := Result{}
	res.UtilityInput = utility(order, rel, w)
	res.UtilityBest = utility(byRel, rel, w)

	s := &search{groups: groups, w: w, totalW: totalW, n: n}
	var seq []int
	if interleavings(groups, rr.cfg.MaxExact) {
		res.Method = MethodExact
		seq = s.exact()
	}
	if seq == nil {
		res.Method = MethodGreedy
		seq = s.greedy()
	}
	// Materialize: the next item of the chosen group at each position.
	next := make([]int, len(groups))
	out := make([]int, n)
	for p, g := range seq {
		out[p] = groups[g].items[next[g]]
		next[g]++
	}
	res.UtilityAfter = utility(out, rel, w)
	if res.UtilityBest > 0 {
		res.RelevanceLost = 1 - res.UtilityAfter/res.UtilityBest
	}
	res.Items = make([]personalize.Item, n)
	for p, i := range out {
		res.Items[p] = items[i]
		res.Items[p].Position = p + 1
	}
	res.WithinBand = true
	for k, g := range groups {
		gs := GroupShare{Group: g.name, Items: len(g.items), Target: g.target, Lo: g.lo, Hi: g.hi}
		for p, i := range order {
			if gi[names[i]] == k {
				gs.Before += w[p]
			}
		}
		for p, gg := range seq {
			if gg == k {
				gs.After += w[p]
			}
		}
		if totalW > 0 {
			gs.Before /= totalW
			gs.After /= totalW
		}
		gs.InBandAfter = gs.After >= g.lo-1e-12 && gs.After <= g.hi+1e-12
		res.WithinBand = res.WithinBand && gs.InBandAfter
		res.Groups = append(res.Groups, gs)
	}
	slices.SortFunc(res.Groups, func(a, b GroupShare) int { return strings.Compare(a.Group, b.Group) })
	return res, nil
}

func utility(order []int, rel, w []float64) float64 {
	var u float64
	for p, i := range order {
		u += rel[i] * w[p]
	}
	return u
}

// interleavings reports whether n!/prod(n_g!) <= limit.
func interleavings(groups []*rgroup, limit int) bool {
	count := 1.0
	placed := 0
	for _, g := range groups {
		for k := 1; k <= len(g.items); k++ {
			placed++
			count = count * float64(placed) / float64(k)
			if count > float64(limit) {
				return false
			}
		}
	}
	return true
}

type search struct {
	groups []*rgroup
	w      []float64
	totalW float64
	n      int

	used  []int     // items used per group
	expo  []float64 // exposure share per group so far
	seq   []int
	best  []int
	bestU float64
}

// reachable reports whether every group can still end within its band,
// checked per group: its remaining items in the best or the worst of the
// remaining positions. (Exact for two groups; a necessary condition with
// more.)
func (s *search) reachable(pos int) bool {
	for g, gr := range s.groups {
		k := len(gr.items) - s.used[g]
		var hiAdd, loAdd float64
		for j := 0; j < k; j++ {
			hiAdd += s.w[pos+j]
			loAdd += s.w[s.n-1-j]
		}
		if (s.expo[g]+hiAdd)/s.totalW < gr.lo-1e-12 || (s.expo[g]+loAdd)/s.totalW > gr.hi+1e-12 {
			return false
		}
	}
	return true
}

func (s *search) reset() {
	s.used = make([]int, len(s.groups))
	s.expo = make([]float64, len(s.groups))
	s.seq = s.seq[:0]
}

func (s *search) exact() []int {
	s.reset()
	if s.totalW == 0 {
		return nil
	}
	s.bestU = math.Inf(-1)
	s.dfs(0, 0)
	return s.best
}

func (s *search) dfs(pos int, u float64) {
	if pos == s.n {
		if u > s.bestU {
			s.bestU = u
			s.best = slices.Clone(s.seq)
		}
		return
	}
	if !s.reachable(pos) || u+s.bound(pos) <= s.bestU {
		return
	}
	// Try groups by decreasing head relevance: good solutions come first
	// and tighten the bound.
	for _, g := range s.headOrder() {
		gr := s.groups[g]
		r := gr.rel[s.used[g]]
		s.used[g]++
		s.expo[g] += s.w[pos]
		s.seq = append(s.seq, g)
		s.dfs(pos+1, u+r*s.w[pos])
		s.seq = s.seq[:len(s.seq)-1]
		s.expo[g] -= s.w[pos]
		s.used[g]--
	}
}

// bound is the utility of the remaining items by decreasing relevance in
// the remaining positions, ignoring the bands (an upper bound).
func (s *search) bound(pos int) float64 {
	heads := slices.Clone(s.used)
	var b float64
	for p := pos; p < s.n; p++ {
		bg, br := -1, math.Inf(-1)
		for g, gr := range s.groups {
			if heads[g] < len(gr.items) && gr.rel[heads[g]] > br {
				bg, br = g, gr.rel[heads[g]]
			}
		}
		heads[bg]++
		b += br * s.w[p]
	}
	return b
}

func (s *search) headOrder() []int {
	var gs []int
	for g, gr := range s.groups {
		if s.used[g] < len(gr.items) {
			gs = append(gs, g)
		}
	}
	slices.SortStableFunc(gs, func(a, b int) int {
		ra, rb := s.groups[a].rel[s.used[a]], s.groups[b].rel[s.used[b]]
		switch {
		case ra > rb:
			return -1
		case ra < rb:
			return 1
		}
		return 0
	})
	return gs
}

func (s *search) greedy() []int {
	s.reset()
	for pos := 0; pos < s.n; pos++ {
		chosen := -1
		for _, g := range s.headOrder() {
			s.used[g]++
			s.expo[g] += s.w[pos]
			ok := s.totalW == 0 || s.reachable(pos+1)
			s.used[g]--
			s.expo[g] -= s.w[pos]
			if ok {
				chosen = g
				break
			}
		}
		if chosen < 0 {
			// No choice keeps every band reachable: serve the group
			// furthest below its band.
			worst := math.Inf(1)
			for g, gr := range s.groups {
				if s.used[g] == len(gr.items) {
					continue
				}
				if d := s.expo[g]/s.totalW - gr.lo; d < worst {
					worst, chosen = d, g
				}
			}
		}
		s.used[chosen]++
		s.expo[chosen] += s.w[pos]
		s.seq = append(s.seq, chosen)
	}
	return s.seq
}
