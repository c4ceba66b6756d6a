package latency

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Stage names with a meaning of their own.
const (
	// EndToEnd is the stage under which package personalize reports the
	// whole-inference latency.
	EndToEnd = "end_to_end"
	// OtherStage collects observations of unnamed stages and of stages
	// beyond Config.MaxStages.
	OtherStage = "other"
)

// Metric and attribute names the Tracker records.
const (
	MetricStageDuration = "rankscope.stage.duration"
	// MetricStageLatency is the gauge of each stage's p50, p95 and p99
	// over the last minute (attribute "quantile"); MetricStageCount its
	// observations by status over the same minute.
	MetricStageLatency = "rankscope.stage.latency"
	MetricStageCount   = "rankscope.stage.count"
	AttrStage          = "rankscope.stage"
	AttrStageStatus    = "rankscope.stage.status"
	// AttrStageDetail is set on stage spans that did not end OK (see
	// [ErrorType]); never on metrics, where it would add cardinality.
	AttrStageDetail = "rankscope.stage.detail"
)

// maxObserved caps the durations a Tracker records (about 13 days), so
// that a 5-second slot's nanosecond sum cannot wrap below 16384 such
// observations.
const maxObserved = 1 << 50

// DefaultMaxStages is the stage bound of a Config that leaves MaxStages 0.
const DefaultMaxStages = 64

const maxMaxStages = 10000

// histogramBounds are the explicit bucket boundaries, in seconds, of the
// rankscope.stage.duration histogram: 1-2.5-5 steps from 0.1 ms to 10 s.
var histogramBounds = []float64{
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1, 2.5, 5, 10,
}

// HistogramBounds returns a copy of the explicit bucket boundaries, in
// seconds, of the rankscope.stage.duration histogram.
func HistogramBounds() []float64 { return slices.Clone(histogramBounds) }

// Config configures a [Tracker]. The zero Config is valid and means the
// defaults documented on each field.
type Config struct {
	// MeterProvider provides the rankscope.stage.duration histogram.
	// Default: otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// SLOs are the latency objectives CheckSLOs evaluates. Their stages
	// are tracked from the start and count toward MaxStages.
	SLOs []SLO
	// OnBreach, if set, is called by CheckSLOs on each transition of an
	// objective into breach and out of it.
	OnBreach func(Breach)
	// MaxStages bounds the distinct stage names tracked (default 64, at
	// most 10000). Observations of further stages are recorded under
	// OtherStage and counted in Stats.Other.
	MaxStages int
	// RelativeAccuracy is the α of the tracker's sketches, in
	// [0.001, 0.1]. Default: 0.01 (1%).
	RelativeAccuracy float64
	// Now is the clock the sliding windows follow. Default: time.Now.
	// Tests and simulations inject their own.
	Now func() time.Time
}

// Tracker is an in-process, per-stage latency aggregate. It implements
// [Recorder]: hand it observations directly, put it in a context with
// [Tracker.Context] so [Time] and [Start] report to it, or give it to
// package personalize. For each stage it keeps sliding-window sketches
// (minute, hour, day; see [Window]) with counts by status, and records
// the OTel histogram rankscope.stage.duration.
//
// Memory is bounded: at most MaxStages+1 stages, each with at most 13
// live sketches of 4 bytes per bucket (4.5 KiB each at α = 1%) and 38
// merged slot sketches of 8 bytes per bucket in use (at most 9 KiB each at
// α = 1%, typically 3 KiB): under 450 KiB per stage in the worst case,
// plus up to 32 stage names remembered, with their strings, for a faster
// lookup. See the package documentation.
//
// A Tracker is safe for concurrent use.
type Tracker struct {
	m        *mapping
	now      func() time.Time
	hist     metric.Float64Histogram
	max      int
	stages   atomic.Pointer[map[string]*stage]  // copy on write
	hot      [hotSlots]atomic.Pointer[hotStage] // see lookup
	full     atomic.Bool
	other    atomic.Uint64
	mu       sync.Mutex // serializes stage creation
	named    int
	slos     []SLO
	onBreach func(Breach)
	sloMu    sync.Mutex
	sloState []sloState
	reg      metric.Registration // the quantile gauge's callback
}

