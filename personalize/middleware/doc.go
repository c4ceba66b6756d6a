// Package middleware makes each request of a net/http server one inference
// of a [personalize.Instrument], and reads request ids back at the click
// endpoint. Package grpcmw does the same for gRPC servers.
//
// # Ranking endpoints
//
// [New] builds a [Middleware] from an instrument and a [Config] whose
// Request function turns the incoming request into a personalize.Request
// (user, surface, model version, experiments). [Middleware.Handler] wraps
// a handler: for each request it
//
//   - starts the inference (personalize.Instrument.Start) on the request's
//     context, so a sampled trace span of an outer middleware becomes the
//     parent of the inference span;
//   - sets the response header Config.Header (default X-Request-Id) to the
//     request id before the handler runs, so it is sent whatever the
//     handler writes;
//   - puts the request id in the W3C baggage of the handler's context
//     (personalize.BaggageRequestID), so calls the handler makes carry it
//     to other services when baggage is propagated, where
//     personalize.Instrument.Outcome and [RequestID] read it back;
//   - runs the handler as the stage Config.Stage (default "handler") with
//     the inference in its request's context: the handler reaches it with
//     personalize.FromContext or [Inference], times its own stages with
//     latency.Time on that context, and records the ranked items with
//     Impress;
//   - ends the stage and the inference with the handler's status: a 5xx
//     ends them as errors (a *[StatusError], error type "http_503" and so
//     on; a timeout when the request's context deadline had passed), any
//     other status as OK. A panic ends them as errors and goes on.
//
// For example:
//
//	mw, err := middleware.New(inst, middleware.Config{
//		Request: func(r *http.Request) personalize.Request {
//			return personalize.Request{User: r.Header.Get("X-User"), Surface: "home_feed", ModelVersion: "v42"}
//		},
//	})
//	mux.Handle("GET /rank", mw.Handler(rankHandler))
//
// Under overload the instrument sheds inferences at Start (see
// personalize.Instrument.Start): no header is set, nothing is recorded, and
// personalize.FromContext returns nil in the handler. [Inference] returns
// the shed stand-in instead, whose methods do nothing, so handlers that
// use it need no nil check.
//
// # Click endpoints
//
// A client sends the request id back with what the user did. [RequestID]
// reads it from the X-Request-Id request header or the request_id query
// parameter ([RequestIDFrom] takes other names), accepting 1 to
// [MaxRequestIDLen] bytes of visible ASCII, and the handler records the
// outcome:
//
//	err := inst.Outcome(r.Context(), personalize.Outcome{
//		RequestID: middleware.RequestID(r), User: user, Item: item, Kind: personalize.OutcomeClick})
//
// # Concurrency
//
// A Middleware and the handlers it returns are safe for concurrent use. The
// inference of a request belongs to its handler: stages may be timed from
// several goroutines, but Impress must not race with the end of the
// handler, when the middleware ends the inference, and nothing may use the
// inference after the handler returns.
package middleware
