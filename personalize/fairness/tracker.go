package fairness

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/relevance"
	"github.com/rankscope/rankscope/personalize/segment"
)

// Band is an accepted interval [Min, Max] for a ratio.
type Band struct{ Min, Max float64 }

// Contains reports whether v is in the band (NaN is not).
func (b Band) Contains(v float64) bool { return v >= b.Min && v <= b.Max }

// AlertState says whether an alert starts or ends.
type AlertState uint8

// Alert states.
const (
	AlertFiring   AlertState = iota + 1 // the ratio left its band
	AlertResolved                       // the ratio is back in its band
)

// Alert reports a ratio leaving (or re-entering) its configured band.
type Alert struct {
	State   AlertState
	Segment segment.Key
	Ratio   Ratio
	Value   float64
	Band    Band
}

// Config configures a [Tracker]. The zero value means the defaults.
type Config struct {
	// Segments derives user segments; nil means every dimension.
	Segments *segment.Keyer
	// MaxSegments bounds distinct segment keys (default 256); further
	// traffic goes to relevance.OverflowKey.
	MaxSegments int
	// Group names the group of an item; nil means Item.Provider, or "_none"
	// when empty.
	Group func(*personalize.Item) string
	// MaxGroups bounds groups per segment (default 1000); further groups
	// fold into OtherGroup.
	MaxGroups int
	// Relevance is an item's expected relevance u_d; nil means Item.Score
	// clamped to [0,1] (the score read as a probability of relevance).
	Relevance func(*personalize.Item) float64
	// Weight is the position weight (nil: LogDiscount) tabulated for
	// positions 1..MaxPosition (default 100; beyond weighs 0).
	Weight      func(position int) float64
	MaxPosition int
	// Distance, if set, adds the mean intra-list diversity per segment.
	// It runs O(n^2) per impression.
	Distance Distance
	// CatalogSize is the number of recommendable items, for coverage (0:
	// unknown). MaxCatalogItems bounds exact item counts (default 100,000).
	CatalogSize     int
	MaxCatalogItems int

	// MinAppearances is the least placements a group needs to enter the
	// ratios (default 100).
	MinAppearances int64
	// Bands are the accepted intervals per ratio. Nil means
	// {RatioDemographicParity: [0.8, 1], RatioDisparateTreatment: [0.8, 1]}.
	Bands map[Ratio]Band
	// AlertDims are the segment dimensions alerts are evaluated on
	// (default segment.DimNone: all traffic).
	AlertDims segment.Dim
	// OnAlert is called, from the goroutine calling Export or Check, when a
	// ratio leaves its band (once) and when it returns (once). It must be
	// fast and must not call the Tracker.
	OnAlert func(Alert)
	// Join configures the outcome join used for click rates.
	Join relevance.JoinConfig
}

// Tracker measures exposure fairness, diversity and outcome rates per
// segment. It is a personalize.Exporter; offline, feed it with
// [Tracker.Observe] and call [Tracker.Flush]. Impressions are counted once
// their outcome window closes (see relevance.Joiner), so exposure, clicks
// and rates always describe the same impressions.
//
// Safe for concurrent use (one mutex).
type Tracker struct {
	cfg     Config
	keyer   *segment.Keyer
	weights Weights

	mu      sync.Mutex
	join    *relevance.Joiner
	segs    map[segment.Key]*segAcc
	catalog *Catalog
	firing  map[alertKey]bool
	closed  bool
	stats   Stats
}

var _ personalize.Exporter = (*Tracker)(nil)

type alertKey struct {
	key   segment.Key
	ratio Ratio
}

type segAcc struct {
	exp                       *Exposure
	impressions, clickedImpr  int64
	clicks                    int64
	lists                     int64
	sumEntropy, sumCategories float64
	ildLists                  int64
	sumILD                    float64
}

// Stats counts what a Tracker saw.
type Stats struct {
	Events          int64
	Ignored         int64
	ClampedScores   int64 // default relevance: scores outside [0,1] clamped
	BadDistance     int64 // impressions whose Distance returned a non-finite value
	SegmentOverflow int64
	Join            relevance.JoinStats
}

