package grpcmw

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/middleware/internal/shed"
)

// Defaults.
const (
	// DefaultHeader is the response header metadata key that carries the
	// request id, and the request metadata key [RequestID] reads it back
	// from.
	DefaultHeader = "x-request-id"
	// DefaultStage names the stage that times the handler.
	DefaultStage = "handler"
)

// Config configures [Interceptors]. The zero value of every field but
// Request means the documented default.
type Config struct {
	// Request builds the personalize.Request of an incoming call from its
	// context (incoming metadata, peer) and full method name
	// ("/package.Service/Method"). Required. Leave ID empty to have one
	// generated.
	Request func(ctx context.Context, fullMethod string) personalize.Request
	// Header is the response header metadata key set to the request id
	// before the handler runs. Default [DefaultHeader]. Keys are
	// lowercased.
	Header string
	// Stage names the stage that times the handler. Default
	// [DefaultStage].
	Stage string
	// ErrorHandler, if set, receives the errors Inference.End returns;
	// they are counted in the instrument's Stats either way. Default:
	// ignored.
	ErrorHandler func(error)
}

// Interceptors make each gRPC call (unary, or a whole stream) one
// inference of an instrument. They are safe for concurrent use.
type Interceptors struct {
	inst *personalize.Instrument
	cfg  Config
}

// New returns interceptors recording into inst. It returns an error
// naming the field when cfg is invalid.
func New(inst *personalize.Instrument, cfg Config) (*Interceptors, error) {
	if inst == nil {
		return nil, errors.New("grpcmw: nil instrument")
	}
	if cfg.Request == nil {
		return nil, errors.New("grpcmw: Config.Request: required")
	}
	if cfg.Header == "" {
		cfg.Header = DefaultHeader
	}
	cfg.Header = strings.ToLower(cfg.Header)
	if err := validKey(cfg.Header); err != nil {
		return nil, fmt.Errorf("grpcmw: Config.Header: %w", err)
	}
	if cfg.Stage == "" {
		cfg.Stage = DefaultStage
	}
	return &Interceptors{inst: inst, cfg: cfg}, nil
}

// Unary returns the unary server interceptor: it starts an inference with
// Config.Request, sets the response header metadata Config.Header to its
// request id, runs the handler as the stage Config.Stage with the
// inference in its context, and ends the inference with the handler's
// error classified by [Classify].
func (ic *Interceptors) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		ictx, inf := ic.inst.Start(ctx, ic.cfg.Request(ctx, info.FullMethod))
		if id := inf.RequestID(); id != "" {
			_ = grpc.SetHeader(ctx, metadata.Pairs(ic.cfg.Header, id))
		}
		ictx = personalize.ContextWithRequestID(shed.Context(ictx, inf), inf.RequestID())
		st := inf.Stage(ic.cfg.Stage)
		ended := false
		defer func() {
			if !ended {
				ic.endPanic(inf, st)
			}
		}()
		resp, err = handler(ictx, req)
		ended = true
		ierr := Classify(err)
		st.End(ierr)
		ic.end(inf, ierr)
		return resp, err
	}
}

// Stream returns the stream server interceptor: the whole stream is one
// inference, started, timed and ended as by [Interceptors.Unary]; the
// handler's stream returns the inference's context from Context. A stream
// that serves several rankings should start an inference per ranking
// itself instead.
func (ic *Interceptors) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		ctx := ss.Context()
		ictx, inf := ic.inst.Start(ctx, ic.cfg.Request(ctx, info.FullMethod))
		if id := inf.RequestID(); id != "" {
			_ = ss.SetHeader(metadata.Pairs(ic.cfg.Header, id))
		}
		ictx = personalize.ContextWithRequestID(shed.Context(ictx, inf), inf.RequestID())
		st := inf.Stage(ic.cfg.Stage)
		ended := false
		defer func() {
			if !ended {
				ic.endPanic(inf, st)
			}
		}()
		err = handler(srv, &serverStream{ServerStream: ss, ctx: ictx})
		ended = true
		ierr := Classify(err)
		st.End(ierr)
		ic.end(inf, ierr)
		return err
	}
}

