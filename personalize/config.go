package personalize

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/privacy"
)

// Config configures an [Instrument]. The zero value of every field but
// Service, Pseudonymize and Exporters means the documented default.
type Config struct {
	// Service names the ranking service in every event. Required.
	Service string

	// Pseudonymize replaces user and session ids before any exporter sees
	// them. Required: build one with [privacy.NewHMAC].
	Pseudonymize privacy.Pseudonymizer

	// Consent, if set, decides per raw user id (or session id when the
	// event has no user) whether the user's events are exported. Refused
	// events are counted in Stats.OptedOut, never exported. A
	// privacy.RegionalConsent (privacy.NewRegional) decides by the
	// impression's "region" context attribute (read before the
	// allow-list) and its basis is recorded on each exported event as
	// consent_basis.
	Consent privacy.Consent

	// ContextAllowList lists the context attribute keys that may be
	// exported; others are dropped and counted. Nil means
	// [DefaultContextAllowList].
	ContextAllowList []string

	// Exporters receive every accepted event. At least one is required
	// (use [DiscardExporter] to measure without exporting).
	Exporters []Exporter

	// DeadLetter, if set, receives events rejected by validation, each with
	// Event.Invalid set, pseudonymized like any other event. A rejected
	// event that finds the door full is dropped and counted on the
	// dead-letter exporter, at once under the default policy and after
	// BlockTimeout when that is set.
	DeadLetter Exporter

	// QueueSize bounds the events waiting at the door: the entry queues of
	// all shards together, split evenly, each shard's share rounded up to
	// a power of two (Stats.QueueCapacity says the total). When they are full an emit is
	// refused at once (a *DropError matching ErrQueueFull), before any
	// pseudonymization or encoding. Default 1024: large enough for a
	// millisecond of arrivals at 500,000 events a second per shard (the
	// batchers drain at least every millisecond), small enough that what
	// waits is still in the processor's cache when it is encoded; 8192
	// cost 10-15% more CPU per event and delivered less
	// (docs/design/pipeline.md, "Queue size").
	QueueSize int
	// Shards is the number of batcher goroutines, each with its own entry
	// queue and pseudonym cache. Events are spread by a hash of the raw
	// user id (session id when there is none), so one user's events stay in
	// order on one shard. Default: half of GOMAXPROCS at New, at least 1
	// and at most 64. On two cores one batcher cost 17-23% less CPU per
	// delivered event than two and delivered more (docs/design/pipeline.md,
	// "Shards").
	Shards int
	// BatchSize is the most events per Export call. Default 512.
	BatchSize int
	// BatchTimeout is the longest an accepted event waits for its batch to
	// fill before it is exported anyway. Default 1s.
	BatchTimeout time.Duration
	// ExporterQueueSize bounds the batches waiting for each exporter. When
	// an exporter's queue is full the batchers wait for it, so the pressure
	// reaches the door and excess events are refused there, before any
	// work is spent on them. Default 4 (2,048 events at the default
	// BatchSize): a deeper queue absorbs longer export stalls, but the
	// events waiting in it leave the processor's cache before the exporter
	// reads them (docs/design/pipeline.md, "Exporter queue size").
	ExporterQueueSize int
	// StallTimeout is how long the batchers wait for a full exporter queue
	// before they declare the exporter stalled: its batches are then
	// dropped for it alone (DropExporterBacklog) until its queue has room
	// again, so one stuck exporter cannot stop the others. Ignored when
	// BlockTimeout is set (the batchers then wait as long as it takes).
	// Default 500ms.
	StallTimeout time.Duration
	// ExportTimeout bounds each Export call. Default 10s.
	ExportTimeout time.Duration

	// BlockTimeout, when positive, makes emits wait up to this long for
	// room at the door instead of refusing the event, and the batchers wait
	// for exporters without a stall limit. Off by default: emits never
	// block.
	BlockTimeout time.Duration

	// StageHistogram records the OTel histogram rankscope.stage.duration
	// for every stage of every impression (about 0.1 µs of background CPU
	// per stage). Off by default: stage quantiles are always kept by the
	// latency Tracker (Instrument.Latency) and published as the gauge
	// rankscope.stage.latency with counts by status.
	StageHistogram bool

	// MeterProvider receives self-telemetry and stage histograms. Default:
	// the global provider.
	MeterProvider metric.MeterProvider

	// Latency aggregates stage latencies in process. Default: a tracker
	// built from MeterProvider with no SLOs.
	Latency *latency.Tracker

	// ErrorHandler receives background errors: export failures and
	// periodic drop reports (*DropError). Default: otel.Handle.
	ErrorHandler func(error)

	// WAL turns on durable mode: every accepted event is written to a
	// local write-ahead log before its emit returns, and replayed by the
	// next instrument on the same directory if it was not delivered. Off
	// (the zero value) by default. See [WALConfig] and the package doc,
	// "Delivery guarantee".
	WAL WALConfig

	// Models are lineage records New registers (see
	// [Instrument.RegisterModel]) once the pipeline runs. New fails
	// closed, with an error naming the entry and field, when one is
	// invalid or there are more than MaxRegisteredModels.
	Models []ModelMetadata
}

