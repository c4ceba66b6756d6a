package parquet_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/rankscope/rankscope/exporters/parquet"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// BenchmarkExport writes batches of 512 random events (70% impressions
// of 1 to 20 items) into one partition. It reports the bytes of finished
// file per row and, measured once before the loop, the heap an open file
// holds per buffered row (the memory bound of doc.go: MaxOpenFiles x
// RowGroupRows rows of this size).
func BenchmarkExport(b *testing.B) {
	ev := oneHour(personalizetest.RandomEvents(seeded(3), 10_000))
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()

	// Heap held by 9,999 buffered rows (one short of a row group).
	dir := b.TempDir()
	exp, err := parquet.New(parquet.Config{Dir: dir, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	for c := range slices.Chunk(ev[:parquet.DefaultRowGroupRows-1], 512) {
		if err := exp.Export(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	buffered := float64(int64(m1.HeapInuse)-int64(m0.HeapInuse)) / float64(parquet.DefaultRowGroupRows-1)
	if err := exp.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}

	dir = b.TempDir()
	exp, err = parquet.New(parquet.Config{Dir: dir, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	rows := 0
	for i := 0; b.Loop(); i++ {
		c := ev[(i*512)%9216:][:512]
		if err := exp.Export(ctx, c); err != nil {
			b.Fatal(err)
		}
		rows += len(c)
	}
	b.StopTimer()
	if err := exp.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
	var size int64
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*.parquet"))
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			size += st.Size()
		}
	}
	b.ReportMetric(float64(size)/float64(rows), "file-B/row")
	b.ReportMetric(buffered, "buffered-B/row")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
}