// New validates cfg and returns a Tracker.
func New(cfg Config) (*Tracker, error) {
	if cfg.Segments == nil {
		k, err := segment.NewKeyer(segment.Config{})
		if err != nil {
			return nil, err
		}
		cfg.Segments = k
	}
	for _, f := range []struct {
		v    *int
		d    int
		name string
	}{{&cfg.MaxSegments, 256, "MaxSegments"}, {&cfg.MaxGroups, 1000, "MaxGroups"}, {&cfg.MaxPosition, 100, "MaxPosition"}, {&cfg.MaxCatalogItems, 100_000, "MaxCatalogItems"}} {
		if *f.v == 0 {
			*f.v = f.d
		}
		if *f.v < 0 {
			return nil, fmt.Errorf("fairness: Config.%s: must be > 0, got %d", f.name, *f.v)
		}
	}
	if cfg.CatalogSize < 0 {
		return nil, fmt.Errorf("fairness: Config.CatalogSize: must be >= 0, got %d", cfg.CatalogSize)
	}
	if cfg.MinAppearances == 0 {
		cfg.MinAppearances = 100
	}
	if cfg.MinAppearances < 0 {
		return nil, fmt.Errorf("fairness: Config.MinAppearances: must be > 0, got %d", cfg.MinAppearances)
	}
	if cfg.Bands == nil {
		cfg.Bands = map[Ratio]Band{RatioDemographicParity: {0.8, 1}, RatioDisparateTreatment: {0.8, 1}}
	}
	for r, b := range cfg.Bands {
		if r == 0 || r > RatioDisparateImpact {
			return nil, fmt.Errorf("fairness: Config.Bands: unknown ratio %d", r)
		}
		if !(b.Min <= b.Max) {
			return nil, fmt.Errorf("fairness: Config.Bands[%s]: Min must be <= Max, got %v", r, b)
		}
	}
	w, err := NewWeights(cfg.MaxPosition, cfg.Weight)
	if err != nil {
		return nil, err
	}
	t := &Tracker{cfg: cfg, keyer: cfg.Segments, weights: w, segs: make(map[segment.Key]*segAcc), firing: make(map[alertKey]bool)}
	if t.catalog, err = NewCatalog(cfg.MaxCatalogItems); err != nil {
		return nil, err
	}
	if t.join, err = relevance.NewJoiner(cfg.Join, t.finalize); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Tracker) group(it *personalize.Item) string {
	if t.cfg.Group != nil {
		return t.cfg.Group(it)
	}
	if it.Provider == "" {
		return "_none"
	}
	return it.Provider
}

func (t *Tracker) relevance(it *personalize.Item) float64 {
	if t.cfg.Relevance != nil {
		return t.cfg.Relevance(it)
	}
	s := it.Score
	if !(s >= 0 && s <= 1) {
		t.stats.ClampedScores++
		s = min(max(s, 0), 1)
	}
	return s
}

func (t *Tracker) seg(k segment.Key) (*segAcc, segment.Key) {
	if s := t.segs[k]; s != nil {
		return s, k
	}
	if len(t.segs) >= t.cfg.MaxSegments {
		t.stats.SegmentOverflow++
		k = relevance.OverflowKey
		if s := t.segs[k]; s != nil {
			return s, k
		}
	}
	exp, _ := NewExposure(t.weights, t.cfg.MaxGroups)
	s := &segAcc{exp: exp}
	t.segs[k] = s
	return s, k
}

// Export implements personalize.Exporter and then checks the alert bands.
func (t *Tracker) Export(_ context.Context, batch []personalize.Event) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errors.New("fairness: Tracker: Export after Shutdown")
	}
	for i := range batch {
		t.observe(batch[i])
	}
	t.check()
	return nil
}

// Observe adds one event (the fn of file.ReadDir). It does
// not check alerts; call [Tracker.Check].
func (t *Tracker) Observe(e personalize.Event) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.observe(e)
	return nil
}

// ForceFlush does nothing (impressions wait for outcomes; see Flush).
func (t *Tracker) ForceFlush(context.Context) error { return nil }

// Shutdown finalizes pending impressions and checks alerts a last time.
func (t *Tracker) Shutdown(context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.join.Flush()
	t.check()
	t.closed = true
	return nil
}

// Flush finalizes every impression waiting for outcomes.
func (t *Tracker) Flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.join.Flush()
}

// Check evaluates the alert bands now.
func (t *Tracker) Check() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.check()
}

func (t *Tracker) observe(e personalize.Event) {
	t.stats.Events++
	switch {
	case e.Impression != nil:
		if r := t.join.Impression(e.Impression); r != nil {
			_, r.Key = t.seg(t.keyer.Key(e.Impression))
		}
	case e.Outcome != nil:
		t.join.Outcome(e.Outcome)
	default:
		t.stats.Ignored++
	}
}

func (t *Tracker) finalize(r *relevance.Joined) {
	s := t.segs[r.Key]
	im := r.Impression
	s.impressions++
	clicked := false
	for slot, i := range r.Order {
		it := &im.Items[i]
		g := t.group(it)
		s.exp.Observe(g, it.Position, t.relevance(it))
		t.catalog.Observe(it.ID, t.weights.At(it.Position))
		if r.Clicked[slot] {
			clicked = true
			s.clicks++
			s.exp.Click(g)
		}
	}
	if clicked {
		s.clickedImpr++
	}
	if len(im.Items) > 0 {
		s.lists++
		n, h := categoryStats(im.Items)
		s.sumEntropy += h
		s.sumCategories += float64(n)
	}
	if t.cfg.Distance != nil && len(im.Items) > 1 {
		if d, err := IntraListDiversity(im.Items, t.cfg.Distance); err == nil {
			s.ildLists++
			s.sumILD += d
		} else {
			t.stats.BadDistance++
		}
	}
}

