package dashboard

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/rankscope/rankscope/personalize"
)

// CollectorConfig configures a [Collector]. The zero value of every field
// means its documented default.
type CollectorConfig struct {
	// SLO holds latency targets by stage name; TotalStage names the end to
	// end latency.
	SLO map[string]SLO
	// Shares holds the configured traffic share of each variant by
	// experiment, for the sample-ratio check; experiments without an entry
	// are checked against an equal split.
	Shares map[string]map[string]float64
	// MaxStages bounds the stages tracked (each about 130 KB of windows).
	// Default 16; further stages are not shown.
	MaxStages int
	// MaxPending bounds the impressions remembered to join later clicks to
	// their position, score and group (about 100 bytes per item). Default
	// 20000; the oldest are forgotten first.
	MaxPending int
	// MaxUnits bounds the distinct units remembered per experiment for
	// exposure counting. Default 200000.
	MaxUnits int
	// MaxExperiments bounds the experiments tracked. Default 20.
	MaxExperiments int
	// MaxGroups bounds the item groups tracked for exposure; the rest are
	// counted under [OtherGroup]. Default 100.
	MaxGroups int
	// MaxPosition bounds the positions tracked for CTR. Default 50.
	MaxPosition int
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// TotalStage is the stage name under which the end-to-end latency of
// inferences is shown.
const TotalStage = "total"

// Collector is a [personalize.Exporter] that aggregates the events of a
// running service into the live page's panels: latency per stage over the
// last minute, hour and day (from the impressions' stage timings), traffic
// and freshness, experiment exposures per arm with the sample-ratio check,
// calibration, CTR by position and position-weighted exposure per item
// group. It is also a [Source] for the handler.
//
// It keeps only aggregates and a bounded window of recent impressions for
// joining clicks (see [CollectorConfig]); identifiers it holds are the
// pipeline's pseudonyms, and none is ever written to a snapshot.
//
// Export, ForceFlush, Shutdown and Collect are safe for concurrent use.
type Collector struct {
	cfg CollectorConfig

	mu       sync.Mutex
	stages   map[string]*windows
	overflow int64 // stage observations beyond MaxStages
	rel      *relevance
	join     *joiner
	units    *units
	reqs     *counterRing
	events   *counterRing
	lag      *ring
	lastSeen time.Time // event time of the newest event
	lastAt   time.Time // when it arrived
	started  time.Time
}

var (
	_ personalize.Exporter = (*Collector)(nil)
	_ personalize.Named    = (*Collector)(nil)
	_ Source               = (*Collector)(nil)
)

// NewCollector validates cfg and returns a collector.
func NewCollector(cfg CollectorConfig) (*Collector, error) {
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{
		{"MaxStages", &cfg.MaxStages, 16}, {"MaxPending", &cfg.MaxPending, 20000}, {"MaxUnits", &cfg.MaxUnits, 200000},
		{"MaxExperiments", &cfg.MaxExperiments, 20}, {"MaxGroups", &cfg.MaxGroups, 100}, {"MaxPosition", &cfg.MaxPosition, 50},
	} {
		if *f.v < 0 {
			return nil, fmt.Errorf("dashboard: CollectorConfig.%s: must be >= 0, got %d", f.name, *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	for exp, sh := range cfg.Shares {
		for v, s := range sh {
			if !(s >= 0 && s <= 1) {
				return nil, fmt.Errorf("dashboard: CollectorConfig.Shares[%q][%q]: must be in [0, 1], got %v", exp, v, s)
			}
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Collector{
		cfg:    cfg,
		stages: map[string]*windows{},
		rel:    newRelevance(cfg.MaxPosition, cfg.MaxGroups),
		join:   newJoiner(cfg.MaxPending),
		units:  newUnits(cfg.MaxUnits, cfg.MaxExperiments),
		reqs:   newCounterRing(10*time.Second, 30),
		events: newCounterRing(10*time.Second, 30),
		lag:    newRing(10*time.Second, 6),
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

// Export aggregates batch. It never fails.
func (c *Collector) Export(_ context.Context, batch []personalize.Event) error {
	now := c.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range batch {
		c.add(&batch[i], now)
	}
	return nil
}

func (c *Collector) add(e *personalize.Event, now time.Time) {
	t := e.Time()
	if t.IsZero() {
		return
	}
	c.events.add(now, 1)
	c.lag.add(now, float64(now.Sub(t))/float64(time.Millisecond), false)
	if t.After(c.lastSeen) {
		c.lastSeen, c.lastAt = t, now
	}
	switch {
	case e.Impression != nil:
		im := e.Impression
		c.reqs.add(now, 1)
		c.stage(TotalStage, t, im.Duration(), im.Status != personalize.StageOK)
		for i := range im.Stages {
			s := &im.Stages[i]
			c.stage(s.Name, t, s.Duration, s.Status != personalize.StageOK)
		}
		c.join.add(im.RequestID, c.rel.impression(im))
		for _, a := range im.Experiments {
			c.units.expose(a.Experiment, a.Variant, im.User.ID)
		}
	case e.Outcome != nil:
		if o := e.Outcome; o.Kind == personalize.OutcomeClick && o.RequestID != "" {
			if it := c.join.click(o.RequestID, o.Item); it != nil {
				c.rel.click(it)
			}
		}
	case e.Exposure != nil:
		x := e.Exposure
		c.units.expose(x.Experiment, x.Variant, x.UserID.ID)
	}
}

func (c *Collector) stage(name string, t time.Time, d time.Duration, degraded bool) {
	w := c.stages[name]
	if w == nil {
		if len(c.stages) >= c.cfg.MaxStages {
			c.overflow++
			return
		}
		w = newWindows()
		c.stages[name] = w
	}
	w.add(t, float64(d)/float64(time.Millisecond), degraded)
}

// Collect implements [Source]: it fills Latency, Traffic, Experiments,
// Calibration, CTRByPosition and Exposure.
func (c *Collector) Collect(_ context.Context, s *Snapshot) error {
	now := c.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.stages))
	for n := range c.stages {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { // total first, then by name
		if (names[i] == TotalStage) != (names[j] == TotalStage) {
			return names[i] == TotalStage
		}
		return names[i] < names[j]
	})
	for _, n := range names {
		s.Latency = append(s.Latency, c.stages[n].stage(n, now, c.cfg.SLO[n]))
	}
	if c.overflow > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d stage timings of stages beyond the first %d were not tracked.", c.overflow, c.cfg.MaxStages))
	}
	tr := &Traffic{LastEventAgeSeconds: -1}
	span := max(time.Second, min(time.Minute, now.Sub(c.started)))
	if span > 0 {
		tr.RequestsPerSecond = round3(float64(c.reqs.sum(now, time.Minute)) / span.Seconds())
		tr.EventsPerSecond = round3(float64(c.events.sum(now, time.Minute)) / span.Seconds())
	}
	reqs, evs := c.reqs.series(now), c.events.series(now)
	for i := range reqs {
		if reqs[i].t.Before(c.started.Truncate(c.reqs.slot)) {
			continue
		}
		sec := c.reqs.slot.Seconds()
		tr.Series = append(tr.Series, RatePoint{Time: reqs[i].t.UTC(), RequestsPerSecond: round3(float64(reqs[i].n) / sec), EventsPerSecond: round3(float64(evs[i].n) / sec)})
	}
	if !c.lastAt.IsZero() {
		tr.LastEventAgeSeconds = round3(now.Sub(c.lastSeen).Seconds())
		tr.LagP95Seconds = round3(c.lag.sum(now).quantile(0.95) / 1000)
	}
	s.Traffic = tr
	s.Experiments = append(s.Experiments, c.units.experiments(c.cfg.Shares)...)
	if cal := c.rel.calibration(); cal != nil {
		s.Calibration = cal
	}
	s.CTRByPosition = c.rel.ctr()
	s.Exposure = c.rel.exposure()
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