var _ Recorder = (*Tracker)(nil)

type stage struct {
	name string
	opts [numStatus][]metric.RecordOption // cached attribute sets
	*series
}

// Stats reports the state of a [Tracker].
type Stats struct {
	// Stages is the number of distinct stages tracked, OtherStage included.
	Stages int
	// Other is the number of observations recorded under OtherStage
	// because their stage was unnamed or beyond MaxStages.
	Other uint64
}

// NewTracker returns a Tracker configured by cfg.
func NewTracker(cfg Config) (*Tracker, error) {
	if cfg.RelativeAccuracy == 0 {
		cfg.RelativeAccuracy = DefaultRelativeAccuracy
	}
	if err := validAccuracy(cfg.RelativeAccuracy); err != nil {
		return nil, fmt.Errorf("latency: Config.RelativeAccuracy: %w", err)
	}
	switch {
	case cfg.MaxStages < 0 || cfg.MaxStages > maxMaxStages:
		return nil, fmt.Errorf("latency: Config.MaxStages: must be in [0, %d], got %d", maxMaxStages, cfg.MaxStages)
	case cfg.MaxStages == 0:
		cfg.MaxStages = DefaultMaxStages
	}
	stageSet := map[string]bool{}
	for i, o := range cfg.SLOs {
		if err := o.validate(fmt.Sprintf("latency: Config.SLOs[%d]", i)); err != nil {
			return nil, err
		}
		stageSet[o.Stage] = true
	}
	if len(stageSet) > cfg.MaxStages {
		return nil, fmt.Errorf("latency: Config.SLOs: %d distinct stages exceed MaxStages %d", len(stageSet), cfg.MaxStages)
	}
	if cfg.MeterProvider == nil {
		cfg.MeterProvider = otel.GetMeterProvider()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	hist, err := cfg.MeterProvider.Meter(TracerName).Float64Histogram(MetricStageDuration,
		metric.WithUnit("s"),
		metric.WithDescription("Duration of ranking stages, by stage and status."),
		metric.WithExplicitBucketBoundaries(histogramBounds...))
	if err != nil {
		return nil, fmt.Errorf("latency: creating %s histogram: %w", MetricStageDuration, err)
	}
	t := &Tracker{
		m:        mappingFor(cfg.RelativeAccuracy),
		now:      cfg.Now,
		hist:     hist,
		max:      cfg.MaxStages,
		slos:     slices.Clone(cfg.SLOs),
		onBreach: cfg.OnBreach,
	}
	t.sloState = make([]sloState, len(t.slos))
	m := map[string]*stage{}
	t.stages.Store(&m)
	for _, o := range t.slos {
		t.lookup(o.Stage)
	}
	if err := t.registerGauges(cfg.MeterProvider); err != nil {
		return nil, err
	}
	return t, nil
}

// quantiles published by the rankscope.stage.latency gauge.
var gaugeQuantiles = [...]float64{0.5, 0.95, 0.99}

// registerGauges publishes, at each collection, the minute window's
// quantiles of every stage (rankscope.stage.latency, by stage and
// quantile) and its observation counts by status (rankscope.stage.count).
// It costs nothing per observation.
func (t *Tracker) registerGauges(mp metric.MeterProvider) error {
	m := mp.Meter(TracerName)
	lat, err := m.Float64ObservableGauge(MetricStageLatency, metric.WithUnit("s"),
		metric.WithDescription("Stage latency quantiles over the last minute, by stage and quantile."))
	if err != nil {
		return fmt.Errorf("latency: creating %s gauge: %w", MetricStageLatency, err)
	}
	cnt, err := m.Int64ObservableGauge(MetricStageCount, metric.WithUnit("{observation}"),
		metric.WithDescription("Stage observations over the last minute, by stage and status."))
	if err != nil {
		return fmt.Errorf("latency: creating %s gauge: %w", MetricStageCount, err)
	}
	t.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		now := t.nowNS()
		for name := range *t.stages.Load() {
			sk, st, ok := t.window(name, WindowMinute, now)
			if !ok || sk.Count() == 0 {
				continue
			}
			for _, q := range gaugeQuantiles {
				o.ObserveFloat64(lat, sk.quantile(q).Seconds(), metric.WithAttributes(
					attribute.String(AttrStage, name), attribute.Float64("quantile", q)))
			}
			ok64 := int64(sk.Count()) - int64(st[StatusError]+st[StatusTimeout]+st[StatusFallback])
			for _, c := range [...]struct {
				s Status
				n int64
			}{{StatusOK, ok64}, {StatusError, int64(st[StatusError])}, {StatusTimeout, int64(st[StatusTimeout])}, {StatusFallback, int64(st[StatusFallback])}} {
				o.ObserveInt64(cnt, c.n, metric.WithAttributes(attribute.String(AttrStage, name), attribute.String(AttrStageStatus, c.s.String())))
			}
		}
		return nil
	}, lat, cnt)
	if err != nil {
		return fmt.Errorf("latency: registering stage gauges: %w", err)
	}
	return nil
}

