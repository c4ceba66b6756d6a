package collectortest

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/rankscope/rankscope/exporters/otlp"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/personalize/schema"
)

// collector is the official OTLP receiver running in process on loopback.
type collector struct {
	grpcAddr, httpAddr string
	rcv                receiver.Logs
}

func freePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// startCollector starts an otlpreceiver with both protocols on the given
// loopback addresses ("" picks free ones), delivering to next; configure
// functions may change its configuration (e.g. the size limits).
func startCollector(t testing.TB, grpcAddr, httpAddr string, next consumer.Logs, configure ...func(*otlpreceiver.Config)) *collector {
	t.Helper()
	if grpcAddr == "" {
		grpcAddr = freePort(t)
	}
	if httpAddr == "" {
		httpAddr = freePort(t)
	}
	f := otlpreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*otlpreceiver.Config)
	g := configgrpc.NewDefaultServerConfig()
	g.NetAddr.Endpoint = grpcAddr
	cfg.Protocols.GRPC = configoptional.Some(g)
	h := *cfg.Protocols.HTTP.GetOrInsertDefault()
	h.ServerConfig.NetAddr.Endpoint = httpAddr
	cfg.Protocols.HTTP = configoptional.Some(h)
	for _, f := range configure {
		f(cfg)
	}
	require.NoError(t, cfg.Protocols.Validate())
	rcv, err := f.CreateLogs(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, next)
	require.NoError(t, err)
	var startErr error
	for range 250 { // the ports of a restarted collector may take a moment to free (5s)
		if startErr = rcv.Start(context.Background(), componenttest.NewNopHost()); startErr == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, startErr)
	c := &collector{grpcAddr: grpcAddr, httpAddr: httpAddr, rcv: rcv}
	t.Cleanup(func() { _ = c.stop() })
	return c
}

func (c *collector) stop() error { return c.rcv.Shutdown(context.Background()) }

func (c *collector) endpoint(p otlp.Protocol) string {
	if p == otlp.ProtocolGRPC {
		return "http://" + c.grpcAddr
	}
	return "http://" + c.httpAddr
}

// received decodes what the collector delivered back into events.
type received struct {
	mu     sync.Mutex
	events []personalize.Event
	names  []string
	scopes []string
	errs   []error
	// fail, if set, makes the consumer refuse a delivery (the receiver
	// then answers with a retryable error).
	fail func() bool
}

func (r *received) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (r *received) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	if r.fail != nil && r.fail() {
		return errors.New("collector pipeline busy")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				ev, err := otlp.DecodeRecord(otlp.Record{EventName: lr.EventName(), Time: lr.Timestamp().AsTime().UTC(),
					TraceID: schema.TraceID(lr.TraceID()), SpanID: schema.SpanID(lr.SpanID()),
					Attributes: pdataAttrs(lr.Attributes())})
				if err != nil {
					r.errs = append(r.errs, err)
					continue
				}
				r.events = append(r.events, ev)
				r.names = append(r.names, lr.EventName())
				r.scopes = append(r.scopes, sl.Scope().Name())
			}
		}
	}
	return nil
}

func (r *received) snapshot() ([]personalize.Event, []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]personalize.Event(nil), r.events...), append([]error(nil), r.errs...)
}

func (r *received) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// pdataAttrs converts collector attributes (in their wire order) to
// OpenTelemetry Go attributes.
func pdataAttrs(m pcommon.Map) []attribute.KeyValue {
	out := make([]attribute.KeyValue, 0, m.Len())
	for k, v := range m.All() {
		out = append(out, attribute.KeyValue{Key: attribute.Key(k), Value: pdataValue(v)})
	}
	return out
}

