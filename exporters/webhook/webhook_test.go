package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/internal/spool/spooltest"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"jsonl+gzip", Config{}},
		{"json array", Config{Format: FormatJSONArray, DisableGzip: true}},
		{"spool", Config{Spool: SpoolConfig{Dir: "spool"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			personalizetest.TestExporter(t, personalizetest.Harness{New: func(t *testing.T) personalizetest.Instance {
				rc := newReceiver(t)
				srv := startServer(t, rc)
				cfg := tc.cfg
				cfg.URL = srv.URL
				if cfg.Spool.Dir != "" {
					cfg.Spool.Dir = t.TempDir()
				}
				e := newExporter(t, cfg)
				return personalizetest.Instance{
					Exporter:  e,
					Delivered: func() ([]personalize.Event, error) { return rc.delivered(), nil },
					Written: func() ([]byte, error) {
						rc.mu.Lock()
						defer rc.mu.Unlock()
						return append([]byte(nil), rc.raw...), nil
					},
				}
			}})
		})
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no url", Config{}, "webhook: Config.URL: required"},
		{"bad scheme", Config{URL: "ftp://x"}, "webhook: Config.URL: scheme must be http or https"},
		{"no host", Config{URL: "http://"}, "webhook: Config.URL: missing host"},
		{"format", Config{URL: "http://x", Format: 9}, "webhook: Config.Format"},
		{"timeout", Config{URL: "http://x", Timeout: -1}, "webhook: Config.Timeout"},
		{"small body", Config{URL: "http://x", MaxRequestBytes: 10}, "webhook: Config.MaxRequestBytes: must be >= 1024"},
		{"retry", Config{URL: "http://x", Retry: RetryConfig{MaxAttempts: -1}}, "webhook: Config.Retry.MaxAttempts"},
		{"header name", Config{URL: "http://x", Headers: map[string]string{"a b": "v"}}, "webhook: Config.Headers"},
		{"header value", Config{URL: "http://x", Headers: map[string]string{"Authorization": "Bearer s3cret\r\nX: y"}}, `Config.Headers["Authorization"]`},
		{"replay", Config{URL: "http://x", Spool: SpoolConfig{ReplayInterval: -1}}, "webhook: Config.Spool.ReplayInterval"},
		{"spool bytes", Config{URL: "http://x", Spool: SpoolConfig{MaxBytes: -1}}, "webhook: Config.Spool.MaxBytes: must be >= 0, got -1"},
		{"spool files", Config{URL: "http://x", Spool: SpoolConfig{MaxFiles: -1}}, "webhook: Config.Spool.MaxFiles: must be >= 0, got -1"},
		{"replay failures", Config{URL: "http://x", Spool: SpoolConfig{MaxReplayFailures: -1}}, "webhook: Config.Spool.MaxReplayFailures"},
		{"breaker threshold", Config{URL: "http://x", Breaker: BreakerConfig{FailureThreshold: -1}}, "webhook: Config.Breaker.FailureThreshold: must be >= 0, got -1"},
		{"breaker cool-down", Config{URL: "http://x", Breaker: BreakerConfig{CoolDown: -time.Second}}, "webhook: Config.Breaker.CoolDown: must be >= 0, got -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.ErrorContains(t, err, tt.want)
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
}

func TestFormatsAndSplit(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"jsonl gzip", Config{}},
		{"jsonl plain", Config{DisableGzip: true}},
		{"array gzip", Config{Format: FormatJSONArray}},
		{"array plain split", Config{Format: FormatJSONArray, DisableGzip: true, MaxRequestBytes: 8 << 10}},
		{"jsonl split", Config{MaxRequestBytes: 4 << 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t)
			srv := startServer(t, rc)
			cfg := tc.cfg
			cfg.URL = srv.URL
			e := newExporter(t, cfg)
			batch := events(1, 300)
			require.NoError(t, e.Export(ctx(t), batch))
			assert.Equal(t, encodeAll(batch), encodeAll(rc.delivered()), "order and content kept")
			rc.requireExactlyOnce(t, batch)
			if tc.cfg.MaxRequestBytes > 0 {
				assert.Greater(t, rc.nRequests(), 3, "large batch split")
				for _, n := range rc.sizes {
					assert.LessOrEqual(t, n, tc.cfg.MaxRequestBytes)
				}
			} else {
				assert.Equal(t, 1, rc.nRequests())
			}
			st := e.Stats()
			assert.Equal(t, uint64(300), st.Delivered)
			requireAccounted(t, st)
		})
	}
}

func TestTooLargeAndEncodeErrors(t *testing.T) {
	rc := newReceiver(t)
	srv := startServer(t, rc)
	var mu sync.Mutex
	var dls []DeadLetter
	e := newExporter(t, Config{URL: srv.URL, MaxRequestBytes: 16 << 10, DeadLetter: func(_ context.Context, dl DeadLetter) {
		mu.Lock()
		defer mu.Unlock()
		dl.Events = append([]personalize.Event(nil), dl.Events...)
		dls = append(dls, dl)
	}})
	big := personalize.Event{Type: personalize.EventImpression, Impression: personalizetest.RandomImpression(randFor(3), 400)}
	batch := append(events(2, 5), big, personalize.Event{})
	require.NoError(t, e.Export(ctx(t), batch))
	rc.requireExactlyOnce(t, batch[:5])
	st := e.Stats()
	assert.Equal(t, uint64(1), st.Dropped[DropEncode])
	assert.Equal(t, uint64(1), st.DeadLettered)
	require.Len(t, dls, 1)
	assert.Equal(t, "too_large", dls[0].Reason)
	assert.Equal(t, big.ID(), dls[0].Events[0].ID())
	requireAccounted(t, st)
}