// Close unregisters the tracker's gauge callback from its MeterProvider.
// The tracker keeps working; only the gauges stop. Safe to call twice.
func (t *Tracker) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.reg == nil {
		return nil
	}
	err := t.reg.Unregister()
	t.reg = nil
	return err
}

// Context returns a copy of ctx that makes [Time] and [Start] report to t.
func (t *Tracker) Context(ctx context.Context) context.Context {
	return ContextWithRecorder(ctx, t)
}

func (t *Tracker) nowNS() int64 { return t.now().UnixNano() }

// Observe records o. It is the hot path: lock-free, allocation-free after
// a stage's first observation, and it reads no clock while o ends in the
// stage's 5-second slot in progress.
//
// o is counted in the slot in progress. The slot moves on when o ended
// after it (o.Start + o.Duration, or the tracker's clock when o.Start is
// zero) and the tracker's clock agrees: an observation that claims to end
// in the future joins the slot in progress, and so does a late one. Negative durations count as zero, durations
// over 2^50 ns (13 days) as 2^50 ns, and an unknown status as StatusError.
func (t *Tracker) Observe(o Observation) {
	s := t.lookup(o.Stage)
	t.observeWindows(s, o)
	t.recordMetric(s, o.Duration, o.Status)
}

// ObserveWindows records o in the in-process windows only, without the
// OTel histogram: a caller that records the histogram elsewhere (package
// personalize does it off the request path, from the impression's stage
// timings) pairs it with [Tracker.RecordMetric]. Lock-free, no allocation.
func (t *Tracker) ObserveWindows(o Observation) {
	t.observeWindows(t.lookup(o.Stage), o)
}

func (t *Tracker) observeWindows(s *stage, o Observation) {
	st := o.Status
	if st > StatusFallback {
		st = StatusError
	}
	d := min(max(int64(o.Duration), 0), maxObserved)
	t.slotFor(s, o, d).add(t.m, d, st)
}

// slotFor returns the slot o, which took d, counts in: the slot in
// progress, moved on first when o ended past its end and the tracker's
// clock agrees.
func (t *Tracker) slotFor(s *stage, o Observation, d int64) *liveSketch {
	cur := s.cur.Load()
	var at int64 // when the stage ended
	if o.Start.IsZero() {
		at = t.nowNS()
	} else {
		at = o.Start.UnixNano() + d
	}
	if at >= cur.end.Load() {
		// The slot may be over. Trust the tracker's clock, not the
		// observation, to move the window forward.
		if now := t.nowNS(); now >= cur.end.Load() {
			cur = s.rotate(now)
		}
	}
	return cur
}

