package experiment

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/schema"
)

// Aggregate says how a unit's outcomes of one kind become the unit's value.
type Aggregate uint8

// Aggregates.
const (
	AggregateAny   Aggregate = iota + 1 // 1 if the unit had at least one such outcome, else 0 (a rate; binary tests)
	AggregateCount                      // number of such outcomes per unit (Welch)
	AggregateValue                      // sum of the outcomes' values per unit: Value, dwell seconds for dwell, depth for scroll (Welch)
)

var aggregateNames = [...]string{"", "any", "count", "value"}

func (a Aggregate) String() string {
	if a != 0 && int(a) < len(aggregateNames) {
		return aggregateNames[a]
	}
	return "unknown"
}

// Metric is a per-unit metric computed from outcomes after the unit's
// exposure.
type Metric struct {
	Name      string
	Kind      personalize.OutcomeKind
	Custom    string // Outcome.Name for OutcomeCustom
	Aggregate Aggregate
}

// DefaultMetrics are click-through (units with a click), clicks per unit,
// conversion (units with a purchase) and revenue per unit.
func DefaultMetrics() []Metric {
	return []Metric{
		{Name: "click_rate", Kind: personalize.OutcomeClick, Aggregate: AggregateAny},
		{Name: "clicks_per_unit", Kind: personalize.OutcomeClick, Aggregate: AggregateCount},
		{Name: "conversion", Kind: personalize.OutcomePurchase, Aggregate: AggregateAny},
		{Name: "revenue_per_unit", Kind: personalize.OutcomePurchase, Aggregate: AggregateValue},
	}
}

// CollectorConfig configures a [Collector]. Zero values mean defaults.
type CollectorConfig struct {
	// Metrics to compute (default [DefaultMetrics]).
	Metrics []Metric
	// Experiments to collect; empty means all.
	Experiments []string
	// MaxUnits bounds the units remembered (default 1<<24). Memory is
	// about 120 bytes plus the id length per unit, plus 16 bytes per
	// tracked outcome kind per unit and 40 bytes per (unit, experiment).
	// Events of new units beyond the bound are dropped and counted in
	// [CollectorStats].DroppedUnits.
	MaxUnits int
}

// Collector joins outcomes to experiment arms by pseudonymized unit.
//
// A unit enters an experiment at its first exposure event, or at its
// first impression carrying the experiment in Experiments, whichever comes
// first. Outcomes of the unit before that moment form its pre-period
// (the CUPED covariate); outcomes after it count for the metrics. Events
// are taken in the order given, which for event files is the order
// written. A unit seen in two variants of one experiment is excluded from
// that experiment and counted as a conflict. Outcomes without a user
// pseudonym cannot be joined and are counted.
type Collector struct {
	mu      sync.Mutex
	metrics []Metric
	filter  map[string]bool
	max     int

	sources []source // tracked (kind, custom name) pairs
	srcOf   [8]int   // kind -> source index for non-custom kinds, -1 none

	unitIdx map[string]int32
	tot     []agg   // len(unitIdx) * len(sources)
	head    []int32 // first membership of each unit, -1 none

	exps    []*expState
	expIdx  map[string]int
	members []membership
	snaps   []agg // len(members) * len(sources)
	scratch schema.Fields
	stats   CollectorStats
}

type source struct {
	kind   personalize.OutcomeKind
	custom string
}

type agg struct {
	n float64
	v float64
}

type membership struct {
	exp, variant uint16
	conflict     bool
	unit         int32
	next         int32
	time         int64
}

type expState struct {
	name       string
	variants   []string
	variantIdx map[string]int
	first      int64
	last       int64
	members    []int32
}

// CollectorStats counts what a Collector saw.
type CollectorStats struct {
	Lines         int64 // lines given to AddLine
	FastPath      int64 // lines handled by the field scanner
	Events        int64 // events processed
	Outcomes      int64
	Exposures     int64 // exposure events
	Impressions   int64
	Unjoined      int64 // outcomes without a user pseudonym
	DroppedUnits  int64 // events of units beyond MaxUnits
	Malformed     int64 // lines that are not valid events (skipped)
	FirstMalError string
}

