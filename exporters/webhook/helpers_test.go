package webhook

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

type randT = rand.Rand

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

func events(seed uint64, n int) []personalize.Event {
	return personalizetest.RandomEvents(rand.New(rand.NewPCG(seed, 7)), n)
}

// receiver is a test endpoint that decodes every request and deduplicates
// by idempotency key and event id, as a real receiver would.
type receiver struct {
	t *testing.T

	mu       sync.Mutex
	requests int
	// fault, if set, may answer request number n (1-based) itself; it
	// returns true when it did. body is nil when the fault must read it.
	fault func(n int, w http.ResponseWriter, r *http.Request) bool
	raw   []byte                    // decompressed bodies
	keys  map[string]map[string]int // event id -> idempotency key -> copies
	order []personalize.Event       // first copy of each (key, id) in arrival order
	sizes []int                     // uncompressed body sizes
}

func newReceiver(t *testing.T) *receiver {
	return &receiver{t: t, keys: map[string]map[string]int{}}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.requests++
	n := rc.requests
	fault := rc.fault
	rc.mu.Unlock()
	if fault != nil && fault(n, w, r) {
		return
	}
	if !rc.consume(r) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// consume reads and records a request; false if it was malformed.
func (rc *receiver) consume(r *http.Request) bool {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return false
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return false
	}
	key := r.Header.Get("Idempotency-Key")
	var lines [][]byte
	if r.Header.Get("Content-Type") == "application/json" {
		var arr []json.RawMessage
		if err := json.Unmarshal(data, &arr); err != nil {
			rc.t.Errorf("receiver: bad JSON array: %v", err)
			return false
		}
		for _, a := range arr {
			lines = append(lines, a)
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.raw = append(rc.raw, data...)
	rc.sizes = append(rc.sizes, len(data))
	for _, l := range lines {
		ev, err := personalize.UnmarshalEvent(l)
		if err != nil {
			rc.t.Errorf("receiver: undecodable event: %v", err)
			return false
		}
		id := ev.ID().String()
		if rc.keys[id] == nil {
			rc.keys[id] = map[string]int{}
		}
		if rc.keys[id][key] == 0 {
			rc.order = append(rc.order, ev)
		}
		rc.keys[id][key]++
	}
	return true
}

func (rc *receiver) delivered() []personalize.Event {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]personalize.Event(nil), rc.order...)
}

func (rc *receiver) nRequests() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests
}

// copies returns how many times event id arrived in total.
func (rc *receiver) copies(id string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, c := range rc.keys[id] {
		n += c
	}
	return n
}

// requireExactlyOnce asserts that, deduplicated by idempotency key and
// event id, the receiver saw each of want exactly once and nothing else.
func (rc *receiver) requireExactlyOnce(t *testing.T, want []personalize.Event) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	wantIDs := map[string]bool{}
	for _, e := range want {
		wantIDs[e.ID().String()] = true
	}
	for id, keys := range rc.keys {
		assert.True(t, wantIDs[id], "receiver got event %s that was never exported", id)
		assert.Len(t, keys, 1, "event %s arrived under %d idempotency keys; a deduplicating receiver would count it twice", id, len(keys))
	}
	for id := range wantIDs {
		assert.Contains(t, rc.keys, id, "event %s never arrived", id)
	}
	require.Len(t, rc.order, len(want))
	got := map[string][]byte{}
	for _, e := range rc.order {
		b, _ := personalize.AppendJSON(nil, e)
		got[e.ID().String()] = b
	}
	for _, e := range want {
		b, _ := personalize.AppendJSON(nil, e)
		assert.Equal(t, string(b), string(got[e.ID().String()]), "event %s changed on the way", e.ID())
	}
}

// requireAccounted asserts the Stats identity: every event is delivered,
// dead-lettered, dropped with a reason or still spooled.
func requireAccounted(t *testing.T, st Stats) {
	t.Helper()
	require.Equal(t, st.Accepted+st.Recovered, st.Delivered+st.DeadLettered+st.TotalDropped()+uint64(st.SpoolEvents),
		"unaccounted events: %+v", st)
}

func startServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// freeAddr returns a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// serveAt starts h on addr, retrying briefly while the port is released.
func serveAt(t *testing.T, addr string, h http.Handler) *httptest.Server {
	var l net.Listener
	var err error
	for range 50 {
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// fastRetry keeps the fault tests quick.
var fastRetry = RetryConfig{InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond, MaxElapsed: 300 * time.Millisecond}

func newExporter(t *testing.T, cfg Config) *Exporter {
	t.Helper()
	if cfg.Retry == (RetryConfig{}) {
		cfg.Retry = fastRetry
	}
	if cfg.Spool.ReplayInterval == 0 {
		cfg.Spool.ReplayInterval = 10 * time.Millisecond
	}
	if cfg.Breaker.CoolDown == 0 {
		cfg.Breaker.CoolDown = 10 * time.Millisecond
	}
	e, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Shutdown(ctx(t)) })
	return e
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func encodeAll(evs []personalize.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		b, _ := personalize.AppendJSON(nil, e)
		out[i] = string(b)
	}
	return out
}
