package personalize_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

// newDurable builds an instrument in durable mode on dir, fsyncing every
// 10ms so the tests do not wait for the default interval.
func newDurable(t testing.TB, dir string, mod func(*personalize.Config), exps ...personalize.Exporter) *personalize.Instrument {
	t.Helper()
	return newInst(t, func(c *personalize.Config) {
		c.WAL = personalize.WALConfig{Dir: dir, SyncInterval: 10 * time.Millisecond}
		if mod != nil {
			mod(c)
		}
	}, exps...)
}

// walRawUser and walRawSession are the raw ids of the durable tests: a
// prefix no pseudonym, event id or other field can contain.
func walRawUser(i int) string    { return fmt.Sprintf("raw-user-%05d", i%97) }
func walRawSession(i int) string { return fmt.Sprintf("raw-sess-%05d", i%89) }

// walRawIDs lists every raw id emitMixed(i) uses for i < n.
func walRawIDs(n int) []string {
	var out []string
	for i := 0; i < min(n, 97); i++ {
		out = append(out, walRawUser(i))
	}
	for i := 0; i < min(n, 89); i++ {
		out = append(out, walRawSession(i))
	}
	return out
}

// emitMixed emits event i: an impression, outcome, exposure or link in
// turn, with raw ids and an off-list context attribute.
func emitMixed(in *personalize.Instrument, i int) error {
	ctx := context.Background()
	u, s := walRawUser(i), walRawSession(i)
	switch i % 4 {
	case 0:
		_, inf := in.Start(ctx, personalize.Request{
			User: u, Session: s, Surface: "home_feed", Model: "ranker", ModelVersion: "v42",
			Context: []personalize.Attr{{Key: "device", Value: "mobile"}, {Key: "ip", Value: "10.1.2.3"}},
		})
		st := inf.Stage("model_scoring")
		st.End(nil)
		inf.Impress(items(3))
		return inf.End(nil)
	case 1:
		return in.Outcome(ctx, personalize.Outcome{RequestID: "req-1", User: u, Session: s, Item: "sku-1", Kind: personalize.OutcomeClick})
	case 2:
		return in.Expose(ctx, personalize.Exposure{User: u, Experiment: "ranker-v42", Variant: "treatment"})
	default:
		return in.Link(ctx, personalize.Link{User: u, Session: s})
	}
}

// segmentFiles returns the WAL segment files in dir.
func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "wal-*.jsonl"))
	require.NoError(t, err)
	sort.Strings(m)
	return m
}

// readSegments returns the bytes of every segment file in dir.
func readSegments(t testing.TB, dir string) []byte {
	t.Helper()
	var all []byte
	for _, f := range segmentFiles(t, dir) {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		all = append(all, b...)
	}
	return all
}

