package collectortest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/rankscope/rankscope/exporters/otlp"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/privacy"
)

// TestTraceContextThroughCollector runs an inference under a sampled span
// and a click under a later span of the same trace, exports through the
// OTLP exporter to the official Collector receiver, and finds the span's
// trace id in both received log records (their trace_id fields), the
// span ids of the spans that were active, and the request id on
// rankscope's inference span.
func TestTraceContextThroughCollector(t *testing.T) {
	r := &received{}
	c := startCollector(t, "", "", r)
	exp := newExporter(t, otlp.ProtocolGRPC, c.endpoint(otlp.ProtocolGRPC), otlp.RetryConfig{})
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	require.NoError(t, err)
	inst, err := personalize.New(personalize.Config{Service: "feed-ranker", Pseudonymize: kr,
		Exporters: []personalize.Exporter{exp}, BatchTimeout: 10 * time.Millisecond,
		MeterProvider: sdkmetric.NewMeterProvider()})
	require.NoError(t, err)

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	root, rank := tp.Tracer("test").Start(context.Background(), "GET /rank")
	_, inf := inst.Start(root, personalize.Request{User: "u-1", Surface: "home_feed"})
	inf.Impress([]personalize.Item{{ID: "sku-1", Position: 1, Score: 0.7}})
	require.NoError(t, inf.End(nil))
	rank.End()
	click, clickSpan := tp.Tracer("test").Start(root, "POST /click")
	require.NoError(t, inst.Outcome(click, personalize.Outcome{RequestID: inf.RequestID(), User: "u-1",
		Item: "sku-1", Kind: personalize.OutcomeClick}))
	clickSpan.End()
	require.NoError(t, inst.Shutdown(ctx(t)))

	require.Eventually(t, func() bool { return r.count() == 2 }, 10*time.Second, 10*time.Millisecond)
	got, errs := r.snapshot()
	require.Empty(t, errs)
	traceID := rank.SpanContext().TraceID()
	for _, ev := range got {
		switch ev.Type {
		case personalize.EventImpression:
			assert.Equal(t, traceID.String(), ev.Impression.TraceID.String())
			assert.Equal(t, rank.SpanContext().SpanID().String(), ev.Impression.SpanID.String())
			assert.Equal(t, inf.RequestID(), ev.Impression.RequestID)
		case personalize.EventOutcome:
			assert.Equal(t, traceID.String(), ev.Outcome.TraceID.String())
			assert.Equal(t, clickSpan.SpanContext().SpanID().String(), ev.Outcome.SpanID.String())
			assert.Equal(t, inf.RequestID(), ev.Outcome.RequestID)
		}
	}
	var reqAttr string
	for _, s := range spans.Ended() {
		if s.Name() == "rankscope.inference" {
			assert.Equal(t, traceID, s.SpanContext().TraceID())
			for _, a := range s.Attributes() {
				if a.Key == "rankscope.request_id" {
					reqAttr = a.Value.AsString()
				}
			}
		}
	}
	assert.Equal(t, inf.RequestID(), reqAttr)
}