// NewCollector validates cfg and returns an empty collector.
func NewCollector(cfg CollectorConfig) (*Collector, error) {
	if len(cfg.Metrics) == 0 {
		cfg.Metrics = DefaultMetrics()
	}
	if cfg.MaxUnits == 0 {
		cfg.MaxUnits = 1 << 24
	}
	if cfg.MaxUnits < 1 || cfg.MaxUnits > 1<<30 {
		return nil, fmt.Errorf("experiment: CollectorConfig.MaxUnits: must be in [1, 2^30], got %d", cfg.MaxUnits)
	}
	c := &Collector{metrics: slices.Clone(cfg.Metrics), max: cfg.MaxUnits, unitIdx: map[string]int32{}, expIdx: map[string]int{}}
	for i := range c.srcOf {
		c.srcOf[i] = -1
	}
	if err := validateMetrics(c.metrics, "CollectorConfig.Metrics"); err != nil {
		return nil, err
	}
	for _, m := range c.metrics {
		if c.sourceOf(m.Kind, m.Custom) < 0 {
			c.sources = append(c.sources, source{m.Kind, m.Custom})
			if m.Kind != personalize.OutcomeCustom {
				c.srcOf[m.Kind] = len(c.sources) - 1
			}
		}
	}
	if len(cfg.Experiments) > 0 {
		c.filter = map[string]bool{}
		for _, e := range cfg.Experiments {
			c.filter[e] = true
		}
	}
	return c, nil
}

// validateMetrics checks metrics as NewCollector takes them; field
// prefixes errors ("CollectorConfig.Metrics").
func validateMetrics(metrics []Metric, field string) error {
	names := map[string]bool{}
	for i, m := range metrics {
		if m.Name == "" {
			return fmt.Errorf("experiment: %s[%d].Name: must be set", field, i)
		}
		if names[m.Name] {
			return fmt.Errorf("experiment: %s[%d].Name: duplicate %q", field, i, m.Name)
		}
		names[m.Name] = true
		if m.Kind == 0 || m.Kind > personalize.OutcomeCustom {
			return fmt.Errorf("experiment: %s[%d].Kind: unknown kind %d", field, i, m.Kind)
		}
		if m.Aggregate == 0 || m.Aggregate > AggregateValue {
			return fmt.Errorf("experiment: %s[%d].Aggregate: unknown aggregate %d", field, i, m.Aggregate)
		}
		if (m.Kind == personalize.OutcomeCustom) != (m.Custom != "") {
			return fmt.Errorf("experiment: %s[%d].Custom: required for OutcomeCustom and only for it", field, i)
		}
	}
	return nil
}

func (c *Collector) sourceOf(k personalize.OutcomeKind, custom string) int {
	for i, s := range c.sources {
		if s.kind == k && s.custom == custom {
			return i
		}
	}
	return -1
}

// Stats returns the counters so far.
func (c *Collector) Stats() CollectorStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *Collector) unit(id []byte, create bool) int32 {
	if u, ok := c.unitIdx[string(id)]; ok {
		return u
	}
	if !create {
		return -1
	}
	if len(c.unitIdx) >= c.max {
		c.stats.DroppedUnits++
		return -1
	}
	u := int32(len(c.unitIdx))
	c.unitIdx[string(id)] = u
	for range c.sources {
		c.tot = append(c.tot, agg{})
	}
	c.head = append(c.head, -1)
	return u
}

func (c *Collector) outcome(user []byte, kind personalize.OutcomeKind, name []byte, value float64) {
	c.stats.Outcomes++
	if len(user) == 0 {
		c.stats.Unjoined++
		return
	}
	s := -1
	if kind == personalize.OutcomeCustom {
		for i, src := range c.sources {
			if src.kind == kind && src.custom == string(name) {
				s = i
			}
		}
	} else if int(kind) < len(c.srcOf) {
		s = c.srcOf[kind]
	}
	if s < 0 {
		return // not a tracked kind
	}
	u := c.unit(user, true)
	if u < 0 {
		return
	}
	a := &c.tot[int(u)*len(c.sources)+s]
	a.n++
	a.v += value
}

func (c *Collector) expose(user, experiment, variant []byte, ts func() time.Time) {
	if len(user) == 0 || len(experiment) == 0 || len(variant) == 0 {
		return
	}
	if c.filter != nil && !c.filter[string(experiment)] {
		return
	}
	u := c.unit(user, true)
	if u < 0 {
		return
	}
	ei, ok := c.expIdx[string(experiment)]
	if !ok {
		if len(c.exps) >= 1<<16 {
			return
		}
		ei = len(c.exps)
		c.exps = append(c.exps, &expState{name: string(experiment), variantIdx: map[string]int{}})
		c.expIdx[string(experiment)] = ei
	}
	e := c.exps[ei]
	vi, ok := e.variantIdx[string(variant)]
	if !ok {
		if len(e.variants) >= 1<<16 {
			return
		}
		vi = len(e.variants)
		e.variants = append(e.variants, string(variant))
		e.variantIdx[string(variant)] = vi
	}
	for m := c.head[u]; m >= 0; m = c.members[m].next {
		if int(c.members[m].exp) == ei {
			if int(c.members[m].variant) != vi {
				c.members[m].conflict = true
			}
			return
		}
	}
	t := ts().UnixNano()
	m := int32(len(c.members))
	c.members = append(c.members, membership{exp: uint16(ei), variant: uint16(vi), unit: u, next: c.head[u], time: t})
	c.head[u] = m
	base := int(u) * len(c.sources)
	c.snaps = append(c.snaps, c.tot[base:base+len(c.sources)]...)
	e.members = append(e.members, m)
	if e.first == 0 || t < e.first {
		e.first = t
	}
	if t > e.last {
		e.last = t
	}
}

