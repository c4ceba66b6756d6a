package drift

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/segment"
)

// Features the event adapter derives from each impression.
const (
	FeatureScore     = "score"      // numeric: every served item's model score
	FeatureItems     = "items"      // numeric: number of items served
	FeatureLatencyMS = "latency_ms" // numeric: end-to-end inference latency
	FeatureSurface   = "surface"    // categorical: Impression.Surface
	FeatureDevice    = "device"     // categorical: context attribute device
	FeatureRegion    = "region"     // categorical: context attribute region
	FeatureCategory  = "category"   // categorical: every served item's category
	FeatureUser      = "user"       // id: pseudonymous user id
	FeatureItem      = "item"       // id: served item id

	// SourceEvents is the freshness source of event age at consumption.
	SourceEvents = "events"
)

// EventFeatures calls num and cat with the features the event adapter
// derives from im, in a fixed order. Use it to collect reference values
// from a reference period, so reference and live features are computed
// the same way.
func EventFeatures(im *personalize.Impression, num func(feature string, v float64), cat func(feature, v string)) {
	num(FeatureItems, float64(len(im.Items)))
	num(FeatureLatencyMS, float64(im.Duration())/float64(time.Millisecond))
	cat(FeatureSurface, im.Surface)
	cat(FeatureDevice, im.Attr(personalize.AttrDevice))
	cat(FeatureRegion, im.Attr(personalize.AttrRegion))
	for i := range im.Items {
		num(FeatureScore, im.Items[i].Score)
		cat(FeatureCategory, im.Items[i].Category)
	}
}

// ReferenceBuilder collects reference values from events. It keeps at most
// MaxValues values per feature (a uniform reservoir beyond that), so its
// memory is bounded. Not safe for concurrent use.
type ReferenceBuilder struct {
	cfg       ReferenceConfig
	maxValues int
	num       map[string]*reservoir[float64]
	cat       map[string]*reservoir[string]
}

type reservoir[T any] struct {
	vals []T
	n    uint64
}

func (r *reservoir[T]) add(v T, max int, h uint64) {
	r.n++
	if len(r.vals) < max {
		r.vals = append(r.vals, v)
		return
	}
	if j := mix64(h+r.n) % r.n; j < uint64(max) {
		r.vals[j] = v
	}
}

// NewReferenceBuilder returns a builder keeping up to maxValues values per
// feature (0 means 100,000).
func NewReferenceBuilder(cfg ReferenceConfig, maxValues int) (*ReferenceBuilder, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if maxValues < 0 {
		return nil, fmt.Errorf("drift: NewReferenceBuilder: maxValues: must be >= 0, got %d", maxValues)
	}
	if maxValues == 0 {
		maxValues = 100_000
	}
	return &ReferenceBuilder{cfg: cfg, maxValues: maxValues, num: map[string]*reservoir[float64]{}, cat: map[string]*reservoir[string]{}}, nil
}

// Add adds an event's features; events other than impressions are ignored.
func (b *ReferenceBuilder) Add(e personalize.Event) error {
	if e.Impression == nil {
		return nil
	}
	EventFeatures(e.Impression, b.AddValue, b.AddCategory)
	return nil
}

// AddValue adds one numeric value.
func (b *ReferenceBuilder) AddValue(feature string, v float64) {
	r := b.num[feature]
	if r == nil {
		r = &reservoir[float64]{}
		b.num[feature] = r
	}
	r.add(v, b.maxValues, b.cfg.Seed^hashString(feature))
}

// AddCategory adds one categorical value.
func (b *ReferenceBuilder) AddCategory(feature, v string) {
	r := b.cat[feature]
	if r == nil {
		r = &reservoir[string]{}
		b.cat[feature] = r
	}
	r.add(v, b.maxValues, b.cfg.Seed^hashString(feature))
}

// Build returns one reference per feature that had a non-missing value.
func (b *ReferenceBuilder) Build() ([]*Reference, error) {
	var out []*Reference
	for name, r := range b.num {
		ref, err := NewNumericReference(name, r.vals, b.cfg)
		if err != nil {
			continue // only missing values: nothing to compare with
		}
		out = append(out, ref)
	}
	for name, r := range b.cat {
		ref, err := NewCategoricalReference(name, r.vals, b.cfg)
		if err != nil {
			continue
		}
		out = append(out, ref)
	}
	if len(out) == 0 {
		return nil, errors.New("drift: ReferenceBuilder.Build: no feature had a non-missing value")
	}
	sortRefs(out)
	return out, nil
}

func sortRefs(r []*Reference) {
	for i := 1; i < len(r); i++ {
		for j := i; j > 0 && r[j].Feature < r[j-1].Feature; j-- {
			r[j], r[j-1] = r[j-1], r[j]
		}
	}
}

// EventMonitor feeds a [Segmented] monitor from events. It implements
// personalize.Exporter, so a service can add it to
// personalize.Config.Exporters, and its Add method serves offline runs
// over event files. Impressions feed the features of [EventFeatures] that
// have a reference (plus FeatureUser and FeatureItem if listed in
// Config.IDs) into the segment's monitor and into the all-traffic monitor
// (the zero key); every event feeds its age (Now - event time) into
// source [SourceEvents] when the config lists it.
type EventMonitor struct {
	seg   *Segmented
	keyer *segment.Keyer
	now   func() time.Time
}

