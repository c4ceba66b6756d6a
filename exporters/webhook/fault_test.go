package webhook

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
)

// Fault tests: each asserts that every accepted event is delivered or
// counted with its reason, and that a receiver deduplicating by
// idempotency key and event id sees each delivered event exactly once.

// eventually polls cond every 5ms for up to 10s.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 5*time.Millisecond, msg)
}

func TestFaultEndpointDownThenUp(t *testing.T) {
	addr := freeAddr(t)
	e := newExporter(t, Config{URL: "http://" + addr + "/in", Spool: SpoolConfig{Dir: t.TempDir()}})
	batch := events(20, 50)
	require.NoError(t, e.Export(ctx(t), batch), "an undeliverable batch is spooled, not failed")
	st := e.Stats()
	assert.Equal(t, uint64(50), st.Spooled)
	assert.Equal(t, 50, st.SpoolEvents)
	assert.Positive(t, st.Retries, "network errors are retried in line first")
	requireAccounted(t, st)

	rc := newReceiver(t)
	serveAt(t, addr, rc)
	eventually(t, func() bool { return e.Stats().Replayed == 50 }, "spool replayed once the endpoint is up")
	rc.requireExactlyOnce(t, batch)
	st = e.Stats()
	assert.Equal(t, uint64(50), st.Delivered)
	assert.Zero(t, st.SpoolEvents)
	requireAccounted(t, st)
}

func TestFault500sThenSuccess(t *testing.T) {
	t.Run("spooled and replayed", func(t *testing.T) {
		rc := newReceiver(t)
		rc.fault = func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n > 3 {
				return false
			}
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}
		srv := startServer(t, rc)
		e := newExporter(t, Config{URL: srv.URL, Spool: SpoolConfig{Dir: t.TempDir()}})
		batch := events(21, 40)
		require.NoError(t, e.Export(ctx(t), batch))
		eventually(t, func() bool { return e.Stats().Delivered == 40 }, "delivered after the 500s")
		rc.requireExactlyOnce(t, batch)
		st := e.Stats()
		assert.Equal(t, uint64(40), st.Replayed)
		assert.Equal(t, 4, rc.nRequests(), "one in-line attempt, two failed replays, one success")
		requireAccounted(t, st)
	})
	t.Run("without spool dead-lettered with the status", func(t *testing.T) {
		rc := newReceiver(t)
		rc.fault = func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n > 1 {
				return false
			}
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}
		srv := startServer(t, rc)
		var dead int
		e := newExporter(t, Config{URL: srv.URL, DeadLetter: func(_ context.Context, dl DeadLetter) { dead += len(dl.Events) }})
		first, second := events(22, 10), events(23, 10)
		var se *StatusError
		require.ErrorAs(t, e.Export(ctx(t), first), &se)
		assert.Equal(t, 500, se.StatusCode)
		require.NoError(t, e.Export(ctx(t), second))
		rc.requireExactlyOnce(t, second)
		assert.Equal(t, 10, dead)
		st := e.Stats()
		assert.Equal(t, map[int]uint64{500: 10}, st.DeadLetteredByStatus)
		requireAccounted(t, st)
	})
	t.Run("502 and 503 retried in line", func(t *testing.T) {
		rc := newReceiver(t)
		rc.fault = func(n int, w http.ResponseWriter, r *http.Request) bool {
			codes := []int{502, 503, 504, 408}
			if n > len(codes) {
				return false
			}
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(codes[n-1])
			return true
		}
		srv := startServer(t, rc)
		e := newExporter(t, Config{URL: srv.URL})
		batch := events(24, 10)
		require.NoError(t, e.Export(ctx(t), batch))
		rc.requireExactlyOnce(t, batch)
		st := e.Stats()
		assert.Equal(t, uint64(4), st.Retries)
		assert.Equal(t, uint64(10), st.Delivered)
		requireAccounted(t, st)
	})
}

