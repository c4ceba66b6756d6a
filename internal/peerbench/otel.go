package peerbench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutlog"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// otelSink instruments each inference by hand with the OpenTelemetry SDK:
// an inference span and a span per stage, four records of one histogram
// (the three stages and end_to_end, by a "stage" attribute), and one log
// record carrying the impression. Spans go through the SDK's
// BatchSpanProcessor to stdouttrace writing JSON lines to
// dir/traces/traces.jsonl; log records through sdk/log's BatchProcessor to
// stdoutlog writing JSON lines to dir/logs/logs.jsonl; both files behind a
// 256 KiB buffer. Both processors keep their defaults (queue 2048, batch
// 512) and drop silently when the queue is full. The histogram is
// aggregated in memory by a MeterProvider with a manual reader, as
// rankscope's stage histograms are.
//
// naive (tuned false) samples every trace and builds attributes per call
// (trace.WithAttributes, metric.WithAttributes). tuned samples 1% of traces
// (ParentBased(TraceIDRatioBased(0.01))), sets span attributes only on
// recording spans, and records the histogram with precomputed attribute
// sets (metric.WithAttributeSet). The log record is the same in both.
type otelSink struct {
	dir            string
	traceW, logW   *fileWriter
	tp             *sdktrace.TracerProvider
	mp             *sdkmetric.MeterProvider
	lp             *sdklog.LoggerProvider
	tracer         trace.Tracer
	hist           metric.Float64Histogram
	logger         otellog.Logger
	tuned          bool
	stageOpts      [4]metric.RecordOption // tuned: precomputed attribute sets
	stageAttrNames [4]string
}

// OpenOTelNaive builds the always-sampling, attributes-per-call stack.
func OpenOTelNaive(dir string) (Sink, error) { return openOTel(dir, false) }

// OpenOTelTuned builds the 1%-sampling, cached-attribute-set stack.
func OpenOTelTuned(dir string) (Sink, error) { return openOTel(dir, true) }

func openOTel(dir string, tuned bool) (_ Sink, err error) {
	s := &otelSink{dir: dir, tuned: tuned,
		stageAttrNames: [4]string{Stages[0], Stages[1], Stages[2], "end_to_end"}}
	for _, sub := range []string{"traces", "logs"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	if s.traceW, err = createFile(filepath.Join(dir, "traces", "traces.jsonl")); err != nil {
		return nil, err
	}
	if s.logW, err = createFile(filepath.Join(dir, "logs", "logs.jsonl")); err != nil {
		return nil, errors.Join(err, s.traceW.Close())
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.traceW.Close(), s.logW.Close())
		}
	}()
	texp, err := stdouttrace.New(stdouttrace.WithWriter(s.traceW))
	if err != nil {
		return nil, err
	}
	lexp, err := stdoutlog.New(stdoutlog.WithWriter(s.logW))
	if err != nil {
		return nil, err
	}
	sampler := sdktrace.AlwaysSample()
	if tuned {
		sampler = sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01))
	}
	s.tp = sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithBatcher(texp))
	s.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	s.lp = sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(lexp)))
	s.tracer = s.tp.Tracer("peerbench")
	s.logger = s.lp.Logger("peerbench")
	if s.hist, err = s.mp.Meter("peerbench").Float64Histogram("stage.duration", metric.WithUnit("s")); err != nil {
		return nil, errors.Join(err, s.shutdown())
	}
	for i, name := range s.stageAttrNames {
		s.stageOpts[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("stage", name)))
	}
	return s, nil
}

// record records one histogram value for stage i.
func (s *otelSink) record(ctx context.Context, i int, d time.Duration) {
	if s.tuned {
		s.hist.Record(ctx, d.Seconds(), s.stageOpts[i])
		return
	}
	s.hist.Record(ctx, d.Seconds(), metric.WithAttributes(attribute.String("stage", s.stageAttrNames[i])))
}

func (s *otelSink) Infer(c *Caller) error {
	reqID, user := c.Next()
	pseudo := Pseudonym(user)
	bg := context.Background()
	t0 := time.Now()
	var ctx context.Context
	var span trace.Span
	if s.tuned {
		ctx, span = s.tracer.Start(bg, "inference")
		if span.IsRecording() {
			span.SetAttributes(attribute.String("request.id", reqID), attribute.String("enduser.pseudo.id", pseudo),
				attribute.String("surface", Surface), attribute.String("model", Model),
				attribute.String("model.version", ModelVersion))
		}
	} else {
		ctx, span = s.tracer.Start(bg, "inference", trace.WithAttributes(
			attribute.String("request.id", reqID), attribute.String("enduser.pseudo.id", pseudo),
			attribute.String("surface", Surface), attribute.String("model", Model),
			attribute.String("model.version", ModelVersion)))
	}
	var t [4]time.Time
	t[0] = t0
	for i, name := range Stages {
		_, st := s.tracer.Start(ctx, name)
		// the stage's work
		st.End()
		t[i+1] = time.Now()
		s.record(ctx, i, t[i+1].Sub(t[i]))
	}
	total := time.Since(t0)
	s.record(ctx, 3, total)

	var rec otellog.Record
	rec.SetEventName("impression")
	rec.SetTimestamp(t0)
	rec.SetSeverity(otellog.SeverityInfo)
	items := make([]attribute.Value, len(Items))
	for k, it := range Items {
		items[k] = attribute.MapValue(attribute.String("id", it.ID), attribute.Int("position", it.Position),
			attribute.Float64("score", it.Score), attribute.Float64("propensity", it.Propensity))
	}
	rec.AddAttributes(
		attribute.String("request.id", reqID), attribute.String("enduser.pseudo.id", pseudo),
		attribute.String("surface", Surface), attribute.String("model", Model),
		attribute.String("model.version", ModelVersion),
		attribute.Slice("items", items...),
		attribute.Int64(Stages[0]+".ns", int64(t[1].Sub(t[0]))),
		attribute.Int64(Stages[1]+".ns", int64(t[2].Sub(t[1]))),
		attribute.Int64(Stages[2]+".ns", int64(t[3].Sub(t[2]))),
		attribute.Int64("total.ns", int64(total)))
	s.logger.Emit(ctx, rec)
	span.End()
	return nil
}

func (s *otelSink) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return errors.Join(s.tp.Shutdown(ctx), s.lp.Shutdown(ctx), s.mp.Shutdown(ctx))
}

func (s *otelSink) Close() error {
	// The providers' Shutdown exports what their queues hold and shuts the
	// exporters down; then the files are flushed, synced and closed.
	return errors.Join(s.shutdown(), s.traceW.Close(), s.logW.Close())
}

func (s *otelSink) Delivered() (events, bytes int64, err error) {
	return CountLines(filepath.Join(s.dir, "logs"))
}

func (s *otelSink) Spans() (int64, error) {
	n, _, err := CountLines(filepath.Join(s.dir, "traces"))
	return n, err
}
