package personalize_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/rankscope/rankscope/internal/benchcpu"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// BenchmarkInferenceDurable is BenchmarkInference (Start, three stages,
// Impress of 10 items, End; DiscardExporter behind the queue) with
// durable mode off, on with the default fsync interval, and on with an
// fsync per group of appends, the WAL in a temporary directory (on the
// disk of the machine: see docs/design/durable.md for the figures and
// the command).
//
//	go test ./personalize -run '^$' -bench 'InferenceDurable' -benchmem
func BenchmarkInferenceDurable(b *testing.B) {
	for _, mode := range walBenchModes {
		b.Run("wal="+mode.name, func(b *testing.B) {
			in := durableBenchInstrument(b, mode.wal)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			m := benchcpu.Start()
			var dropped int
			for i := 0; i < b.N; i++ {
				if err := oneInference(ctx, in); err != nil {
					if !errors.Is(err, personalize.ErrQueueFull) && !errors.Is(err, personalize.ErrWALFull) {
						b.Fatal(err)
					}
					dropped++
				}
			}
			m.Report(b)
			b.ReportMetric(float64(dropped)/float64(b.N), "dropped/op")
			reportWAL(b, in)
		})
	}
}

// BenchmarkInferenceDurableParallel runs 64 goroutines (32 per
// GOMAXPROCS here): concurrent appends share write(2) calls (group
// commit); appends/write reports how many.
func BenchmarkInferenceDurableParallel(b *testing.B) {
	for _, mode := range walBenchModes {
		b.Run("wal="+mode.name, func(b *testing.B) {
			in := durableBenchInstrument(b, mode.wal)
			ctx := context.Background()
			b.SetParallelism(32)
			b.ReportAllocs()
			b.ResetTimer()
			m := benchcpu.Start()
			var dropped atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := oneInference(ctx, in); err != nil {
						dropped.Add(1)
					}
				}
			})
			m.Report(b)
			b.ReportMetric(float64(dropped.Load())/float64(b.N), "dropped/op")
			reportWAL(b, in)
		})
	}
}

var walBenchModes = []struct {
	name string
	wal  func(dir string) personalize.WALConfig
}{
	{"off", func(string) personalize.WALConfig { return personalize.WALConfig{} }},
	{"interval", func(dir string) personalize.WALConfig { return personalize.WALConfig{Dir: dir} }},
	{"always", func(dir string) personalize.WALConfig { return personalize.WALConfig{Dir: dir, SyncAlways: true} }},
}

func durableBenchInstrument(b *testing.B, wal func(string) personalize.WALConfig) *personalize.Instrument {
	in := newInst(b, func(c *personalize.Config) {
		c.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		c.QueueSize = 1 << 16
		c.WAL = wal(b.TempDir())
	}, personalize.DiscardExporter)
	b.Cleanup(func() { _ = in.Shutdown(context.Background()) })
	return in
}

func reportWAL(b *testing.B, in *personalize.Instrument) {
	if w := in.Stats().WAL; w != nil && w.Writes > 0 {
		b.ReportMetric(float64(w.Appended)/float64(w.Writes), "appends/write")
	}
}

// BenchmarkWALWriteFloor is the floor under durable mode on this disk:
// one O_APPEND write(2) of a 10-item impression's JSON line per op, alone,
// and followed by an fsync. Nothing of the instrument runs.
func BenchmarkWALWriteFloor(b *testing.B) {
	line, err := personalize.AppendJSON(nil, personalize.Event{Type: personalize.EventImpression,
		Impression: personalizetest.RandomImpression(rand.New(rand.NewPCG(1, 2)), 10)})
	if err != nil {
		b.Fatal(err)
	}
	line = append(line, '\n')
	for _, fsync := range []bool{false, true} {
		name := "write"
		if fsync {
			name = "write+fsync"
		}
		b.Run(name, func(b *testing.B) {
			f, err := os.OpenFile(filepath.Join(b.TempDir(), "floor.jsonl"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(int64(len(line)))
			b.ResetTimer()
			m := benchcpu.Start()
			for i := 0; i < b.N; i++ {
				if i%16384 == 0 && i > 0 { // a new segment every 16 MiB or so
					if err := f.Truncate(0); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := f.Write(line); err != nil {
					b.Fatal(err)
				}
				if fsync {
					if err := f.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			}
			m.Report(b)
		})
	}
}
