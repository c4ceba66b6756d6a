package personalize

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// WAL metric names (durable mode only).
const (
	MetricWALBytes    = "rankscope.wal.bytes"
	MetricWALReplayed = "rankscope.wal.replayed"
	MetricWALSkipped  = "rankscope.wal.skipped"
)

// walTelemetry publishes the WAL's books: its refusals under
// rankscope.events.dropped{reason=wal_full|wal_error}, the bytes on disk,
// and what the replay read.
type walTelemetry struct{ reg metric.Registration }

func newWALTelemetry(in *Instrument, w *wal) (*walTelemetry, error) {
	m := in.cfg.MeterProvider.Meter(scopeName)
	wrap := func(name string, err error) error {
		return fmt.Errorf("personalize: creating metric %s: %w", name, err)
	}
	// The same instrument as newTelemetry's: identical name, kind, unit
	// and description.
	dropped, err := m.Int64ObservableCounter(MetricDropped, metric.WithUnit(unitEvent), metric.WithDescription("Events not exported, by reason and exporter."))
	if err != nil {
		return nil, wrap(MetricDropped, err)
	}
	bytes, err := m.Int64ObservableGauge(MetricWALBytes, metric.WithUnit("By"),
		metric.WithDescription("Bytes of the write-ahead log's segment files on disk."))
	if err != nil {
		return nil, wrap(MetricWALBytes, err)
	}
	replayed, err := m.Int64ObservableCounter(MetricWALReplayed, metric.WithUnit(unitEvent),
		metric.WithDescription("Events replayed from the write-ahead log a previous process left."))
	if err != nil {
		return nil, wrap(MetricWALReplayed, err)
	}
	skipped, err := m.Int64ObservableCounter(MetricWALSkipped, metric.WithUnit("{line}"),
		metric.WithDescription("Lines of a previous process's write-ahead log skipped at replay, by reason (malformed, torn)."))
	if err != nil {
		return nil, wrap(MetricWALSkipped, err)
	}
	full := metric.WithAttributeSet(attribute.NewSet(attribute.String(attrReason, DropWALFull.String())))
	failed := metric.WithAttributeSet(attribute.NewSet(attribute.String(attrReason, DropWALError.String())))
	malformed := metric.WithAttributeSet(attribute.NewSet(attribute.String(attrReason, "malformed")))
	torn := metric.WithAttributeSet(attribute.NewSet(attribute.String(attrReason, "torn")))
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := w.stats()
		o.ObserveInt64(dropped, s.Full, full)
		o.ObserveInt64(dropped, s.WriteErrors, failed)
		o.ObserveInt64(bytes, s.Bytes)
		o.ObserveInt64(replayed, s.Replayed)
		o.ObserveInt64(skipped, s.Malformed, malformed)
		o.ObserveInt64(skipped, s.Torn, torn)
		return nil
	}, dropped, bytes, replayed, skipped)
	if err != nil {
		return nil, fmt.Errorf("personalize: registering WAL metrics callback: %w", err)
	}
	return &walTelemetry{reg: reg}, nil
}

func (t *walTelemetry) close() { _ = t.reg.Unregister() }