func pdataValue(v pcommon.Value) attribute.Value {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return attribute.StringValue(v.Str())
	case pcommon.ValueTypeInt:
		return attribute.Int64Value(v.Int())
	case pcommon.ValueTypeDouble:
		return attribute.Float64Value(v.Double())
	case pcommon.ValueTypeBool:
		return attribute.BoolValue(v.Bool())
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		if s.Len() == 0 {
			return attribute.StringSliceValue(nil)
		}
		switch s.At(0).Type() {
		case pcommon.ValueTypeStr:
			out := make([]string, s.Len())
			for i := range out {
				out[i] = s.At(i).Str()
			}
			return attribute.StringSliceValue(out)
		case pcommon.ValueTypeInt:
			out := make([]int64, s.Len())
			for i := range out {
				out[i] = s.At(i).Int()
			}
			return attribute.Int64SliceValue(out)
		case pcommon.ValueTypeDouble:
			out := make([]float64, s.Len())
			for i := range out {
				out[i] = s.At(i).Double()
			}
			return attribute.Float64SliceValue(out)
		}
	}
	return attribute.StringValue("<unsupported " + v.Type().String() + ">")
}

func events(seed uint64, n int) []personalize.Event {
	return personalizetest.RandomEvents(rand.New(rand.NewPCG(seed, 5)), n)
}

func encode(e personalize.Event) string {
	b, _ := personalize.AppendJSON(nil, e)
	return string(b)
}

// requireDelivered asserts the quantity check: every sent event arrived
// with every field; duplicates only as at-least-once retries explain
// (identical copies), at most maxDup extra copies in all.
func requireDelivered(t *testing.T, r *received, sent []personalize.Event, maxDup int) {
	t.Helper()
	got, errs := r.snapshot()
	require.Empty(t, errs, "every record decodes")
	want := map[personalize.EventID]string{}
	for _, e := range sent {
		want[e.ID()] = encode(e)
	}
	seen := map[personalize.EventID]int{}
	for _, e := range got {
		w, ok := want[e.ID()]
		require.True(t, ok, "received event %s that was never sent", e.ID())
		require.Equal(t, w, encode(e), "event %s arrived with every field", e.ID())
		seen[e.ID()]++
	}
	require.Len(t, seen, len(sent), "N sent, N distinct received")
	assert.LessOrEqual(t, len(got)-len(sent), maxDup, "duplicates beyond at-least-once retries")
}

var protocols = []otlp.Protocol{otlp.ProtocolGRPC, otlp.ProtocolHTTPProtobuf}

func newExporter(t testing.TB, p otlp.Protocol, endpoint string, retry otlp.RetryConfig) *otlp.Exporter {
	e, err := otlp.New(otlp.Config{Transport: otlp.Transport{Protocol: p, Endpoint: endpoint,
		Compression: otlp.CompressionGzip, Retry: retry}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Shutdown(context.Background()) })
	return e
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestCollectorReceivesEveryEvent(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			r := &received{}
			c := startCollector(t, "", "", r)
			e := newExporter(t, p, c.endpoint(p), otlp.RetryConfig{})
			var sent []personalize.Event
			for i := range 10 {
				batch := events(uint64(100+i), 200)
				require.NoError(t, e.Export(ctx(t), batch))
				sent = append(sent, batch...)
			}
			requireDelivered(t, r, sent, 0)
			got, _ := r.snapshot()
			for i := range sent { // in order, with the right event names
				assert.Equal(t, encode(sent[i]), encode(got[i]))
				assert.Equal(t, otlp.EventName(sent[i].Type), r.names[i])
				assert.Equal(t, otlp.ScopeName, r.scopes[i])
			}
			st := e.Stats()
			assert.Equal(t, uint64(len(sent)), st.Exported)
			assert.Zero(t, st.Failed)
		})
	}
}

func TestCollectorConformance(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			personalizetest.TestExporter(t, personalizetest.Harness{New: func(t *testing.T) personalizetest.Instance {
				r := &received{}
				c := startCollector(t, "", "", r)
				e := newExporter(t, p, c.endpoint(p), otlp.RetryConfig{})
				return personalizetest.Instance{Exporter: e, Delivered: func() ([]personalize.Event, error) {
					evs, errs := r.snapshot()
					return evs, errors.Join(errs...)
				}}
			}})
		})
	}
}

