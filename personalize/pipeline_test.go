package personalize_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/privacy"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a minimal exporter for these tests: it keeps the JSON of
// every event it receives (so later mutation would show), and can block.
type recorder struct {
	mu     sync.Mutex
	lines  []string
	events []personalize.Event
	gate   chan struct{} // if non-nil, Export waits for it or ctx
	fail   error
	calls  atomic.Int64
	shut   atomic.Int64
	name   string
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Export(ctx context.Context, batch []personalize.Event) error {
	r.calls.Add(1)
	if r.gate != nil {
		select {
		case <-r.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if r.fail != nil {
		return r.fail
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range batch {
		b, err := personalize.AppendJSON(nil, e)
		if err != nil {
			return err
		}
		r.lines = append(r.lines, string(b))
		r.events = append(r.events, e)
	}
	return nil
}
func (r *recorder) ForceFlush(context.Context) error { return nil }
func (r *recorder) Shutdown(context.Context) error   { r.shut.Add(1); return nil }

func (r *recorder) snapshot() ([]string, []personalize.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...), append([]personalize.Event(nil), r.events...)
}

func testKeyring(t testing.TB) *privacy.Keyring {
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	require.NoError(t, err)
	return kr
}

func newInst(t testing.TB, mod func(*personalize.Config), exps ...personalize.Exporter) *personalize.Instrument {
	cfg := personalize.Config{
		Service: "feed-ranker", Pseudonymize: testKeyring(t), Exporters: exps,
		BatchTimeout: 20 * time.Millisecond, ErrorHandler: func(error) {},
		MeterProvider: sdkmetric.NewMeterProvider(),
	}
	if mod != nil {
		mod(&cfg)
	}
	in, err := personalize.New(cfg)
	require.NoError(t, err)
	return in
}

func items(n int) []personalize.Item {
	out := make([]personalize.Item, n)
	for i := range out {
		out[i] = personalize.Item{ID: fmt.Sprintf("sku-%d", i), Position: i + 1, Score: 1 / float64(i+1), Propensity: 0.5}
	}
	return out
}

// TestBackToBackStages: stages chained with Span.Next tile the impression:
// each starts at the offset where the one before ended.
func TestBackToBackStages(t *testing.T) {
	rec := &recorder{name: "rec"}
	in := newInst(t, nil, rec)
	ctx := context.Background()
	_, inf := in.Start(ctx, personalize.Request{User: "u"})
	s := inf.Stage("feature_retrieval")
	s = s.Next("model_scoring")
	s = s.Next("network")
	s.End(context.DeadlineExceeded)
	require.NoError(t, inf.End(nil))
	require.NoError(t, in.Flush(ctx))
	_, evs := rec.snapshot()
	require.Len(t, evs, 1)
	st := evs[0].Impression.Stages
	require.Len(t, st, 3)
	for i := 1; i < len(st); i++ {
		assert.Equal(t, st[i-1].Offset+st[i-1].Duration, st[i].Offset, "%s starts where %s ended", st[i].Name, st[i-1].Name)
	}
	assert.Equal(t, []personalize.StageStatus{personalize.StageOK, personalize.StageOK, personalize.StageTimeout},
		[]personalize.StageStatus{st[0].Status, st[1].Status, st[2].Status})
	// A shed inference's stages chain as no-ops.
	var nilInf *personalize.Inference
	assert.Zero(t, nilInf.Stage("a").Next("b").End(nil))
	require.NoError(t, in.Shutdown(ctx))
}

func TestInferenceEndToEnd(t *testing.T) {
	rec := &recorder{name: "rec"}
	in := newInst(t, nil, rec)
	ctx := context.Background()

	ctx, inf := in.Start(ctx, personalize.Request{
		User: "user-000123", Session: "sess-9", Surface: "home_feed", Channel: "app",
		Model: "ranker", ModelVersion: "v42", FeatureSet: "fs-2026-11",
		Experiments: []personalize.Assignment{{Experiment: "ranker-v42", Variant: "treatment"}},
		Flags:       []personalize.Flag{{Key: "new-ui", Variant: "on"}},
		Context:     []personalize.Attr{{Key: "device", Value: "mobile"}, {Key: "ip", Value: "10.1.2.3"}},
	})
	_, err := latency.Time(ctx, "feature_retrieval", func(context.Context) (int, error) { return 1, nil })
	require.NoError(t, err)
	st := inf.Stage("model_scoring")
	st.End(fmt.Errorf("cache: %w", latency.ErrFallback))
	_, _ = latency.Time(ctx, "network", func(context.Context) (int, error) { return 0, context.DeadlineExceeded })
	inf.Impress(items(3))
	reqID := inf.RequestID()
	require.NoError(t, inf.End(nil))
	require.NoError(t, in.Outcome(ctx, personalize.Outcome{RequestID: reqID, User: "user-000123", Item: "sku-1", Kind: personalize.OutcomeClick}))
	require.NoError(t, in.Flush(ctx))

	lines, evs := rec.snapshot()
	require.Len(t, evs, 2)
	im := evs[0].Impression
	require.NotNil(t, im)
	assert.Equal(t, reqID, im.RequestID)
	assert.False(t, im.EventID.IsZero())
	assert.Equal(t, "k1", im.UserID.KeyID)
	assert.Len(t, im.UserID.ID, privacy.PseudonymLen)
	assert.NotEqual(t, im.UserID.ID, im.SessionID.ID)
	assert.Equal(t, []personalize.Attr{{Key: "device", Value: "mobile"}}, im.Context, "ip is off the allow-list")
	require.Len(t, im.Stages, 3)
	assert.Equal(t, "feature_retrieval", im.Stages[0].Name)
	assert.Equal(t, personalize.StageOK, im.Stages[0].Status)
	assert.Equal(t, personalize.StageFallback, im.Stages[1].Status)
	assert.Equal(t, personalize.StageTimeout, im.Stages[2].Status)
	assert.Equal(t, "deadline_exceeded", im.Stages[2].Detail)
	assert.True(t, im.Degraded())
	assert.GreaterOrEqual(t, im.Duration(), im.Stages[2].Offset+im.Stages[2].Duration)
	out := evs[1].Outcome
	assert.Equal(t, reqID, out.RequestID)
	assert.Equal(t, im.UserID, out.UserID, "same user, same pseudonym: outcomes join impressions")
	for _, l := range lines {
		assert.NotContains(t, l, "user-000123")
		assert.NotContains(t, l, "sess-9")
		assert.NotContains(t, l, "10.1.2.3")
	}
	s := in.Stats()
	assert.EqualValues(t, 2, s.Accepted)
	assert.EqualValues(t, 1, s.AttrsDropped)
	require.NoError(t, in.Shutdown(ctx))
	assert.EqualValues(t, 1, rec.shut.Load())
	assert.ErrorIs(t, in.Outcome(ctx, personalize.Outcome{User: "u", Kind: personalize.OutcomeSignup}), personalize.ErrShutdown)
	_, inf2 := in.Start(ctx, personalize.Request{User: "u"})
	assert.ErrorIs(t, inf2.End(nil), personalize.ErrShutdown)
	assert.ErrorIs(t, inf.End(nil), personalize.ErrEnded)
}

func TestValidationNamesTheField(t *testing.T) {
	dead := &recorder{name: "dead"}
	rec := &recorder{name: "rec"}
	in := newInst(t, func(c *personalize.Config) { c.DeadLetter = dead }, rec)
	defer in.Shutdown(context.Background())
	ctx := context.Background()
	bad := []struct {
		name  string
		items []personalize.Item
		field string
	}{
		{"missing id", []personalize.Item{{Position: 1}}, "items[0].id"},
		{"zero position", []personalize.Item{{ID: "a", Position: 0}}, "items[0].position"},
		{"duplicate position", []personalize.Item{{ID: "a", Position: 1}, {ID: "b", Position: 2}, {ID: "c", Position: 1}}, "items[2].position"},
		{"propensity above one", []personalize.Item{{ID: "a", Position: 1, Propensity: 1.5}}, "items[0].propensity"},
		{"negative propensity", []personalize.Item{{ID: "a", Position: 1, Propensity: -0.1}}, "items[0].propensity"},
		{"NaN score", []personalize.Item{{ID: "a", Position: 1, Score: nan()}}, "items[0].score"},
		{"Inf score", []personalize.Item{{ID: "a", Position: 1, Score: inf()}}, "items[0].score"},
		{"large duplicate", append(items(300), personalize.Item{ID: "x", Position: 300}), "items[300].position"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, inf := in.Start(ctx, personalize.Request{User: "user-1"})
			inf.Impress(tc.items)
			err := inf.End(nil)
			var ve *personalize.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.Contains(t, err.Error(), tc.field)
		})
	}
	outcomes := []struct {
		name  string
		o     personalize.Outcome
		field string
	}{
		{"unknown kind", personalize.Outcome{User: "u", Kind: 99}, "kind"},
		{"no user", personalize.Outcome{Kind: personalize.OutcomeSignup}, "user_id"},
		{"click without request", personalize.Outcome{User: "u", Item: "a", Kind: personalize.OutcomeClick}, "request_id"},
		{"negative dwell", personalize.Outcome{User: "u", RequestID: "r", Item: "a", Kind: personalize.OutcomeDwell, Dwell: -time.Second}, "dwell_ns"},
		{"scroll depth", personalize.Outcome{User: "u", RequestID: "r", Item: "a", Kind: personalize.OutcomeScroll, ScrollDepth: 1.2}, "scroll_depth"},
		{"NaN value", personalize.Outcome{User: "u", Kind: personalize.OutcomePurchase, Value: nan()}, "value"},
		{"custom without name", personalize.Outcome{User: "u", Kind: personalize.OutcomeCustom}, "name"},
	}
	for _, tc := range outcomes {
		t.Run(tc.name, func(t *testing.T) {
			err := in.Outcome(ctx, tc.o)
			var ve *personalize.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
		})
	}
	_, inf := in.Start(ctx, personalize.Request{})
	var ve *personalize.ValidationError
	require.ErrorAs(t, inf.End(nil), &ve)
	assert.Equal(t, "user_id", ve.Field)

	require.NoError(t, in.Flush(ctx))
	s := in.Stats()
	assert.EqualValues(t, 0, s.Accepted)
	assert.EqualValues(t, len(bad)+len(outcomes)+1, s.TotalRejected())
	assert.EqualValues(t, 2, s.Rejected["impression.items.propensity"])
	_, got := rec.snapshot()
	assert.Empty(t, got, "rejected events never reach exporters")
	dlLines, dl := dead.snapshot()
	require.Len(t, dl, len(bad)+len(outcomes)+1)
	for i, e := range dl {
		require.NotNil(t, e.Invalid)
		assert.NotContains(t, dlLines[i], "user-1", "dead letters are pseudonymized too")
	}
}

func nan() float64 { var z float64; return z / z }
func inf() float64 { var z float64; return 1 / z }

// Each shard's share of QueueSize is rounded up to a power of two, and
// Stats.QueueCapacity reports the total (Config.QueueSize).
func TestQueueCapacityIsEachShardsPowerOfTwo(t *testing.T) {
	for _, tc := range []struct{ size, shards, want int }{{1000, 3, 3 * 512}, {1024, 1, 1024}, {5, 1, 8}} {
		in := newInst(t, func(c *personalize.Config) { c.QueueSize, c.Shards = tc.size, tc.shards }, personalize.DiscardExporter)
		assert.Equal(t, tc.want, in.Stats().QueueCapacity, "QueueSize %d over %d shards", tc.size, tc.shards)
		require.NoError(t, in.Shutdown(context.Background()))
	}
}

// TestQueueFullDropsAndCounts: a stuck exporter's pressure reaches the
// door. Excess events are refused at emit (counted, returned, reported)
// and every event that was accepted is delivered once the exporter
// resumes: nothing is dropped after the pipeline spent work on it.
func TestQueueFullDropsAndCounts(t *testing.T) {
	gate := make(chan struct{})
	rec := &recorder{name: "slow", gate: gate}
	var handled []error
	var mu sync.Mutex
	in := newInst(t, func(c *personalize.Config) {
		c.QueueSize = 4
		c.BatchSize = 1
		c.ExporterQueueSize = 1
		c.ErrorHandler = func(err error) { mu.Lock(); handled = append(handled, err); mu.Unlock() }
	}, rec)
	ctx := context.Background()
	var full int
	for i := 0; i < 200; i++ {
		err := in.Outcome(ctx, personalize.Outcome{User: "u", Kind: personalize.OutcomeSignup})
		if errors.Is(err, personalize.ErrQueueFull) {
			full++
		} else {
			require.NoError(t, err)
		}
	}
	require.Greater(t, full, 0)
	close(gate)
	require.NoError(t, in.Shutdown(ctx))
	s := in.Stats()
	assert.EqualValues(t, full, s.QueueFull)
	assert.EqualValues(t, 200, s.Accepted+s.QueueFull)
	e := s.Exporters[0]
	assert.Equal(t, s.Accepted, e.Exported+e.Dropped(), "every accepted event exported or counted")
	assert.Zero(t, e.Backlog, "shed at the door, not after the work")
	assert.Equal(t, s.Accepted, e.Exported, "every accepted event delivered")
	mu.Lock()
	defer mu.Unlock()
	var reported int64
	for _, err := range handled {
		var de *personalize.DropError
		if errors.As(err, &de) && de.Reason == personalize.DropQueueFull {
			reported += de.Count
		}
	}
	assert.EqualValues(t, full, reported, "queue-full drops reach the error handler")
}

func TestSlowExporterDoesNotHoldBackOthers(t *testing.T) {
	gate := make(chan struct{})
	slow := &recorder{name: "slow", gate: gate}
	fast := &recorder{name: "fast"}
	in := newInst(t, func(c *personalize.Config) {
		c.BatchSize = 10
		c.ExporterQueueSize = 2
		c.StallTimeout = 20 * time.Millisecond
	}, slow, fast)
	ctx := context.Background()
	// Waves of one batch each: the fast exporter keeps up with every wave
	// while the stuck one holds three batches and loses the rest, counted.
	for wave := 1; wave <= 50; wave++ {
		for i := 0; i < 10; i++ {
			require.NoError(t, in.Outcome(ctx, personalize.Outcome{User: "u", Kind: personalize.OutcomeSignup}))
		}
		require.Eventually(t, func() bool { _, e := fast.snapshot(); return len(e) == wave*10 }, 5*time.Second, time.Millisecond)
	}
	close(gate)
	require.NoError(t, in.Shutdown(ctx))
	s := in.Stats()
	for _, e := range s.Exporters {
		assert.Equal(t, s.Accepted, e.Exported+e.Dropped(), e.Name)
	}
	assert.EqualValues(t, 500, s.Exporters[1].Exported)
	assert.Greater(t, s.Exporters[0].Backlog, int64(0))
}

func TestConcurrentEmitsThenShutdownAccountExactly(t *testing.T) {
	rec := &recorder{name: "rec"}
	failing := &recorder{name: "failing", fail: errors.New("boom")}
	in := newInst(t, func(c *personalize.Config) { c.QueueSize = 64; c.BatchSize = 16 }, rec, failing)
	ctx := context.Background()
	var wg sync.WaitGroup
	var ok, refused atomic.Int64
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				_, inf := in.Start(ctx, personalize.Request{User: fmt.Sprintf("user-%d", g)})
				st := inf.Stage("model_scoring")
				st.End(nil)
				inf.Impress(items(3))
				if err := inf.End(nil); err == nil {
					ok.Add(1)
				} else {
					refused.Add(1)
				}
			}
		}()
	}
	// Shut down while emitters are still running.
	time.Sleep(5 * time.Millisecond)
	err := in.Shutdown(ctx)
	wg.Wait()
	s := in.Stats()
	// Shutdown summarizes the failed exporter's losses (on a busy machine
	// Shutdown may win the race before any event is accepted: then it has
	// nothing to report).
	if s.Accepted == 0 {
		require.NoError(t, err)
	} else {
		var de *personalize.DropError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, personalize.DropExportFailed, de.Reason)
		assert.Equal(t, "failing", de.Exporter)
		assert.Equal(t, s.Accepted, de.Count)
		assert.ErrorContains(t, err, "boom")
	}
	assert.Equal(t, ok.Load(), s.Accepted, "accepted == emits that returned nil")
	assert.Equal(t, refused.Load(), s.QueueFull+s.Closed)
	for _, e := range s.Exporters {
		assert.Zero(t, e.InFlight)
		assert.Equal(t, s.Accepted, e.Exported+e.Dropped(), e.Name)
	}
	_, got := rec.snapshot()
	assert.EqualValues(t, s.Exporters[0].Exported, len(got))
	assert.Equal(t, s.Accepted, s.Exporters[1].Failed)
}

