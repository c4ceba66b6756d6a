package otlp

import (
	"compress/gzip"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // receivers accept gzip, as the Collector's does
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 11)) }

func events(seed uint64, n int) []personalize.Event {
	return personalizetest.RandomEvents(rand.New(rand.NewPCG(seed, 11)), n)
}

// protoAttrs converts OTLP attributes back to attribute.KeyValues.
func protoAttrs(t testing.TB, kvs []*commonpb.KeyValue) []attribute.KeyValue {
	out := make([]attribute.KeyValue, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, attribute.KeyValue{Key: attribute.Key(kv.Key), Value: protoValue(t, kv.Value)})
	}
	return out
}

func protoValue(t testing.TB, v *commonpb.AnyValue) attribute.Value {
	switch x := v.Value.(type) {
	case *commonpb.AnyValue_StringValue:
		return attribute.StringValue(x.StringValue)
	case *commonpb.AnyValue_IntValue:
		return attribute.Int64Value(x.IntValue)
	case *commonpb.AnyValue_DoubleValue:
		return attribute.Float64Value(x.DoubleValue)
	case *commonpb.AnyValue_BoolValue:
		return attribute.BoolValue(x.BoolValue)
	case *commonpb.AnyValue_ArrayValue:
		vals := x.ArrayValue.Values
		if len(vals) == 0 {
			return attribute.StringSliceValue(nil)
		}
		switch vals[0].Value.(type) {
		case *commonpb.AnyValue_StringValue:
			s := make([]string, len(vals))
			for i, v := range vals {
				s[i] = v.GetStringValue()
			}
			return attribute.StringSliceValue(s)
		case *commonpb.AnyValue_IntValue:
			s := make([]int64, len(vals))
			for i, v := range vals {
				s[i] = v.GetIntValue()
			}
			return attribute.Int64SliceValue(s)
		case *commonpb.AnyValue_DoubleValue:
			s := make([]float64, len(vals))
			for i, v := range vals {
				s[i] = v.GetDoubleValue()
			}
			return attribute.Float64SliceValue(s)
		}
	}
	t.Errorf("unexpected OTLP value %v", v)
	return attribute.Value{}
}

// sink decodes received OTLP requests back into events.
type sink struct {
	t       testing.TB
	mu      sync.Mutex
	events  []personalize.Event
	names   []string
	headers []http.Header
	md      []metadata.MD
	reqs    int
	fail    func(n int) error // if set, may fail request n (1-based)
	partial int64             // records to report rejected in a partial success
	// limit, if set, refuses HTTP bodies over limit bytes with 400, as
	// the Collector's receiver does (grpcSinkLimit sets gRPC's own). Set
	// before the server starts.
	limit int64
	sizes []int // uncompressed size of each accepted request
}

func (s *sink) response() *collogspb.ExportLogsServiceResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.partial == 0 {
		return &collogspb.ExportLogsServiceResponse{}
	}
	return &collogspb.ExportLogsServiceResponse{PartialSuccess: &collogspb.ExportLogsPartialSuccess{
		RejectedLogRecords: s.partial, ErrorMessage: "attribute too long"}}
}

func (s *sink) add(req *collogspb.ExportLogsServiceRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sizes = append(s.sizes, proto.Size(req))
	for _, rl := range req.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			if sl.Scope.GetName() != ScopeName {
				s.t.Errorf("scope %q, want %q", sl.Scope.GetName(), ScopeName)
			}
			for _, lr := range sl.LogRecords {
				rec := Record{EventName: lr.EventName, Time: time.Unix(0, int64(lr.TimeUnixNano)).UTC(),
					Attributes: protoAttrs(s.t, lr.Attributes)}
				copy(rec.TraceID[:], lr.TraceId)
				copy(rec.SpanID[:], lr.SpanId)
				ev, err := DecodeRecord(rec)
				if err != nil {
					s.t.Errorf("decode %s: %v", lr.EventName, err)
					continue
				}
				s.events = append(s.events, ev)
				s.names = append(s.names, lr.EventName)
			}
		}
	}
}

func (s *sink) next() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs++
	if s.fail != nil {
		return s.fail(s.reqs)
	}
	return nil
}

func (s *sink) requestSizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.sizes...)
}

func (s *sink) delivered() []personalize.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]personalize.Event(nil), s.events...)
}

// httpSink serves OTLP/HTTP protobuf at /v1/logs.
func httpSink(t testing.TB) (*sink, string) { return httpSinkLimit(t, 0) }

// httpSinkLimit is httpSink refusing bodies over limit bytes (0: no
// limit) with 400, as the Collector's receiver does.
func httpSinkLimit(t testing.TB, limit int) (*sink, string) {
	s := &sink{t: t, limit: int64(limit)}
	srv := httptest.NewServer(httpSinkHandler(t, s))
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func httpSinkHandler(t testing.TB, s *sink) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/logs" {
			t.Errorf("path %q", r.URL.Path)
		}
		if err := s.next(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				t.Errorf("gzip: %v", err)
				return
			}
			body = zr
		}
		if s.limit > 0 { // the decompressed body, as the Collector checks it
			body = http.MaxBytesReader(w, io.NopCloser(body), s.limit)
		}
		data, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req collogspb.ExportLogsServiceRequest
		if err := proto.Unmarshal(data, &req); err != nil {
			t.Errorf("unmarshal: %v", err)
			return
		}
		s.mu.Lock()
		s.headers = append(s.headers, r.Header.Clone())
		s.mu.Unlock()
		s.add(&req)
		out, _ := proto.Marshal(s.response())
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})
}

type grpcLogs struct {
	collogspb.UnimplementedLogsServiceServer
	s *sink
}

func (g grpcLogs) Export(ctx context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	if err := g.s.next(); err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	md, _ := metadata.FromIncomingContext(ctx)
	g.s.mu.Lock()
	g.s.md = append(g.s.md, md)
	g.s.mu.Unlock()
	g.s.add(req)
	return g.s.response(), nil
}

// grpcSink serves OTLP/gRPC on loopback.
func grpcSink(t testing.TB) (*sink, string) { return grpcSinkLimit(t, 0) }

// grpcSinkLimit is grpcSink receiving messages of at most limit bytes
// (grpc.MaxRecvMsgSize; 0: gRPC's default, 4 MiB, as the Collector's).
func grpcSinkLimit(t testing.TB, limit int) (*sink, string) {
	s := &sink{t: t}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var opts []grpc.ServerOption
	if limit > 0 {
		opts = append(opts, grpc.MaxRecvMsgSize(limit))
	}
	srv := grpc.NewServer(opts...)
	collogspb.RegisterLogsServiceServer(srv, grpcLogs{s: s})
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return s, "http://" + l.Addr().String()
}

func encodeAll(evs []personalize.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		b, _ := personalize.AppendJSON(nil, e)
		out[i] = string(b)
	}
	return out
}
