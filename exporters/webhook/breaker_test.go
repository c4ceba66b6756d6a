package webhook

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
)

// outageServer is a receiver that fails every request while down, in one
// of the ways an endpoint goes down, and counts the requests it saw then.
type outageServer struct {
	*receiver
	mode     string // "503", "500", "reset" or "refused"
	addr     string
	srv      *httptest.Server // the test goroutine's
	down     atomic.Bool
	seenDown atomic.Int64
}

func newOutageServer(t *testing.T, mode string) *outageServer {
	o := &outageServer{receiver: newReceiver(t), mode: mode, addr: freeAddr(t)}
	o.fault = func(_ int, w http.ResponseWriter, r *http.Request) bool {
		if !o.down.Load() {
			return false
		}
		o.seenDown.Add(1)
		switch mode {
		case "503":
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusServiceUnavailable) // retried in line
		case "500":
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusInternalServerError) // spooled at once
		case "reset":
			hijackClose(t, w, r, 0)
		}
		return true
	}
	o.srv = serveAt(t, o.addr, o)
	return o
}

func (o *outageServer) url() string { return "http://" + o.addr }

// setDown starts or ends the outage: "refused" stops the listener and
// starts a new one on the same port, the others answer from the handler.
func (o *outageServer) setDown(t *testing.T, down bool) {
	t.Helper()
	switch {
	case o.mode != "refused":
		o.down.Store(down)
	case down:
		o.srv.Close()
	default:
		o.srv = serveAt(t, o.addr, o)
	}
}

// only returns the events of got whose ids are in want, in got's order.
func only(got, want []personalize.Event) []personalize.Event {
	ids := map[personalize.EventID]bool{}
	for _, e := range want {
		ids[e.ID()] = true
	}
	var out []personalize.Event
	for _, e := range got {
		if ids[e.ID()] {
			out = append(out, e)
		}
	}
	return out
}