var _ personalize.Exporter = (*EventMonitor)(nil)

// NewEventMonitor returns an adapter over seg. keyer may be nil to keep
// only the all-traffic monitor. now may be nil for time.Now; offline runs
// pass a clock that returns the reading time of the file, or nil to skip
// ages.
func NewEventMonitor(seg *Segmented, keyer *segment.Keyer, now func() time.Time) (*EventMonitor, error) {
	if seg == nil {
		return nil, errors.New("drift: NewEventMonitor: seg: required")
	}
	return &EventMonitor{seg: seg, keyer: keyer, now: now}, nil
}

// Add feeds one event.
func (em *EventMonitor) Add(e personalize.Event) {
	all := em.seg.For(segment.Key{})
	if em.now != nil {
		if t := e.Time(); !t.IsZero() {
			age := em.now().Sub(t)
			all.ObserveAge(SourceEvents, age)
		}
	}
	im := e.Impression
	if im == nil {
		return
	}
	mons := [2]*Monitor{all, nil}
	if em.keyer != nil {
		if k := em.keyer.Key(im); !k.IsZero() {
			mons[1] = em.seg.For(k)
		}
	}
	for _, m := range mons {
		if m != nil {
			m.ev.observe(im)
		}
	}
}

// eventHandles are a monitor's features fed by the event adapter, nil
// when not configured; resolving them once saves two map lookups per
// value on the offline path.
type eventHandles struct {
	score, items, latency             *numericFeature
	surface, device, region, category *catFeature
	user, item                        *catFeature
}

func (m *Monitor) resolveEventFeatures() eventHandles {
	cat := func(name string) *catFeature {
		if f := m.cat[name]; f != nil && f.ref != nil {
			return f
		}
		return nil
	}
	id := func(name string) *catFeature {
		if f := m.cat[name]; f != nil && f.ref == nil {
			return f
		}
		return nil
	}
	return eventHandles{score: m.numeric[FeatureScore], items: m.numeric[FeatureItems], latency: m.numeric[FeatureLatencyMS],
		surface: cat(FeatureSurface), device: cat(FeatureDevice), region: cat(FeatureRegion), category: cat(FeatureCategory),
		user: id(FeatureUser), item: id(FeatureItem)}
}

// observe feeds the features of [EventFeatures] (kept in step with it).
func (h *eventHandles) observe(im *personalize.Impression) {
	if h.items != nil {
		h.items.observe(float64(len(im.Items)))
	}
	if h.latency != nil {
		h.latency.observe(float64(im.Duration()) / float64(time.Millisecond))
	}
	if h.surface != nil {
		h.surface.observe(im.Surface)
	}
	if h.device != nil {
		h.device.observe(im.Attr(personalize.AttrDevice))
	}
	if h.region != nil {
		h.region.observe(im.Attr(personalize.AttrRegion))
	}
	if h.user != nil {
		h.user.observe(im.UserID.ID)
	}
	if h.score != nil {
		h.score.observeScores(im.Items)
	}
	if f := h.category; f != nil && len(im.Items) > 0 {
		// One lock for the whole list; the last few categories' bins are
		// remembered (a list repeats a handful of categories, and decoded
		// categories are interned, so a hit compares pointers).
		var (
			recent [4]string
			bins   [4]int
			next   int
		)
		f.mu.Lock()
	items:
		for i := range im.Items {
			c := im.Items[i].Category
			if c == "" {
				f.missing.Add(1)
				continue
			}
			f.hll.Insert(unsafe.Slice(unsafe.StringData(c), len(c)))
			f.seen.Add(1)
			if f.ref == nil {
				continue
			}
			for j := range recent {
				if recent[j] == c { // c is not "", so empty slots never match
					f.counts[bins[j]].Add(1)
					continue items
				}
			}
			b, ok := f.index[c]
			if !ok {
				b = len(f.counts) - 1
			}
			f.counts[b].Add(1)
			recent[next], bins[next] = c, b
			next = (next + 1) % len(recent)
		}
		f.mu.Unlock()
	}
	if h.item != nil && len(im.Items) > 0 {
		// One lock for the whole list.
		f := h.item
		f.mu.Lock()
		for i := range im.Items {
			id := im.Items[i].ID
			if id == "" {
				f.missing.Add(1)
				continue
			}
			f.seen.Add(1)
			f.hll.Insert(unsafe.Slice(unsafe.StringData(id), len(id)))
		}
		f.mu.Unlock()
	}
}

// Export feeds a batch. It never fails.
func (em *EventMonitor) Export(_ context.Context, batch []personalize.Event) error {
	for i := range batch {
		em.Add(batch[i])
	}
	return nil
}

// ForceFlush does nothing: reports are read with Segmented.Reports.
func (em *EventMonitor) ForceFlush(context.Context) error { return nil }

// Shutdown does nothing.
func (em *EventMonitor) Shutdown(context.Context) error { return nil }

// Name implements personalize.Named.
func (em *EventMonitor) Name() string { return "drift" }