// DefaultContextAllowList is the allow-list used when
// Config.ContextAllowList is nil.
var DefaultContextAllowList = []string{AttrDevice, AttrRegion, AttrLocale, AttrPlatform}

// Defaults.
const (
	DefaultQueueSize         = 1024
	DefaultBatchSize         = 512
	DefaultBatchTimeout      = time.Second
	DefaultExporterQueueSize = 4
	DefaultExportTimeout     = 10 * time.Second
	DefaultStallTimeout      = 500 * time.Millisecond
	// MaxShards bounds Config.Shards.
	MaxShards = 64
)

// DefaultShards is the number of shards when Config.Shards is 0: half of
// GOMAXPROCS, at least 1 and at most [MaxShards].
func DefaultShards() int { return min(max(runtime.GOMAXPROCS(0)/2, 1), MaxShards) }

// ErrShutdown is returned by emits after [Instrument.Shutdown].
var ErrShutdown = errors.New("personalize: instrument is shut down")

func (c *Config) normalize() error {
	if c.Service == "" {
		return errors.New("personalize: Config.Service: required")
	}
	if c.Pseudonymize == nil {
		return errors.New("personalize: Config.Pseudonymize: required (build one with privacy.NewHMAC); raw identifiers are never exported")
	}
	if len(c.Exporters) == 0 {
		return errors.New("personalize: Config.Exporters: at least one exporter is required (DiscardExporter measures without exporting)")
	}
	for i, e := range c.Exporters {
		if e == nil {
			return fmt.Errorf("personalize: Config.Exporters[%d]: nil exporter", i)
		}
	}
	for name, v := range map[string]*int{"QueueSize": &c.QueueSize, "BatchSize": &c.BatchSize, "ExporterQueueSize": &c.ExporterQueueSize, "Shards": &c.Shards} {
		if *v < 0 {
			return fmt.Errorf("personalize: Config.%s: must be >= 0, got %d", name, *v)
		}
	}
	for name, v := range map[string]*time.Duration{"BatchTimeout": &c.BatchTimeout, "ExportTimeout": &c.ExportTimeout, "BlockTimeout": &c.BlockTimeout, "StallTimeout": &c.StallTimeout} {
		if *v < 0 {
			return fmt.Errorf("personalize: Config.%s: must be >= 0, got %v", name, *v)
		}
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.BatchTimeout == 0 {
		c.BatchTimeout = DefaultBatchTimeout
	}
	if c.ExporterQueueSize == 0 {
		c.ExporterQueueSize = DefaultExporterQueueSize
	}
	if c.ExportTimeout == 0 {
		c.ExportTimeout = DefaultExportTimeout
	}
	if c.StallTimeout == 0 {
		c.StallTimeout = DefaultStallTimeout
	}
	if c.Shards > MaxShards {
		return fmt.Errorf("personalize: Config.Shards: at most %d, got %d", MaxShards, c.Shards)
	}
	if c.Shards == 0 {
		c.Shards = DefaultShards()
	}
	if c.ContextAllowList == nil {
		c.ContextAllowList = DefaultContextAllowList
	}
	for i, k := range c.ContextAllowList {
		if k == "" {
			return fmt.Errorf("personalize: Config.ContextAllowList[%d]: empty key", i)
		}
	}
	if c.MeterProvider == nil {
		c.MeterProvider = otel.GetMeterProvider()
	}
	if c.ErrorHandler == nil {
		c.ErrorHandler = otel.Handle
	}
	return c.WAL.normalize()
}