// TestFaultBreakerOutage: events flow continuously while the endpoint is
// down for a while, in four ways. Once the breaker opens, Export spools
// without a request, so the requests during the outage are bounded by the
// threshold plus one probe per cool-down (not one or more per batch);
// after recovery every event is delivered exactly once, the events of the
// outage in the order they were exported, and the Stats identity holds
// exactly.
func TestFaultBreakerOutage(t *testing.T) {
	const threshold = 3
	const coolDown = 20 * time.Millisecond
	for _, mode := range []string{"503", "500", "reset", "refused"} {
		t.Run(mode, func(t *testing.T) {
			o := newOutageServer(t, mode)
			var mu sync.Mutex
			var reported []string
			e := newExporter(t, Config{URL: o.url(),
				// Without a breaker each batch of the outage would cost 20
				// attempts (the production budget was 5s of them).
				Retry:   RetryConfig{InitialInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond, MaxElapsed: time.Minute, MaxAttempts: 20},
				Spool:   SpoolConfig{Dir: t.TempDir(), ReplayInterval: 5 * time.Millisecond, MaxReplayFailures: 1 << 20},
				Breaker: BreakerConfig{FailureThreshold: threshold, CoolDown: coolDown},
				ErrorHandler: func(err error) {
					mu.Lock()
					reported = append(reported, err.Error())
					mu.Unlock()
				}})
			var all, outage []personalize.Event
			export := func(seed uint64, into *[]personalize.Event) {
				b := events(seed, 5)
				all = append(all, b...)
				if into != nil {
					*into = append(*into, b...)
				}
				require.NoError(t, e.Export(ctx(t), b), "nothing is dropped: spooled while down")
				time.Sleep(time.Millisecond)
			}
			for i := range 20 {
				export(uint64(2000+i), nil)
			}
			require.Equal(t, uint64(100), e.Stats().Delivered)

			requestsBefore := e.Stats().Requests
			start := time.Now()
			o.setDown(t, true)
			for i := range 100 {
				export(uint64(3000+i), &outage)
			}
			elapsed := time.Since(start)
			st := e.Stats()
			during := int64(st.Requests - requestsBefore)
			o.setDown(t, false)
			if mode != "refused" {
				during = o.seenDown.Load()
			}
			assert.NotEqual(t, BreakerClosed, st.Breaker, "open (or probing) at the end of the outage")
			assert.GreaterOrEqual(t, st.BreakerOpens, uint64(1))
			assert.Equal(t, uint64(0), st.TotalDropped())
			requireAccounted(t, st)
			// Before it opens: threshold failed attempts, plus one replay
			// attempt that may be in flight beside Export's. After: at most
			// one probe per cool-down. Go's transport resends a request
			// with an Idempotency-Key once when a reused connection breaks,
			// so with resets the server may see each attempt twice.
			bound := int64(threshold+1) + int64(elapsed/coolDown) + 1
			if mode == "reset" {
				bound *= 2
			}
			t.Logf("%d requests during an outage of %v (100 batches), bound %d", during, elapsed, bound)
			assert.LessOrEqual(t, during, bound, "requests during the outage")

			for i := range 20 {
				export(uint64(4000+i), nil)
			}
			eventually(t, func() bool {
				st := e.Stats()
				return st.SpoolFiles == 0 && st.Delivered == st.Accepted
			}, "everything delivered after recovery")
			st = e.Stats()
			assert.Equal(t, BreakerClosed, st.Breaker)
			assert.Equal(t, uint64(len(all)), st.Accepted)
			assert.Zero(t, st.DeadLettered)
			assert.Zero(t, st.TotalDropped())
			requireAccounted(t, st)
			rc := o.receiver
			rc.requireExactlyOnce(t, all)
			assert.Equal(t, encodeAll(outage), encodeAll(only(rc.delivered(), outage)),
				"the outage's events arrive in the order they were exported (the spool is FIFO)")
			mu.Lock()
			defer mu.Unlock()
			opened := 0
			for _, r := range reported {
				if strings.Contains(r, "circuit breaker open after 3 failed attempts in a row") {
					opened++
				}
			}
			assert.Equal(t, int(st.BreakerOpens), opened, "each opening reported once: %q", reported)
		})
	}
}

// always503 answers every request with 503 and counts them.
func always503(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	return srv, &n
}

// TestFaultBreakerOpenSkipsEndpoint: with a cool-down longer than the
// test, the counts are exact. The first batch makes FailureThreshold
// attempts, which open the breaker and end its retries; no later batch
// reaches the endpoint (no request, no retry sleep): they are spooled, or
// without a spool dropped as breaker_open.
func TestFaultBreakerOpenSkipsEndpoint(t *testing.T) {
	const threshold = 4
	for _, withSpool := range []bool{true, false} {
		name := map[bool]string{true: "spool", false: "no spool"}[withSpool]
		t.Run(name, func(t *testing.T) {
			srv, seen := always503(t)
			var mu sync.Mutex
			var reported []string
			cfg := Config{URL: srv.URL,
				Retry:   RetryConfig{InitialInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond, MaxAttempts: 20},
				Breaker: BreakerConfig{FailureThreshold: threshold, CoolDown: time.Hour},
				ErrorHandler: func(err error) {
					mu.Lock()
					reported = append(reported, err.Error())
					mu.Unlock()
				}}
			if withSpool {
				cfg.Spool = SpoolConfig{Dir: t.TempDir(), ReplayInterval: time.Millisecond}
			}
			e := newExporter(t, cfg)
			err := e.Export(ctx(t), events(50, 5))
			if withSpool {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, "5 events undeliverable")
				require.ErrorContains(t, err, "circuit breaker open after 4 attempts")
			}
			assert.Equal(t, int64(threshold), seen.Load(), "retries end when the breaker opens")
			assert.Equal(t, BreakerOpen, e.Stats().Breaker)

			for i := range 49 {
				err := e.Export(ctx(t), events(uint64(51+i), 5))
				if withSpool {
					require.NoError(t, err)
				} else {
					require.ErrorIs(t, err, ErrBreakerOpen)
				}
			}
			if withSpool {
				assert.Error(t, e.ForceFlush(ctx(t)), "events remain spooled")
			}
			assert.Equal(t, int64(threshold), seen.Load(), "no request while open")
			st := e.Stats()
			assert.Equal(t, uint64(threshold), st.Requests)
			assert.Equal(t, uint64(threshold-1), st.Retries)
			assert.Equal(t, uint64(1), st.BreakerOpens)
			assert.Equal(t, BreakerOpen, st.Breaker)
			if withSpool {
				assert.Equal(t, 250, st.SpoolEvents)
				assert.Zero(t, st.TotalDropped())
			} else {
				assert.Equal(t, map[DropReason]uint64{DropUndeliverable: 5, DropBreakerOpen: 245}, st.Dropped)
			}
			requireAccounted(t, st)
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, reported, 1, "the opening is reported once")
			assert.Contains(t, reported[0], "circuit breaker open after 4 failed attempts in a row")
			assert.Contains(t, reported[0], "status 503")
		})
	}
}