func TestFault429RetryAfter(t *testing.T) {
	rc := newReceiver(t)
	var mu sync.Mutex
	var at []time.Time
	rc.fault = func(n int, w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
		if n > 1 {
			return false
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	}
	srv := startServer(t, rc)
	// The computed backoff (5ms) is far below the server's 1s: the retry
	// must wait for the server's delay.
	e := newExporter(t, Config{URL: srv.URL, Retry: RetryConfig{InitialInterval: 5 * time.Millisecond, MaxInterval: 5 * time.Millisecond, MaxElapsed: 3 * time.Second}})
	batch := events(25, 20)
	require.NoError(t, e.Export(ctx(t), batch))
	rc.requireExactlyOnce(t, batch)
	mu.Lock()
	require.Len(t, at, 2)
	assert.GreaterOrEqual(t, at[1].Sub(at[0]), time.Second, "Retry-After honored")
	mu.Unlock()
	st := e.Stats()
	assert.Equal(t, uint64(1), st.Retries)
	requireAccounted(t, st)

	t.Run("beyond the retry budget spools", func(t *testing.T) {
		rc := newReceiver(t)
		rc.fault = func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n > 1 {
				return false
			}
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Retry-After", strconv.Itoa(3600))
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		srv := startServer(t, rc)
		e := newExporter(t, Config{URL: srv.URL, Spool: SpoolConfig{Dir: t.TempDir()}})
		batch := events(26, 5)
		start := time.Now()
		require.NoError(t, e.Export(ctx(t), batch))
		assert.Less(t, time.Since(start), time.Second, "does not sleep an hour")
		eventually(t, func() bool { return e.Stats().Delivered == 5 }, "replayed")
		rc.requireExactlyOnce(t, batch)
		requireAccounted(t, e.Stats())
	})
}

// hijackClose reads up to n bytes of the body, then drops the connection
// without answering.
func hijackClose(t *testing.T, w http.ResponseWriter, r *http.Request, n int64) {
	_, _ = io.CopyN(io.Discard, r.Body, n)
	hj, ok := w.(http.Hijacker)
	require.True(t, ok)
	conn, _, err := hj.Hijack()
	require.NoError(t, err)
	_ = conn.Close()
}

func TestFaultConnectionReset(t *testing.T) {
	t.Run("mid-body", func(t *testing.T) {
		rc := newReceiver(t)
		rc.fault = func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n > 2 {
				return false
			}
			hijackClose(t, w, r, 100)
			return true
		}
		srv := startServer(t, rc)
		e := newExporter(t, Config{URL: srv.URL, DisableGzip: true})
		batch := events(27, 100)
		require.NoError(t, e.Export(ctx(t), batch))
		rc.requireExactlyOnce(t, batch)
		st := e.Stats()
		assert.Equal(t, uint64(2), st.Retries)
		requireAccounted(t, st)
	})
	t.Run("after processing, before answering", func(t *testing.T) {
		rc := newReceiver(t)
		rc.fault = func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n > 1 {
				return false
			}
			require.True(t, rc.consume(r)) // the events arrive ...
			hijackClose(t, w, r, 0)        // ... but the answer does not
			return true
		}
		srv := startServer(t, rc)
		e := newExporter(t, Config{URL: srv.URL})
		batch := events(28, 30)
		require.NoError(t, e.Export(ctx(t), batch))
		rc.requireExactlyOnce(t, batch)
		assert.Equal(t, 2, rc.copies(batch[0].ID().String()), "at-least-once: the retry is a duplicate under the same key")
		requireAccounted(t, e.Stats())
	})
}

func TestFaultSlowServer(t *testing.T) {
	rc := newReceiver(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	rc.fault = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n > 1 {
			return false
		}
		require.True(t, rc.consume(r))
		select { // slower than the client's timeout
		case <-r.Context().Done():
		case <-release:
		}
		return true
	}
	srv := startServer(t, rc)
	e := newExporter(t, Config{URL: srv.URL, Timeout: 100 * time.Millisecond})
	batch := events(29, 25)
	start := time.Now()
	require.NoError(t, e.Export(ctx(t), batch))
	assert.Less(t, time.Since(start), 2*time.Second)
	rc.requireExactlyOnce(t, batch)
	st := e.Stats()
	assert.Equal(t, uint64(1), st.Retries)
	assert.Equal(t, uint64(25), st.Delivered)
	requireAccounted(t, st)
}

func TestFaultShutdownWhileDownThenRestart(t *testing.T) {
	addr := freeAddr(t)
	dir := t.TempDir()
	e1, err := New(Config{URL: "http://" + addr, Retry: fastRetry, Spool: SpoolConfig{Dir: dir, ReplayInterval: 10 * time.Millisecond}})
	require.NoError(t, err)
	b1, b2 := events(30, 60), events(31, 40)
	require.NoError(t, e1.Export(ctx(t), b1))
	require.NoError(t, e1.Export(ctx(t), b2))
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	require.NoError(t, e1.Shutdown(sctx))
	st1 := e1.Stats()
	assert.Equal(t, 100, st1.SpoolEvents, "everything spooled at shutdown")
	requireAccounted(t, st1)

	rc := newReceiver(t)
	serveAt(t, addr, rc)
	e2 := newExporter(t, Config{URL: "http://" + addr, Spool: SpoolConfig{Dir: dir}})
	eventually(t, func() bool { return e2.Stats().Replayed == 100 }, "the new instance replays the spool at start")
	rc.requireExactlyOnce(t, append(b1, b2...))
	st2 := e2.Stats()
	assert.Equal(t, uint64(100), st2.Recovered)
	assert.Zero(t, st2.SpoolEvents)
	requireAccounted(t, st2)
	// In order: the spool is FIFO.
	assert.Equal(t, encodeAll(append(b1, b2...)), encodeAll(rc.delivered()))
}