func TestRefusedGoesToDeadLetter(t *testing.T) {
	rc := newReceiver(t)
	rc.fault = func(n int, w http.ResponseWriter, r *http.Request) bool {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusUnprocessableEntity)
		return true
	}
	srv := startServer(t, rc)
	var got []DeadLetter
	e := newExporter(t, Config{URL: srv.URL, Spool: SpoolConfig{Dir: t.TempDir()}, DeadLetter: func(_ context.Context, dl DeadLetter) {
		dl.Events = append([]personalize.Event(nil), dl.Events...)
		got = append(got, dl)
	}})
	batch := events(4, 10)
	err := e.Export(ctx(t), batch)
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 422, se.StatusCode)
	assert.Equal(t, 1, rc.nRequests(), "4xx is not retried")
	require.Len(t, got, 1)
	assert.Equal(t, 422, got[0].Status)
	assert.Len(t, got[0].Events, 10)
	assert.NotEmpty(t, got[0].IdempotencyKey)
	st := e.Stats()
	assert.Equal(t, map[int]uint64{422: 10}, st.DeadLetteredByStatus)
	assert.Zero(t, st.SpoolEvents, "refused batches are not spooled")
	requireAccounted(t, st)
}

func TestSecretsNeverPrinted(t *testing.T) {
	const token = "Bearer tok-SECRET-123"
	addr := freeAddr(t) // nothing listens: every attempt fails
	var mu sync.Mutex
	var handled []string
	cfg := Config{URL: "http://user:pw-SECRET@" + addr + "/ingest?api_key=q-SECRET", Headers: map[string]string{"Authorization": token},
		Retry:        RetryConfig{MaxAttempts: 2, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond},
		ErrorHandler: func(err error) { mu.Lock(); handled = append(handled, err.Error()); mu.Unlock() }}
	e := newExporter(t, cfg)
	err := e.Export(ctx(t), events(5, 3))
	require.Error(t, err)
	out := []string{err.Error(), cfg.String(), fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg)}
	mu.Lock()
	out = append(out, handled...)
	mu.Unlock()
	for _, s := range out {
		assert.NotContains(t, s, "SECRET", s)
	}
	assert.Contains(t, err.Error(), addr+"/ingest", "the error still names the endpoint")
	assert.Contains(t, cfg.String(), "Authorization", "header names are fine to print")
	assert.Equal(t, uint64(3), e.Stats().Dropped[DropUndeliverable])
	requireAccounted(t, e.Stats())
}

func TestExportAfterShutdownAndCanceled(t *testing.T) {
	rc := newReceiver(t)
	srv := startServer(t, rc)
	e := newExporter(t, Config{URL: srv.URL})
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, e.Export(canceled, events(6, 2)), context.Canceled)
	require.NoError(t, e.Shutdown(ctx(t)))
	assert.ErrorIs(t, e.Export(ctx(t), events(6, 2)), ErrShutdown)
	st := e.Stats()
	assert.Zero(t, st.Accepted, "refused calls accept nothing")
	requireAccounted(t, st)
}

func TestSpoolBoundDropsOldest(t *testing.T) {
	addr := freeAddr(t)
	dir := t.TempDir()
	e := newExporter(t, Config{URL: "http://" + addr, Retry: RetryConfig{Disabled: true},
		Spool: SpoolConfig{Dir: dir, MaxFiles: 2, ReplayInterval: time.Hour}})
	for i := range 5 {
		require.NoError(t, e.Export(ctx(t), events(uint64(10+i), 4)))
	}
	st := e.Stats()
	assert.Equal(t, uint64(20), st.Spooled)
	assert.Equal(t, 8, st.SpoolEvents)
	assert.Equal(t, uint64(12), st.Dropped[DropSpoolFull])
	requireAccounted(t, st)
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, names, 2)
}

func randFor(seed uint64) *randT { return newRand(seed) }

func TestStatusErrorText(t *testing.T) {
	err := error(&StatusError{StatusCode: 404, Events: 3})
	assert.Equal(t, "webhook: endpoint answered 404 Not Found; 3 events dead-lettered", err.Error())
	assert.True(t, errors.As(fmt.Errorf("wrap: %w", err), new(*StatusError)))
	assert.True(t, strings.HasPrefix(ErrShutdown.Error(), "webhook:"))
}

// New fails on a spool directory it cannot create or write, naming the
// field, rather than at the first outage.
func TestNewSpoolDirNotUsable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	tests := []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"under a regular file", func(*testing.T) string { return filepath.Join(file, "spool") }},
		{"a regular file", func(*testing.T) string { return file }},
		{"read-only directory", func(t *testing.T) string { return spooltest.ReadOnlyDir(t) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir(t)
			e, err := New(Config{URL: "http://127.0.0.1:1", Spool: SpoolConfig{Dir: dir}})
			if err == nil {
				_ = e.Shutdown(ctx(t))
			}
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "webhook: Config.Spool.Dir: "), err.Error())
			assert.Contains(t, err.Error(), dir)
		})
	}
	t.Run("missing directory is created", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b")
		newExporter(t, Config{URL: "http://127.0.0.1:1", Spool: SpoolConfig{Dir: dir}})
		des, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, des, "no probe file left behind")
	})
}
