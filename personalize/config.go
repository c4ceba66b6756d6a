package personalize

import (
	"errors"
	"fmt"
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
	// events are counted in Stats.OptedOut, never exported.
	Consent privacy.Consent

	// ContextAllowList lists the context attribute keys that may be
	// exported; others are dropped and counted. Nil means
	// [DefaultContextAllowList].
	ContextAllowList []string

	// Exporters receive every accepted event. At least one is required
	// (use [DiscardExporter] to measure without exporting).
	Exporters []Exporter

	// DeadLetter, if set, receives events rejected by validation, each with
	// Event.Invalid set, pseudonymized like any other event.
	DeadLetter Exporter

	// QueueSize bounds the events waiting for the batcher. Default 8192.
	QueueSize int
	// BatchSize is the most events per Export call. Default 512.
	BatchSize int
	// BatchTimeout is the longest an accepted event waits for its batch to
	// fill before it is exported anyway. Default 1s.
	BatchTimeout time.Duration
	// ExporterQueueSize bounds the batches waiting for each exporter; when
	// an exporter falls this far behind, its batches are dropped and
	// counted (DropExporterBacklog) so it cannot hold back the others.
	// Default 16.
	ExporterQueueSize int
	// ExportTimeout bounds each Export call. Default 10s.
	ExportTimeout time.Duration

	// BlockTimeout, when positive, makes emits wait up to this long for
	// queue space (and the batcher wait for exporter space) instead of
	// dropping. Off by default: emits never block.
	BlockTimeout time.Duration

	// MeterProvider receives self-telemetry and stage histograms. Default:
	// the global provider.
	MeterProvider metric.MeterProvider

	// Latency aggregates stage latencies in process. Default: a tracker
	// built from MeterProvider with no SLOs.
	Latency *latency.Tracker

	// ErrorHandler receives background errors: export failures and
	// periodic drop reports (*DropError). Default: otel.Handle.
	ErrorHandler func(error)
}

// DefaultContextAllowList is the allow-list used when
// Config.ContextAllowList is nil.
var DefaultContextAllowList = []string{AttrDevice, AttrRegion, AttrLocale, AttrPlatform}

// Defaults.
const (
	DefaultQueueSize         = 8192
	DefaultBatchSize         = 512
	DefaultBatchTimeout      = time.Second
	DefaultExporterQueueSize = 16
	DefaultExportTimeout     = 10 * time.Second
)

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
	for name, v := range map[string]*int{"QueueSize": &c.QueueSize, "BatchSize": &c.BatchSize, "ExporterQueueSize": &c.ExporterQueueSize} {
		if *v < 0 {
			return fmt.Errorf("personalize: Config.%s: must be >= 0, got %d", name, *v)
		}
	}
	for name, v := range map[string]*time.Duration{"BatchTimeout": &c.BatchTimeout, "ExportTimeout": &c.ExportTimeout, "BlockTimeout": &c.BlockTimeout} {
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
	return nil
}