// waitFor polls cond for up to 10s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWALConfigValidation(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		wal  personalize.WALConfig
		want string
	}{
		{"fields without dir", personalize.WALConfig{MaxBytes: 1 << 20}, "Config.WAL.Dir"},
		{"negative sync interval", personalize.WALConfig{Dir: dir, SyncInterval: -time.Second}, "Config.WAL.SyncInterval"},
		{"interval with sync always", personalize.WALConfig{Dir: dir, SyncAlways: true, SyncInterval: time.Second}, "Config.WAL.SyncInterval"},
		{"negative max bytes", personalize.WALConfig{Dir: dir, MaxBytes: -1}, "Config.WAL.MaxBytes"},
		{"negative segment bytes", personalize.WALConfig{Dir: dir, SegmentBytes: -1}, "Config.WAL.SegmentBytes"},
		{"segment over max", personalize.WALConfig{Dir: dir, MaxBytes: 1 << 20, SegmentBytes: 2 << 20}, "Config.WAL.SegmentBytes"},
		{"dir is a file", personalize.WALConfig{Dir: filepath.Join(writeFile(t, dir, "plain", "x"), "wal")}, "Config.WAL.Dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := personalize.New(personalize.Config{
				Service: "s", Pseudonymize: testKeyring(t), Exporters: []personalize.Exporter{personalize.DiscardExporter},
				MeterProvider: sdkmetric.NewMeterProvider(), WAL: tc.wal,
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestWALDirNotWritable(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o500))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	if os.Geteuid() == 0 {
		// Root writes to read-only directories, but not to /proc.
		if runtime.GOOS != "linux" {
			t.Skip("root writes to read-only directories")
		}
		dir = "/proc"
	}
	_, err := personalize.New(personalize.Config{
		Service: "s", Pseudonymize: testKeyring(t), Exporters: []personalize.Exporter{personalize.DiscardExporter},
		MeterProvider: sdkmetric.NewMeterProvider(), WAL: personalize.WALConfig{Dir: dir},
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Config.WAL.Dir")
	assert.Contains(t, err.Error(), "not writable")
}

func TestWALDirHeldByOneInstrument(t *testing.T) {
	dir := t.TempDir()
	first := newDurable(t, dir, nil, personalize.DiscardExporter)
	_, err := personalize.New(personalize.Config{
		Service: "s", Pseudonymize: testKeyring(t), Exporters: []personalize.Exporter{personalize.DiscardExporter},
		MeterProvider: sdkmetric.NewMeterProvider(), WAL: personalize.WALConfig{Dir: dir},
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Config.WAL.Dir")
	assert.Contains(t, err.Error(), "in use")
	require.NoError(t, first.Shutdown(context.Background()))
	second := newDurable(t, dir, nil, personalize.DiscardExporter)
	require.NoError(t, second.Shutdown(context.Background()))
}

// TestWALWritesPreparedEvents checks what durable mode puts on disk and
// hands to exporters: pseudonyms made with Config.Pseudonymize, event ids,
// the allow-list applied, opted-out users left out; never a raw id.
func TestWALWritesPreparedEvents(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{name: "rec", gate: make(chan struct{})}
	optOut := &privacy.OptOutSet{}
	optOut.OptOut(walRawUser(5))
	in := newDurable(t, dir, func(c *personalize.Config) {
		c.Consent = optOut
		c.StallTimeout = time.Hour
	}, rec)
	const n = 40
	for i := 0; i < n; i++ {
		require.NoError(t, emitMixed(in, i))
	}
	// The exporter is blocked: everything accepted is on disk, prepared.
	data := readSegments(t, dir)
	require.NoError(t, personalizetest.ScanRawIDs(data, walRawIDs(n)))
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	require.Len(t, lines, n-1, "every accepted event but the opted-out one is in the WAL")
	kr := testKeyring(t)
	for _, l := range lines {
		ev, err := personalize.UnmarshalEvent([]byte(l))
		require.NoError(t, err, l)
		assert.False(t, ev.ID().IsZero())
		if im := ev.Impression; im != nil {
			assert.Empty(t, im.Attr("ip"), "the allow-list is applied before the WAL")
			assert.Equal(t, "mobile", im.Attr("device"))
		}
	}
	close(rec.gate)
	require.NoError(t, in.Flush(context.Background()))
	got, events := rec.snapshot()
	require.Len(t, got, n-1)
	assert.ElementsMatch(t, lines, got, "exporters receive the events exactly as written to the WAL")
	for _, e := range events {
		var user personalize.Pseudonym
		switch {
		case e.Impression != nil:
			user = e.Impression.UserID
		case e.Outcome != nil:
			user = e.Outcome.UserID
		case e.Exposure != nil:
			user = e.Exposure.UserID
		case e.Link != nil:
			user = e.Link.UserID
		}
		assert.Equal(t, "k1", user.KeyID)
		found := false
		for i := 0; i < 97; i++ {
			if id, _ := kr.Pseudonymize(privacy.DomainUser, walRawUser(i)); id == user.ID {
				found = true
				break
			}
		}
		assert.True(t, found, "pseudonym %s is the keyring's HMAC of a raw id", user.ID)
	}
	require.NoError(t, in.Shutdown(context.Background()))
	s := in.Stats()
	assert.EqualValues(t, n, s.Accepted)
	assert.EqualValues(t, 1, s.OptedOut)
	assert.EqualValues(t, n-1, s.Exporters[0].Exported)
	assert.EqualValues(t, n-1, s.WAL.Appended)
	assert.EqualValues(t, n/4, s.AttrsDropped)
	assert.Empty(t, segmentFiles(t, dir), "every segment is deleted once delivered")
	assert.Zero(t, s.WAL.Bytes)
	assert.Zero(t, s.WAL.Segments)
}

// TestWALSegmentsDeletedOnceDelivered rotates through small segments and
// checks each is deleted once its events are exported, and that after
// Shutdown nothing is left.
func TestWALSegmentsDeletedOnceDelivered(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{name: "rec"}
	second := &recorder{name: "second"}
	in := newDurable(t, dir, func(c *personalize.Config) {
		c.WAL.SegmentBytes = 4 << 10
		c.BatchSize = 16
	}, rec, second)
	const n = 400
	for i := 0; i < n; i++ {
		require.NoError(t, emitMixed(in, i))
	}
	require.NoError(t, in.Flush(context.Background()))
	// Sealed segments are closed and deleted by the WAL's loop within an
	// interval; the active one stays until it is sealed (after a second).
	waitFor(t, "delivered segments to be deleted", func() bool { return in.Stats().WAL.Segments <= 1 })
	s := in.Stats()
	assert.Greater(t, s.WAL.Deleted, int64(10), "400 events over 4 KiB segments fill many")
	assert.LessOrEqual(t, len(segmentFiles(t, dir)), 1)
	waitFor(t, "the active segment to be sealed by age and deleted", func() bool { return in.Stats().WAL.Segments == 0 })
	assert.Empty(t, segmentFiles(t, dir))
	assert.Zero(t, in.Stats().WAL.Bytes)
	// New events start a new segment; Shutdown seals and deletes it.
	require.NoError(t, emitMixed(in, 0))
	require.NoError(t, in.Shutdown(context.Background()))
	assert.Empty(t, segmentFiles(t, dir))
	s = in.Stats()
	assert.Zero(t, s.WAL.Bytes)
	for _, e := range s.Exporters {
		assert.EqualValues(t, n+1, e.Exported, e.Name)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.Equal(t, "LOCK", e.Name(), "only the lock file is left")
	}
}

// TestWALFull fills a small WAL behind a blocked exporter: emits are
// refused with DropWALFull, counted, reported and published, and accepted
// again once delivered events free the space.
func TestWALFull(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{name: "rec", gate: make(chan struct{})}
	reader := sdkmetric.NewManualReader()
	var mu sync.Mutex
	var reported []*personalize.DropError
	in := newDurable(t, dir, func(c *personalize.Config) {
		c.WAL.MaxBytes = 16 << 10
		c.WAL.SegmentBytes = 4 << 10
		c.StallTimeout = time.Hour
		c.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		c.ErrorHandler = func(err error) {
			var de *personalize.DropError
			if errors.As(err, &de) {
				mu.Lock()
				reported = append(reported, de)
				mu.Unlock()
			}
		}
	}, rec)
	accepted, refused := 0, 0
	for i := 0; i < 400; i++ {
		err := emitMixed(in, i)
		if err == nil {
			accepted++
			continue
		}
		refused++
		require.ErrorIs(t, err, personalize.ErrWALFull)
		require.NotErrorIs(t, err, personalize.ErrQueueFull)
		var de *personalize.DropError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, personalize.DropWALFull, de.Reason)
		assert.Equal(t, "wal_full", de.Reason.String())
	}
	require.Positive(t, accepted)
	require.Positive(t, refused)
	s := in.Stats()
	assert.EqualValues(t, refused, s.WAL.Full)
	assert.EqualValues(t, accepted, s.Accepted)
	assert.LessOrEqual(t, s.WAL.Bytes, int64(16<<10))
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	assert.EqualValues(t, refused, droppedMetric(rm, "wal_full"))

	close(rec.gate)
	require.NoError(t, in.Flush(context.Background()))
	waitFor(t, "delivered segments to free the WAL", func() bool { return in.Stats().WAL.Bytes < 8<<10 })
	require.NoError(t, emitMixed(in, 0), "room again once delivered")
	require.NoError(t, in.Shutdown(context.Background()))
	mu.Lock()
	var sum int64
	for _, de := range reported {
		if de.Reason == personalize.DropWALFull {
			sum += de.Count
		}
	}
	mu.Unlock()
	assert.EqualValues(t, refused, sum, "the error handler hears of every refusal")
	assert.EqualValues(t, accepted+1, in.Stats().Exporters[0].Exported)
}

func droppedMetric(rm metricdata.ResourceMetrics, reason string) int64 {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != personalize.MetricDropped {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				if v, ok := dp.Attributes.Value(attribute.Key("rankscope.drop.reason")); ok && v.AsString() == reason {
					return dp.Value
				}
			}
		}
	}
	return -1
}

// writeSegment writes a segment file as a previous process would have
// left it: the given events as JSON lines, then tail verbatim.
func writeSegment(t testing.TB, dir string, seq int, events []personalize.Event, tail string) []string {
	t.Helper()
	var buf []byte
	var lines []string
	for _, e := range events {
		b, err := personalize.AppendJSON(nil, e)
		require.NoError(t, err)
		lines = append(lines, string(b))
		buf = append(append(buf, b...), '\n')
	}
	buf = append(buf, tail...)
	require.NoError(t, os.MkdirAll(dir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("wal-%020d.jsonl", seq)), buf, 0o600))
	return lines
}

