package file_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/internal/benchcpu"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// impressions returns n impression events of 10 items each.
func impressions(n int) []personalize.Event {
	rng := seeded(99)
	out := make([]personalize.Event, n)
	for i := range out {
		out[i] = personalize.Event{Type: personalize.EventImpression, Impression: personalizetest.RandomImpression(rng, 10)}
	}
	return out
}

// BenchmarkFileExport measures impression events (10 items each) per
// second through Export in batches of 512 (the pipeline's default batch
// size) to a temporary directory, including rotation at the default 64 MiB
// and the final flush and fsync. "events/s" is wall-clock throughput;
// "events/cpu-s" divides by the CPU time the process used, which is what
// to read on a machine shared with other work.
func BenchmarkFileExport(b *testing.B) {
	for _, enc := range []int{1, 2} {
		b.Run(fmt.Sprintf("Encoders=%d", enc), func(b *testing.B) { benchExport(b, file.Config{Dir: b.TempDir(), Encoders: enc}) })
	}
	// Closed files kept in the page cache, as before 2026-12-06: on a VM
	// whose host backs memory lazily every new page then costs a host
	// fault (docs/design/file.md, "The page cache").
	b.Run("Encoders=1/KeepPageCache", func(b *testing.B) {
		benchExport(b, file.Config{Dir: b.TempDir(), KeepPageCache: true})
	})
	// The same on tmpfs, when the machine has one: the exporter's own cost
	// without the disk (the fsync at each 64 MiB rotation and at Shutdown
	// waits for the device above).
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		b.Run("Encoders=1/tmpfs", func(b *testing.B) {
			dir, err := os.MkdirTemp("/dev/shm", "rankscope-bench")
			if err != nil {
				b.Skip(err)
			}
			defer os.RemoveAll(dir)
			benchExport(b, file.Config{Dir: dir})
		})
	}
}

func benchExport(b *testing.B, cfg file.Config) {
	const batchSize = 512
	events := impressions(4096)
	line, _ := personalize.AppendJSON(nil, events[0])
	exp, err := file.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(int64(len(line) + 1))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchcpu.Now()
	for i := 0; i < b.N; i += batchSize {
		lo := i % len(events)
		n := min(batchSize, b.N-i, len(events)-lo)
		if err := exp.Export(ctx, events[lo:lo+n]); err != nil {
			b.Fatal(err)
		}
	}
	if err := exp.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	reportRates(b, float64(b.N), benchcpu.Now()-cpu0)
}

func reportRates(b *testing.B, events float64, cpu time.Duration) {
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(events/cpu.Seconds(), "events/cpu-s")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkEncodeImpression isolates personalize.AppendJSON for the same
// events, to show what share of BenchmarkFileExport is encoding.
func BenchmarkEncodeImpression(b *testing.B) {
	events := impressions(4096)
	var buf []byte
	b.ReportAllocs()
	cpu0 := benchcpu.Now()
	for i := 0; b.Loop(); i++ {
		buf, _ = personalize.AppendJSON(buf[:0], events[i%len(events)])
	}
	reportRates(b, float64(b.N), benchcpu.Now()-cpu0)
}

// BenchmarkReadDir measures events per second decoded back by ReadDir
// from files written by the exporter (impressions of 10 items).
func BenchmarkReadDir(b *testing.B) {
	dir := b.TempDir()
	exp, err := file.New(file.Config{Dir: dir, MaxBytes: 4 << 20})
	if err != nil {
		b.Fatal(err)
	}
	events := impressions(20000)
	if err := exp.Export(context.Background(), events); err != nil {
		b.Fatal(err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var n int64
	cpu0 := benchcpu.Now()
	for b.Loop() {
		st, err := file.ReadDir(dir, func(personalize.Event) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		n += st.Events
	}
	reportRates(b, float64(n), benchcpu.Now()-cpu0)
}

// BenchmarkFileExportEncryption is BenchmarkFileExport (default encoders)
// without and with age encryption (one X25519 recipient), in the same run:
// the difference in cpu-ns/op is the cost of encryption per event.
func BenchmarkFileExportEncryption(b *testing.B) {
	id := identity(b)
	for _, tc := range []struct {
		name string
		rec  []age.Recipient
	}{{"plain", nil}, {"age", []age.Recipient{id.Recipient()}}} {
		b.Run(tc.name, func(b *testing.B) { benchExport(b, file.Config{Dir: b.TempDir(), Recipients: tc.rec}) })
	}
}
