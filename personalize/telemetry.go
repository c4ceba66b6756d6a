package personalize

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// telemetry publishes the instrument's books as OTel metrics. Counters are
// observed from the atomics once per collection, so the emit path never
// touches an OTel instrument.
type telemetry struct {
	reg       metric.Registration
	exportDur metric.Float64Histogram
	age       metric.Float64Histogram
	byWorker  map[*worker][]metric.RecordOption
}

// Metric names.
const (
	MetricAccepted    = "rankscope.events.accepted"
	MetricExported    = "rankscope.events.exported"
	MetricDropped     = "rankscope.events.dropped"
	MetricRejected    = "rankscope.events.rejected"
	MetricOptedOut    = "rankscope.events.opted_out"
	MetricQueueDepth  = "rankscope.queue.depth"
	MetricExportTime  = "rankscope.export.duration"
	MetricEventAge    = "rankscope.export.event_age"
	attrExporter      = "rankscope.exporter"
	attrReason        = "rankscope.drop.reason"
	attrField         = "rankscope.field"
	attrEventTypeName = "rankscope.event.type"

	// unitEvent is the UCUM annotation of event counts, as OpenTelemetry's
	// semantic conventions write counts of things ({request}, {packet}).
	unitEvent = "{event}"
)

func newTelemetry(in *Instrument) (*telemetry, error) {
	m := in.cfg.MeterProvider.Meter(scopeName)
	t := &telemetry{byWorker: map[*worker][]metric.RecordOption{}}
	wrap := func(name string, err error) error {
		return fmt.Errorf("personalize: creating metric %s: %w", name, err)
	}
	var err error
	if t.exportDur, err = m.Float64Histogram(MetricExportTime, metric.WithUnit("s"),
		metric.WithDescription("Duration of Export calls per exporter."),
		metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)); err != nil {
		return nil, wrap(MetricExportTime, err)
	}
	if t.age, err = m.Float64Histogram(MetricEventAge, metric.WithUnit("s"),
		metric.WithDescription("Data freshness: age of the oldest event of each exported batch (now - event time)."),
		metric.WithExplicitBucketBoundaries(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)); err != nil {
		return nil, wrap(MetricEventAge, err)
	}
	for _, w := range in.allWorkers() {
		t.byWorker[w] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attribute.String(attrExporter, w.name)))}
	}
	accepted, err := m.Int64ObservableCounter(MetricAccepted, metric.WithUnit(unitEvent), metric.WithDescription("Valid events taken into the pipeline."))
	if err != nil {
		return nil, wrap(MetricAccepted, err)
	}
	exported, err := m.Int64ObservableCounter(MetricExported, metric.WithUnit(unitEvent), metric.WithDescription("Events exported, per exporter."))
	if err != nil {
		return nil, wrap(MetricExported, err)
	}
	dropped, err := m.Int64ObservableCounter(MetricDropped, metric.WithUnit(unitEvent), metric.WithDescription("Events not exported, by reason and exporter."))
	if err != nil {
		return nil, wrap(MetricDropped, err)
	}
	rejected, err := m.Int64ObservableCounter(MetricRejected, metric.WithUnit(unitEvent), metric.WithDescription("Events rejected by validation, by field."))
	if err != nil {
		return nil, wrap(MetricRejected, err)
	}
	optedOut, err := m.Int64ObservableCounter(MetricOptedOut, metric.WithUnit(unitEvent), metric.WithDescription("Accepted events withheld because the user did not consent."))
	if err != nil {
		return nil, wrap(MetricOptedOut, err)
	}
	depth, err := m.Int64ObservableGauge(MetricQueueDepth, metric.WithUnit(unitEvent), metric.WithDescription("Events waiting in the queue."))
	if err != nil {
		return nil, wrap(MetricQueueDepth, err)
	}
	t.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := in.Stats()
		o.ObserveInt64(accepted, s.Accepted)
		o.ObserveInt64(optedOut, s.OptedOut)
		o.ObserveInt64(depth, int64(s.Queued))
		reason := func(r DropReason, exp string) metric.ObserveOption {
			if exp == "" {
				return metric.WithAttributes(attribute.String(attrReason, r.String()))
			}
			return metric.WithAttributes(attribute.String(attrReason, r.String()), attribute.String(attrExporter, exp))
		}
		o.ObserveInt64(dropped, s.QueueFull, reason(DropQueueFull, ""))
		o.ObserveInt64(dropped, s.Closed, reason(DropClosed, ""))
		all := s.Exporters
		if s.DeadLetter != nil {
			all = append(all, *s.DeadLetter)
		}
		for _, e := range all {
			o.ObserveInt64(exported, e.Exported, metric.WithAttributes(attribute.String(attrExporter, e.Name)))
			o.ObserveInt64(dropped, e.Failed, reason(DropExportFailed, e.Name))
			o.ObserveInt64(dropped, e.Backlog, reason(DropExporterBacklog, e.Name))
			o.ObserveInt64(dropped, e.Shutdown, reason(DropShutdown, e.Name))
		}
		for f, n := range s.Rejected {
			o.ObserveInt64(rejected, n, metric.WithAttributes(attribute.String(attrField, f)))
		}
		return nil
	}, accepted, exported, dropped, rejected, optedOut, depth)
	if err != nil {
		return nil, fmt.Errorf("personalize: registering metrics callback: %w", err)
	}
	return t, nil
}

func (t *telemetry) recordExport(w *worker, batch []Event, start, end time.Time, err error) {
	ctx := context.Background()
	opt := t.byWorker[w]
	t.exportDur.Record(ctx, end.Sub(start).Seconds(), opt...)
	if err != nil {
		return
	}
	// One record per batch, the oldest event's age: per-event records
	// cost more than the export of the event itself.
	var oldest time.Time
	for i := range batch {
		if et := batch[i].Time(); !et.IsZero() && (oldest.IsZero() || et.Before(oldest)) {
			oldest = et
		}
	}
	if !oldest.IsZero() {
		t.age.Record(ctx, end.Sub(oldest).Seconds(), opt...)
	}
}

func (t *telemetry) close() {
	if t.reg != nil {
		_ = t.reg.Unregister()
	}
}
