package schema_test

import (
	"math/rand/v2"
	"testing"

	"github.com/rankscope/rankscope/internal/benchcpu"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/personalize/schema"
)

// The decode benchmarks compare the hand-written decoder (a reused
// Decoder, and UnmarshalEvent with its pooled one) against the
// encoding/json reference on the same lines, in one invocation:
//
//	go test ./personalize -run '^$' -bench 'Decode(Impression|Outcome)' -benchmem -benchtime=200ms
//
// Each iteration decodes one of 256 different lines, as AppendJSON writes
// them; MB/s counts line bytes; cpu-ns/op is the process CPU time per
// line (internal/benchcpu), the figure to read on a shared machine.

func benchLines(b *testing.B, gen func(rng *rand.Rand) schema.Event) [][]byte {
	rng := rand.New(rand.NewPCG(21, 22))
	lines := make([][]byte, 256)
	for i := range lines {
		line, err := schema.AppendJSON(nil, gen(rng))
		if err != nil {
			b.Fatal(err)
		}
		lines[i] = line
	}
	return lines
}

func benchDecoders(b *testing.B, lines [][]byte) {
	var total int
	for _, l := range lines {
		total += len(l)
	}
	dec := schema.NewDecoder()
	impls := []struct {
		name string
		fn   func([]byte) (schema.Event, error)
	}{
		{"impl=Decoder", dec.Decode},
		{"impl=UnmarshalEvent", schema.UnmarshalEvent},
		{"impl=reference", schema.UnmarshalEventReference},
	}
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(int64(total / len(lines)))
			b.ReportAllocs()
			cpu := benchcpu.Start()
			i := 0
			for b.Loop() {
				if _, err := impl.fn(lines[i%len(lines)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			cpu.Report(b)
		})
	}
}

// BenchmarkDecodeImpression decodes impressions of 10 items with three
// stages, experiments, flags and context as RandomImpression makes them.
func BenchmarkDecodeImpression(b *testing.B) {
	benchDecoders(b, benchLines(b, func(rng *rand.Rand) schema.Event {
		return schema.Event{Type: schema.EventImpression, Impression: personalizetest.RandomImpression(rng, 10)}
	}))
}

// BenchmarkDecodeOutcome decodes outcomes of every kind.
func BenchmarkDecodeOutcome(b *testing.B) {
	benchDecoders(b, benchLines(b, func(rng *rand.Rand) schema.Event {
		return personalizetest.RandomEvent(rng, schema.EventOutcome)
	}))
}

// BenchmarkDecodeParallel decodes a mix of events with UnmarshalEvent on
// every core: the pooled decoders must not contend.
func BenchmarkDecodeParallel(b *testing.B) {
	rng := rand.New(rand.NewPCG(23, 24))
	var lines [][]byte
	var total int
	for _, e := range personalizetest.RandomEvents(rng, 256) {
		line, err := schema.AppendJSON(nil, e)
		if err != nil {
			b.Fatal(err)
		}
		lines = append(lines, line)
		total += len(line)
	}
	b.SetBytes(int64(total / len(lines)))
	b.ReportAllocs()
	cpu := benchcpu.Start()
	defer cpu.Report(b)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := schema.UnmarshalEvent(lines[i%len(lines)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