// endPanic ends the stage and the inference of a handler that panicked;
// the panic goes on up the stack.
func (ic *Interceptors) endPanic(inf *personalize.Inference, st latency.Span) {
	st.End(errPanic)
	ic.end(inf, errPanic)
}

func (ic *Interceptors) end(inf *personalize.Inference, err error) {
	if err := inf.End(err); err != nil && ic.cfg.ErrorHandler != nil {
		ic.cfg.ErrorHandler(err)
	}
}

type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }

var errPanic = panicError{}

type panicError struct{}

func (panicError) Error() string     { return "grpcmw: handler panicked" }
func (panicError) ErrorType() string { return "panic" }

// CodeError is the error an inference ends with when its handler returned
// an error with a server-fault code. Its error type (the impression's
// ErrorType) is "grpc_" and the code in snake case, for example
// "grpc_unavailable".
type CodeError struct {
	Code codes.Code
	Err  error // the handler's error
}

func (e *CodeError) Error() string { return "grpcmw: handler failed: " + e.Err.Error() }

// ErrorType returns "grpc_" and the code in snake case.
func (e *CodeError) ErrorType() string { return "grpc_" + snake(e.Code.String()) }

// Unwrap returns context.DeadlineExceeded for the code DeadlineExceeded,
// so the inference is classified as a timeout, and the handler's error
// otherwise.
func (e *CodeError) Unwrap() error {
	if e.Code == codes.DeadlineExceeded {
		return context.DeadlineExceeded
	}
	return e.Err
}

// Classify returns the error an inference ends with for a handler's
// error: nil for nil and for codes that mean the client's request was at
// fault or the call was cancelled (InvalidArgument, NotFound,
// AlreadyExists, PermissionDenied, Unauthenticated, FailedPrecondition,
// OutOfRange, ResourceExhausted, Aborted, Canceled), as an HTTP 4xx is not
// an inference error; a *CodeError for the server faults Unknown,
// DeadlineExceeded (a timeout), Unimplemented, Internal, Unavailable and
// DataLoss. This is the rule of the OpenTelemetry semantic conventions for
// the status of gRPC server spans. An error that is not a gRPC status has
// the code Unknown.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	code := status.Code(err)
	switch code {
	case codes.Unknown, codes.DeadlineExceeded, codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss:
		return &CodeError{Code: code, Err: err}
	}
	return nil
}

// Inference returns the inference of the call ctx belongs to:
// personalize.FromContext(ctx), or, for a call the instrument shed at
// Start because its queue was full, the stand-in that records nothing. It
// returns nil outside the interceptors.
func Inference(ctx context.Context) *personalize.Inference { return shed.Inference(ctx) }

// RequestID returns the request id a client sent back in the incoming
// metadata [DefaultHeader], for example with a click; "" when it holds
// no value of 1 to 128 bytes of visible ASCII.
func RequestID(ctx context.Context) personalize.RequestID {
	return RequestIDFrom(ctx, DefaultHeader)
}

// RequestIDFrom is [RequestID] with another metadata key. Last, it reads
// the context's baggage (personalize.BaggageRequestID).
func RequestIDFrom(ctx context.Context, key string) personalize.RequestID {
	for _, id := range metadata.ValueFromIncomingContext(ctx, key) {
		if shed.ValidRequestID(id) {
			return id
		}
	}
	if id := personalize.RequestIDFromContext(ctx); shed.ValidRequestID(id) {
		return id
	}
	return ""
}

func validKey(k string) error {
	if strings.HasPrefix(k, "grpc-") {
		return fmt.Errorf("%q: the grpc- prefix is reserved", k)
	}
	if strings.HasSuffix(k, "-bin") {
		return fmt.Errorf("%q: binary (-bin) keys are not supported", k)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%q is not a valid metadata key", k)
		}
	}
	return nil
}

// snake turns "DeadlineExceeded" into "deadline_exceeded".
func snake(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}