func TestFaultShutdownDeadlineSpoolsInFlight(t *testing.T) {
	rc := newReceiver(t)
	hang := make(chan struct{})
	var once sync.Once
	stop := func() { once.Do(func() { close(hang) }) }
	t.Cleanup(stop)
	entered := make(chan struct{}, 1)
	rc.fault = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n > 1 {
			return false
		}
		require.True(t, rc.consume(r))
		entered <- struct{}{}
		select {
		case <-hang:
		case <-r.Context().Done():
		}
		return true
	}
	srv := startServer(t, rc)
	dir := t.TempDir()
	e1, err := New(Config{URL: srv.URL, Timeout: 5 * time.Second, Retry: fastRetry, Spool: SpoolConfig{Dir: dir, ReplayInterval: time.Hour}})
	require.NoError(t, err)
	batch := events(32, 30)
	exported := make(chan error, 1)
	go func() { exported <- e1.Export(context.Background(), batch) }()
	<-entered
	sctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = e1.Shutdown(sctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, <-exported, "the in-flight batch was spooled")
	st1 := e1.Stats()
	assert.Equal(t, 30, st1.SpoolEvents)
	requireAccounted(t, st1)
	stop()

	e2 := newExporter(t, Config{URL: srv.URL, Spool: SpoolConfig{Dir: dir}})
	eventually(t, func() bool { return e2.Stats().Replayed == 30 }, "replayed by the next instance")
	rc.requireExactlyOnce(t, batch)
	requireAccounted(t, e2.Stats())
}

func TestFaultNoSpoolCountsUndeliverable(t *testing.T) {
	addr := freeAddr(t)
	e := newExporter(t, Config{URL: "http://" + addr, Retry: RetryConfig{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond}})
	err := e.Export(ctx(t), events(33, 7))
	require.ErrorContains(t, err, "7 events undeliverable")
	require.ErrorContains(t, err, "retries exhausted after 3 attempts")
	st := e.Stats()
	assert.Equal(t, uint64(7), st.Dropped[DropUndeliverable])
	assert.Equal(t, uint64(3), st.Requests)
	requireAccounted(t, st)
}

func TestFaultReplayPoisonDeadLettered(t *testing.T) {
	rc := newReceiver(t)
	rc.fault = func(n int, w http.ResponseWriter, r *http.Request) bool {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusInternalServerError)
		return true
	}
	srv := startServer(t, rc)
	var mu sync.Mutex
	var dls []DeadLetter
	e := newExporter(t, Config{URL: srv.URL, Spool: SpoolConfig{Dir: t.TempDir(), MaxReplayFailures: 3},
		DeadLetter: func(_ context.Context, dl DeadLetter) { mu.Lock(); dls = append(dls, dl); mu.Unlock() }})
	batch := events(34, 6)
	require.NoError(t, e.Export(ctx(t), batch))
	eventually(t, func() bool { return e.Stats().DeadLettered == 6 }, "dead-lettered after 3 failed replays")
	mu.Lock()
	require.Len(t, dls, 1)
	assert.Equal(t, "replay_failures", dls[0].Reason)
	assert.Equal(t, encodeAll(batch), encodeAll(dls[0].Events), "spooled events decoded back intact")
	mu.Unlock()
	requireAccounted(t, e.Stats())
}