func TestShutdownDeadlineCountsAndStops(t *testing.T) {
	stuck := &recorder{name: "stuck", gate: make(chan struct{})} // never opened
	in := newInst(t, func(c *personalize.Config) { c.BatchSize = 5 }, stuck)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		require.NoError(t, in.Outcome(ctx, personalize.Outcome{User: "u", Kind: personalize.OutcomeSignup}))
	}
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err := in.Shutdown(sctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	s := in.Stats()
	e := s.Exporters[0]
	assert.EqualValues(t, 50, s.Accepted)
	assert.Zero(t, e.InFlight)
	assert.EqualValues(t, 50, e.Exported+e.Dropped())
	assert.Greater(t, e.Shutdown, int64(0))
	// goleak in TestMain checks that no goroutine outlived Shutdown.
}

func TestConsentWithholdsOptedOutUsers(t *testing.T) {
	rec := &recorder{name: "rec"}
	var optOut privacy.OptOutSet
	optOut.OptOut("user-2")
	in := newInst(t, func(c *personalize.Config) { c.Consent = &optOut }, rec)
	ctx := context.Background()
	for _, u := range []string{"user-1", "user-2", "user-3"} {
		_, inf := in.Start(ctx, personalize.Request{User: u})
		inf.Impress(items(2))
		require.NoError(t, inf.End(nil))
		require.NoError(t, in.Outcome(ctx, personalize.Outcome{User: u, Kind: personalize.OutcomePurchase, Value: 9.5, Currency: "EUR"}))
	}
	require.NoError(t, in.Shutdown(ctx))
	_, evs := rec.snapshot()
	assert.Len(t, evs, 4)
	s := in.Stats()
	assert.EqualValues(t, 2, s.OptedOut)
	assert.EqualValues(t, 6, s.Accepted)
	assert.Equal(t, s.Accepted, s.Exporters[0].Exported+s.OptedOut)
	kr := testKeyring(t)
	blocked, _ := kr.Pseudonymize(privacy.DomainUser, "user-2")
	for _, e := range evs {
		id := e.Impression
		if id != nil {
			assert.NotEqual(t, blocked, id.UserID.ID)
		}
	}
}

func TestSelfTelemetryMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	rec := &recorder{name: "rec"}
	failing := &recorder{name: "failing", fail: errors.New("down")}
	in := newInst(t, func(c *personalize.Config) { c.MeterProvider = mp; c.StageHistogram = true }, rec, failing)
	ctx := context.Background()
	for i := 0; i < 7; i++ {
		_, inf := in.Start(ctx, personalize.Request{User: "u"})
		st := inf.Stage("model_scoring")
		st.End(nil)
		inf.Impress(items(2))
		require.NoError(t, inf.End(nil))
	}
	_, bad := in.Start(ctx, personalize.Request{User: "u"})
	bad.Impress([]personalize.Item{{ID: "a", Position: 1, Propensity: 2}})
	require.Error(t, bad.End(nil))
	require.NoError(t, in.Flush(ctx))

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	sums := map[string]int64{}
	names := map[string]bool{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			names[m.Name] = true
			if d, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range d.DataPoints {
					key := m.Name
					for _, kv := range dp.Attributes.ToSlice() {
						key += "," + string(kv.Key) + "=" + kv.Value.String()
					}
					sums[key] += dp.Value
				}
			}
		}
	}
	assert.EqualValues(t, 7, sums[personalize.MetricAccepted])
	assert.EqualValues(t, 7, sums[personalize.MetricExported+",rankscope.exporter=rec"])
	assert.EqualValues(t, 7, sums[personalize.MetricDropped+",rankscope.drop.reason=export_failed,rankscope.exporter=failing"])
	assert.EqualValues(t, 1, sums[personalize.MetricRejected+",rankscope.field=impression.items.propensity"])
	for _, n := range []string{personalize.MetricQueueDepth, personalize.MetricExportTime, personalize.MetricEventAge, "rankscope.stage.duration"} {
		assert.True(t, names[n], "metric %s published", n)
	}
	assert.ErrorContains(t, in.Shutdown(ctx), "dropped 7 event(s): export_failed (exporter failing): down")
	_ = attribute.String
}