// TestFaultBreakerProbeWithoutSpool: without a spool, Export itself sends
// the half-open probe after the cool-down; its success closes the breaker
// and later batches are delivered. Every event is delivered or dropped
// with a reason.
func TestFaultBreakerProbeWithoutSpool(t *testing.T) {
	o := newOutageServer(t, "503")
	e := newExporter(t, Config{URL: o.url(), Retry: RetryConfig{Disabled: true},
		Breaker: BreakerConfig{FailureThreshold: 2, CoolDown: 5 * time.Millisecond}})
	o.setDown(t, true)
	seed := uint64(100)
	var delivered []personalize.Event
	export := func() error {
		seed++
		b := events(seed, 3)
		err := e.Export(ctx(t), b)
		if err == nil {
			delivered = append(delivered, b...)
		}
		return err
	}
	for e.Stats().Breaker == BreakerClosed {
		require.ErrorContains(t, export(), "undeliverable")
	}
	o.setDown(t, false)
	eventually(t, func() bool { return export() == nil }, "a probe goes through after the cool-down")
	assert.Equal(t, BreakerClosed, e.Stats().Breaker)
	require.NoError(t, export())
	rc := o.receiver
	rc.requireExactlyOnce(t, delivered)
	st := e.Stats()
	assert.Equal(t, uint64(len(delivered)), st.Delivered)
	assert.Equal(t, st.Accepted-st.Delivered, st.Dropped[DropUndeliverable]+st.Dropped[DropBreakerOpen])
	requireAccounted(t, st)
}

// With Breaker.Disabled every batch tries the endpoint with its retries.
func TestBreakerDisabled(t *testing.T) {
	srv, seen := always503(t)
	e := newExporter(t, Config{URL: srv.URL, Retry: RetryConfig{InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, MaxAttempts: 3},
		Breaker: BreakerConfig{Disabled: true, FailureThreshold: 1}})
	for i := range 5 {
		require.ErrorContains(t, e.Export(ctx(t), events(uint64(200+i), 2)), "retries exhausted after 3 attempts")
	}
	assert.Equal(t, int64(15), seen.Load())
	st := e.Stats()
	assert.Equal(t, BreakerClosed, st.Breaker)
	assert.Zero(t, st.BreakerOpens)
	requireAccounted(t, st)
}

func TestBreakerStateString(t *testing.T) {
	assert.Equal(t, "closed", BreakerClosed.String())
	assert.Equal(t, "open", BreakerOpen.String())
	assert.Equal(t, "half-open", BreakerHalfOpen.String())
	assert.Equal(t, "BreakerState(9)", BreakerState(9).String())
	assert.Equal(t, "breaker_open", DropBreakerOpen.String())
}