// TestCollectorPipelineRefuses: the collector's pipeline refuses some
// deliveries (the receiver answers with a retryable status); the OTLP
// exporter retries and every event arrives once.
func TestCollectorPipelineRefuses(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			var calls atomic.Int64
			r := &received{fail: func() bool { return calls.Add(1)%3 != 0 }} // two of three refused
			c := startCollector(t, "", "", r)
			e := newExporter(t, p, c.endpoint(p), otlp.RetryConfig{InitialInterval: 10 * time.Millisecond, MaxInterval: 20 * time.Millisecond})
			var sent []personalize.Event
			for i := range 5 {
				batch := events(uint64(200+i), 50)
				require.NoError(t, e.Export(ctx(t), batch))
				sent = append(sent, batch...)
			}
			requireDelivered(t, r, sent, 0)
		})
	}
}

// TestCollectorStoppedThenRestarted: exports while the collector is down
// are retried until it is back (delivered) or, past the retry budget,
// fail and are counted (Stats.Failed).
func TestCollectorStoppedThenRestarted(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			r := &received{}
			c := startCollector(t, "", "", r)
			e := newExporter(t, p, c.endpoint(p), otlp.RetryConfig{InitialInterval: 20 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxElapsed: 10 * time.Second})
			before := events(300, 100)
			require.NoError(t, e.Export(ctx(t), before))

			require.NoError(t, c.stop())
			during := events(301, 100)
			done := make(chan error, 1)
			go func() { done <- e.Export(ctx(t), during) }()
			time.Sleep(300 * time.Millisecond) // a few failed attempts
			startCollector(t, c.grpcAddr, c.httpAddr, r)
			require.NoError(t, <-done, "retried until the collector was back")
			requireDelivered(t, r, append(before, during...), len(during))

			// Past the retry budget the batch fails and is counted.
			e2 := newExporter(t, p, "http://"+freePort(t), otlp.RetryConfig{InitialInterval: 10 * time.Millisecond, MaxInterval: 10 * time.Millisecond, MaxElapsed: 200 * time.Millisecond})
			lost := events(302, 40)
			require.Error(t, e2.Export(ctx(t), lost))
			st := e2.Stats()
			assert.Equal(t, uint64(40), st.Failed)
			assert.Equal(t, uint64(1), st.FailedBatches)
		})
	}
}

// benchMixes are the workloads of the benchmarks; each is one batch of
// 512 events: "mixed" is personalizetest.RandomEvents (70% impressions
// of 1 to 20 items), "impressions10" impressions of 10 items, "outcomes"
// outcomes only.
func benchMixes() []struct {
	name  string
	batch []personalize.Event
} {
	rng := rand.New(rand.NewPCG(401, 5))
	imps := make([]personalize.Event, 512)
	outs := make([]personalize.Event, 512)
	for i := range imps {
		imps[i] = personalize.Event{Type: personalize.EventImpression, Impression: personalizetest.RandomImpression(rng, 10)}
		outs[i] = personalizetest.RandomEvent(rng, personalize.EventOutcome)
	}
	return []struct {
		name  string
		batch []personalize.Event
	}{{"mixed", events(400, 512)}, {"impressions10", imps}, {"outcomes", outs}}
}

// BenchmarkCollector measures events/s through the OTLP exporter into the
// in-process collector receiver (which decodes every request into pdata),
// on the exporter and on the SDK oracle (the OpenTelemetry SDK's own
// OTLP log exporters, sdkpath_test.go). One op is one
// batch of 512 events. Exporter and receiver share the machine's cores,
// and Export is synchronous, so each op pays the exporter's encoding and
// the receiver's decoding in turn: BenchmarkReceiverDecode measures the
// latter alone.
func BenchmarkCollector(b *testing.B) {
	var n atomic.Int64
	count, err := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error {
		n.Add(int64(ld.LogRecordCount()))
		return nil
	})
	require.NoError(b, err)
	c := startCollector(b, "", "", count)
	for _, p := range protocols {
		for _, mix := range benchMixes() {
			for _, path := range []string{"direct", "sdk"} {
				b.Run(string(p)+"/"+mix.name+"/"+path, func(b *testing.B) {
					var e interface {
						Export(context.Context, []personalize.Event) error
						Shutdown(context.Context) error
					}
					if path == "sdk" {
						e = newSDKExporter(b, p, c.endpoint(p), nil)
					} else {
						d, err := otlp.New(otlp.Config{Transport: otlp.Transport{Protocol: p, Endpoint: c.endpoint(p)}})
						require.NoError(b, err)
						e = d
					}
					defer e.Shutdown(context.Background())
					ctx := context.Background()
					n.Store(0)
					b.ReportAllocs()
					for b.Loop() {
						if err := e.Export(ctx, mix.batch); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "events/s")
				})
			}
		}
	}
}