func TestSpansOnlyWhenSampled(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer tp.Shutdown(context.Background())
	in := newInst(t, nil, personalize.DiscardExporter)
	defer in.Shutdown(context.Background())

	run := func(ctx context.Context) {
		ctx, inf := in.Start(ctx, personalize.Request{User: "u"})
		_, _ = latency.Time(ctx, "feature_retrieval", func(context.Context) (int, error) { return 0, nil })
		st := inf.Stage("model_scoring")
		st.End(errors.New("x"))
		require.NoError(t, inf.End(nil))
	}
	// Unsampled parent: no spans at all.
	unsampled := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(sr))
	ctx, root := unsampled.Tracer("t").Start(context.Background(), "req")
	run(ctx)
	root.End()
	assert.Empty(t, sr.Ended())
	// Sampled parent: inference span child of the request, stages children of it.
	ctx, root = tp.Tracer("t").Start(context.Background(), "req")
	run(ctx)
	root.End()
	spans := sr.Ended()
	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byName[s.Name()] = s
	}
	require.Contains(t, byName, "rankscope.inference")
	infSpan := byName["rankscope.inference"]
	assert.Equal(t, root.SpanContext().SpanID(), infSpan.Parent().SpanID())
	for _, stage := range []string{"feature_retrieval", "model_scoring"} {
		require.Contains(t, byName, stage)
		assert.Equal(t, infSpan.SpanContext().SpanID(), byName[stage].Parent().SpanID(), stage)
	}
	assert.Equal(t, "Error", byName["model_scoring"].Status().Code.String())
}

