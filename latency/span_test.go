package latency

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// collect is a Recorder that keeps observations.
type collect struct {
	mu  sync.Mutex
	obs []Observation
}

func (c *collect) Observe(o Observation) {
	c.mu.Lock()
	c.obs = append(c.obs, o)
	c.mu.Unlock()
}

type typedErr struct{}

func (typedErr) Error() string     { return "user u-123 not found" }
func (typedErr) ErrorType() string { return "not_found" }

func TestStatusAndDetail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status Status
		detail string
	}{
		{"nil", nil, StatusOK, ""},
		{"plain", errors.New("user u-123: boom"), StatusError, "error"},
		{"deadline", fmt.Errorf("fetch: %w", context.DeadlineExceeded), StatusTimeout, "deadline_exceeded"},
		{"own timeout", ErrTimeout, StatusTimeout, "timeout"},
		{"fallback", fmt.Errorf("cache: %w", ErrFallback), StatusFallback, "fallback"},
		{"fallback after deadline", errors.Join(context.DeadlineExceeded, ErrFallback), StatusFallback, "deadline_exceeded"},
		{"canceled", context.Canceled, StatusError, "canceled"},
		{"typed", fmt.Errorf("a: %w", fmt.Errorf("b: %w", typedErr{})), StatusError, "not_found"},
		{"typed in join", errors.Join(errors.New("x"), typedErr{}), StatusError, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.status, StatusOf(tc.err))
			assert.Equal(t, tc.detail, ErrorType(tc.err))
			var c collect
			ctx := ContextWithRecorder(context.Background(), &c)
			_, err := Time(ctx, "stage", func(context.Context) (struct{}, error) { return struct{}{}, tc.err })
			assert.Equal(t, tc.err, err)
			require.Len(t, c.obs, 1)
			o := c.obs[0]
			assert.Equal(t, "stage", o.Stage)
			assert.Equal(t, tc.status, o.Status)
			assert.Equal(t, tc.detail, o.Detail)
			assert.GreaterOrEqual(t, o.Duration, time.Duration(0))
			assert.False(t, o.Start.IsZero())
		})
	}
	t.Run("explicit detail and status", func(t *testing.T) {
		var c collect
		ctx := ContextWithRecorder(context.Background(), RecorderFunc(c.Observe))
		_, s := Start(ctx, "stage")
		s.Detail("stale_cache")
		s.EndStatus(StatusFallback, nil)
		require.Len(t, c.obs, 1)
		assert.Equal(t, StatusFallback, c.obs[0].Status)
		assert.Equal(t, "stale_cache", c.obs[0].Detail)
	})
	t.Run("zero span", func(t *testing.T) {
		var s Span
		assert.Zero(t, s.End(errors.New("x")))
	})
	t.Run("no recorder", func(t *testing.T) {
		_, s := Start(context.Background(), "stage")
		assert.GreaterOrEqual(t, s.End(nil), time.Duration(0))
	})
}

func TestStatusNames(t *testing.T) {
	for _, st := range []Status{StatusOK, StatusError, StatusTimeout, StatusFallback} {
		p, ok := ParseStatus(st.String())
		assert.True(t, ok)
		assert.Equal(t, st, p)
	}
	assert.Equal(t, "unknown", Status(9).String())
	_, ok := ParseStatus("OK")
	assert.False(t, ok)
}

