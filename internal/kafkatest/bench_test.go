package kafkatest

import (
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/rankscope/rankscope/exporters/kafka"
	"github.com/rankscope/rankscope/internal/benchcpu"
	"github.com/rankscope/rankscope/personalize"
)

// BenchmarkExport measures Export of 512-event batches (mixed events of
// 64 users) into a one-broker kfake cluster that acknowledges without
// storing (kfake.BlackholeProduce), per codec. One op is one batch;
// cpu-ns/op is the process's CPU (exporter, client and broker together).
func BenchmarkExport(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	batches := make([][]personalize.Event, 8)
	for i := range batches {
		batches[i] = userEvents(rng, 64, 512)
	}
	for _, comp := range []kafka.Compression{kafka.CompressionZstd, kafka.CompressionLZ4, kafka.CompressionNone} {
		b.Run(comp.String(), func(b *testing.B) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, topic), kfake.BlackholeProduce())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			e, err := kafka.New(kafka.Config{Brokers: c.ListenAddrs(), Topic: topic, Compression: comp})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Shutdown(b.Context())
			if err := e.Export(b.Context(), batches[0]); err != nil { // connect, learn the limit
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			m := benchcpu.Start()
			i := 0
			for b.Loop() {
				if err := e.Export(b.Context(), batches[i%len(batches)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			m.Report(b)
			b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
