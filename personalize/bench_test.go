package personalize_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/rankscope/rankscope/internal/benchcpu"
	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize"
)

// The benchmarks below compare one wrapped inference (Start, three stages,
// Impress of 10 items, End) against the same instrumentation written by
// hand with the OpenTelemetry SDK: an inference span and three stage spans,
// four histogram records and one log record carrying the impression. Both
// run with metrics collected by an SDK MeterProvider, traces unsampled,
// and events exported in the background (rankscope: DiscardExporter behind
// the queue; OTel: a BatchProcessor in front of a no-op exporter).
// cpu-ns/op is the process CPU per inference, background goroutines
// included, so it charges each side its batching and export work too.
// Run both in one invocation so the ratio holds on a noisy machine:
//
//	go test ./personalize -run '^$' -bench 'Inference' -benchmem

var benchItems = func() []personalize.Item {
	out := make([]personalize.Item, 10)
	for i := range out {
		out[i] = personalize.Item{ID: fmt.Sprintf("sku-%04d", i), Position: i + 1, Score: 0.9 - float64(i)*0.05, Propensity: 0.3}
	}
	return out
}()

var benchReq = personalize.Request{
	User: "user-000123", Session: "sess-9", Surface: "home_feed", Model: "ranker",
	ModelVersion: "v42", FeatureSet: "fs-2026-11",
	Experiments: []personalize.Assignment{{Experiment: "ranker-v42", Variant: "treatment"}},
	Context:     []personalize.Attr{{Key: "device", Value: "mobile"}},
}

func benchInstrument(b *testing.B) *personalize.Instrument {
	in := newInst(b, func(c *personalize.Config) {
		c.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		c.QueueSize = 1 << 16
	}, personalize.DiscardExporter)
	b.Cleanup(func() { _ = in.Shutdown(context.Background()) })
	return in
}

func oneInference(ctx context.Context, in *personalize.Instrument) error {
	ctx, inf := in.Start(ctx, benchReq)
	s := inf.Stage("feature_retrieval")
	s = s.Next("model_scoring")
	s = s.Next("network")
	s.End(nil)
	inf.Impress(benchItems)
	_ = ctx
	return inf.End(nil)
}

func BenchmarkInference(b *testing.B) {
	in := benchInstrument(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	defer benchcpu.Start().Report(b)
	var dropped int
	for i := 0; i < b.N; i++ {
		if err := oneInference(ctx, in); err != nil {
			if !errors.Is(err, personalize.ErrQueueFull) {
				b.Fatal(err)
			}
			// A caller that never pauses outruns the background
			// pipeline; the drop is counted, and reported here.
			dropped++
		}
	}
	b.ReportMetric(float64(dropped)/float64(b.N), "dropped/op")
}

// BenchmarkInferenceParallel runs 64 goroutines per GOMAXPROCS... at least
// 64 in all, to show the emit path has no lock convoy.
func BenchmarkInferenceParallel(b *testing.B) {
	in := benchInstrument(b)
	ctx := context.Background()
	b.SetParallelism(32) // 32 x GOMAXPROCS(2) = 64 goroutines here
	b.ReportAllocs()
	b.ResetTimer()
	defer benchcpu.Start().Report(b)
	var dropped atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := oneInference(ctx, in); err != nil {
				dropped.Add(1) // queue full: counted, not a failure
			}
		}
	})
	b.ReportMetric(float64(dropped.Load())/float64(b.N), "dropped/op")
}

type nopLogExporter struct{}

func (nopLogExporter) Export(context.Context, []sdklog.Record) error { return nil }
func (nopLogExporter) Shutdown(context.Context) error                { return nil }
func (nopLogExporter) ForceFlush(context.Context) error              { return nil }