// TestFaultSteadySpoolingStillReplays: batches spooled continuously do not
// postpone the replay. The server refuses the first attempt of every
// request with a 500 (so every fresh batch is spooled) and accepts its
// replay; replays must happen while batches keep coming.
func TestFaultSteadySpoolingStillReplays(t *testing.T) {
	rc := newReceiver(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	rc.fault = func(_ int, w http.ResponseWriter, r *http.Request) bool {
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		first := !seen[key]
		seen[key] = true
		mu.Unlock()
		if !first {
			return false
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusInternalServerError)
		return true
	}
	srv := startServer(t, rc)
	e := newExporter(t, Config{URL: srv.URL, Spool: SpoolConfig{Dir: t.TempDir(), ReplayInterval: 30 * time.Millisecond}})
	var all []personalize.Event
	replayedWhileExporting := false
	for i := range 40 { // a batch every 10ms, faster than the replay interval
		b := events(uint64(500+i), 3)
		all = append(all, b...)
		require.NoError(t, e.Export(ctx(t), b))
		replayedWhileExporting = replayedWhileExporting || e.Stats().Replayed > 0
		time.Sleep(10 * time.Millisecond)
	}
	assert.True(t, replayedWhileExporting, "replay ran while batches kept being spooled")
	eventually(t, func() bool { return e.Stats().SpoolEvents == 0 }, "spool drained")
	rc.requireExactlyOnce(t, all)
	requireAccounted(t, e.Stats())
}

// spoolOffline spools each batch as one request in dir, with an exporter
// whose endpoint is down, and returns the spool files oldest first.
func spoolOffline(t *testing.T, dir string, batches ...[]personalize.Event) []string {
	t.Helper()
	e, err := New(Config{URL: "http://" + freeAddr(t), Retry: RetryConfig{Disabled: true},
		Spool: SpoolConfig{Dir: dir, ReplayInterval: time.Hour}})
	require.NoError(t, err)
	for _, b := range batches {
		require.NoError(t, e.Export(ctx(t), b))
	}
	require.NoError(t, e.Shutdown(ctx(t)))
	st := e.Stats()
	require.Equal(t, len(batches), st.SpoolFiles)
	requireAccounted(t, st)
	names, err := filepath.Glob(filepath.Join(dir, "*.batch"))
	require.NoError(t, err)
	sort.Strings(names) // the sequence number leads the name
	return names
}

// TestFaultCorruptSpoolFile damages the middle one of three spooled
// requests on disk, then lets the next exporter replay the spool: the
// damaged request is not sent, its events are counted as spool_corrupt
// and reported, its file is removed, and the other two are delivered.
func TestFaultCorruptSpoolFile(t *testing.T) {
	// Byte positions are found in the data, after the header line.
	dataStart := func(b []byte) int {
		if bytes.HasPrefix(b, []byte("rsspool1 ")) {
			return bytes.IndexByte(b, '\n') + 1
		}
		return 0
	}
	tests := []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"truncated mid-line", func(b []byte) []byte { return b[:len(b)-10] }},
		{"truncated at a line end", func(b []byte) []byte {
			return b[:bytes.LastIndexByte(b[:len(b)-1], '\n')+1] // one whole event fewer
		}},
		{"truncated to the header", func(b []byte) []byte { return b[:dataStart(b)] }},
		{"truncated to nothing", func([]byte) []byte { return nil }},
		{"structural byte flipped", func(b []byte) []byte { b[dataStart(b)] ^= 0x01; return b }}, // '{' -> 'z'
		{"byte flipped inside a string", func(b []byte) []byte {
			// "feed-ranker" -> "geed-ranker": still a valid event, only
			// the checksum tells.
			i := bytes.Index(b, []byte(`"service":"feed-ranker"`))
			b[i+len(`"service":"`)] ^= 0x01
			return b
		}},
		{"newline flipped", func(b []byte) []byte { b[bytes.IndexByte(b[dataStart(b):], '\n')+dataStart(b)] ^= 0x01; return b }},
		{"header count flipped", func(b []byte) []byte { b[len("rsspool1 ")] ^= 0x01; return b }},
		{"header dropped", func(b []byte) []byte { return b[dataStart(b):] }}, // readable as a headerless file: intact events
		{"headerless and truncated", func(b []byte) []byte { return b[dataStart(b) : len(b)-10] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			b0, b1, b2 := events(40, 4), events(41, 5), events(42, 6)
			files := spoolOffline(t, dir, b0, b1, b2)
			raw, err := os.ReadFile(files[1])
			require.NoError(t, err)
			damaged := tt.damage(raw)
			require.NoError(t, os.WriteFile(files[1], damaged, 0o600))
			intact := tt.name == "header dropped"

			rc := newReceiver(t)
			srv := startServer(t, rc)
			var mu sync.Mutex
			var reported []error
			e := newExporter(t, Config{URL: srv.URL, Spool: SpoolConfig{Dir: dir},
				ErrorHandler: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }})
			eventually(t, func() bool {
				st := e.Stats()
				return st.SpoolFiles == 0 && st.Delivered+st.TotalDropped() == 15
			}, "spool settled: replayed or dropped")

			st := e.Stats()
			assert.Equal(t, uint64(15), st.Recovered, "counted from the file names")
			requireAccounted(t, st)
			_, err = os.Stat(files[1])
			assert.ErrorIs(t, err, os.ErrNotExist, "the damaged file is removed")
			if intact {
				rc.requireExactlyOnce(t, append(append(b0, b1...), b2...))
				assert.Zero(t, st.Dropped[DropSpoolCorrupt])
				return
			}
			rc.requireExactlyOnce(t, append(append([]personalize.Event(nil), b0...), b2...))
			assert.Equal(t, uint64(10), st.Delivered)
			assert.Equal(t, map[DropReason]uint64{DropSpoolCorrupt: 5}, st.Dropped)
			assert.Equal(t, 2, rc.nRequests(), "the damaged request was not sent")
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, reported, 1)
			assert.ErrorIs(t, reported[0], ErrSpoolCorrupt)
			assert.Contains(t, reported[0].Error(), filepath.Base(files[1]), "the report names the file")
			assert.Contains(t, reported[0].Error(), "5 events dropped")
		})
	}
}