// TestWALReplaySkipsTornAndMalformedLines replays segments with a
// malformed line in the middle and a torn last line: the valid events are
// delivered as written, the others skipped, counted and reported, and the
// segments deleted once delivered.
func TestWALReplaySkipsTornAndMalformedLines(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	events := personalizetest.RandomEvents(rng, 60)
	torn, err := personalize.AppendJSON(nil, events[59])
	require.NoError(t, err)
	want := writeSegment(t, dir, 3, events[:30], "")
	want = append(want, writeSegment(t, dir, 7, events[30:59], `{"schema_version":1,"type":"outcome"}`+"\n"+string(torn[:len(torn)/2]))...)
	// The malformed line sits between the valid ones of segment 7.
	rec := &recorder{name: "rec"}
	var mu sync.Mutex
	var walErrs []*personalize.WALError
	in := newDurable(t, dir, func(c *personalize.Config) {
		c.ErrorHandler = func(err error) {
			var we *personalize.WALError
			if errors.As(err, &we) {
				mu.Lock()
				walErrs = append(walErrs, we)
				mu.Unlock()
			}
		}
	}, rec)
	require.NoError(t, in.Flush(context.Background()), "Flush waits for the replay")
	got, _ := rec.snapshot()
	assert.ElementsMatch(t, want, got, "replayed events are exported exactly as written")
	s := in.Stats()
	assert.EqualValues(t, 59, s.WAL.Replayed)
	assert.EqualValues(t, 1, s.WAL.Malformed)
	assert.EqualValues(t, 1, s.WAL.Torn)
	assert.EqualValues(t, 59, s.Accepted)
	assert.Zero(t, s.WAL.Appended)
	waitFor(t, "replayed segments to be deleted", func() bool { return len(segmentFiles(t, dir)) == 0 })
	require.NoError(t, in.Shutdown(context.Background()))
	s = in.Stats()
	assert.Zero(t, s.WAL.Bytes)
	assert.EqualValues(t, 2, s.WAL.Deleted)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, walErrs, 1)
	assert.Equal(t, "replay", walErrs[0].Op)
	assert.Contains(t, walErrs[0].Error(), "1 malformed and 1 torn")
}

