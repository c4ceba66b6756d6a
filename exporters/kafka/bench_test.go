package kafka

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rankscope/rankscope/internal/benchcpu"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// BenchmarkCompression compresses the records of one partition's batch
// (the JSON lines of 512 mixed events, ~1 MB, the default batch limit)
// with each codec as franz-go does, through kgo.DefaultCompressor. It
// reports the compressed/raw ratio and CPU time per batch (cpu-ns/op,
// steadier than wall time on a shared machine); MB/s is of raw input. This is the
// measurement behind the default codec (package doc, "Compression").
func BenchmarkCompression(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var raw []byte
	for _, ev := range personalizetest.RandomEvents(rng, 512) {
		var err error
		if raw, err = personalize.AppendJSON(raw, ev); err != nil {
			b.Fatal(err)
		}
	}
	for c := CompressionZstd; c < CompressionNone; c++ {
		b.Run(c.String(), func(b *testing.B) {
			comp, err := kgo.DefaultCompressor(c.codec())
			if err != nil {
				b.Fatal(err)
			}
			var buf bytes.Buffer
			var out int
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			comp.Compress(&buf, raw) // warm the codec's pool
			b.ResetTimer()
			m := benchcpu.Start()
			for b.Loop() {
				buf.Reset()
				got, _ := comp.Compress(&buf, raw)
				out = len(got)
			}
			m.Report(b)
			b.ReportMetric(float64(out)/float64(len(raw)), "ratio")
		})
	}
}