func TestConfigErrorsNameTheField(t *testing.T) {
	kr := testKeyring(t)
	cases := []struct {
		cfg   personalize.Config
		field string
	}{
		{personalize.Config{Pseudonymize: kr, Exporters: []personalize.Exporter{personalize.DiscardExporter}}, "Config.Service"},
		{personalize.Config{Service: "s", Exporters: []personalize.Exporter{personalize.DiscardExporter}}, "Config.Pseudonymize"},
		{personalize.Config{Service: "s", Pseudonymize: kr}, "Config.Exporters"},
		{personalize.Config{Service: "s", Pseudonymize: kr, Exporters: []personalize.Exporter{nil}}, "Config.Exporters[0]"},
		{personalize.Config{Service: "s", Pseudonymize: kr, Exporters: []personalize.Exporter{personalize.DiscardExporter}, QueueSize: -1}, "Config.QueueSize"},
		{personalize.Config{Service: "s", Pseudonymize: kr, Exporters: []personalize.Exporter{personalize.DiscardExporter}, BatchTimeout: -1}, "Config.BatchTimeout"},
		{personalize.Config{Service: "s", Pseudonymize: kr, Exporters: []personalize.Exporter{personalize.DiscardExporter}, ContextAllowList: []string{""}}, "Config.ContextAllowList[0]"},
	}
	for _, tc := range cases {
		_, err := personalize.New(tc.cfg)
		require.Error(t, err)
		assert.True(t, strings.Contains(err.Error(), tc.field), "%q should name %s", err, tc.field)
	}
}

// TestValidationRefusesWhatCannotRoundTrip covers the cases fuzzing found:
// each could be emitted but would not read back as written.
func TestValidationRefusesWhatCannotRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		ev    personalize.Event
		field string
	}{
		{"currency not ISO 4217 shaped", personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{
			User: "u", Kind: personalize.OutcomePurchase, Value: 1, Currency: "\xff\xfe\xfd", Time: at}}, "currency"},
		{"lower-case currency", personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{
			User: "u", Kind: personalize.OutcomePurchase, Value: 1, Currency: "eur", Time: at}}, "currency"},
		{"key id without id", personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{
			SessionID: personalize.Pseudonym{ID: "s"}, UserID: personalize.Pseudonym{KeyID: "k1"}, Kind: personalize.OutcomeSignup, Time: at}}, "user_key_id"},
		{"year past 9999 in UTC", personalize.Event{Type: personalize.EventExposure, Exposure: &personalize.Exposure{
			User: "u", Experiment: "e", Variant: "v", Time: time.Date(9999, 12, 31, 23, 30, 0, 0, time.FixedZone("x", -3600))}}, "time"},
		{"duration past 292 years", personalize.Event{Type: personalize.EventImpression, Impression: &personalize.Impression{
			RequestID: "r", UserID: personalize.Pseudonym{ID: "u"}, Start: time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC), End: at}}, "duration_ns"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ve *personalize.ValidationError
			require.ErrorAs(t, tc.ev.Validate(), &ve)
			assert.Equal(t, tc.field, ve.Field)
		})
	}
	ok := personalize.Outcome{User: "u", Kind: personalize.OutcomePurchase, Value: 1, Currency: "EUR", Time: at}
	assert.NoError(t, ok.Validate())
}

func TestDeadLetterLinesSayWhy(t *testing.T) {
	dead := &recorder{name: "dead"}
	in := newInst(t, func(c *personalize.Config) { c.DeadLetter = dead }, personalize.DiscardExporter)
	_, inf := in.Start(context.Background(), personalize.Request{User: "user-1"})
	inf.Impress([]personalize.Item{{ID: "a", Position: 1, Score: nan()}})
	require.Error(t, inf.End(nil))
	require.NoError(t, in.Shutdown(context.Background()))
	lines, _ := dead.snapshot()
	require.Len(t, lines, 1)
	assert.Contains(t, lines[0], `"score":null`)
	assert.True(t, strings.HasSuffix(lines[0], `,"rejected":{"field":"items[0].score","reason":"not_finite"}}`), lines[0])
	_, err := personalize.UnmarshalEvent([]byte(lines[0]))
	assert.Error(t, err, "a dead letter is not a valid event")
}

