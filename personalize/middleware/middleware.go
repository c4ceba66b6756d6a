package middleware

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/middleware/internal/shed"
)

// Defaults.
const (
	// DefaultHeader is the response header that carries the request id, and
	// the request header [RequestID] reads it back from.
	DefaultHeader = "X-Request-Id"
	// DefaultQueryParam is the query parameter [RequestID] reads the request
	// id from when the header is absent.
	DefaultQueryParam = "request_id"
	// DefaultStage names the stage that times the handler.
	DefaultStage = "handler"
	// MaxRequestIDLen bounds the request ids [RequestID] accepts.
	MaxRequestIDLen = shed.MaxRequestIDLen
)

// Config configures a [Middleware]. The zero value of every field but
// Request means the documented default.
type Config struct {
	// Request builds the personalize.Request of an incoming HTTP request:
	// user, surface, model version, experiments. Required. It runs on the
	// request's goroutine before the handler; leave ID empty to have one
	// generated.
	Request func(*http.Request) personalize.Request
	// Header is the response header set to the request id before the
	// handler runs. Default [DefaultHeader].
	Header string
	// Stage names the stage that times the handler. Default
	// [DefaultStage].
	Stage string
	// ErrorHandler, if set, receives the errors Inference.End returns (a
	// *personalize.DropError when the queue is full, a
	// *personalize.ValidationError for an invalid impression). They are
	// counted in the instrument's Stats either way. Default: ignored.
	ErrorHandler func(error)
}

// Middleware wraps HTTP handlers so that each request is one inference
// of an instrument. It is safe for concurrent use.
type Middleware struct {
	inst *personalize.Instrument
	cfg  Config
}

// New returns a middleware recording into inst. It returns an error naming
// the field when cfg is invalid.
func New(inst *personalize.Instrument, cfg Config) (*Middleware, error) {
	if inst == nil {
		return nil, errors.New("middleware: nil instrument")
	}
	if cfg.Request == nil {
		return nil, errors.New("middleware: Config.Request: required")
	}
	if cfg.Header == "" {
		cfg.Header = DefaultHeader
	}
	if !validHeader(cfg.Header) {
		return nil, fmt.Errorf("middleware: Config.Header: %q is not a valid header name", cfg.Header)
	}
	cfg.Header = http.CanonicalHeaderKey(cfg.Header)
	if cfg.Stage == "" {
		cfg.Stage = DefaultStage
	}
	return &Middleware{inst: inst, cfg: cfg}, nil
}

// Header returns the response header that carries the request id.
func (m *Middleware) Header() string { return m.cfg.Header }

// Handler returns next wrapped: for each request it starts an inference
// with Config.Request, sets the response header to its request id, runs
// next as the stage Config.Stage with the inference in the request's
// context, and ends the inference with the handler's status: a *StatusError
// for 5xx, nil otherwise. A panic in next ends the stage and the inference
// with an error (error type "panic"); the panic is not recovered, so it
// reaches net/http unchanged (http.ErrAbortHandler keeps its meaning).
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, inf := m.inst.Start(r.Context(), m.cfg.Request(r))
		if id := inf.RequestID(); id != "" {
			w.Header().Set(m.cfg.Header, id)
		}
		ctx = personalize.ContextWithRequestID(shed.Context(ctx, inf), inf.RequestID())
		rw := &responseWriter{ResponseWriter: w}
		st := inf.Stage(m.cfg.Stage)
		ended := false
		defer func() {
			if ended {
				return
			}
			// next panicked (or called runtime.Goexit): end the inference
			// and let the panic go on, with its value and stack.
			st.End(errPanic)
			m.end(inf, errPanic)
		}()
		next.ServeHTTP(rw, r.WithContext(ctx))
		ended = true
		var err error
		if code := rw.code(); code >= 500 {
			err = &StatusError{Code: code, Err: r.Context().Err()}
		}
		st.End(err)
		m.end(inf, err)
	})
}

func (m *Middleware) end(inf *personalize.Inference, err error) {
	if err := inf.End(err); err != nil && m.cfg.ErrorHandler != nil {
		m.cfg.ErrorHandler(err)
	}
}

// errPanic classifies inferences whose handler panicked.
var errPanic = panicError{}

type panicError struct{}

func (panicError) Error() string     { return "middleware: handler panicked" }
func (panicError) ErrorType() string { return "panic" }

// StatusError is the error an inference ends with when its handler
// answered with a 5xx status. Its error type (the impression's ErrorType)
// is "http_" and the code, for example "http_503".
type StatusError struct {
	Code int
	// Err is the request context's error when it had ended, so a deadline
	// classifies the inference as a timeout.
	Err error
}

func (e *StatusError) Error() string {
	return "middleware: handler answered " + strconv.Itoa(e.Code) + " " + http.StatusText(e.Code)
}

// ErrorType returns "http_" and the code.
func (e *StatusError) ErrorType() string { return "http_" + strconv.Itoa(e.Code) }

func (e *StatusError) Unwrap() error { return e.Err }

// Inference returns the inference of the request ctx belongs to:
// personalize.FromContext(ctx), or, for a request the instrument shed at
// Start because its queue was full, the stand-in that records nothing
// (personalize.FromContext returns nil for those). It returns nil outside
// a [Middleware] or the grpcmw interceptors. Handlers can call its
// methods without checking for shedding.
func Inference(ctx context.Context) *personalize.Inference { return shed.Inference(ctx) }

// RequestID returns the request id a client sent back, for example with
// a click: the [DefaultHeader] request header, else the [DefaultQueryParam]
// query parameter. It returns "" when neither holds 1 to
// [MaxRequestIDLen] bytes of visible ASCII.
func RequestID(r *http.Request) personalize.RequestID {
	return RequestIDFrom(r, DefaultHeader, DefaultQueryParam)
}

// RequestIDFrom is [RequestID] with another header and query parameter;
// an empty name is not read. Last, it reads the request's context baggage
// (personalize.BaggageRequestID), which a service that propagates W3C
// baggage received from the service that served the ranking.
func RequestIDFrom(r *http.Request, header, param string) personalize.RequestID {
	if header != "" {
		if id := r.Header.Get(header); shed.ValidRequestID(id) {
			return id
		}
	}
	if param != "" {
		if id := r.URL.Query().Get(param); shed.ValidRequestID(id) {
			return id
		}
	}
	if id := personalize.RequestIDFromContext(r.Context()); shed.ValidRequestID(id) {
		return id
	}
	return ""
}

func validHeader(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c <= ' ' || c >= 0x7f || c == ':' || c == '(' || c == ')' || c == '<' || c == '>' || c == '@' ||
			c == ',' || c == ';' || c == '\\' || c == '"' || c == '/' || c == '[' || c == ']' || c == '?' ||
			c == '=' || c == '{' || c == '}' {
			return false
		}
	}
	return true
}

// responseWriter records the status the handler wrote. Unwrap lets
// http.ResponseController reach the underlying writer's Hijack,
// SetReadDeadline and the like.
type responseWriter struct {
	http.ResponseWriter
	status int
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher when the underlying writer does.
func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// code is the status sent: 200 when the handler wrote nothing.
func (w *responseWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