func outcomeValue(kind personalize.OutcomeKind, value float64, dwell time.Duration, scroll float64) float64 {
	switch kind {
	case personalize.OutcomeDwell:
		return dwell.Seconds()
	case personalize.OutcomeScroll:
		return scroll
	}
	return value
}

// Add processes one decoded event (use it with exporters/file.ReadDir).
func (c *Collector) Add(e personalize.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addLocked(e)
}

func (c *Collector) addLocked(e personalize.Event) {
	c.stats.Events++
	switch {
	case e.Outcome != nil:
		o := e.Outcome
		c.outcome([]byte(o.UserID.ID), o.Kind, []byte(o.Name), outcomeValue(o.Kind, o.Value, o.Dwell, o.ScrollDepth))
	case e.Exposure != nil:
		x := e.Exposure
		c.stats.Exposures++
		c.expose([]byte(x.UserID.ID), []byte(x.Experiment), []byte(x.Variant), func() time.Time { return x.Time })
	case e.Impression != nil:
		im := e.Impression
		c.stats.Impressions++
		for _, a := range im.Experiments {
			c.expose([]byte(im.UserID.ID), []byte(a.Experiment), []byte(a.Variant), func() time.Time { return im.End })
		}
	}
}

// Export implements personalize.Exporter so a Collector can analyse
// events in process (plug it into personalize.Config.Exporters).
func (c *Collector) Export(_ context.Context, batch []personalize.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range batch {
		c.addLocked(e)
	}
	return nil
}

// ForceFlush does nothing.
func (c *Collector) ForceFlush(context.Context) error { return nil }

// Shutdown does nothing.
func (c *Collector) Shutdown(context.Context) error { return nil }

var _ personalize.Exporter = (*Collector)(nil)

// AddLine processes one JSON event line. Lines in the exact shape written
// by personalize.AppendJSON take a fast path (schema.Project) that reads
// only the fields the analysis needs; anything else is decoded with
// schema.UnmarshalEvent. It returns the decode error of an invalid line
// (the line is skipped and counted as Malformed). To analyse event files,
// hand it the lines of exporters/file.ReadLines, which reads directories
// under the same rules as every other reader (torn and encrypted files,
// creation order):
//
//	_, err := file.ReadLines(dir, func(b []byte) error { _ = c.AddLine(b); return nil })
func (c *Collector) AddLine(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Lines++
	return c.addLineLocked(b)
}

func (c *Collector) addLineLocked(b []byte) error {
	l := &c.scratch
	if schema.Project(b, l) && l.Version <= schema.SchemaVersion && c.fast(l) {
		c.stats.FastPath++
		return nil
	}
	e, err := personalize.UnmarshalEvent(b)
	if err != nil {
		c.stats.Malformed++
		if c.stats.FirstMalError == "" {
			c.stats.FirstMalError = err.Error()
		}
		return err
	}
	c.addLocked(e)
	return nil
}

// fast handles a scanned line; false means "let the full decoder do it".
func (c *Collector) fast(l *schema.Fields) bool {
	parseTime := func() time.Time {
		t, err := time.Parse(time.RFC3339Nano, bstr(l.Time))
		if err != nil {
			return time.Time{}
		}
		return t
	}
	switch string(l.Type) {
	case "outcome":
		kind, ok := personalize.ParseOutcomeKind(bstr(l.Kind))
		if !ok {
			return false
		}
		c.stats.Events++
		c.outcome(l.UserID, kind, l.Name, outcomeValue(kind, l.Value, time.Duration(l.DwellNS), l.ScrollDepth))
	case "exposure":
		if len(l.Time) == 0 {
			return false
		}
		c.stats.Events++
		c.stats.Exposures++
		c.expose(l.UserID, l.Experiment, l.Variant, parseTime)
	case "impression":
		if len(l.Time) == 0 {
			return false
		}
		c.stats.Events++
		c.stats.Impressions++
		for _, p := range l.Experiments {
			c.expose(l.UserID, p[0], p[1], parseTime)
		}
	case "link":
		c.stats.Events++
	default:
		return false
	}
	return true
}

// Name implements personalize.Named: the pipeline's stats and metrics call
// this exporter "experiment".
func (c *Collector) Name() string { return "experiment" }

// Experiments returns the experiments seen so far, each with its variants
// in order of first appearance.
func (c *Collector) Experiments() map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string][]string, len(c.exps))
	for _, e := range c.exps {
		out[e.name] = append([]string(nil), e.variants...)
	}
	return out
}

// bstr views b as a string without copying; the string must not outlive b.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
