package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestMetricsEndpoint runs the service, ranks through /rank, and scrapes
// /metrics: rankscope's counters are there in the Prometheus text format,
// with the names the OTel Prometheus exporter derives from the UCUM units
// (counters get _total, seconds _seconds, and {event} adds nothing), and
// they count what was served.
func TestMetricsEndpoint(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "metrics-test-ranker")
	t.Setenv("RANKSCOPE_QUEUE_SIZE", "2048")
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, options{addr: "127.0.0.1:0", rps: 50, seed: 7, ready: func(a string) { addrc <- a }})
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get("http://" + addr + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	for range 5 {
		resp, _ := get("/rank?user=user-000123")
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}

	// Export runs in the background (BatchTimeout 200ms): scrape until
	// the exporters have counted events, within a generous bound.
	var body string
	var resp *http.Response
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, body = get("/metrics")
		if sum(t, body, "rankscope_events_exported_total") > 0 {
			break
		}
	}
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/plain")
	for _, want := range []string{
		"# TYPE rankscope_events_accepted_total counter",
		"# TYPE rankscope_events_exported_total counter",
		"# TYPE rankscope_events_dropped_total counter",
		"# TYPE rankscope_queue_depth gauge",
		"# TYPE rankscope_export_duration_seconds histogram",
		`rankscope_events_exported_total{otel_scope_name=`,
		`service_name="metrics-test-ranker"`, // OTEL_SERVICE_NAME, through the resource (target_info)
	} {
		assert.Contains(t, body, want)
	}
	accepted := sum(t, body, "rankscope_events_accepted_total")
	assert.GreaterOrEqual(t, accepted, 5.0, "at least the five rankings served through /rank")
	assert.Positive(t, sum(t, body, "rankscope_events_exported_total"))
	assert.LessOrEqual(t, sum(t, body, "rankscope_events_exported_total"), 4*accepted, "four exporters, each at most every accepted event")
}

// sum adds the values of every sample of metric name (any labels) in a
// Prometheus text exposition; 0 if there is none.
func sum(t *testing.T, body, name string) float64 {
	t.Helper()
	total := 0.0
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		f := strings.Fields(line)
		var v float64
		_, err := fmt.Sscan(f[len(f)-1], &v)
		require.NoError(t, err, line)
		total += v
	}
	return total
}
