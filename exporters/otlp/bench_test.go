package otlp

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

type discardLogs struct {
	collogspb.UnimplementedLogsServiceServer
}

func (discardLogs) Export(context.Context, *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	return &collogspb.ExportLogsServiceResponse{}, nil
}

// BenchmarkExport measures events/s through the exporter to loopback OTLP
// servers: the gRPC one decodes
// each request (grpc-go's protobuf codec), the HTTP one reads and discards
// it (the in-process Collector benchmark lives in internal/collectortest).
// One op is one batch of 512 mixed events (personalizetest.RandomEvents),
// about 750 KB encoded: one request, or six in the http/split128KiB case
// (Config.MaxRequestBytes 128 KiB).
func BenchmarkExport(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	gs := grpc.NewServer()
	collogspb.RegisterLogsServiceServer(gs, discardLogs{})
	go func() { _ = gs.Serve(l) }()
	defer gs.Stop()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		out, _ := proto.Marshal(&collogspb.ExportLogsServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	defer hs.Close()

	batch := events(98, 512)
	for _, bc := range []struct {
		name  string
		t     Transport
		limit int
	}{
		{"grpc", Transport{Protocol: ProtocolGRPC, Endpoint: "http://" + l.Addr().String()}, 0},
		{"http", Transport{Protocol: ProtocolHTTPProtobuf, Endpoint: hs.URL}, 0},
		{"http/gzip", Transport{Protocol: ProtocolHTTPProtobuf, Endpoint: hs.URL, Compression: CompressionGzip}, 0},
		{"http/split128KiB", Transport{Protocol: ProtocolHTTPProtobuf, Endpoint: hs.URL}, 128 << 10},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e, err := New(Config{Transport: bc.t, MaxRequestBytes: bc.limit})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Shutdown(context.Background())
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := e.Export(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
			st := e.Stats()
			if st.Exported != uint64(len(batch))*st.Batches || st.DeadLettered != 0 {
				b.Fatalf("stats %+v", st)
			}
			b.ReportMetric(float64(st.Requests)/float64(st.Batches), "requests/op")
		})
	}
}

// BenchmarkEncodeRequest is the direct encoder alone: one op encodes a
// request of 512 mixed events into a warm buffer.
func BenchmarkEncodeRequest(b *testing.B) {
	batch := events(98, 512)
	enc := newRequestEncoder(resource.Default(), ScopeName, DefaultMaxRequestBytes)
	buf, r := enc.encode(nil, batch, time.Now())
	if r.next != len(batch) {
		b.Fatalf("split at %d of %d events", r.next, len(batch))
	}
	b.SetBytes(int64(len(r.req)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = enc.encode(buf[:0], batch, time.Now())
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendAttributes is the mapping alone, per event.
func BenchmarkAppendAttributes(b *testing.B) {
	evs := events(97, 512)
	kvs := make([]attribute.KeyValue, 0, 64)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		kvs, _ = AppendAttributes(kvs[:0], evs[i%len(evs)])
		i++
	}
}