// TestWALShutdownDeadlineKeepsEvents: events Shutdown gives up on are
// counted as shutdown drops and stay in the WAL; the next instrument on
// the directory delivers them.
func TestWALShutdownDeadlineKeepsEvents(t *testing.T) {
	dir := t.TempDir()
	stuck := &recorder{name: "rec", gate: make(chan struct{})}
	// One batch in Export, one queued: the batcher is left waiting to hand
	// over a third when the deadline passes, and that batch is a shutdown
	// drop too (it stays in the WAL), not an exporter backlog.
	in := newDurable(t, dir, func(c *personalize.Config) {
		c.StallTimeout = time.Hour
		c.BatchSize = 8
		c.ExporterQueueSize = 1
	}, stuck)
	const n = 50
	for i := 0; i < n; i++ {
		require.NoError(t, emitMixed(in, i))
	}
	waitFor(t, "the first batch to reach the exporter", func() bool { return stuck.calls.Load() > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, in.Shutdown(ctx), context.DeadlineExceeded)
	s := in.Stats()
	assert.EqualValues(t, n, s.Exporters[0].Shutdown)
	require.NotEmpty(t, segmentFiles(t, dir))
	written := readSegments(t, dir)

	rec := &recorder{name: "rec"}
	next := newDurable(t, dir, nil, rec)
	require.NoError(t, next.Flush(context.Background()))
	got, _ := rec.snapshot()
	assert.Len(t, got, n)
	assert.ElementsMatch(t, strings.Split(strings.TrimSuffix(string(written), "\n"), "\n"), got)
	require.NoError(t, next.Shutdown(context.Background()))
	assert.Empty(t, segmentFiles(t, dir))
	assert.EqualValues(t, n, next.Stats().WAL.Replayed)
}

// TestWALSyncAlways appends from many goroutines with an fsync per group:
// every group is fsynced before its emits return, and groups hold several
// appends.
func TestWALSyncAlways(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{name: "rec"}
	in := newDurable(t, dir, func(c *personalize.Config) {
		c.WAL.SyncInterval = 0
		c.WAL.SyncAlways = true
		c.QueueSize = 1 << 14
	}, rec)
	const goroutines, per = 16, 50
	var wg sync.WaitGroup
	var failed atomic.Int64
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if emitMixed(in, g*per+i) != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	require.Zero(t, failed.Load())
	s := in.Stats()
	assert.EqualValues(t, goroutines*per, s.WAL.Appended)
	assert.GreaterOrEqual(t, s.WAL.Syncs, s.WAL.Writes, "every write is fsynced")
	t.Logf("%d appends in %d writes", s.WAL.Appended, s.WAL.Writes)
	require.NoError(t, in.Shutdown(context.Background()))
	got, _ := rec.snapshot()
	assert.Len(t, got, goroutines*per)
	assert.Empty(t, segmentFiles(t, dir))
}

// TestWALBooksBalance races emits against Shutdown in durable mode: the
// books balance exactly, and what was not delivered is on disk.
func TestWALBooksBalance(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{name: "rec"}
	in := newDurable(t, dir, func(c *personalize.Config) { c.QueueSize = 256; c.BatchSize = 32 }, rec)
	var wg sync.WaitGroup
	var ok, refused, closed atomic.Int64
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				switch err := emitMixed(in, g*200+i); {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, personalize.ErrShutdown):
					closed.Add(1)
				case errors.Is(err, personalize.ErrQueueFull):
					refused.Add(1)
				default:
					t.Error(err)
				}
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	require.NoError(t, in.Shutdown(context.Background()))
	wg.Wait()
	s := in.Stats()
	assert.Equal(t, ok.Load(), s.Accepted)
	assert.Equal(t, refused.Load(), s.QueueFull)
	e := s.Exporters[0]
	assert.Equal(t, s.Accepted, e.Exported+e.Failed+e.Backlog+e.Shutdown+s.OptedOut)
	assert.Equal(t, s.Accepted, s.WAL.Appended)
	assert.Empty(t, segmentFiles(t, dir))
}