// TestAbortedShutdownAccountsQueuedEvents: with the blocking policy and a
// stuck exporter, events are still in the queue when Shutdown's deadline
// passes. Each emit that returned nil must be counted as accepted and as
// delivered or dropped, exactly.
func TestAbortedShutdownAccountsQueuedEvents(t *testing.T) {
	stuck := &recorder{name: "stuck", gate: make(chan struct{})}
	in := newInst(t, func(c *personalize.Config) {
		c.BatchSize = 1
		c.ExporterQueueSize = 1
		c.QueueSize = 100
		c.BlockTimeout = 10 * time.Second
	}, stuck)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		require.NoError(t, in.Outcome(ctx, personalize.Outcome{User: "u", Kind: personalize.OutcomeSignup}))
	}
	require.Eventually(t, func() bool { return in.Stats().Queued < 50 }, time.Second, time.Millisecond)
	sctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, in.Shutdown(sctx), context.DeadlineExceeded)
	s := in.Stats()
	e := s.Exporters[0]
	assert.EqualValues(t, 50, s.Accepted)
	assert.EqualValues(t, 50, s.Outcomes)
	assert.Zero(t, e.InFlight)
	assert.EqualValues(t, 50, e.Exported+e.Dropped(), "%+v", e)
}

// TestRequestTimeRecordsWallClockButMeasuresReally: a backfill or
// simulation sets Request.Time; the impression is stamped there while the
// duration and stage timings stay measured.
func TestRequestTimeRecordsWallClockButMeasuresReally(t *testing.T) {
	rec := &recorder{name: "rec"}
	in := newInst(t, nil, rec)
	ctx := context.Background()
	at := time.Date(2026, 11, 12, 8, 30, 0, 0, time.UTC)
	_, inf := in.Start(ctx, personalize.Request{User: "u", Time: at})
	st := inf.Stage("model_scoring")
	time.Sleep(2 * time.Millisecond)
	st.End(nil)
	require.NoError(t, inf.End(nil))
	require.NoError(t, in.Shutdown(ctx))
	_, evs := rec.snapshot()
	require.Len(t, evs, 1)
	im := evs[0].Impression
	assert.True(t, im.Start.Equal(at), "start %v", im.Start)
	assert.GreaterOrEqual(t, im.Duration(), 2*time.Millisecond)
	assert.Less(t, im.Duration(), time.Minute)
	require.Len(t, im.Stages, 1)
	assert.GreaterOrEqual(t, im.Stages[0].Duration, 2*time.Millisecond)
	assert.LessOrEqual(t, im.Stages[0].Offset+im.Stages[0].Duration, im.Duration())
}

// TestLateStagesRaceEnd: stages ending on other goroutines while the
// inference ends are either in the impression or counted as late, never
// both and never a data race (run with -race).
func TestLateStagesRaceEnd(t *testing.T) {
	rec := &recorder{name: "rec"}
	in := newInst(t, nil, rec)
	ctx := context.Background()
	const n = 200
	for i := 0; i < n; i++ {
		_, inf := in.Start(ctx, personalize.Request{User: "u", Time: time.Now().Add(-time.Hour)})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := inf.Stage("parallel")
			st.End(nil)
		}()
		require.NoError(t, inf.End(nil))
		wg.Wait()
	}
	require.NoError(t, in.Shutdown(ctx))
	_, evs := rec.snapshot()
	var inImpression int64
	for _, e := range evs {
		inImpression += int64(len(e.Impression.Stages))
	}
	assert.EqualValues(t, n, inImpression+in.Stats().LateStages)
}

// TestPseudonymCacheStaysCorrectPastItsBound: more distinct users than the
// batcher's cache holds, then the first ones again; every pseudonym equals
// the keyring's.
func TestPseudonymCacheStaysCorrectPastItsBound(t *testing.T) {
	mem := &recorder{name: "rec"}
	in := newInst(t, func(c *personalize.Config) { c.QueueSize = 1 << 17; c.BatchSize = 4096 }, mem)
	ctx := context.Background()
	const n = 70000
	users := make([]string, 0, n+10)
	for i := 0; i < n; i++ {
		users = append(users, fmt.Sprintf("user-%06d", i))
	}
	users = append(users, users[:10]...)
	for _, u := range users {
		require.NoError(t, in.Link(ctx, personalize.Link{User: u, Session: "s-" + u}))
	}
	require.NoError(t, in.Shutdown(ctx))
	_, evs := mem.snapshot()
	require.Len(t, evs, len(users))
	// Shards keep each user's events in order, not the global order: match
	// every event's pair against the keyring's.
	kr := testKeyring(t)
	want := map[[2]string]int{}
	for _, u := range users {
		wantU, _ := kr.Pseudonymize(privacy.DomainUser, u)
		wantS, _ := kr.Pseudonymize(privacy.DomainSession, "s-"+u)
		want[[2]string{wantU, wantS}]++
	}
	for i, e := range evs {
		k := [2]string{e.Link.UserID.ID, e.Link.SessionID.ID}
		if want[k] == 0 {
			t.Fatalf("event %d: pseudonyms %v/%v match no user", i, e.Link.UserID, e.Link.SessionID)
		}
		want[k]--
	}
}

