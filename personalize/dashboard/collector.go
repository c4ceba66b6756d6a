package dashboard

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/dashboard/internal/page"
)

// CollectorConfig configures a [Collector]. The zero value of every field
// means its documented default.
type CollectorConfig struct {
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// Collector is a [personalize.Exporter] that measures what no measurement
// package does: the throughput of the event stream (requests and events
// per second, per 10-second slot over the last 5 minutes) and how old
// events are when they reach the process (the newest event's age and the
// 95th percentile of the age at arrival over the last minute, from
// latency sketches). It is also a [Source] for the handler's Traffic
// panel. Latency, experiments, calibration, CTR and exposure come from the
// measurement packages' own sources ([LatencySource], [ExperimentSource],
// [RelevanceSource], [FairnessSource]).
//
// Memory is fixed: two rings of 30 counters and six latency sketches
// (a few KiB each). It keeps no identifier.
//
// Export, ForceFlush, Shutdown and Collect are safe for concurrent use.
type Collector struct {
	cfg CollectorConfig

	mu       sync.Mutex
	reqs     *counterRing
	events   *counterRing
	lag      []*latency.Sketch // event age at arrival, one per lagSlot
	lagEpoch []int64
	lastSeen time.Time // event time of the newest event
	lastAt   time.Time // when it arrived
	started  time.Time
}

var (
	_ personalize.Exporter = (*Collector)(nil)
	_ personalize.Named    = (*Collector)(nil)
	_ Source               = (*Collector)(nil)
)

const (
	lagSlot  = 10 * time.Second
	lagSlots = 6
)

// NewCollector returns a collector.
func NewCollector(cfg CollectorConfig) (*Collector, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Collector{
		cfg:      cfg,
		reqs:     newCounterRing(10*time.Second, 30),
		events:   newCounterRing(10*time.Second, 30),
		lag:      make([]*latency.Sketch, lagSlots),
		lagEpoch: make([]int64, lagSlots),
	}
	for i := range c.lag {
		s, err := latency.NewSketch(latency.DefaultRelativeAccuracy)
		if err != nil {
			return nil, fmt.Errorf("dashboard: lag sketch: %w", err)
		}
		c.lag[i] = s
		c.lagEpoch[i] = -1
	}
	c.started = cfg.Now()
	return c, nil
}

// Name implements personalize.Named.
func (c *Collector) Name() string { return "dashboard" }

// ForceFlush does nothing: the collector holds no buffered output.
func (c *Collector) ForceFlush(context.Context) error { return nil }

// Shutdown does nothing; the collector stays readable.
func (c *Collector) Shutdown(context.Context) error { return nil }

// Export counts batch. It never fails.
func (c *Collector) Export(_ context.Context, batch []personalize.Event) error {
	now := c.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range batch {
		e := &batch[i]
		t := e.Time()
		if t.IsZero() {
			continue
		}
		c.events.add(now, 1)
		if e.Impression != nil {
			c.reqs.add(now, 1)
		}
		c.addLag(now, now.Sub(t))
		if t.After(c.lastSeen) {
			c.lastSeen, c.lastAt = t, now
		}
	}
	return nil
}

func (c *Collector) addLag(now time.Time, age time.Duration) {
	e := now.UnixNano() / int64(lagSlot)
	i := int(uint64(e) % lagSlots)
	switch {
	case c.lagEpoch[i] == e:
	case c.lagEpoch[i] < e:
		c.lag[i].Reset()
		c.lagEpoch[i] = e
	default:
		return
	}
	c.lag[i].Add(age)
}

// Collect implements [Source]: it fills Traffic.
func (c *Collector) Collect(_ context.Context, s *Snapshot) error {
	now := c.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	tr := &Traffic{LastEventAgeSeconds: -1}
	span := max(time.Second, min(time.Minute, now.Sub(c.started)))
	tr.RequestsPerSecond = page.Round3(float64(c.reqs.sum(now, time.Minute)) / span.Seconds())
	tr.EventsPerSecond = page.Round3(float64(c.events.sum(now, time.Minute)) / span.Seconds())
	reqs, evs := c.reqs.series(now), c.events.series(now)
	for i := range reqs {
		if reqs[i].t.Before(c.started.Truncate(c.reqs.slot)) {
			continue
		}
		sec := c.reqs.slot.Seconds()
		tr.Series = append(tr.Series, RatePoint{Time: reqs[i].t.UTC(), RequestsPerSecond: page.Round3(float64(reqs[i].n) / sec), EventsPerSecond: page.Round3(float64(evs[i].n) / sec)})
	}
	if !c.lastAt.IsZero() {
		tr.LastEventAgeSeconds = page.Round3(now.Sub(c.lastSeen).Seconds())
		cur := now.UnixNano() / int64(lagSlot)
		var merged *latency.Sketch
		for i, e := range c.lagEpoch {
			if e <= cur && e > cur-lagSlots {
				if merged == nil {
					merged = c.lag[i].Clone()
				} else if err := merged.Merge(c.lag[i]); err != nil {
					return err
				}
			}
		}
		if merged != nil && merged.Count() > 0 {
			q, err := merged.Quantile(0.95)
			if err != nil {
				return err
			}
			tr.LagP95Seconds = page.Round3(q.Seconds())
		}
	}
	s.Traffic = tr
	return nil
}

// counterRing counts events per slot over n slots.
type counterRing struct {
	slot   time.Duration
	counts []int64
	epochs []int64
}

type slotCount struct {
	t time.Time
	n int64
}

func newCounterRing(slot time.Duration, n int) *counterRing {
	return &counterRing{slot: slot, counts: make([]int64, n), epochs: make([]int64, n)}
}

func (r *counterRing) add(t time.Time, n int64) {
	e := t.UnixNano() / int64(r.slot)
	i := int(uint64(e) % uint64(len(r.counts)))
	switch {
	case r.epochs[i] == e:
	case r.epochs[i] < e:
		r.counts[i], r.epochs[i] = 0, e
	default:
		return
	}
	r.counts[i] += n
}

// sum counts the events in the slots covering the last d before now.
func (r *counterRing) sum(now time.Time, d time.Duration) int64 {
	cur := now.UnixNano() / int64(r.slot)
	first := cur - int64(d/r.slot) + 1
	var n int64
	for i, e := range r.epochs {
		if e >= first && e <= cur {
			n += r.counts[i]
		}
	}
	return n
}

// series returns the complete slots of the window, oldest first.
func (r *counterRing) series(now time.Time) []slotCount {
	cur := now.UnixNano() / int64(r.slot)
	out := make([]slotCount, 0, len(r.counts))
	for e := cur - int64(len(r.counts)) + 1; e < cur; e++ {
		i := int(uint64(e) % uint64(len(r.counts)))
		var n int64
		if r.epochs[i] == e {
			n = r.counts[i]
		}
		out = append(out, slotCount{t: time.Unix(0, e*int64(r.slot)), n: n})
	}
	return out
}
