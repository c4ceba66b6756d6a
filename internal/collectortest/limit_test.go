package collectortest

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"

	"github.com/rankscope/rankscope/exporters/otlp"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 5)) }

// hugeItems is an impression of n minimal items: too large for a request
// by its item count alone.
func hugeItems(seed uint64, n int) personalize.Event {
	e := personalizetest.RandomEvent(newRand(seed), personalize.EventImpression)
	e.Impression.Items = make([]personalize.Item, n)
	for i := range e.Impression.Items {
		e.Impression.Items[i] = personalize.Item{ID: "sku-1", Position: i + 1, Score: 0.5}
	}
	return e
}

// hugeContext is an impression with a context value of n bytes.
func hugeContext(seed uint64, n int) personalize.Event {
	e := personalizetest.RandomEvent(newRand(seed), personalize.EventImpression)
	e.Impression.Context = append(e.Impression.Context, personalize.Attr{Key: "note", Value: strings.Repeat("n", n)})
	return e
}

// deadLetters records what the exporter dead-lettered.
type deadLetters struct {
	mu      sync.Mutex
	ids     []personalize.EventID
	reasons []string
	handled []error
}

func (d *deadLetters) config(cfg otlp.Config) otlp.Config {
	cfg.DeadLetter = func(_ context.Context, dl otlp.DeadLetter) {
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, ev := range dl.Events {
			d.ids = append(d.ids, ev.ID())
			d.reasons = append(d.reasons, dl.Reason)
		}
	}
	cfg.ErrorHandler = func(err error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.handled = append(d.handled, err)
	}
	return cfg
}

func newLimitExporter(t *testing.T, p otlp.Protocol, endpoint string, limit int, dl *deadLetters) *otlp.Exporter {
	e, err := otlp.New(dl.config(otlp.Config{MaxRequestBytes: limit, Transport: otlp.Transport{Protocol: p, Endpoint: endpoint,
		Compression: otlp.CompressionGzip, Retry: otlp.RetryConfig{InitialInterval: 10 * time.Millisecond, MaxInterval: 20 * time.Millisecond}}}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Shutdown(context.Background()) })
	return e
}

func requireInOrder(t *testing.T, r *received, sent []personalize.Event) {
	t.Helper()
	requireDelivered(t, r, sent, 0)
	got, _ := r.snapshot()
	for i := range sent {
		require.Equal(t, encode(sent[i]), encode(got[i]), "event %d in order", i)
	}
}

// TestCollectorRequestLimit runs the receiver with small size limits
// (HTTP max_request_body_size 256 KiB, gRPC max_recv_msg_size_mib 1) and
// the exporter's Config.MaxRequestBytes set to match: a batch of 1000
// events (about 1.4 MB) with an impression of 100,000 items and one with
// a context value as large as the limit among them. The 1000 arrive, each
// once, in order, in several requests; the two are dead-lettered as
// too_large and Export succeeds. Before the limit existed the receiver
// refused the whole batch (HTTP 400, gRPC ResourceExhausted).
func TestCollectorRequestLimit(t *testing.T) {
	limits := map[otlp.Protocol]int{otlp.ProtocolHTTPProtobuf: 256 << 10, otlp.ProtocolGRPC: 1 << 20}
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			r := &received{}
			c := startCollector(t, "", "", r, func(cfg *otlpreceiver.Config) {
				cfg.Protocols.GRPC.Get().MaxRecvMsgSizeMiB = 1
				cfg.Protocols.HTTP.Get().ServerConfig.MaxRequestBodySize = 256 << 10
			})
			var dl deadLetters
			e := newLimitExporter(t, p, c.endpoint(p), limits[p], &dl)
			good := events(600, 1000)
			byItems, byContext := hugeItems(601, 100_000), hugeContext(602, limits[p])
			batch := append([]personalize.Event{}, good[:400]...)
			batch = append(batch, byItems)
			batch = append(batch, good[400:700]...)
			batch = append(batch, byContext)
			batch = append(batch, good[700:]...)

			require.NoError(t, e.Export(ctx(t), batch))
			requireInOrder(t, r, good)
			assert.Equal(t, []personalize.EventID{byItems.ID(), byContext.ID()}, dl.ids)
			assert.Equal(t, []string{otlp.ReasonTooLarge, otlp.ReasonTooLarge}, dl.reasons)
			require.Len(t, dl.handled, 2)
			var tl *otlp.TooLargeError
			require.ErrorAs(t, dl.handled[1], &tl)
			assert.Equal(t, limits[p], tl.Limit)
			st := e.Stats()
			assert.Equal(t, uint64(1000), st.Exported)
			assert.Equal(t, uint64(2), st.DeadLettered)
			assert.Zero(t, st.Failed+st.Rejected+st.Dropped)
			assert.Greater(t, st.Requests, uint64(1), "split")
			t.Logf("%s: %d requests", p, st.Requests)
		})
	}
}

// TestCollectorDefaultLimits is the fault as found: a stock receiver
// (gRPC 4 MiB, HTTP 20 MiB) and the exporter's defaults; one impression
// of 1,000,000 items in a batch of 512. The 511 others arrive and the one
// is dead-lettered; then a batch of 6 MB of good events is split and
// delivered whole.
func TestCollectorDefaultLimits(t *testing.T) {
	huge := hugeItems(610, 1_000_000)
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			r := &received{}
			c := startCollector(t, "", "", r)
			var dl deadLetters
			e := newLimitExporter(t, p, c.endpoint(p), 0, &dl)
			good := events(611, 511)
			batch := append(append([]personalize.Event{}, good[:256]...), huge)
			batch = append(batch, good[256:]...)
			require.NoError(t, e.Export(ctx(t), batch))
			assert.Equal(t, []personalize.EventID{huge.ID()}, dl.ids)
			assert.Equal(t, []string{otlp.ReasonTooLarge}, dl.reasons)

			big := make([]personalize.Event, 10) // 6 MB of records
			for i := range big {
				big[i] = hugeContext(uint64(620+i), 600<<10)
			}
			require.NoError(t, e.Export(ctx(t), big))
			requireInOrder(t, r, append(good, big...))
			st := e.Stats()
			assert.Equal(t, uint64(521), st.Exported)
			assert.Equal(t, uint64(1), st.DeadLettered)
			assert.Equal(t, uint64(3), st.Requests, "one, then two for the batch over 4 MiB")
		})
	}
}
