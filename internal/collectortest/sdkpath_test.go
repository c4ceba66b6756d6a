package collectortest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/rankscope/rankscope/exporters/otlp"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/schema"
)

// sdkExporter is the test oracle of exporters/otlp: each event becomes
// an OpenTelemetry SDK log record (otlp.AppendAttributes, otlp.EventName,
// the event time, severity INFO) sent by the SDK's own OTLP log exporter
// (otlploghttp or otlploggrpc), one request per Export. It is what
// exporters/otlp offered as Config.UseSDK before the SDK path left the
// library to keep its dependency graph small: the differential tests
// compare what the direct encoder sends with what the SDK sends.
type sdkExporter struct {
	exp      sdklog.Exporter
	provider *sdklog.LoggerProvider
	logger   log.Logger
	proc     *collect
	attrs    []attribute.KeyValue
}

// collect is the processor of the oracle's LoggerProvider: it gathers the
// records of one Export so they go out in one request.
type collect struct{ recs []sdklog.Record }

func (c *collect) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (c *collect) OnEmit(_ context.Context, r *sdklog.Record) error {
	c.recs = append(c.recs, *r)
	return nil
}
func (c *collect) Shutdown(context.Context) error   { return nil }
func (c *collect) ForceFlush(context.Context) error { return nil }

// newSDKExporter sends to endpoint (a base URL: http:// means plaintext)
// over p, describing the process with res (nil: resource.Default()).
func newSDKExporter(t testing.TB, p otlp.Protocol, endpoint string, res *resource.Resource) *sdkExporter {
	t.Helper()
	var (
		exp sdklog.Exporter
		err error
	)
	ctx := context.Background()
	if p == otlp.ProtocolGRPC {
		exp, err = otlploggrpc.New(ctx, otlploggrpc.WithEndpointURL(endpoint), otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: false}))
	} else {
		exp, err = otlploghttp.New(ctx, otlploghttp.WithEndpointURL(endpoint+"/v1/logs"), otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}))
	}
	require.NoError(t, err)
	if res == nil {
		res = resource.Default()
	}
	e := &sdkExporter{exp: exp, proc: &collect{}}
	e.provider = sdklog.NewLoggerProvider(
		sdklog.WithResource(res),
		sdklog.WithProcessor(e.proc),
		sdklog.WithAttributeCountLimit(-1), // never truncated, as the direct path
		sdklog.WithAttributeValueLengthLimit(-1),
		sdklog.WithAllowKeyDuplication(), // the mapping never repeats a key
	)
	e.logger = e.provider.Logger(otlp.ScopeName, log.WithSchemaURL(""))
	return e
}

// Export sends batch in one request; events without a payload are
// skipped, as the direct path drops them.
func (e *sdkExporter) Export(ctx context.Context, batch []personalize.Event) error {
	e.proc.recs = e.proc.recs[:0]
	for _, ev := range batch {
		var err error
		if e.attrs, err = otlp.AppendAttributes(e.attrs[:0], ev); err != nil {
			continue
		}
		var rec log.Record
		rec.SetEventName(otlp.EventName(ev.Type))
		rec.SetTimestamp(ev.Time())
		rec.SetSeverity(log.SeverityInfo)

		rec.AddAttributes(e.attrs...)
		// The SDK takes a record's trace context from the context.
		tid, sid := traceContext(ev)
		ctx := trace.ContextWithSpanContext(context.Background(),
			trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID(tid), SpanID: trace.SpanID(sid)}))
		e.logger.Emit(ctx, rec)
	}
	if len(e.proc.recs) == 0 {
		return nil
	}
	if err := e.exp.Export(ctx, e.proc.recs); err != nil {
		return fmt.Errorf("sdk oracle: %w", err)
	}
	return nil
}

// Shutdown shuts the SDK exporter and provider down.
func (e *sdkExporter) Shutdown(ctx context.Context) error {
	if err := e.exp.Shutdown(ctx); err != nil {
		return err
	}
	return e.provider.Shutdown(ctx)
}

// traceContext is the trace context an impression or outcome carries.
func traceContext(e personalize.Event) (schema.TraceID, schema.SpanID) {
	switch {
	case e.Impression != nil:
		return e.Impression.TraceID, e.Impression.SpanID
	case e.Outcome != nil:
		return e.Outcome.TraceID, e.Outcome.SpanID
	}
	return schema.TraceID{}, schema.SpanID{}
}
