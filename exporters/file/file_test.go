package file_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 77)) }

// clock is the injectable clock for rotation by age.
type clock = file.TestClock

func newClock() *clock { return file.NewTestClock() }

func readAll(t *testing.T, dir string) ([]personalize.Event, file.ReadStats) {
	t.Helper()
	var got []personalize.Event
	st, err := file.ReadDir(dir, func(e personalize.Event) error {
		got = append(got, e)
		return nil
	})
	require.NoError(t, err)
	return got, st
}

// names returns the file names of dir in directory order (sorted by name).
func names(t *testing.T, dir string) []string { return file.DirNames(t, dir) }

// written concatenates every file of dir in name order.
func written(dir string) ([]byte, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var all []byte
	for _, de := range des {
		b, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			return nil, err
		}
		all = append(all, b...)
	}
	return all, nil
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  file.Config
	}{
		{"defaults", file.Config{}},
		{"tiny files and buffer", file.Config{MaxBytes: 3000, BufferSize: 1024}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			personalizetest.TestExporter(t, personalizetest.Harness{
				New: func(t *testing.T) personalizetest.Instance {
					cfg := tc.cfg
					cfg.Dir = t.TempDir()
					exp, err := file.New(cfg)
					require.NoError(t, err)
					return personalizetest.Instance{
						Exporter: exp,
						Delivered: func() ([]personalize.Event, error) {
							var got []personalize.Event
							_, err := file.ReadDir(cfg.Dir, func(e personalize.Event) error {
								got = append(got, e)
								return nil
							})
							return got, err
						},
						Written: func() ([]byte, error) { return written(cfg.Dir) },
					}
				},
			})
		})
	}
}

func TestRoundTripEveryField(t *testing.T) {
	dir := t.TempDir()
	exp, err := file.New(file.Config{Dir: dir, MaxBytes: 64 << 10})
	require.NoError(t, err)
	ctx := context.Background()
	events := personalizetest.RandomEvents(seeded(1), 3000)
	for b := range slices.Chunk(events, 128) {
		require.NoError(t, exp.Export(ctx, b))
	}
	require.NoError(t, exp.Shutdown(ctx))
	got, st := readAll(t, dir)
	require.Equal(t, len(events), len(got))
	for i := range events {
		require.Equal(t, events[i], got[i], "event %d", i)
	}
	assert.Empty(t, st.Torn)
	assert.Greater(t, st.Files, 10, "64 KiB files")
	assert.EqualValues(t, len(events), st.Events)
}

func TestFilesAndPermissions(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "a", "b")
	c := newClock()
	exp, err := file.New(file.Config{Dir: dir, Prefix: "imp_v1", Now: c.Now})
	require.NoError(t, err)
	st, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), "directory created 0700")
	assert.Empty(t, names(t, dir), "no file before the first event")

	ctx := context.Background()
	require.NoError(t, exp.Export(ctx, personalizetest.RandomEvents(seeded(2), 10)))
	require.NoError(t, exp.ForceFlush(ctx))
	assert.Equal(t, []string{"imp_v1-20261102T090000.000000000Z-000000.jsonl.open"}, names(t, dir))

	c.Advance(time.Hour)
	require.NoError(t, exp.Export(ctx, personalizetest.RandomEvents(seeded(3), 10)))
	require.NoError(t, exp.Shutdown(ctx))
	assert.Equal(t, []string{
		"imp_v1-20261102T090000.000000000Z-000000.jsonl",
		"imp_v1-20261102T100000.000000000Z-000001.jsonl",
	}, names(t, dir))
	for _, n := range names(t, dir) {
		st, err := os.Stat(filepath.Join(dir, n))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), n)
	}
	require.NoError(t, exp.Shutdown(ctx), "idempotent")
	require.ErrorIs(t, exp.Export(ctx, personalizetest.RandomEvents(seeded(4), 1)), file.ErrClosed)
}

