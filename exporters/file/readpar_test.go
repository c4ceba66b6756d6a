package file_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/internal/benchcpu"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// readResult is everything a ReadDir call shows.
type readResult struct {
	lines []string // delivered events as JSON
	stats file.ReadStats
	err   error
}

func readAllWith(t *testing.T, cfg file.ReadConfig, dir string, failAt int) readResult {
	t.Helper()
	var res readResult
	res.stats, res.err = cfg.ReadDir(dir, func(e personalize.Event) error {
		if len(res.lines) == failAt {
			return errStop
		}
		b, err := personalize.AppendJSON(nil, e)
		require.NoError(t, err)
		res.lines = append(res.lines, string(b))
		return nil
	})
	return res
}

var errStop = errors.New("stop here")

// writeDir writes files of event lines, the last one still ".open", and
// returns the lines written.
func writeDir(t *testing.T, rng *rand.Rand, files, perFile int, corrupt func(rng *rand.Rand, line []byte) []byte) string {
	t.Helper()
	dir := t.TempDir()
	for f := range files {
		var data []byte
		for _, e := range personalizetest.RandomEvents(rng, perFile) {
			line, err := personalize.AppendJSON(nil, e)
			require.NoError(t, err)
			if corrupt != nil {
				line = corrupt(rng, line)
			}
			data = append(append(data, line...), '\n')
		}
		name := fmt.Sprintf("events-20261102T0900%02d.000000000Z-%06d.jsonl", f/3, f%3)
		if f == files-1 {
			name += file.OpenExt
			data = data[:len(data)-1-rng.IntN(40)] // a torn last line
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o600))
	}
	// An empty file read after the others.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "zz-empty.jsonl"), nil, 0o600))
	return dir
}

// corruptSome breaks about one line in fifty in the ways files break.
func corruptSome(rng *rand.Rand, line []byte) []byte {
	switch rng.IntN(100) {
	case 0:
		return line[:rng.IntN(len(line))]
	case 1:
		return nil // blank
	case 2:
		return append([]byte("   "), line...)
	case 3:
		return []byte(strings.Replace(string(line), `"schema_version":1`, `"schema_version":9`, 1))
	}
	return line
}

func TestReadDirWorkersMatchSequential(t *testing.T) {
	rng := seeded(61)
	clean := writeDir(t, rng, 4, 400, nil)
	dirty := writeDir(t, rng, 4, 400, corruptSome)
	tests := []struct {
		name   string
		dir    string
		cfg    file.ReadConfig
		failAt int
	}{
		{"clean", clean, file.ReadConfig{}, -1},
		{"clean, fn fails mid-batch", clean, file.ReadConfig{}, 1000},
		{"clean, fn fails on the first event", clean, file.ReadConfig{}, 0},
		{"dirty stops at the first bad line", dirty, file.ReadConfig{}, -1},
		{"dirty skipping bad lines", dirty, file.ReadConfig{SkipMalformed: true}, -1},
		{"dirty skipping, fn fails", dirty, file.ReadConfig{SkipMalformed: true}, 900},
		{"long lines skipped", dirty, file.ReadConfig{SkipMalformed: true, MaxLineBytes: 1500}, -1},
		{"long line stops", dirty, file.ReadConfig{MaxLineBytes: 1500}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := readAllWith(t, tt.cfg, tt.dir, tt.failAt)
			for _, workers := range []int{2, 7} {
				cfg := tt.cfg
				cfg.Workers = workers
				got := readAllWith(t, cfg, tt.dir, tt.failAt)
				require.Equal(t, len(want.lines), len(got.lines), "workers=%d", workers)
				for i := range want.lines {
					require.Equal(t, want.lines[i], got.lines[i], "workers=%d: event %d", workers, i)
				}
				require.True(t, reflect.DeepEqual(want.stats, got.stats), "workers=%d:\nwant %+v\ngot  %+v", workers, want.stats, got.stats)
				require.Equal(t, want.err, got.err, "workers=%d", workers)
			}
			// The scenarios must exercise what they are named for.
			switch {
			case tt.failAt >= 0:
				require.ErrorIs(t, want.err, errStop)
				require.Len(t, want.lines, tt.failAt)
			case strings.Contains(tt.name, "stops"):
				var le *file.LineError
				require.ErrorAs(t, want.err, &le)
				require.Positive(t, le.Line)
			default:
				require.NoError(t, want.err)
				require.Len(t, want.stats.Torn, 1)
				require.Equal(t, 5, want.stats.Files)
			}
			if tt.cfg.SkipMalformed {
				require.Positive(t, want.stats.Skipped)
			}
		})
	}
}

func TestReadDirWorkersReportTheBadLine(t *testing.T) {
	dir := t.TempDir()
	var data []byte
	for i, e := range personalizetest.RandomEvents(seeded(62), 1000) {
		line, err := personalize.AppendJSON(nil, e)
		require.NoError(t, err)
		if i == 777 {
			line = []byte(`{"schema_version":1,"type":"nope"}`)
		}
		data = append(append(data, line...), '\n')
	}
	name := "events-20261102T090000.000000000Z-000000.jsonl"
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o600))
	var n int
	st, err := file.ReadConfig{Workers: 4}.ReadDir(dir, func(personalize.Event) error { n++; return nil })
	var le *file.LineError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 778, le.Line)
	assert.Equal(t, filepath.Join(dir, name), le.File)
	var de *personalize.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "type", de.Field)
	assert.Equal(t, 777, n, "every event before the bad line is delivered")
	assert.EqualValues(t, 777, st.Events)
	assert.Equal(t, int64(strings.Index(string(data), `{"schema_version":1,"type":"nope"}`)), le.Offset)
}

func TestReadConfigWorkersMustNotBeNegative(t *testing.T) {
	_, err := file.ReadConfig{Workers: -1}.ReadDir(t.TempDir(), func(personalize.Event) error { return nil })
	require.ErrorContains(t, err, "ReadConfig.Workers")
}

// BenchmarkReadDirWorkers reads 20,000 events of the RandomEvents mix
// (70% impressions of 1 to 20 items) from files, decoding on the calling
// goroutine (Workers=0) and on two workers:
//
//	go test ./exporters/file -run '^$' -bench ReadDirWorkers -benchtime=5x
func BenchmarkReadDirWorkers(b *testing.B) {
	dir := b.TempDir()
	exp, err := file.New(file.Config{Dir: dir, MaxBytes: 4 << 20})
	if err != nil {
		b.Fatal(err)
	}
	if err := exp.Export(context.Background(), personalizetest.RandomEvents(seeded(63), 20000)); err != nil {
		b.Fatal(err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{0, 2} {
		b.Run(fmt.Sprintf("Workers=%d", workers), func(b *testing.B) {
			cfg := file.ReadConfig{Workers: workers}
			b.ReportAllocs()
			var n, size int64
			cpu0 := benchcpu.Now()
			for b.Loop() {
				st, err := cfg.ReadDir(dir, func(personalize.Event) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
				n += st.Events
				size = st.Bytes
			}
			b.SetBytes(size)
			reportRates(b, float64(n), benchcpu.Now()-cpu0)
		})
	}
}