func (t *Tracker) merged(dims segment.Dim) map[segment.Key]*segAcc {
	out := make(map[segment.Key]*segAcc)
	for k, s := range t.segs {
		pk := k
		if k != relevance.OverflowKey {
			pk = k.Project(dims)
		}
		m := out[pk]
		if m == nil {
			exp, _ := NewExposure(t.weights, t.cfg.MaxGroups)
			m = &segAcc{exp: exp}
			out[pk] = m
		}
		m.exp.Merge(s.exp)
		m.impressions += s.impressions
		m.clickedImpr += s.clickedImpr
		m.clicks += s.clicks
		m.lists += s.lists
		m.sumEntropy += s.sumEntropy
		m.sumCategories += s.sumCategories
		m.ildLists += s.ildLists
		m.sumILD += s.sumILD
	}
	return out
}

func (t *Tracker) check() {
	if t.cfg.OnAlert == nil || len(t.cfg.Bands) == 0 {
		return
	}
	m := t.merged(t.cfg.AlertDims)
	keys := make([]segment.Key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b segment.Key) int { return strings.Compare(a.String(), b.String()) })
	ratios := make([]Ratio, 0, len(t.cfg.Bands))
	for r := range t.cfg.Bands {
		ratios = append(ratios, r)
	}
	slices.Sort(ratios)
	for _, k := range keys {
		_, rs := m[k].exp.Report(t.cfg.MinAppearances)
		for _, r := range ratios {
			band := t.cfg.Bands[r]
			v := rs.Get(r)
			if math.IsNaN(v) {
				continue
			}
			ak := alertKey{k, r}
			in := band.Contains(v)
			switch {
			case !in && !t.firing[ak]:
				t.firing[ak] = true
				t.cfg.OnAlert(Alert{State: AlertFiring, Segment: k, Ratio: r, Value: v, Band: band})
			case in && t.firing[ak]:
				delete(t.firing, ak)
				t.cfg.OnAlert(Alert{State: AlertResolved, Segment: k, Ratio: r, Value: v, Band: band})
			}
		}
	}
}

// Report is a snapshot of a Tracker, split by segment.
type Report struct {
	Dims     segment.Dim
	Segments []SegmentReport // sorted by Key.String()
	// Catalog is over all traffic.
	Catalog CatalogReport
	Stats   Stats
}

// SegmentReport is one segment's exposure fairness, diversity and
// outcome rates.
type SegmentReport struct {
	Key    segment.Key
	Groups []GroupReport
	Ratios Ratios
	// Impressions finalized; ClickedImpressions those with at least one
	// click; OutcomeRate = ClickedImpressions/Impressions; CTR =
	// Clicks/placements.
	Impressions, ClickedImpressions, Clicks int64
	OutcomeRate, CTR                        float64
	// Diversity within rankings, means over impressions: category entropy
	// in bits, distinct categories, and intra-list diversity (NaN without
	// Config.Distance).
	MeanCategoryEntropy, MeanCategories, MeanILD float64
}

// Report returns the results merged onto dims.
func (t *Tracker) Report(dims segment.Dim) Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	rep := Report{Dims: dims, Catalog: t.catalog.Report(t.cfg.CatalogSize), Stats: t.stats}
	rep.Stats.Join = t.join.Stats()
	for k, m := range t.merged(dims) {
		sr := SegmentReport{Key: k, Impressions: m.impressions, ClickedImpressions: m.clickedImpr, Clicks: m.clicks}
		sr.Groups, sr.Ratios = m.exp.Report(t.cfg.MinAppearances)
		var placements int64
		for _, g := range sr.Groups {
			placements += g.Appearances
		}
		sr.OutcomeRate = div(float64(m.clickedImpr), float64(m.impressions))
		sr.CTR = div(float64(m.clicks), float64(placements))
		sr.MeanCategoryEntropy = div(m.sumEntropy, float64(m.lists))
		sr.MeanCategories = div(m.sumCategories, float64(m.lists))
		sr.MeanILD = div(m.sumILD, float64(m.ildLists))
		rep.Segments = append(rep.Segments, sr)
	}
	slices.SortFunc(rep.Segments, func(a, b SegmentReport) int { return strings.Compare(a.Key.String(), b.Key.String()) })
	return rep
}

// Name implements personalize.Named: the pipeline's stats and metrics call
// this exporter "fairness".
func (t *Tracker) Name() string { return "fairness" }