func TestRotateBySize(t *testing.T) {
	dir := t.TempDir()
	const maxBytes = 8 << 10
	exp, err := file.New(file.Config{Dir: dir, MaxBytes: maxBytes, BufferSize: 4096})
	require.NoError(t, err)
	ctx := context.Background()
	events := personalizetest.RandomEvents(seeded(5), 500)
	// One huge event: longer than MaxBytes and than the buffer.
	huge := personalizetest.RandomImpression(seeded(6), 200)
	events[250] = personalize.Event{Type: personalize.EventImpression, Impression: huge}
	for b := range slices.Chunk(events, 37) {
		require.NoError(t, exp.Export(ctx, b))
	}
	require.NoError(t, exp.Shutdown(ctx))

	var all []byte
	fileNames := names(t, dir)
	require.Greater(t, len(fileNames), 10)
	big := 0
	for _, n := range fileNames {
		require.True(t, strings.HasSuffix(n, ".jsonl"), n)
		b, err := os.ReadFile(filepath.Join(dir, n))
		require.NoError(t, err)
		require.NotEmpty(t, b)
		require.Equal(t, byte('\n'), b[len(b)-1], "%s ends with a whole line", n)
		if len(b) > maxBytes {
			big++
			assert.Equal(t, 1, bytes.Count(b, []byte{'\n'}), "only a single overlong line may exceed MaxBytes")
		}
		all = append(all, b...)
	}
	assert.Equal(t, 1, big)
	var want []byte
	for _, e := range events {
		want, err = personalize.AppendJSON(want, e)
		require.NoError(t, err)
		want = append(want, '\n')
	}
	assert.Equal(t, string(want), string(all), "files in name order hold every line once, in order")
}

func TestRotateByAge(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	exp, err := file.New(file.Config{Dir: dir, MaxAge: time.Minute, Now: c.Now})
	require.NoError(t, err)
	ctx := context.Background()
	rng := seeded(7)
	var want []personalize.Event
	export := func(n int) {
		b := personalizetest.RandomEvents(rng, n)
		require.NoError(t, exp.Export(ctx, b))
		want = append(want, b...)
	}
	export(5)
	c.Advance(59 * time.Second)
	export(5) // same file: 59s old
	assert.Len(t, names(t, dir), 1)
	c.Advance(time.Second)
	export(5) // 60s: rotated
	assert.Equal(t, 2, len(names(t, dir)))
	c.Advance(2 * time.Minute)
	require.NoError(t, exp.ForceFlush(ctx)) // ForceFlush rotates an old file too
	n := names(t, dir)
	require.Len(t, n, 2)
	assert.True(t, strings.HasSuffix(n[0], ".jsonl") && strings.HasSuffix(n[1], ".jsonl"), "%v", n)
	export(5)
	require.NoError(t, exp.Shutdown(ctx))
	assert.Len(t, names(t, dir), 3)
	got, _ := readAll(t, dir)
	assert.Equal(t, want, got)
}

