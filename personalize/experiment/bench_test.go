package experiment

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/internal/benchcpu"
	"github.com/rankscope/rankscope/personalize"
)

// writeSynthetic writes rows event lines (one exposure and nine outcomes
// per unit, the file exporter's format) into files of dir.
func writeSynthetic(tb testing.TB, dir string, rows int) {
	tb.Helper()
	units := rows / 10
	const files = 4
	rng := rand.New(rand.NewPCG(5, 5))
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var b []byte
	for f := 0; f < files; f++ {
		fh, err := os.Create(filepath.Join(dir, fmt.Sprintf("events-%02d.jsonl", f)))
		require.NoError(tb, err)
		w := bufio.NewWriterSize(fh, 1<<20)
		for u := f * units / files; u < (f+1)*units/files; u++ {
			user := personalize.Pseudonym{ID: "p" + strconv.FormatUint(uint64(u)*2654435761%1000000007, 36) + "x7f3a9c", KeyID: "k1"}
			v := "control"
			if u%2 == 1 {
				v = "treatment"
			}
			at = at.Add(time.Millisecond)
			b = b[:0]
			b, _ = personalize.AppendJSON(b, personalize.Event{Type: personalize.EventExposure, Exposure: &personalize.Exposure{
				EventID: personalize.NewEventID(), UserID: user, Experiment: "ranker-v42", Variant: v, Time: at, Service: "ranking"}})
			b = append(b, '\n')
			for k := 0; k < 9; k++ {
				o := &personalize.Outcome{EventID: personalize.NewEventID(), UserID: user, RequestID: "req-" + strconv.Itoa(u),
					Item: "item-" + strconv.Itoa(k), Kind: personalize.OutcomeClick, Time: at, Service: "ranking", Surface: "home"}
				switch {
				case k == 0 && rng.Float64() < 0.3:
					o.Kind, o.Value, o.Currency = personalize.OutcomePurchase, float64(rng.IntN(5000))/100, "EUR"
				case k > 6:
					o.Kind, o.Dwell = personalize.OutcomeDwell, time.Duration(rng.IntN(60))*time.Second
				}
				b, _ = personalize.AppendJSON(b, personalize.Event{Type: personalize.EventOutcome, Outcome: o})
				b = append(b, '\n')
			}
			_, err = w.Write(b)
			require.NoError(tb, err)
		}
		require.NoError(tb, w.Flush())
		require.NoError(tb, fh.Close())
	}
}

// BenchmarkAnalyzeFiles reads 10 million exposure/outcome rows from event
// files and analyses the experiment (the target: under 10 s).
func BenchmarkAnalyzeFiles(b *testing.B) {
	rows := 10_000_000
	if testing.Short() {
		rows = 1_000_000
	}
	dir := b.TempDir()
	writeSynthetic(b, dir, rows)
	b.ReportAllocs()
	cpu0 := benchcpu.Now()
	b.ResetTimer()
	for b.Loop() {
		c, err := NewCollector(CollectorConfig{})
		require.NoError(b, err)
		_, err = file.ReadLines(dir, func(l []byte) error { _ = c.AddLine(l); return nil })
		require.NoError(b, err)
		r, err := c.Analyze(AnalysisConfig{Experiment: "ranker-v42"})
		require.NoError(b, err)
		if got := c.Stats().Lines; got != int64(rows) {
			b.Fatalf("read %d lines, want %d", got, rows)
		}
		if r.Arms[0].Units+r.Arms[1].Units != int64(rows/10) {
			b.Fatalf("units %v", r.Arms)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	// CPU time per row, independent of how busy the machine is.
	b.ReportMetric(float64(benchcpu.Now()-cpu0)/float64(rows)/float64(b.N), "cpu-ns/row")
}

// BenchmarkAnalyzeFilesPaths compares the ways to read the same 1 million
// exposure/outcome rows into a Collector and analyse them: the
// projection fast path (file.ReadLines into AddLine), and exporters/file.ReadDir
// with the core's full decoder (personalize.Decoder, every event
// validated) sequentially and with ReadConfig.Workers = 2. One op is one
// whole read and analysis.
func BenchmarkAnalyzeFilesPaths(b *testing.B) {
	const rows = 1_000_000
	dir := b.TempDir()
	writeSynthetic(b, dir, rows)
	read := map[string]func(c *Collector) error{
		"prescan": func(c *Collector) error {
			_, err := file.ReadLines(dir, func(l []byte) error { _ = c.AddLine(l); return nil })
			return err
		},
		"decoder": func(c *Collector) error {
			_, err := file.ReadConfig{}.ReadDir(dir, func(e personalize.Event) error { c.Add(e); return nil })
			return err
		},
		"decoder_workers2": func(c *Collector) error {
			_, err := file.ReadConfig{Workers: 2}.ReadDir(dir, func(e personalize.Event) error { c.Add(e); return nil })
			return err
		},
	}
	for _, name := range []string{"prescan", "decoder", "decoder_workers2"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := benchcpu.Now()
			for b.Loop() {
				c, err := NewCollector(CollectorConfig{})
				require.NoError(b, err)
				require.NoError(b, read[name](c))
				r, err := c.Analyze(AnalysisConfig{Experiment: "ranker-v42"})
				require.NoError(b, err)
				if r.Arms[0].Units+r.Arms[1].Units != int64(rows/10) {
					b.Fatalf("units %v", r.Arms)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(benchcpu.Now()-cpu0)/float64(rows)/float64(b.N), "cpu-ns/row")
		})
	}
}