// TestShedAtStart: once a shard's door is full, Start builds nothing:
// the inference is a stand-in that records nothing, allocates nothing, and
// whose End returns the queue-full drop, counted.
func TestShedAtStart(t *testing.T) {
	gate := make(chan struct{})
	in := newStuckInst(t, gate)
	ctx := context.Background()
	// Fill the door: the exporter holds one batch, its queue one more, the
	// batcher waits with a third, and the entry queue takes eight.
	accepted := 0
	for i := 0; i < 100; i++ {
		if err := in.Outcome(ctx, personalize.Outcome{User: "u", Kind: personalize.OutcomeSignup}); err == nil {
			accepted++
		}
	}
	require.Less(t, accepted, 100)
	// Top the door up until it stays full: the batcher, blocked behind the
	// stuck exporter, takes nothing more.
	accepted += fillDoor(t, in)
	before := in.Stats().QueueFull
	gotCtx, inf := in.Start(ctx, personalize.Request{User: "u"})
	assert.Equal(t, ctx, gotCtx, "a shed inference leaves the context alone")
	assert.Empty(t, inf.RequestID())
	st := inf.Stage("model_scoring")
	assert.Zero(t, st.End(nil))
	inf.Impress(items(3))
	inf.Fallback("popular")
	err := inf.End(nil)
	require.ErrorIs(t, err, personalize.ErrQueueFull)
	assert.Equal(t, before+1, in.Stats().QueueFull)
	if !raceEnabled {
		allocs := testing.AllocsPerRun(100, func() {
			_, inf := in.Start(ctx, personalize.Request{User: "u"})
			s := inf.Stage("model_scoring")
			s.End(nil)
			inf.Impress(benchItems)
			_ = inf.End(nil)
		})
		assert.Zero(t, allocs, "shedding at Start allocates nothing")
	}
	close(gate)
	// Once the exporter resumes, the batcher drains the door and reopens
	// it: Start builds inferences again.
	require.Eventually(t, func() bool {
		_, inf := in.Start(ctx, personalize.Request{User: "u"})
		if inf.RequestID() == "" {
			return false
		}
		if inf.End(nil) == nil {
			accepted++
		}
		return true
	}, 5*time.Second, time.Millisecond, "the door reopens after a drain")
	require.NoError(t, in.Shutdown(ctx))
	s := in.Stats()
	assert.Equal(t, s.Accepted, s.Exporters[0].Exported, "everything accepted was delivered")
	assert.EqualValues(t, accepted, s.Accepted)
}

// TestNilInferenceIsANoOp: FromContext finds no inference on a context
// that has none (as for a request shed at Start); the nil *Inference it
// returns must be safe to use.
func TestNilInferenceIsANoOp(t *testing.T) {
	inf := personalize.FromContext(context.Background())
	require.Nil(t, inf)
	assert.Empty(t, inf.RequestID())
	st := inf.Stage("model_scoring")
	assert.Zero(t, st.End(nil))
	inf.Impress(items(2))
	inf.Fallback("popular")
	assert.ErrorIs(t, inf.End(nil), personalize.ErrNoInference)
}

// TestDeadLettersAtAFullDoor: a rejected event that finds its shard's
// queue full waits for room under BlockTimeout (every dead letter is
// delivered) and is dropped at once, counted on the dead-letter exporter,
// under the default policy.
func TestDeadLettersAtAFullDoor(t *testing.T) {
	for _, block := range []time.Duration{0, time.Minute} {
		t.Run(fmt.Sprint("BlockTimeout=", block), func(t *testing.T) {
			release := make(chan struct{})
			var once sync.Once
			open := func() { once.Do(func() { close(release) }) }
			defer open()
			// The exporter holds every batch until released, so the door
			// (4 events, one shard) fills behind the first ones.
			held := personalize.ExportFunc(func(context.Context, []personalize.Event) error { <-release; return nil })
			dead := &recorder{name: "dead"}
			in := newInst(t, func(c *personalize.Config) {
				c.Shards, c.QueueSize, c.BatchSize, c.ExporterQueueSize = 1, 4, 1, 1
				c.BlockTimeout, c.DeadLetter = block, dead
			}, held)
			ctx := context.Background()
			valid := func(i int) personalize.Outcome {
				return personalize.Outcome{RequestID: personalize.RequestID(fmt.Sprint("ok", i)), User: "u", Item: "sku", Kind: personalize.OutcomeClick}
			}
			// Valid events fill the door while the exporter is held; under
			// BlockTimeout the later ones wait for room, on their own
			// goroutine.
			var fill sync.WaitGroup
			fill.Go(func() {
				for i := range 8 {
					_ = in.Outcome(ctx, valid(i))
				}
			})
			if block == 0 {
				fill.Wait()
			} else {
				time.Sleep(50 * time.Millisecond) // the door is full by now
			}
			const bad = 20
			var rejected sync.WaitGroup
			rejected.Go(func() {
				for i := range bad {
					o := personalize.Outcome{RequestID: personalize.RequestID(fmt.Sprint("r", i)), User: "u", Item: "sku"} // no kind
					var ve *personalize.ValidationError
					require.ErrorAs(t, in.Outcome(ctx, o), &ve)
				}
			})
			if block == 0 {
				rejected.Wait() // they do not wait for room
			} else {
				time.Sleep(50 * time.Millisecond) // they wait at the door
			}
			open()
			fill.Wait()
			rejected.Wait()
			require.NoError(t, in.Shutdown(ctx))
			st := in.Stats()
			require.NotNil(t, st.DeadLetter)
			dead.mu.Lock()
			got := int64(len(dead.events))
			dead.mu.Unlock()
			require.Equal(t, got, st.DeadLetter.Exported)
			if block > 0 {
				require.EqualValues(t, bad, got, "every dead letter delivered under BlockTimeout")
				return
			}
			require.Positive(t, st.DeadLetter.Dropped(), "dead letters dropped at the full door are counted")
			require.EqualValues(t, bad, got+st.DeadLetter.Dropped(), "delivered + dropped = rejected")
		})
	}
}