func TestNewValidates(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(notDir, nil, 0o600))
	for _, tc := range []struct {
		cfg  file.Config
		want string
	}{
		{file.Config{}, "Config.Dir: required"},
		{file.Config{Dir: notDir}, "Config.Dir"},
		{file.Config{Dir: dir, Prefix: "../x"}, "Config.Prefix"},
		{file.Config{Dir: dir, Prefix: ".hidden"}, "Config.Prefix"},
		{file.Config{Dir: dir, MaxBytes: -1}, "Config.MaxBytes: must be >= 0, got -1"},
		{file.Config{Dir: dir, MaxAge: -time.Second}, "Config.MaxAge"},
		{file.Config{Dir: dir, BufferSize: -1}, "Config.BufferSize"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, err := file.New(tc.cfg)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestExportSkipsEventWithoutPayload(t *testing.T) {
	dir := t.TempDir()
	exp, err := file.New(file.Config{Dir: dir})
	require.NoError(t, err)
	ctx := context.Background()
	batch := personalizetest.RandomEvents(seeded(8), 5)
	withBad := append(slices.Clone(batch[:2]), personalize.Event{Type: personalize.EventOutcome})
	withBad = append(withBad, batch[2:]...)
	err = exp.Export(ctx, withBad)
	require.ErrorContains(t, err, "batch[2]")
	var we *file.WriteError
	require.ErrorAs(t, err, &we)
	assert.Equal(t, 5, we.Written)
	assert.Equal(t, 1, we.Failed)
	assert.Equal(t, file.Stats{Exported: 5, Failed: 1}, exp.Stats())
	require.NoError(t, exp.Shutdown(ctx))
	got, _ := readAll(t, dir)
	assert.Equal(t, batch, got)
}

// crashDir writes events through an exporter, flushes without closing (a
// crash leaves the .open file), and returns the dir, the events and the
// .open file's path.
func crashDir(t *testing.T, n int) (string, []personalize.Event, string) {
	t.Helper()
	dir := t.TempDir()
	exp, err := file.New(file.Config{Dir: dir})
	require.NoError(t, err)
	events := personalizetest.RandomEvents(seeded(9), n)
	require.NoError(t, exp.Export(context.Background(), events))
	require.NoError(t, exp.ForceFlush(context.Background()))
	n2 := names(t, dir)
	require.Len(t, n2, 1)
	require.True(t, strings.HasSuffix(n2[0], ".jsonl.open"))
	// Abandon the exporter as a crash would; Shutdown only at cleanup,
	// after the test read (it renames the file).
	return dir, events, filepath.Join(dir, n2[0])
}

func appendTo(t *testing.T, path string, b []byte) int64 {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	st, err := f.Stat()
	require.NoError(t, err)
	_, err = f.Write(b)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return st.Size()
}

func TestTornLine(t *testing.T) {
	half := func(t *testing.T) []byte {
		b, err := personalize.AppendJSON(nil, personalizetest.RandomEvents(seeded(10), 1)[0])
		require.NoError(t, err)
		return b[:len(b)/2]
	}
	whole := func(t *testing.T) []byte {
		b, err := personalize.AppendJSON(nil, personalizetest.RandomEvents(seeded(11), 1)[0])
		require.NoError(t, err)
		return b
	}
	for _, tc := range []struct {
		name  string
		tail  func(t *testing.T) []byte
		cause error
	}{
		{"half a line", half, file.ErrNoNewline},
		{"whole event without its newline", whole, file.ErrNoNewline},
		{"zero-filled blocks after a crash", func(*testing.T) []byte { return make([]byte, 4096) }, file.ErrNoNewline},
		{"garbage with a newline", func(t *testing.T) []byte { return append(half(t), '\n') }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, events, path := crashDir(t, 100)
			tail := tc.tail(t)
			off := appendTo(t, path, tail)
			got, st := readAll(t, dir)
			assert.Equal(t, events, got, "every whole line before the torn one")
			require.Len(t, st.Torn, 1)
			torn := st.Torn[0]
			assert.Equal(t, path, torn.File)
			assert.Equal(t, off, torn.Offset)
			assert.Equal(t, int64(len(tail)), torn.Len)
			assert.Equal(t, 101, torn.Line)
			if tc.cause != nil {
				assert.ErrorIs(t, torn, tc.cause)
			} else {
				var de *personalize.DecodeError
				assert.ErrorAs(t, torn, &de)
			}
		})
	}
}

func TestTornLineInOlderOpenFile(t *testing.T) {
	// Two crashed writers, then a clean one: every torn tail is reported and
	// reading continues with the next file.
	dir := t.TempDir()
	ctx := context.Background()
	var want []personalize.Event
	rng := seeded(12)
	for i := range 3 {
		c := newClock()
		c.Advance(time.Duration(i) * time.Hour)
		exp, err := file.New(file.Config{Dir: dir, Now: c.Now})
		require.NoError(t, err)
		b := personalizetest.RandomEvents(rng, 20)
		require.NoError(t, exp.Export(ctx, b))
		want = append(want, b...)
		if i == 2 {
			require.NoError(t, exp.Shutdown(ctx))
			continue
		}
		require.NoError(t, exp.ForceFlush(ctx))
		n := names(t, dir)
		appendTo(t, filepath.Join(dir, n[len(n)-1]), []byte(`{"schema_version":1,"ty`))
	}
	got, st := readAll(t, dir)
	assert.Equal(t, want, got)
	assert.Len(t, st.Torn, 2)
	assert.Equal(t, 3, st.Files)
}

func TestMalformedLine(t *testing.T) {
	dir := t.TempDir()
	exp, err := file.New(file.Config{Dir: dir})
	require.NoError(t, err)
	events := personalizetest.RandomEvents(seeded(13), 10)
	require.NoError(t, exp.Export(context.Background(), events))
	require.NoError(t, exp.Shutdown(context.Background()))
	path := filepath.Join(dir, names(t, dir)[0])
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := bytes.SplitAfter(data, []byte{'\n'})
	bad := []byte(`{"schema_version":1,"type":"outcome","event_id":"not-a-uuid"}` + "\n")
	offset := len(bytes.Join(lines[:4], nil))
	edited := bytes.Join(append(append(slices.Clone(lines[:4]), bad), lines[4:]...), nil)
	require.NoError(t, os.WriteFile(path, edited, 0o600))

	t.Run("stops with file and line", func(t *testing.T) {
		var got []personalize.Event
		st, err := file.ReadDir(dir, func(e personalize.Event) error { got = append(got, e); return nil })
		var le *file.LineError
		require.ErrorAs(t, err, &le)
		assert.Equal(t, path, le.File)
		assert.Equal(t, 5, le.Line)
		assert.Equal(t, int64(offset), le.Offset)
		assert.ErrorContains(t, err, ":5 ")
		assert.ErrorContains(t, err, "event_id")
		assert.Equal(t, events[:4], got)
		assert.EqualValues(t, 4, st.Events)
	})
	t.Run("skip and count", func(t *testing.T) {
		var got []personalize.Event
		st, err := file.ReadConfig{SkipMalformed: true}.ReadDir(dir, func(e personalize.Event) error { got = append(got, e); return nil })
		require.NoError(t, err)
		assert.Equal(t, events, got)
		assert.EqualValues(t, 1, st.Skipped)
		require.Len(t, st.SkippedErrors, 1)
		assert.Equal(t, 5, st.SkippedErrors[0].Line)
	})
	t.Run("pull reader continues after the error", func(t *testing.T) {
		r, err := file.NewReader(dir)
		require.NoError(t, err)
		defer r.Close()
		var got []personalize.Event
		var errs []error
		for {
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			got = append(got, e)
		}
		assert.Equal(t, events, got)
		assert.Len(t, errs, 1)
	})
	t.Run("closed file's unterminated last line is read if valid", func(t *testing.T) {
		require.NoError(t, os.WriteFile(path, bytes.TrimSuffix(data, []byte{'\n'}), 0o600))
		got, st := readAll(t, dir)
		assert.Equal(t, events, got)
		assert.Empty(t, st.Torn)
	})
}

func TestMaxLineBytes(t *testing.T) {
	dir := t.TempDir()
	exp, err := file.New(file.Config{Dir: dir})
	require.NoError(t, err)
	small := personalizetest.RandomEvents(seeded(14), 3)
	big := personalize.Event{Type: personalize.EventImpression, Impression: personalizetest.RandomImpression(seeded(16), 300)}
	batch := []personalize.Event{small[0], big, small[1]}
	require.NoError(t, exp.Export(context.Background(), batch))
	require.NoError(t, exp.Shutdown(context.Background()))
	bigLine, _ := personalize.AppendJSON(nil, big)

	cfg := file.ReadConfig{MaxLineBytes: len(bigLine) - 1}
	_, err = cfg.ReadDir(dir, func(personalize.Event) error { return nil })
	var le *file.LineError
	require.ErrorAs(t, err, &le)
	assert.ErrorIs(t, err, file.ErrLineTooLong)
	assert.Equal(t, 2, le.Line)

	cfg.SkipMalformed = true
	var got []personalize.Event
	st, err := cfg.ReadDir(dir, func(e personalize.Event) error { got = append(got, e); return nil })
	require.NoError(t, err)
	assert.Equal(t, []personalize.Event{small[0], small[1]}, got)
	assert.EqualValues(t, 1, st.Skipped)

	cfg.MaxLineBytes = len(bigLine) // exactly at the limit: accepted
	got = got[:0]
	_, err = cfg.ReadDir(dir, func(e personalize.Event) error { got = append(got, e); return nil })
	require.NoError(t, err)
	assert.Equal(t, batch, got)
}

func TestReadOrderAndNames(t *testing.T) {
	dir := t.TempDir()
	ev := personalizetest.RandomEvents(seeded(17), 6)
	line := func(i int) []byte {
		b, err := personalize.AppendJSON(nil, ev[i])
		require.NoError(t, err)
		return append(b, '\n')
	}
	write := func(name string, i int) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), line(i), 0o600))
	}
	// Creation order differs from name order across prefixes, and sequence
	// numbers compare numerically.
	write("zeta-20261102T090000.000000000Z-000000.jsonl", 0)
	write("alpha-20261102T100000.000000000Z-000009.jsonl", 1)
	write("alpha-20261102T100000.000000000Z-1000000.jsonl", 3)
	write("alpha-20261102T100000.000000000Z-000010.jsonl.open", 2)
	write("hand-made.jsonl", 4)
	write("notes.txt", 5)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub.jsonl"), 0o700))
	got, st := readAll(t, dir)
	assert.Equal(t, ev[:5], got)
	assert.Equal(t, 5, st.Files)

	_, err := file.ReadDir(filepath.Join(dir, "missing"), func(personalize.Event) error { return nil })
	require.Error(t, err)
	stop := errors.New("stop")
	st, err = file.ReadDir(dir, func(personalize.Event) error { return stop })
	require.ErrorIs(t, err, stop)
	assert.EqualValues(t, 1, st.Events)
}

