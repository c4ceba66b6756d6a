// Package grpcmw makes each call of a gRPC server one inference of a
// [personalize.Instrument], with unary and stream server interceptors, and
// reads request ids back at the click method. Package middleware does the
// same for net/http.
//
// # Ranking methods
//
// [New] builds [Interceptors] from an instrument and a [Config] whose
// Request function turns the call's context (incoming metadata) and full
// method name into a personalize.Request. Install them on the server:
//
//	ic, err := grpcmw.New(inst, grpcmw.Config{
//		Request: func(ctx context.Context, method string) personalize.Request { ... },
//	})
//	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(ic.Unary()), grpc.ChainStreamInterceptor(ic.Stream()))
//
// For each unary call, and for each stream as a whole, they
//
//   - start the inference on the call's context, so a sampled span of an
//     OpenTelemetry stats handler becomes the parent of the inference span;
//   - set the response header metadata Config.Header (default
//     x-request-id) to the request id, sent with the response headers;
//   - run the handler as the stage Config.Stage (default "handler") with
//     the inference in its context: personalize.FromContext or [Inference]
//     reach it (for streams, from the stream's Context);
//   - end the stage and the inference with the handler's error as
//     [Classify] maps it: the server faults Unknown, DeadlineExceeded (a
//     timeout), Unimplemented, Internal, Unavailable and DataLoss end them
//     as errors (a *[CodeError], error type "grpc_unavailable" and so on);
//     nil and the codes that blame the request (InvalidArgument, NotFound,
//     Canceled and the rest) as OK, as an HTTP 4xx. A panic ends them as
//     errors and goes on.
//
// Under overload the instrument sheds inferences at Start: no header is
// set, nothing is recorded, personalize.FromContext returns nil and
// [Inference] returns the shed stand-in, whose methods do nothing.
//
// # Click methods
//
// [RequestID] reads the request id a client sends back in the incoming
// metadata x-request-id ([RequestIDFrom] takes another key), accepting 1
// to 128 bytes of visible ASCII, for the outcome's RequestID.
//
// # Concurrency
//
// Interceptors are safe for concurrent use. The inference of a call
// belongs to its handler: stages may be timed from several goroutines, but
// Impress must not race with the handler's return, when the interceptor
// ends the inference, and nothing may use the inference after that.
package grpcmw