// TestStageWindowsCountEveryEndedInference: the latency tracker's windows
// are recorded off the request path, from the impression, wherever it ends
// up: delivered, rejected with no dead-letter exporter, refused at a full
// door, or ended after Shutdown. Each ended inference counts once, its
// stage statuses with it. Stages of an inference shed at Start are not
// recorded (it records nothing).
func TestStageWindowsCountEveryEndedInference(t *testing.T) {
	gate := make(chan struct{})
	in := newStuckInst(t, gate)
	ctx := context.Background()
	infer := func(stageErr error, its []personalize.Item) *personalize.Inference {
		_, inf := in.Start(ctx, personalize.Request{User: "u"})
		require.NotEmpty(t, inf.RequestID(), "not shed")
		st := inf.Stage("model_scoring")
		st.End(stageErr)
		inf.Impress(its)
		return inf
	}
	// Ended after Shutdown (started while the door is open).
	afterShutdown := infer(nil, items(2))
	// Delivered (once the exporter resumes).
	for range 2 {
		require.NoError(t, infer(nil, items(2)).End(nil))
	}
	// Rejected: no dead-letter exporter, so the batcher never sees it.
	var ve *personalize.ValidationError
	require.ErrorAs(t, infer(nil, []personalize.Item{{ID: "a", Position: 1, Propensity: 2}}).End(nil), &ve)
	// Started while the door is open, ended once it is shut: refused.
	refused := infer(context.DeadlineExceeded, items(2))
	fillDoor(t, in)
	require.ErrorIs(t, refused.End(nil), personalize.ErrQueueFull)
	// Shed at Start: records nothing.
	_, shed := in.Start(ctx, personalize.Request{User: "u"})
	require.Empty(t, shed.RequestID())
	shed.Stage("model_scoring").End(errors.New("x"))
	require.Error(t, shed.End(nil))
	close(gate)
	require.NoError(t, in.Flush(ctx))
	require.NoError(t, in.Shutdown(ctx))
	require.ErrorIs(t, afterShutdown.End(nil), personalize.ErrShutdown)

	tr := in.Latency()
	stage, ok := tr.Summary("model_scoring", latency.WindowMinute)
	require.True(t, ok)
	assert.EqualValues(t, 5, stage.Count, "2 delivered, 1 rejected, 1 refused, 1 after Shutdown")
	assert.EqualValues(t, 1, stage.Timeouts, "the refused inference's stage timed out")
	assert.Zero(t, stage.Errors, "the shed inference's stage is not recorded")
	total, ok := tr.Summary(latency.EndToEnd, latency.WindowMinute)
	require.True(t, ok)
	assert.EqualValues(t, 5, total.Count)
}

// newStuckInst returns an instrument with a one-shard door of 8 events in
// front of an exporter that waits for gate: at most 8 + 3 events get in
// (the exporter holds one batch of 1, its queue another, the batcher a
// third) until gate is closed.
func newStuckInst(t *testing.T, gate chan struct{}) *personalize.Instrument {
	return newInst(t, func(c *personalize.Config) {
		c.QueueSize = 8
		c.Shards = 1
		c.BatchSize = 1
		c.ExporterQueueSize = 1
		c.StallTimeout = time.Hour
	}, &recorder{name: "stuck", gate: gate})
}

// fillDoor emits outcomes until in's door refuses three in a row, and
// returns how many it accepted.
func fillDoor(t *testing.T, in *personalize.Instrument) (accepted int) {
	stableFull := 0
	require.Eventually(t, func() bool {
		if in.Outcome(context.Background(), personalize.Outcome{User: "u", Kind: personalize.OutcomeSignup}) == nil {
			accepted++
			stableFull = 0
			return false
		}
		stableFull++
		return stableFull >= 3
	}, 5*time.Second, 20*time.Millisecond)
	return accepted
}

// TestDefaultShards: with Config.Shards 0 an instrument gets one shard per
// two processors (GOMAXPROCS at New), at least one and at most MaxShards.
func TestDefaultShards(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct{ procs, shards int }{{1, 1}, {2, 1}, {3, 1}, {4, 2}, {9, 4}, {128, 64}, {200, 64}} {
		runtime.GOMAXPROCS(tc.procs)
		assert.Equal(t, tc.shards, personalize.DefaultShards(), "GOMAXPROCS %d", tc.procs)
		in := newInst(t, nil, personalize.DiscardExporter)
		assert.Equal(t, tc.shards, in.Stats().Shards, "GOMAXPROCS %d", tc.procs)
		require.NoError(t, in.Shutdown(context.Background()))
	}
}