func TestReaderFollowsRename(t *testing.T) {
	dir, events, path := crashDir(t, 10)
	r, err := file.NewReader(dir)
	require.NoError(t, err)
	defer r.Close()
	// The writer closes the file after the listing.
	require.NoError(t, os.Rename(path, strings.TrimSuffix(path, ".open")))
	var got []personalize.Event
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		got = append(got, e)
	}
	assert.Equal(t, events, got)
}

func TestConcurrentExports(t *testing.T) {
	// Not the pipeline's pattern, but allowed: lines of concurrent Exports
	// interleave whole.
	dir := t.TempDir()
	exp, err := file.New(file.Config{Dir: dir, MaxBytes: 32 << 10, BufferSize: 8 << 10})
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var want []personalize.Event
	for g := range 4 {
		wg.Go(func() {
			rng := seeded(uint64(100 + g))
			for range 20 {
				b := personalizetest.RandomEvents(rng, 30)
				assert.NoError(t, exp.Export(context.Background(), b))
				mu.Lock()
				want = append(want, b...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.NoError(t, exp.Shutdown(context.Background()))
	got, st := readAll(t, dir)
	assert.Empty(t, st.Torn)
	key := func(e personalize.Event) string { return e.ID().String() }
	gk, wk := make([]string, len(got)), make([]string, len(want))
	for i := range got {
		gk[i] = key(got[i])
	}
	for i := range want {
		wk[i] = key(want[i])
	}
	slices.Sort(gk)
	slices.Sort(wk)
	assert.Equal(t, wk, gk)
}

func TestCancelMidBatch(t *testing.T) {
	for _, enc := range []int{1, 4} {
		t.Run(fmt.Sprint("Encoders=", enc), func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calls := 0
			// The clock is read once per written chunk: cancel after the
			// second chunk.
			now := func() time.Time {
				calls++
				if calls == 2 {
					cancel()
				}
				return time.Now()
			}
			exp, err := file.New(file.Config{Dir: dir, Encoders: enc, Now: now})
			require.NoError(t, err)
			events := personalizetest.RandomEvents(seeded(20), 2000)
			err = exp.Export(ctx, events)
			require.ErrorIs(t, err, context.Canceled)
			require.NoError(t, exp.Shutdown(context.Background()))
			got, st := readAll(t, dir)
			assert.Empty(t, st.Torn)
			require.NotEmpty(t, got)
			require.Less(t, len(got), len(events))
			assert.Equal(t, events[:len(got)], got, "a prefix of the batch, whole lines")
		})
	}
}
