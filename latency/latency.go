package latency

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Status is how a timed stage ended.
type Status uint8

// Stage statuses. Anything but StatusOK is a degradation.
const (
	StatusOK       Status = iota // completed normally
	StatusError                  // failed with an error
	StatusTimeout                // gave up on a deadline
	StatusFallback               // a fallback result was used
)

var statusNames = [...]string{"ok", "error", "timeout", "fallback"}

// String returns the wire name of s.
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown"
}

// ParseStatus is the inverse of [Status.String].
func ParseStatus(s string) (Status, bool) {
	for i, n := range statusNames {
		if n == s {
			return Status(i), true
		}
	}
	return 0, false
}

// StatusOf classifies err: nil is OK, a deadline or [ErrTimeout] is a
// timeout, an error wrapping [ErrFallback] is a fallback, anything else an
// error.
func StatusOf(err error) Status {
	switch {
	case err == nil:
		return StatusOK
	case errors.Is(err, ErrFallback):
		return StatusFallback
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrTimeout):
		return StatusTimeout
	}
	return StatusError
}

// ErrFallback marks a stage that served a fallback. Wrap it (fmt.Errorf("%w:
// cache", latency.ErrFallback)) or return it to record the stage as a
// fallback rather than a failure.
var ErrFallback = errors.New("fallback used")

// ErrTimeout marks a stage that timed out by its own clock rather than by a
// context deadline.
var ErrTimeout = errors.New("timed out")

// Observation is one finished stage.
type Observation struct {
	Stage    string
	Start    time.Time
	Duration time.Duration
	Status   Status
	// Detail is a short classification (error type, fallback reason); never
	// an error message, which can carry identifiers.
	Detail string
}

// Recorder receives finished stages. An inference of package personalize
// is a Recorder; so is a [Tracker]. Implementations must be safe for
// concurrent use and must not block: Observe runs on the request path.
type Recorder interface {
	Observe(o Observation)
}

// RecorderFunc adapts a function to a [Recorder].
type RecorderFunc func(o Observation)

// Observe calls f(o).
func (f RecorderFunc) Observe(o Observation) { f(o) }

type recorderKey struct{}

// ContextWithRecorder returns a copy of ctx carrying r; [Time] and
// [Start] report to it.
func ContextWithRecorder(ctx context.Context, r Recorder) context.Context {
	return context.WithValue(ctx, recorderKey{}, r)
}

// RecorderFromContext returns the recorder ctx carries, or nil.
func RecorderFromContext(ctx context.Context) Recorder {
	r, _ := ctx.Value(recorderKey{}).(Recorder)
	return r
}

// Span times one stage; get one from [Start]. The zero Span does nothing.
type Span struct {
	rec    Recorder
	stage  string
	start  time.Time
	span   trace.Span      // nil unless the trace is sampled
	parent context.Context // the context span was started in; nil without span
	detail string
}

// TracerName is the instrumentation scope of the spans this package starts.
const TracerName = "github.com/rankscope/rankscope/latency"

// Start begins timing stage and returns ctx for the stage's work. If ctx
// carries a sampled span, a child span named after the stage is started
// through that span's TracerProvider; unsampled traces cost no span. The
// observation goes to the Recorder in ctx when the Span ends.
func Start(ctx context.Context, stage string) (context.Context, Span) {
	s := Span{rec: RecorderFromContext(ctx), stage: stage}
	if parent := trace.SpanFromContext(ctx); parent.SpanContext().IsSampled() {
		s.parent = ctx
		ctx, s.span = parent.TracerProvider().Tracer(TracerName).Start(ctx, stage)
	}
	s.start = Now()
	return ctx, s
}

// Next ends s with status OK, as End(nil) does, and starts timing the
// stage named stage at the instant s ended, for stages that run back to
// back: one clock reading per boundary instead of two, so the stages tile
// the time between them with no gap. The new Span reports to the same
// Recorder; when s has an OTel span, the new stage's span is started as
// its sibling (same parent) and ends with it. Next on the zero Span
// returns the zero Span. A stage whose work needs the context of its own
// span (to start child spans) should use [Start] instead.
func (s Span) Next(stage string) Span {
	if s.start.IsZero() {
		return Span{}
	}
	now := Now()
	s.finish(StatusOK, nil, now.Sub(s.start), now)
	n := Span{rec: s.rec, stage: stage, start: now}
	if s.span != nil {
		n.parent = s.parent
		_, n.span = s.span.TracerProvider().Tracer(TracerName).Start(s.parent, stage,
			trace.WithTimestamp(now))
	}
	return n
}

// Detail sets the short classification reported with the stage (an error
// type or fallback reason).
func (s *Span) Detail(d string) { s.detail = d }

// End finishes the stage with err's status (see [StatusOf]) and returns the
// duration.
func (s Span) End(err error) time.Duration {
	return s.EndStatus(StatusOf(err), err)
}

// EndStatus finishes the stage with an explicit status.
func (s Span) EndStatus(st Status, err error) time.Duration {
	if s.start.IsZero() {
		return 0
	}
	now := Now()
	d := now.Sub(s.start)
	s.finish(st, err, d, now)
	return d
}

// finish reports the stage, which took d, to its span (ended at end, or
// now when end is zero) and recorder.
func (s *Span) finish(st Status, err error, d time.Duration, end time.Time) {
	detail := s.detail
	if detail == "" && err != nil {
		detail = ErrorType(err)
	}
	if s.span != nil {
		if st != StatusOK {
			s.span.SetAttributes(attribute.String(AttrStageStatus, st.String()))
			if detail != "" {
				s.span.SetAttributes(attribute.String(AttrStageDetail, detail))
			}
			s.span.SetStatus(codes.Error, st.String())
		}
		if end.IsZero() {
			s.span.End()
		} else {
			s.span.End(trace.WithTimestamp(end))
		}
	}
	if s.rec != nil {
		s.rec.Observe(Observation{Stage: s.stage, Start: s.start, Duration: d, Status: st, Detail: detail})
	}
}

// Time runs fn as the stage named stage: see [Start]. It returns fn's
// results unchanged.
func Time[T any](ctx context.Context, stage string, fn func(context.Context) (T, error)) (T, error) {
	ctx, s := Start(ctx, stage)
	v, err := fn(ctx)
	s.End(err)
	return v, err
}

// ErrorType returns a short, identifier-free classification of err: the
// status for deadline and fallback errors, else "error". Errors that
// implement interface{ ErrorType() string }, found by following Unwrap
// like errors.As, choose their own. It does not allocate.
func ErrorType(err error) string {
	if err == nil {
		return ""
	}
	if t, ok := findErrorType(err); ok {
		return t
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, ErrFallback):
		return "fallback"
	case errors.Is(err, ErrTimeout):
		return "timeout"
	}
	return "error"
}

type errorTyper interface{ ErrorType() string }

// findErrorType walks err's tree depth first, as errors.As does, without
// the allocation errors.As costs for an interface target.
func findErrorType(err error) (string, bool) {
	for err != nil {
		if t, ok := err.(errorTyper); ok {
			return t.ErrorType(), true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if t, ok := findErrorType(e); ok {
					return t, true
				}
			}
			return "", false
		default:
			return "", false
		}
	}
	return "", false
}
