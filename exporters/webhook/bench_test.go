package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rankscope/rankscope/personalize"
)

// BenchmarkExport measures events/s through the exporter to a loopback
// server that reads and discards each body. One op is one batch of 512
// events (the pipeline's default batch size).
func BenchmarkExport(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	batch := events(99, 512)
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"jsonl/gzip", Config{}},
		{"jsonl/plain", Config{DisableGzip: true}},
		{"array/plain", Config{Format: FormatJSONArray, DisableGzip: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := bc.cfg
			cfg.URL = srv.URL
			e, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Shutdown(context.Background())
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := e.Export(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
			// Memory held per event while a batch is in flight: the
			// encoded lines (the exporter keeps no queue of its own).
			b.ReportMetric(float64(cap(e.lines))/float64(len(batch)), "buf-B/event")
		})
	}
}

// BenchmarkBreakerClosed measures what the circuit breaker adds to each
// request while closed: the check before it and the report after it.
func BenchmarkBreakerClosed(b *testing.B) {
	br := breaker{threshold: DefaultFailureThreshold, coolDown: DefaultCoolDown}
	b.ReportAllocs()
	for b.Loop() {
		ok, probe := br.allow(false)
		if !ok {
			b.Fatal("closed breaker refused")
		}
		br.report(outcomeUp, probe)
	}
}

// BenchmarkValidateSpooled measures the check a spooled request passes
// before it is replayed (every line decoded), per 512-event request.
func BenchmarkValidateSpooled(b *testing.B) {
	var lines []byte
	for _, e := range events(99, 512) {
		lines, _ = personalize.AppendJSON(lines, e)
		lines = append(lines, '\n')
	}
	d := personalize.NewDecoder()
	b.ReportAllocs()
	b.SetBytes(int64(len(lines)))
	for b.Loop() {
		if err := validateSpooled(d, lines, 512); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "events/s")
}