// RecordMetric records one stage duration in the OTel histogram
// rankscope.stage.duration, with the cached attribute set of (stage,
// status). No allocation.
func (t *Tracker) RecordMetric(stage string, d time.Duration, st Status) {
	t.recordMetric(t.lookupQuiet(stage), d, st)
}

func (t *Tracker) recordMetric(s *stage, d time.Duration, st Status) {
	if st > StatusFallback {
		st = StatusError
	}
	t.hist.Record(context.Background(), float64(min(max(int64(d), 0), maxObserved))/1e9, s.opts[st]...)
}

// lookup returns the stage called name, creating it or counting the
// observation under OtherStage as slowLookup does.
//
// Stage names are nearly always the same few strings (constants), so
// before the map, lookup tries hot: two slots chosen by the address of
// the name's bytes, each holding the first name found in the map that
// came to it. Two strings with the same bytes address and length are
// the same string, as strings do not change, so a hit costs a load or
// two and a comparison where the map hashes and compares the name (about
// 8 ns, four lookups per impression in package personalize's batcher). A
// slot is written once, so names made anew for every observation cannot
// make the slots' cache lines bounce between cores; they take the map,
// as every name did before. Only stages found in the map are remembered:
// names sent to OtherStage are counted at every lookup.
func (t *Tracker) lookup(name string) *stage {
	if s := t.hotLookup(name); s != nil {
		return s
	}
	if s, ok := (*t.stages.Load())[name]; ok {
		t.remember(name, s)
		return s
	}
	return t.slowLookup(name)
}

// hotSlots is the number of Tracker.hot slots: 32 pointers, four cache
// lines, and at most 32 remembered names. A name may sit in its slot or
// the next one, so two names whose addresses hash alike both fit.
const hotSlots = 32

// hotStage is a name remembered in Tracker.hot and its stage.
type hotStage struct {
	name string
	s    *stage
}

// hotIndex is the first of the two slots a name may sit in: the top bits
// of a Fibonacci hash of its bytes' address.
func hotIndex(name string) int {
	p := uint64(uintptr(unsafe.Pointer(unsafe.StringData(name))))
	return int(p * 0x9e3779b97f4a7c15 >> 59)
}

// hotLookup returns name's stage from hot, or nil.
func (t *Tracker) hotLookup(name string) *stage {
	if name == "" {
		return nil
	}
	i := hotIndex(name)
	for _, j := range [2]int{i, (i + 1) % hotSlots} {
		e := t.hot[j].Load()
		if e == nil {
			return nil // slots fill in order: nothing further
		}
		if unsafe.StringData(e.name) == unsafe.StringData(name) && len(e.name) == len(name) {
			return e.s
		}
	}
	return nil
}

// remember puts name's stage in the first free of its two slots, if one
// is free.
func (t *Tracker) remember(name string, s *stage) {
	if name == "" {
		return
	}
	i := hotIndex(name)
	for _, j := range [2]int{i, (i + 1) % hotSlots} {
		slot := &t.hot[j]
		e := slot.Load()
		if e == nil {
			if slot.CompareAndSwap(nil, &hotStage{name: name, s: s}) {
				return
			}
			e = slot.Load() // taken meanwhile, perhaps by name itself
		}
		if unsafe.StringData(e.name) == unsafe.StringData(name) && len(e.name) == len(name) {
			return
		}
	}
}

// lookupQuiet is lookup for a stage already counted by ObserveWindows: a
// name that went to "other" is not counted again.
func (t *Tracker) lookupQuiet(name string) *stage {
	if s := t.hotLookup(name); s != nil {
		return s
	}
	if s, ok := (*t.stages.Load())[name]; ok {
		t.remember(name, s)
		return s
	}
	if name != "" && !t.full.Load() {
		return t.slowLookup(name)
	}
	return t.otherStage()
}

