package relevance

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/DataDog/sketches-go/ddsketch"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/segment"
)

// Config configures an [Analyzer]. The zero value means the defaults.
type Config struct {
	// Segments derives the segment of each impression. Nil means a Keyer
	// with every dimension (segment.NewKeyer(segment.Config{})).
	Segments *segment.Keyer
	// MaxSegments bounds the number of distinct segment keys (default
	// 1024). Impressions of further segments are accounted to
	// [OverflowKey].
	MaxSegments int

	// Join configures the outcome join (window, pending bound, grades).
	Join JoinConfig

	// K is the cutoff of NDCG, precision and recall (default 10).
	K int
	// Gain is the DCG gain (default GainLinear).
	Gain Gain

	// Bins is the number of reliability-curve bins (default 10) and
	// FineBins the online grid they are cut from (default 100; a multiple
	// of Bins). Memory per segment: 24 bytes per fine bin.
	Bins, FineBins int

	// MaxPosition bounds CTR-by-position and the position-bias model
	// (default 20); BiasItems bounds the items the model tracks (default
	// 10,000; 32*MaxPosition bytes each).
	MaxPosition, BiasItems int

	// Persistence is the RBO persistence p (default 0.9). StabilityDepth is
	// the number of top items compared between successive rankings
	// (default 20). MaxUsers bounds the per-(user, surface) last ranking
	// and the per-user last visit kept for stability and repeat visits
	// (default 100,000 each; about 40 + 16*StabilityDepth bytes per entry).
	Persistence    float64
	StabilityDepth int
	MaxUsers       int

	// RepeatWindow is how recent a user's previous visit must be for a new
	// visit (a new session) to count as a repeat visit (default 7 days).
	RepeatWindow time.Duration
}

// OverflowKey is the segment that collects traffic beyond MaxSegments.
var OverflowKey = segment.Key{Device: "_overflow", Region: "_overflow", Surface: "_overflow", SessionLength: "_overflow", Arm: "_overflow"}

// Analyzer measures calibration, ranking quality, CTR by position,
// position bias, ranking stability and engagement, online (as a
// personalize.Exporter) or offline (feed it events with [Analyzer.Observe]
// and call [Analyzer.Flush]). See the package documentation.
type Analyzer struct {
	cfg   Config
	keyer *segment.Keyer

	mu       sync.Mutex
	join     *Joiner
	segs     map[segment.Key]*acc
	bias     *PositionBias
	last     *genMap[userSurface, []string]
	visits   *genMap[string, visit]
	scratch  []float64
	cur      []string
	rx, ry   []int32
	pInC     []int
	cInP     []int
	events   int64
	ignored  int64
	overflow int64
	closed   bool

	unjoinedEngagement int64
}

var _ personalize.Exporter = (*Analyzer)(nil)

type userSurface struct{ user, surface string }

type visit struct {
	session string
	at      time.Time
}

// acc holds one segment's accumulators; all are mergeable.
type acc struct {
	cal *Calibrator

	impressions, judged             int64
	sumNDCG, sumRR, sumPrec, sumRec float64
	posImps, posClicks              []int64

	pairs, tauUndefined int64
	sumTau, sumRBO      float64

	dwell           *ddsketch.DDSketch
	dwellSum        float64
	scrolls         int64
	scrollSum       float64
	visits, repeats int64
}

// New validates cfg and returns an Analyzer.
func New(cfg Config) (*Analyzer, error) {
	if cfg.Segments == nil {
		k, err := segment.NewKeyer(segment.Config{})
		if err != nil {
			return nil, err
		}
		cfg.Segments = k
	}
	def := func(v *int, d int, name string) error {
		if *v == 0 {
			*v = d
		}
		if *v < 0 {
			return fmt.Errorf("relevance: Config.%s: must be > 0, got %d", name, *v)
		}
		return nil
	}
	for _, f := range []struct {
		v    *int
		d    int
		name string
	}{
		{&cfg.MaxSegments, 1024, "MaxSegments"}, {&cfg.K, 10, "K"}, {&cfg.Bins, 10, "Bins"},
		{&cfg.FineBins, 100, "FineBins"}, {&cfg.MaxPosition, 20, "MaxPosition"},
		{&cfg.BiasItems, 10_000, "BiasItems"}, {&cfg.StabilityDepth, 20, "StabilityDepth"},
		{&cfg.MaxUsers, 100_000, "MaxUsers"},
	} {
		if err := def(f.v, f.d, f.name); err != nil {
			return nil, err
		}
	}
	if cfg.FineBins%cfg.Bins != 0 {
		return nil, fmt.Errorf("relevance: Config.FineBins: must be a multiple of Bins (%d), got %d", cfg.Bins, cfg.FineBins)
	}
	if cfg.MaxPosition < 2 {
		return nil, fmt.Errorf("relevance: Config.MaxPosition: must be >= 2, got %d", cfg.MaxPosition)
	}
	if cfg.Gain == 0 {
		cfg.Gain = GainLinear
	}
	if cfg.Gain > GainExponential {
		return nil, fmt.Errorf("relevance: Config.Gain: unknown value %d", cfg.Gain)
	}
	if cfg.Persistence == 0 {
		cfg.Persistence = 0.9
	}
	if !(cfg.Persistence > 0 && cfg.Persistence < 1) {
		return nil, fmt.Errorf("relevance: Config.Persistence: must be in (0,1), got %v", cfg.Persistence)
	}
	if cfg.RepeatWindow == 0 {
		cfg.RepeatWindow = 7 * 24 * time.Hour
	}
	if cfg.RepeatWindow < 0 {
		return nil, fmt.Errorf("relevance: Config.RepeatWindow: must be > 0, got %v", cfg.RepeatWindow)
	}
	a := &Analyzer{cfg: cfg, keyer: cfg.Segments, segs: make(map[segment.Key]*acc),
		last: newGenMap[userSurface, []string](cfg.MaxUsers), visits: newGenMap[string, visit](cfg.MaxUsers)}
	var err error
	if a.bias, err = NewPositionBias(cfg.MaxPosition, cfg.BiasItems); err != nil {
		return nil, err
	}
	if a.join, err = NewJoiner(cfg.Join, a.finalize); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Analyzer) newAcc() *acc {
	cal, _ := NewCalibrator(a.cfg.Bins, a.cfg.FineBins)
	sk, _ := ddsketch.NewDefaultDDSketch(0.01)
	return &acc{cal: cal, posImps: make([]int64, a.cfg.MaxPosition), posClicks: make([]int64, a.cfg.MaxPosition), dwell: sk}
}