// BenchmarkCollectorParallel runs several exporters at once (one per
// RunParallel goroutine; one exporter's Exports never overlap) into the
// same receiver, mixed workload, direct path: what the machine sustains
// when both cores are busy, as with several pipelines or processes
// feeding one Collector.
func BenchmarkCollectorParallel(b *testing.B) {
	var n atomic.Int64
	count, err := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error {
		n.Add(int64(ld.LogRecordCount()))
		return nil
	})
	require.NoError(b, err)
	c := startCollector(b, "", "", count)
	batch := benchMixes()[0].batch
	for _, p := range protocols {
		b.Run(string(p)+"/mixed/direct", func(b *testing.B) {
			n.Store(0)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				e, err := otlp.New(otlp.Config{Transport: otlp.Transport{Protocol: p, Endpoint: c.endpoint(p)}})
				if err != nil {
					b.Error(err)
					return
				}
				defer e.Shutdown(context.Background())
				for pb.Next() {
					if err := e.Export(context.Background(), batch); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkReceiverDecode is the receiver's own cost per request: the
// Collector's pdata decoding (plogotlp.ExportRequest.UnmarshalProto, what
// otlpreceiver does with each HTTP body and, through its codec, each gRPC
// message) of the request the exporter sends for each workload. Its
// events/s bounds BenchmarkCollector on the same cores.
func BenchmarkReceiverDecode(b *testing.B) {
	for _, mix := range benchMixes() {
		body := captureRequest(b, false, mix.batch)
		b.Run(mix.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				req := plogotlp.NewExportRequest()
				if err := req.UnmarshalProto(body); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(mix.batch))/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// captureRequest returns the body of the OTLP/HTTP request the exporter
// (or, with sdk, the SDK oracle) sends for batch.
func captureRequest(t testing.TB, sdk bool, batch []personalize.Event) []byte {
	return captureRequestRes(t, sdk, nil, batch)
}

// captureRequestRes is captureRequest with the resource res (nil: the
// default).
func captureRequestRes(t testing.TB, sdk bool, res *resource.Resource, batch []personalize.Event) []byte {
	t.Helper()
	var (
		mu   sync.Mutex
		body []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		body = b
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	if sdk {
		e := newSDKExporter(t, otlp.ProtocolHTTPProtobuf, srv.URL, res)
		require.NoError(t, e.Export(context.Background(), batch))
		require.NoError(t, e.Shutdown(context.Background()))
	} else {
		e, err := otlp.New(otlp.Config{Resource: res, Transport: otlp.Transport{Endpoint: srv.URL}})
		require.NoError(t, err)
		require.NoError(t, e.Export(context.Background(), batch))
		require.NoError(t, e.Shutdown(context.Background()))
	}
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, body)
	return body
}

// TestDirectMatchesSDKInPdata decodes the requests of both paths with the
// Collector's own pdata and compares them (as OTLP/JSON, after clearing
// the observed timestamps, which each path stamps at its own moment).
func TestDirectMatchesSDKInPdata(t *testing.T) {
	for i := range 5 {
		batch := events(uint64(500+i), 400)
		norm := func(body []byte) string {
			req := plogotlp.NewExportRequest()
			require.NoError(t, req.UnmarshalProto(body))
			n := 0
			for _, rl := range req.Logs().ResourceLogs().All() {
				for _, sl := range rl.ScopeLogs().All() {
					for _, lr := range sl.LogRecords().All() {
						require.NotZero(t, lr.ObservedTimestamp())
						lr.SetObservedTimestamp(0)
						n++
					}
				}
			}
			require.Equal(t, len(batch), n)
			js, err := req.MarshalJSON()
			require.NoError(t, err)
			return string(js)
		}
		require.JSONEq(t, norm(captureRequest(t, true, batch)), norm(captureRequest(t, false, batch)))
	}
}