func (t *Tracker) slowLookup(name string) *stage {
	if name == "" || t.full.Load() {
		t.other.Add(1)
		return t.otherStage()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := (*t.stages.Load())[name]; ok {
		return s
	}
	if t.named >= t.max {
		t.full.Store(true)
		t.other.Add(1)
		return t.addStageLocked(OtherStage)
	}
	t.named++
	return t.addStageLocked(name)
}

func (t *Tracker) otherStage() *stage {
	if s, ok := (*t.stages.Load())[OtherStage]; ok {
		return s
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addStageLocked(OtherStage)
}

// addStageLocked returns the stage called name, creating it.
func (t *Tracker) addStageLocked(name string) *stage {
	old := *t.stages.Load()
	if s, ok := old[name]; ok {
		return s
	}
	s := &stage{name: name, series: newSeries(t.m, t.nowNS())}
	for i := range s.opts {
		set := attribute.NewSet(
			attribute.String(AttrStage, name),
			attribute.String(AttrStageStatus, Status(i).String()))
		s.opts[i] = []metric.RecordOption{metric.WithAttributeSet(set)}
	}
	m := make(map[string]*stage, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[name] = s
	t.stages.Store(&m)
	return s
}

// Stages returns the names of the tracked stages, sorted.
func (t *Tracker) Stages() []string {
	m := *t.stages.Load()
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Stats returns the tracker's stage count and overflow count.
func (t *Tracker) Stats() Stats {
	return Stats{Stages: len(*t.stages.Load()), Other: t.other.Load()}
}

// Summary describes one stage over one window. Quantiles, Mean and Max
// cover observations of every status; a timeout's duration is how long the
// caller waited.
type Summary struct {
	Stage     string
	Window    Window
	Count     uint64 // observations of any status
	Errors    uint64 // StatusError
	Timeouts  uint64 // StatusTimeout
	Fallbacks uint64 // StatusFallback
	Mean      time.Duration
	P50       time.Duration
	P95       time.Duration
	P99       time.Duration
	Max       time.Duration
}

// Sketch returns a copy of stage's sketch over w, now: quantiles for any q
// and bucket counts for drawing the distribution. It reports false for an
// unknown stage or window.
func (t *Tracker) Sketch(stage string, w Window) (*Sketch, bool) {
	sk, _, ok := t.window(stage, w, t.nowNS())
	return sk, ok
}

// Summary summarizes stage over w, now. It reports false for an unknown
// stage or window; a known stage without observations in w has Count 0.
func (t *Tracker) Summary(stage string, w Window) (Summary, bool) {
	sk, st, ok := t.window(stage, w, t.nowNS())
	if !ok {
		return Summary{}, false
	}
	return summarize(stage, w, sk, &st), true
}

func summarize(stage string, w Window, sk *Sketch, st *[numStatus]uint64) Summary {
	return Summary{
		Stage: stage, Window: w, Count: sk.Count(),
		Errors: st[StatusError], Timeouts: st[StatusTimeout], Fallbacks: st[StatusFallback],
		Mean: sk.Mean(), P50: sk.quantile(0.5), P95: sk.quantile(0.95), P99: sk.quantile(0.99),
		Max: sk.Max(),
	}
}

func (t *Tracker) window(stage string, w Window, now int64) (*Sketch, [numStatus]uint64, bool) {
	var st [numStatus]uint64
	s, ok := (*t.stages.Load())[stage]
	if !ok || !w.valid() {
		return nil, st, false
	}
	sk := &Sketch{m: t.m}
	s.window(w, now, sk, &st)
	return sk, st, true
}

// RelativeAccuracy returns the α of t's sketches.
func (t *Tracker) RelativeAccuracy() float64 { return t.m.alpha }
