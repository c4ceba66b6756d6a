package collectortest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/otlp"
	"github.com/rankscope/rankscope/personalize"
)

// TestNoCollectorThenStarted: before any Collector listens, an export
// fails at once with otlp.ErrNoReceiver naming the endpoint (no retry,
// although the retry budget would allow them); once the Collector is up
// the same exporter delivers, and a later outage (a restart) is retried
// until the Collector is back.
func TestNoCollectorThenStarted(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			grpcAddr, httpAddr := freePort(t), freePort(t)
			endpoint := "http://" + httpAddr
			if p == otlp.ProtocolGRPC {
				endpoint = "http://" + grpcAddr
			}
			e := newExporter(t, p, endpoint, otlp.RetryConfig{InitialInterval: 20 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxElapsed: 10 * time.Second})
			lost := events(320, 30)
			err := e.Export(ctx(t), lost)
			require.ErrorIs(t, err, otlp.ErrNoReceiver)
			assert.ErrorContains(t, err, endpoint[len("http://"):])
			st := e.Stats()
			assert.Equal(t, uint64(30), st.Failed)
			assert.Zero(t, st.Retries, "failed fast")

			r := &received{}
			c := startCollector(t, grpcAddr, httpAddr, r)
			first := events(321, 50)
			require.NoError(t, e.Export(ctx(t), first))

			require.NoError(t, c.stop())
			during := events(322, 50)
			done := make(chan error, 1)
			go func() { done <- e.Export(ctx(t), during) }()
			time.Sleep(200 * time.Millisecond) // refused attempts, retried: the Collector was seen
			startCollector(t, grpcAddr, httpAddr, r)
			require.NoError(t, <-done)
			requireDelivered(t, r, append(append([]personalize.Event{}, first...), during...), len(during))
			assert.Positive(t, e.Stats().Retries)
		})
	}
}