// seg returns the accumulator of k and the key it is stored under
// (OverflowKey once MaxSegments is reached).
func (a *Analyzer) seg(k segment.Key) (*acc, segment.Key) {
	s := a.segs[k]
	if s != nil {
		return s, k
	}
	if len(a.segs) >= a.cfg.MaxSegments {
		a.overflow++
		k = OverflowKey
		if s = a.segs[k]; s != nil {
			return s, k
		}
	}
	s = a.newAcc()
	a.segs[k] = s
	return s, k
}

// Export implements personalize.Exporter: it observes every event of the
// batch. It never returns an error for event content; after Shutdown it
// returns an error.
func (a *Analyzer) Export(_ context.Context, batch []personalize.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return errors.New("relevance: Analyzer: Export after Shutdown")
	}
	for i := range batch {
		a.observe(batch[i])
	}
	return nil
}

// Observe adds one event. It has the signature file.ReadDir and similar
// readers expect, and never fails on event content.
func (a *Analyzer) Observe(e personalize.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.observe(e)
	return nil
}

// ForceFlush does nothing: impressions wait for their outcomes until the
// join window closes. Use [Analyzer.Flush] to finalize them now.
func (a *Analyzer) ForceFlush(context.Context) error { return nil }

// Shutdown finalizes every pending impression; the Analyzer stays readable.
func (a *Analyzer) Shutdown(context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.join.Flush()
	a.closed = true
	return nil
}

// Flush finalizes every impression still waiting for outcomes, so that a
// report covers all events observed so far. Outcomes arriving afterwards
// for those impressions are counted as unjoined.
func (a *Analyzer) Flush() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.join.Flush()
}

func (a *Analyzer) observe(e personalize.Event) {
	a.events++
	switch {
	case e.Impression != nil:
		a.impression(e.Impression)
	case e.Outcome != nil:
		a.outcome(e.Outcome)
	default:
		a.ignored++
	}
}

func (a *Analyzer) impression(im *personalize.Impression) {
	r := a.join.Impression(im)
	if r == nil {
		return
	}
	s, k := a.seg(a.keyer.Key(im))
	r.Key, r.seg = k, s
	a.stability(s, im, r)
	a.visit(s, im)
}

func (a *Analyzer) outcome(o *personalize.Outcome) {
	r := a.join.Outcome(o)
	if o.Kind != personalize.OutcomeDwell && o.Kind != personalize.OutcomeScroll {
		return
	}
	if r == nil {
		a.unjoinedEngagement++
		return
	}
	s := r.seg
	if o.Kind == personalize.OutcomeDwell {
		d := o.Dwell.Seconds()
		_ = s.dwell.Add(d) // rejects only negative values, which validation excludes
		s.dwellSum += d
	} else {
		s.scrolls++
		s.scrollSum += o.ScrollDepth
	}
}

// finalize is called by the joiner once an impression's window closed.
func (a *Analyzer) finalize(r *Joined) {
	s := r.seg
	im := r.Impression
	s.impressions++
	for slot, i := range r.Order {
		it := &im.Items[i]
		s.cal.Observe(it.Score, r.Grade[slot] > 0)
		if p := it.Position; p >= 1 && p <= a.cfg.MaxPosition {
			s.posImps[p-1]++
			if r.Clicked[slot] {
				s.posClicks[p-1]++
			}
		}
		a.bias.Observe(it.ID, it.Position, r.Clicked[slot])
	}
	var m ListMetrics
	m, a.scratch = ScoreList(r.Grade, a.cfg.K, a.cfg.Gain, a.scratch)
	if m.Relevant > 0 {
		s.judged++
		s.sumNDCG += m.NDCG
		s.sumRR += m.RR
		s.sumPrec += m.Precision
		s.sumRec += m.Recall
	}
}

