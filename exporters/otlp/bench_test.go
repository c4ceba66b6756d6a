package otlp

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/attribute"
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
// servers that decode the request and discard it (the in-process
// Collector benchmark lives in internal/collectortest). One op is one
// batch of 512 events.
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
	} {
		b.Run(bc.name, func(b *testing.B) {
			e, err := New(Config{Transport: bc.t})
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
