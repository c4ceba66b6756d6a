package middleware_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/middleware"
	"github.com/rankscope/rankscope/privacy"
)

// traced is what an OpenTelemetry HTTP server instrumentation does (otelhttp
// is not a dependency): extract the W3C trace context and baggage of the
// incoming request and run next inside a server span.
func traced(tp trace.TracerProvider, prop propagation.TextMapPropagator, name string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tp.Tracer("test").Start(ctx, name+" "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// TestTraceLinksSpanImpressionAndOutcomes starts a sampled client span,
// runs an inference through the middleware, clicks through a second
// handler, and has the ranking handler call a third service that records a
// conversion with no request id of its own (it comes in the baggage). The
// written files must carry the client's trace id on the impression and on
// both outcomes, the request id on the inference span, and the span ids of
// the server spans that were active.
func TestTraceLinksSpanImpressionAndOutcomes(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

	dir := t.TempDir()
	fx, err := file.New(file.Config{Dir: dir})
	require.NoError(t, err)
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	require.NoError(t, err)
	inst, err := personalize.New(personalize.Config{Service: "feed-ranker", Pseudonymize: kr,
		Exporters: []personalize.Exporter{fx}, BatchTimeout: 10 * time.Millisecond,
		MeterProvider: sdkmetric.NewMeterProvider(), ErrorHandler: func(error) {}})
	require.NoError(t, err)
	mw, err := middleware.New(inst, middleware.Config{Request: request})
	require.NoError(t, err)

	// A checkout service: records a purchase; the request id arrives only
	// as baggage from the ranking service's outgoing call.
	checkout := httptest.NewServer(traced(tp, prop, "checkout", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := inst.Outcome(r.Context(), personalize.Outcome{User: "u-5", Kind: personalize.OutcomePurchase, Value: 12, Currency: "EUR"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})))
	defer checkout.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /rank", mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		middleware.Inference(r.Context()).Impress([]personalize.Item{{ID: "sku-1", Position: 1, Score: 0.9, Propensity: 1}})
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, checkout.URL, nil)
		prop.Inject(r.Context(), propagation.HeaderCarrier(req.Header))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	})))
	mux.HandleFunc("POST /click", func(w http.ResponseWriter, r *http.Request) {
		err := inst.Outcome(r.Context(), personalize.Outcome{RequestID: middleware.RequestID(r),
			User: "u-5", Item: "sku-1", Kind: personalize.OutcomeClick})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	srv := httptest.NewServer(traced(tp, prop, "frontend", mux))
	defer srv.Close()

	// The client's sampled root span; both requests carry its context.
	ctx, root := tp.Tracer("test").Start(context.Background(), "page-view")
	do := func(method, url string, hdr http.Header) *http.Response {
		req, err := http.NewRequestWithContext(ctx, method, url, nil)
		require.NoError(t, err)
		for k, v := range hdr {
			req.Header[k] = v
		}
		prop.Inject(ctx, propagation.HeaderCarrier(req.Header))
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode)
		return resp
	}
	id := do(http.MethodGet, srv.URL+"/rank?user=u-5", nil).Header.Get(middleware.DefaultHeader)
	require.NotEmpty(t, id)
	do(http.MethodPost, srv.URL+"/click", http.Header{"X-Request-Id": {id}})
	root.End()
	require.NoError(t, inst.Shutdown(context.Background()))

	traceID := root.SpanContext().TraceID().String()
	serverSpan := map[string]string{} // span name -> span id (each name once)
	var inferenceReqID string
	for _, s := range spans.Ended() {
		assert.Equal(t, traceID, s.SpanContext().TraceID().String(), "span %s", s.Name())
		serverSpan[s.Name()] = s.SpanContext().SpanID().String()
		if s.Name() == "rankscope.inference" {
			for _, a := range s.Attributes() {
				if a.Key == "rankscope.request_id" {
					inferenceReqID = a.Value.AsString()
				}
			}
		}
	}
	assert.Equal(t, id, inferenceReqID, "the inference span carries the request id")

	var kinds []string
	_, err = file.ReadDir(dir, func(ev personalize.Event) error {
		switch ev.Type {
		case personalize.EventImpression:
			kinds = append(kinds, "impression")
			assert.Equal(t, id, ev.Impression.RequestID)
			assert.Equal(t, traceID, ev.Impression.TraceID.String())
			// The span active in the context given to Start: the frontend's.
			assert.Equal(t, serverSpan["frontend /rank"], ev.Impression.SpanID.String())
		case personalize.EventOutcome:
			o := ev.Outcome
			kinds = append(kinds, o.Kind.String())
			assert.Equal(t, id, o.RequestID, "outcome %s links to the impression", o.Kind)
			assert.Equal(t, traceID, o.TraceID.String(), "outcome %s", o.Kind)
			if o.Kind == personalize.OutcomePurchase {
				assert.Equal(t, serverSpan["checkout /"], o.SpanID.String())
			} else {
				assert.Equal(t, serverSpan["frontend /click"], o.SpanID.String())
			}
		}
		return nil
	})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"impression", "click", "purchase"}, kinds)
}

// TestOutcomeWithoutTraceOrBaggage: outside any span and baggage, an
// outcome keeps the fields it was given and no trace context.
func TestOutcomeWithoutTraceOrBaggage(t *testing.T) {
	inst, mem := newInst(t)
	require.NoError(t, inst.Outcome(context.Background(), personalize.Outcome{RequestID: "r-1", User: "u", Item: "i", Kind: personalize.OutcomeClick}))
	require.NoError(t, inst.Flush(context.Background()))
	evs := mem.Events()
	require.Len(t, evs, 1)
	assert.Equal(t, "r-1", evs[0].Outcome.RequestID)
	assert.True(t, evs[0].Outcome.TraceID.IsZero())
	assert.Empty(t, personalize.RequestIDFromContext(context.Background()))
	assert.Equal(t, "r-2", personalize.RequestIDFromContext(personalize.ContextWithRequestID(context.Background(), "r-2")))
}