func (a *Analyzer) stability(s *acc, im *personalize.Impression, r *Joined) {
	user := im.UserID.ID
	if user == "" {
		user = im.SessionID.ID
	}
	if user == "" {
		return
	}
	a.cur = a.cur[:0]
	for _, i := range r.Order {
		if len(a.cur) == a.cfg.StabilityDepth {
			break
		}
		id := im.Items[i].ID
		if !slices.Contains(a.cur, id) {
			a.cur = append(a.cur, id)
		}
	}
	key := userSurface{user, im.Surface}
	prev, ok := a.last.get(key)
	if ok && (len(prev) > 0 || len(a.cur) > 0) {
		a.crossIndex(prev, a.cur)
		s.pairs++
		s.sumRBO += rboIndexed(a.pInC, a.cInP, a.cfg.Persistence).Ext
		tau := a.unionTau(len(prev), len(a.cur))
		if math.IsNaN(tau) {
			s.tauUndefined++
		} else {
			s.sumTau += tau
		}
	}
	prev = append(prev[:0], a.cur...)
	a.last.put(key, prev)
}

// crossIndex fills pInC and cInP with the rank of each item of p in c and
// of c in p (-1 when absent), by linear search: the lists are short.
func (a *Analyzer) crossIndex(p, c []string) {
	a.pInC, a.cInP = a.pInC[:0], a.cInP[:0]
	for range c {
		a.cInP = append(a.cInP, -1)
	}
	for i, id := range p {
		j := indexOf(c, id)
		a.pInC = append(a.pInC, j)
		if j >= 0 {
			a.cInP[j] = i
		}
	}
}

// indexOf is slices.Index for short lists of ids that often share a
// prefix and a length: it compares the last byte before calling memequal.
func indexOf(list []string, id string) int {
	n := len(id)
	if n == 0 {
		return slices.Index(list, id)
	}
	last := id[n-1]
	for i, s := range list {
		if len(s) == n && s[n-1] == last && s == id {
			return i
		}
	}
	return -1
}

// unionTau is Kendall's tau-b over the union of the previous (np items) and
// current (nc items) top lists, an item missing from a list tied at rank
// len(list)+1 in it. It reads the cross index of crossIndex.
//
// The union has a known shape, so tau-b needs no pair loop. List the
// previous items in order, then the k items new in the current list in
// its order: x (previous rank) increases strictly over the previous items
// and ties the k new ones at np+1; y (current rank) is distinct except
// for the u previous items missing from the current list, tied at nc+1,
// and increases over the new items. So the only ties are the C(k,2) new
// pairs (in x only) and the C(u,2) missing pairs (in y only), every other
// pair has x ascending, and P - Q = S - C(k,2) where S is the sum over
// all pairs i < j of sign(y_j - y_i), counted with a Fenwick tree.
// Then tau-b = (S - C(k,2)) / sqrt((C(n,2) - C(u,2)) (C(n,2) - C(k,2))).
func (a *Analyzer) unionTau(np, nc int) float64 {
	a.ry = a.ry[:0]
	u, k := 0, 0
	for _, j := range a.pInC {
		if j < 0 {
			j = nc
			u++
		}
		a.ry = append(a.ry, int32(j+1))
	}
	for j, i := range a.cInP {
		if i < 0 {
			a.ry = append(a.ry, int32(j+1))
			k++
		}
	}
	n := len(a.ry)
	if n < 2 {
		return math.NaN()
	}
	// Fenwick tree over y in 1..nc+1: seen counts earlier values.
	a.rx = append(a.rx[:0], make([]int32, nc+2)...)
	tree := a.rx
	var sum int
	for i, y := range a.ry {
		below, le := 0, 0 // earlier values < y and <= y
		for v := int(y) - 1; v > 0; v -= v & -v {
			below += int(tree[v])
		}
		for v := int(y); v > 0; v -= v & -v {
			le += int(tree[v])
		}
		sum += below - (i - le) // ascending pairs minus descending pairs
		for v := int(y); v < len(tree); v += v & -v {
			tree[v]++
		}
	}
	c2 := func(m int) int { return m * (m - 1) / 2 }
	return float64(sum-c2(k)) / math.Sqrt(float64(c2(n)-c2(u))*float64(c2(n)-c2(k)))
}

func (a *Analyzer) visit(s *acc, im *personalize.Impression) {
	if im.UserID.ID == "" || im.SessionID.ID == "" {
		return
	}
	v, ok := a.visits.get(im.UserID.ID)
	if ok && v.session == im.SessionID.ID {
		if im.End.After(v.at) {
			v.at = im.End
			a.visits.put(im.UserID.ID, v)
		}
		return
	}
	s.visits++
	if ok && im.End.Sub(v.at) <= a.cfg.RepeatWindow {
		s.repeats++
	}
	a.visits.put(im.UserID.ID, visit{session: im.SessionID.ID, at: im.End})
}

// Name implements personalize.Named: the pipeline's stats and metrics call
// this exporter "relevance".
func (a *Analyzer) Name() string { return "relevance" }
