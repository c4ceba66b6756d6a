package otlp

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// transports are the direct path (the default) and the SDK path over each
// protocol.
var transports = []struct {
	name  string
	proto Protocol
	sink  func(testing.TB) (*sink, string)
	sdk   bool
}{
	{"grpc", ProtocolGRPC, grpcSink, false},
	{"http", ProtocolHTTPProtobuf, httpSink, false},
	{"grpc/sdk", ProtocolGRPC, grpcSink, true},
	{"http/sdk", ProtocolHTTPProtobuf, httpSink, true},
}

func newExporter(t *testing.T, cfg Config) *Exporter {
	t.Helper()
	e, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Shutdown(context.Background()) })
	return e
}

func TestConformance(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			personalizetest.TestExporter(t, personalizetest.Harness{New: func(t *testing.T) personalizetest.Instance {
				s, url := tr.sink(t)
				e := newExporter(t, Config{UseSDK: tr.sdk, Transport: Transport{Protocol: tr.proto, Endpoint: url}})
				return personalizetest.Instance{Exporter: e,
					Delivered: func() ([]personalize.Event, error) { return s.delivered(), nil }}
			}})
		})
	}
}

// TestRoundTripEveryAttribute sends events of every type through each
// transport and decodes them back from the wire: every field survives.
func TestRoundTripEveryAttribute(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			s, url := tr.sink(t)
			e := newExporter(t, Config{UseSDK: tr.sdk, Transport: Transport{Protocol: tr.proto, Endpoint: url, Compression: CompressionGzip,
				Headers: map[string]string{"x-api-key": "k1"}}})
			batch := events(1, 400)
			require.NoError(t, e.Export(ctx(t), batch))
			got := s.delivered()
			require.Len(t, got, len(batch))
			assert.Equal(t, encodeAll(batch), encodeAll(got), "every field, every event, in order")
			for i, ev := range batch {
				assert.Equal(t, EventName(ev.Type), s.names[i])
			}
			if tr.proto == ProtocolGRPC {
				assert.Equal(t, []string{"k1"}, s.md[0].Get("x-api-key"))
			} else {
				assert.Equal(t, "k1", s.headers[0].Get("X-Api-Key"))
				assert.Equal(t, "gzip", s.headers[0].Get("Content-Encoding"))
			}
			st := e.Stats()
			assert.Equal(t, Stats{Exported: 400, Batches: 1, Requests: 1}, st)
		})
	}
}

func TestExportFailureCounted(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			s, url := tr.sink(t)
			s.fail = func(n int) error {
				if n <= 2 {
					return errors.New("unavailable")
				}
				return nil
			}
			t.Run("retried within the deadline", func(t *testing.T) {
				e := newExporter(t, Config{UseSDK: tr.sdk, Transport: Transport{Protocol: tr.proto, Endpoint: url,
					Retry: RetryConfig{InitialInterval: 5 * time.Millisecond, MaxInterval: 10 * time.Millisecond}}})
				batch := events(2, 30)
				require.NoError(t, e.Export(ctx(t), batch))
				assert.Equal(t, encodeAll(batch), encodeAll(s.delivered()))
				assert.Equal(t, uint64(30), e.Stats().Exported)
			})
			t.Run("counted when retries end", func(t *testing.T) {
				s.fail = func(int) error { return errors.New("down") }
				e := newExporter(t, Config{UseSDK: tr.sdk, Transport: Transport{Protocol: tr.proto, Endpoint: url, Retry: RetryConfig{Disabled: true}}})
				err := e.Export(ctx(t), events(3, 12))
				require.ErrorContains(t, err, "otlp: export of 12 events")
				st := e.Stats()
				assert.Equal(t, uint64(12), st.Failed)
				assert.Equal(t, uint64(1), st.FailedBatches)
				assert.NotEmpty(t, st.LastError)
			})
		})
	}
}

func TestDroppedAndShutdown(t *testing.T) {
	s, url := httpSink(t)
	e := newExporter(t, Config{Transport: Transport{Endpoint: url}})
	assert.Equal(t, ProtocolHTTPProtobuf, e.Protocol(), "the default protocol")
	batch := append(events(4, 3), personalize.Event{})
	require.NoError(t, e.Export(ctx(t), batch))
	assert.Len(t, s.delivered(), 3)
	assert.Equal(t, uint64(1), e.Stats().Dropped)
	require.NoError(t, e.Shutdown(ctx(t)))
	assert.ErrorIs(t, e.Export(ctx(t), batch), ErrShutdown)
	assert.Equal(t, "otlp", e.Name())
}

func TestUnreachableRetriedThenCounted(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			e := newExporter(t, Config{UseSDK: tr.sdk, Transport: Transport{Protocol: tr.proto, Endpoint: "http://127.0.0.1:1",
				Retry: RetryConfig{InitialInterval: 5 * time.Millisecond, MaxInterval: 10 * time.Millisecond, MaxElapsed: 150 * time.Millisecond}}})
			require.Error(t, e.Export(ctx(t), events(14, 9)))
			st := e.Stats()
			assert.Equal(t, uint64(9), st.Failed)
			if tr.proto == ProtocolHTTPProtobuf || !tr.sdk {
				assert.Positive(t, st.Retries, "connection failures are retried")
			}
		})
	}
}

func TestPartialSuccessCounted(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			s, url := tr.sink(t)
			s.partial = 3
			e := newExporter(t, Config{UseSDK: tr.sdk, Transport: Transport{Protocol: tr.proto, Endpoint: url}})
			err := e.Export(ctx(t), events(15, 20))
			var re *RejectedError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, 3, re.Rejected)
			assert.Equal(t, 17, re.Exported)
			assert.Contains(t, err.Error(), "attribute too long")
			st := e.Stats()
			assert.Equal(t, uint64(17), st.Exported)
			assert.Equal(t, uint64(3), st.Rejected)
			assert.Zero(t, st.Failed)
		})
	}
	t.Run("other errors are not partial successes", func(t *testing.T) {
		_, ok := partialSuccess(errors.New("boom"))
		assert.False(t, ok)
		_, ok = partialSuccess(nil)
		assert.False(t, ok)
	})
}