// BenchmarkInferenceOTelBaseline is the hand-written OpenTelemetry
// equivalent of one wrapped inference.
func BenchmarkInferenceOTelBaseline(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(nopLogExporter{})))
	b.Cleanup(func() {
		ctx := context.Background()
		_ = tp.Shutdown(ctx)
		_ = mp.Shutdown(ctx)
		_ = lp.Shutdown(ctx)
	})
	tracer := tp.Tracer("baseline")
	hist, err := mp.Meter("baseline").Float64Histogram("stage.duration", metric.WithUnit("s"))
	if err != nil {
		b.Fatal(err)
	}
	logger := lp.Logger("baseline")
	ctx := context.Background()
	stage := func(ctx context.Context, name string) {
		_, span := tracer.Start(ctx, name)
		start := nowNanos()
		span.End()
		hist.Record(ctx, float64(nowNanos()-start)/1e9, metric.WithAttributes(attribute.String("stage", name)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	defer benchcpu.Start().Report(b)
	for i := 0; i < b.N; i++ {
		start := nowNanos()
		ictx, span := tracer.Start(ctx, "inference", trace.WithAttributes(
			attribute.String("surface", benchReq.Surface), attribute.String("model.version", benchReq.ModelVersion)))
		stage(ictx, "feature_retrieval")
		stage(ictx, "model_scoring")
		stage(ictx, "network")
		span.End()
		hist.Record(ictx, float64(nowNanos()-start)/1e9, metric.WithAttributes(attribute.String("stage", "end_to_end")))
		var rec otellog.Record
		rec.SetEventName("rankscope.impression")
		items := make([]attribute.Value, len(benchItems))
		for k, it := range benchItems {
			items[k] = attribute.MapValue(attribute.String("id", it.ID), attribute.Int("position", it.Position),
				attribute.Float64("score", it.Score), attribute.Float64("propensity", it.Propensity))
		}
		rec.AddAttributes(
			attribute.String("request.id", "req-1"), attribute.String("enduser.pseudo.id", benchReq.User),
			attribute.String("surface", benchReq.Surface), attribute.String("model.version", benchReq.ModelVersion),
			attribute.String("experiment", "ranker-v42"), attribute.String("variant", "treatment"),
			attribute.Slice("items", items...))
		logger.Emit(ictx, rec)
	}
}

// raceEnabled is personalize.RaceEnabled (race_on_test.go).
const raceEnabled = personalize.RaceEnabled

func nowNanos() int64 { return time.Now().UnixNano() }

// TestInferenceAllocations pins the allocation count of the request path.
// With an exporter that keeps events, an inference allocates its handle,
// its impression, the copy of the items and its generated request id; a
// caller-supplied request id saves one. With exporters that keep nothing
// (Transient), impressions and their items are recycled once exported, so
// in a steady stream an inference allocates only its handle and its
// request id (measured over a benchmark-length run: the pool refills as
// batches settle, and a GC may empty it).
func TestInferenceAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	ctx := context.Background()
	t.Run("kept", func(t *testing.T) {
		keeps := personalize.ExportFunc(func(context.Context, []personalize.Event) error { return nil })
		in := newInst(t, func(c *personalize.Config) { c.QueueSize = 1 << 16 }, keeps)
		defer in.Shutdown(context.Background())
		if allocs := testing.AllocsPerRun(1000, func() { _ = oneInference(ctx, in) }); allocs > 4 {
			t.Fatalf("one inference allocates %.1f times, want <= 4", allocs)
		}
		req := benchReq
		req.ID = "req-123"
		allocs := testing.AllocsPerRun(1000, func() {
			_, inf := in.Start(ctx, req)
			s := inf.Stage("model_scoring")
			s.End(nil)
			inf.Impress(benchItems)
			_ = inf.End(nil)
		})
		if allocs > 3 {
			t.Fatalf("with a supplied request id one inference allocates %.1f times, want <= 3", allocs)
		}
	})
	t.Run("recycled", func(t *testing.T) {
		in := newInst(t, func(c *personalize.Config) { c.QueueSize = 1 << 16 }, personalize.DiscardExporter)
		defer in.Shutdown(context.Background())
		res := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				_ = oneInference(ctx, in)
			}
		})
		if allocs := res.AllocsPerOp(); allocs > 2 {
			t.Fatalf("one inference allocates %d times in a steady stream, want <= 2 (%v)", allocs, res.MemString())
		}
	})
	_ = latency.EndToEnd
}
