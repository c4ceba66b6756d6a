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

// BenchmarkExport measures events/s through the exporter, on the direct
// path and on the SDK path, to loopback OTLP servers: the gRPC one decodes
// each request (grpc-go's protobuf codec), the HTTP one reads and discards
// it (the in-process Collector benchmark lives in internal/collectortest).
// One op is one batch of 512 mixed events (personalizetest.RandomEvents).
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
		name string
		t    Transport
	}{
		{"grpc", Transport{Protocol: ProtocolGRPC, Endpoint: "http://" + l.Addr().String()}},
		{"http", Transport{Protocol: ProtocolHTTPProtobuf, Endpoint: hs.URL}},
		{"http/gzip", Transport{Protocol: ProtocolHTTPProtobuf, Endpoint: hs.URL, Compression: CompressionGzip}},
	} {
		for _, path := range []string{"direct", "sdk"} {
			b.Run(bc.name+"/"+path, func(b *testing.B) {
				e, err := New(Config{Transport: bc.t, UseSDK: path == "sdk"})
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
			})
		}
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