func TestStageSpans(t *testing.T) {
	newTP := func(s sdktrace.Sampler) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
		sr := tracetest.NewSpanRecorder()
		return sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr), sdktrace.WithSampler(s)), sr
	}
	t.Run("sampled parent: child span per stage", func(t *testing.T) {
		tp, sr := newTP(sdktrace.AlwaysSample())
		ctx, parent := tp.Tracer("test").Start(context.Background(), "inference")
		var c collect
		ctx = ContextWithRecorder(ctx, &c)
		var inner trace.SpanContext
		_, _ = Time(ctx, "feature_retrieval", func(ctx context.Context) (int, error) {
			inner = trace.SpanContextFromContext(ctx)
			return 0, nil
		})
		_, _ = Time(ctx, "model_scoring", func(context.Context) (int, error) { return 0, context.DeadlineExceeded })
		_, s := Start(ctx, "rerank")
		s.End(fmt.Errorf("%w: popular items", ErrFallback))
		parent.End()

		spans := sr.Ended()
		require.Len(t, spans, 4)
		byName := map[string]sdktrace.ReadOnlySpan{}
		for _, sp := range spans {
			byName[sp.Name()] = sp
		}
		for _, name := range []string{"feature_retrieval", "model_scoring", "rerank"} {
			sp := byName[name]
			require.NotNil(t, sp, name)
			assert.Equal(t, parent.SpanContext().SpanID(), sp.Parent().SpanID(), name)
			assert.Equal(t, parent.SpanContext().TraceID(), sp.SpanContext().TraceID(), name)
			assert.Equal(t, TracerName, sp.InstrumentationScope().Name)
		}
		assert.Equal(t, byName["feature_retrieval"].SpanContext().SpanID(), inner.SpanID(), "fn runs inside the stage span")
		assert.Equal(t, codes.Unset, byName["feature_retrieval"].Status().Code)
		assert.Equal(t, sdktrace.Status{Code: codes.Error, Description: "timeout"}, byName["model_scoring"].Status())
		assert.Equal(t, sdktrace.Status{Code: codes.Error, Description: "fallback"}, byName["rerank"].Status())
		assert.Contains(t, byName["model_scoring"].Attributes(), attribute.String(AttrStageStatus, "timeout"))
		assert.Contains(t, byName["model_scoring"].Attributes(), attribute.String(AttrStageDetail, "deadline_exceeded"))
		require.Len(t, c.obs, 3)
		assert.Equal(t, []Status{StatusOK, StatusTimeout, StatusFallback}, []Status{c.obs[0].Status, c.obs[1].Status, c.obs[2].Status})
	})
	t.Run("unsampled parent: no span", func(t *testing.T) {
		tp, sr := newTP(sdktrace.NeverSample())
		ctx, parent := tp.Tracer("test").Start(context.Background(), "inference")
		require.False(t, parent.SpanContext().IsSampled())
		var inner trace.Span
		_, _ = Time(ctx, "feature_retrieval", func(ctx context.Context) (int, error) {
			inner = trace.SpanFromContext(ctx)
			return 0, errors.New("x")
		})
		parent.End()
		assert.Empty(t, sr.Ended())
		assert.Equal(t, parent, inner, "no span is started: the context is passed through")
	})
	t.Run("no parent: no span", func(t *testing.T) {
		ctx := context.Background()
		ctx2, s := Start(ctx, "stage")
		s.End(nil)
		assert.Equal(t, ctx, ctx2, "the context is passed through")
		assert.False(t, trace.SpanContextFromContext(ctx2).IsValid())
	})
}

func TestTimeAllocs(t *testing.T) {
	tr := newTestTracker(t, newFakeClock(), Config{})
	ctx := tr.Context(context.Background())
	fn := func(context.Context) (int, error) { return 1, nil }
	_, _ = Time(ctx, "stage", fn)
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = Time(ctx, "stage", fn) }))
	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		_, s := Start(ctx, "stage")
		s.End(errBoom)
	}), "classifying an error does not allocate")
}

var errBoom = fmt.Errorf("x: %w", typedErr{})

// TestNext: back-to-back stages share their boundary reading, so each
// starts exactly where the one before ended; traced, they are siblings
// under the same parent, and the zero Span stays inert.
func TestNext(t *testing.T) {
	t.Run("recorded back to back", func(t *testing.T) {
		var c collect
		ctx := ContextWithRecorder(context.Background(), &c)
		_, s := Start(ctx, "feature_retrieval")
		s = s.Next("model_scoring")
		s = s.Next("network")
		d := s.End(errors.New("boom"))
		require.Len(t, c.obs, 3)
		for i, name := range []string{"feature_retrieval", "model_scoring", "network"} {
			assert.Equal(t, name, c.obs[i].Stage)
			assert.GreaterOrEqual(t, c.obs[i].Duration, time.Duration(0))
		}
		for i := 1; i < 3; i++ {
			prev := c.obs[i-1]
			assert.True(t, prev.Start.Add(prev.Duration).Equal(c.obs[i].Start), "stage %d starts where stage %d ended", i, i-1)
		}
		assert.Equal(t, []Status{StatusOK, StatusOK, StatusError}, []Status{c.obs[0].Status, c.obs[1].Status, c.obs[2].Status})
		assert.Equal(t, d, c.obs[2].Duration)
	})
	t.Run("zero span", func(t *testing.T) {
		var s Span
		n := s.Next("x")
		assert.Zero(t, n.End(nil))
		assert.Equal(t, Span{}, n)
	})
	t.Run("sampled parent: sibling spans", func(t *testing.T) {
		sr := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
		ctx, parent := tp.Tracer("test").Start(context.Background(), "inference")
		_, s := Start(ctx, "a")
		s = s.Next("b")
		s.End(ErrFallback)
		parent.End()
		spans := sr.Ended()
		require.Len(t, spans, 3)
		a, b := spans[0], spans[1]
		require.Equal(t, "a", a.Name())
		require.Equal(t, "b", b.Name())
		for _, sp := range []sdktrace.ReadOnlySpan{a, b} {
			assert.Equal(t, parent.SpanContext().SpanID(), sp.Parent().SpanID(), sp.Name())
			assert.Equal(t, TracerName, sp.InstrumentationScope().Name)
		}
		assert.True(t, a.EndTime().Equal(b.StartTime()), "b starts when a ends")
		assert.Equal(t, codes.Unset, a.Status().Code)
		assert.Equal(t, sdktrace.Status{Code: codes.Error, Description: "fallback"}, b.Status())
	})
}
