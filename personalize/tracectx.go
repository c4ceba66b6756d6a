package personalize

import (
	"context"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"

	"github.com/rankscope/rankscope/personalize/schema"
)

// BaggageRequestID is the W3C baggage member that carries a request id
// across services: a service that serves a ranking puts it in the context
// of the calls it makes ([ContextWithRequestID]; the middleware does), and
// [Instrument.Outcome] in another service reads it back when the outcome
// has no RequestID of its own, so a click handler links to the impression
// without plumbing the id through its own code. It travels only when the
// services propagate baggage (an OpenTelemetry propagator with
// propagation.Baggage, as otel's autoprop and most SDK set-ups configure).
const BaggageRequestID = "rankscope.request_id"

// ContextWithRequestID returns ctx whose baggage carries id as
// [BaggageRequestID]. It returns ctx unchanged when id is empty or not a
// valid baggage value.
func ContextWithRequestID(ctx context.Context, id RequestID) context.Context {
	if id == "" {
		return ctx
	}
	m, err := baggage.NewMember(BaggageRequestID, id)
	if err != nil {
		return ctx
	}
	b, err := baggage.FromContext(ctx).SetMember(m)
	if err != nil {
		return ctx
	}
	return baggage.ContextWithBaggage(ctx, b)
}

// RequestIDFromContext returns the request id in ctx's baggage
// ([BaggageRequestID]), or "".
func RequestIDFromContext(ctx context.Context) RequestID {
	return baggage.FromContext(ctx).Member(BaggageRequestID).Value()
}

// traceContext returns the trace and span id of the span in ctx, zero when
// it has none (or an invalid one).
func traceContext(ctx context.Context) (schema.TraceID, schema.SpanID) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return schema.TraceID{}, schema.SpanID{}
	}
	return schema.TraceID(sc.TraceID()), schema.SpanID(sc.SpanID())
}
