package otlp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/grpc"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// transports are the two protocols, each to a receiver of the official
// implementation (grpc-go's server; protobuf decoding of HTTP bodies).
var transports = []struct {
	name  string
	proto Protocol
	sink  func(testing.TB) (*sink, string)
}{
	{"grpc", ProtocolGRPC, grpcSink},
	{"http", ProtocolHTTPProtobuf, httpSink},
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
				e := newExporter(t, Config{Transport: Transport{Protocol: tr.proto, Endpoint: url}})
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
			e := newExporter(t, Config{Transport: Transport{Protocol: tr.proto, Endpoint: url, Compression: CompressionGzip,
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
				e := newExporter(t, Config{Transport: Transport{Protocol: tr.proto, Endpoint: url,
					Retry: RetryConfig{InitialInterval: 5 * time.Millisecond, MaxInterval: 10 * time.Millisecond}}})
				batch := events(2, 30)
				require.NoError(t, e.Export(ctx(t), batch))
				assert.Equal(t, encodeAll(batch), encodeAll(s.delivered()))
				assert.Equal(t, uint64(30), e.Stats().Exported)
			})
			t.Run("counted when retries end", func(t *testing.T) {
				s.fail = func(int) error { return errors.New("down") }
				e := newExporter(t, Config{Transport: Transport{Protocol: tr.proto, Endpoint: url, Retry: RetryConfig{Disabled: true}}})
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

// closedPort returns an http URL of a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}

// TestNoReceiverFailsFast: with nothing listening, the first Export fails
// at once (no retry, although the default policy would wait 5s and
// more) with an error naming the endpoint, and counts its events.
func TestNoReceiverFailsFast(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			url := closedPort(t)
			e := newExporter(t, Config{Transport: Transport{Protocol: tr.proto, Endpoint: url}})
			err := e.Export(ctx(t), events(14, 9))
			require.ErrorIs(t, err, ErrNoReceiver)
			require.ErrorIs(t, err, syscall.ECONNREFUSED)
			assert.ErrorContains(t, err, "otlp: export of 9 events")
			assert.ErrorContains(t, err, strings.TrimPrefix(url, "http://"), "names the endpoint")
			assert.ErrorContains(t, err, "connection refused")
			assert.ErrorContains(t, err, "OTEL_EXPORTER_OTLP_ENDPOINT")
			st := e.Stats()
			assert.Equal(t, uint64(9), st.Failed)
			assert.Zero(t, st.Retries, "not retried")
		})
	}
	t.Run("unknown host", func(t *testing.T) {
		e := newExporter(t, Config{Transport: Transport{Endpoint: "http://collector.invalid:4318"}})
		err := e.Export(ctx(t), events(16, 2))
		require.ErrorIs(t, err, ErrNoReceiver)
		assert.ErrorContains(t, err, "host not found")
		assert.Zero(t, e.Stats().Retries)
	})
}

// TestRefusedAfterReachRetried: once the receiver has answered, a refused
// connection is taken for a restart and retried within the budget.
func TestRefusedAfterReachRetried(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			s := &sink{t: t}
			var stop func()
			if tr.proto == ProtocolGRPC {
				srv := grpc.NewServer()
				collogspb.RegisterLogsServiceServer(srv, grpcLogs{s: s})
				go func() { _ = srv.Serve(l) }()
				stop = srv.Stop
			} else {
				srv := &http.Server{Handler: httpSinkHandler(t, s), ReadHeaderTimeout: 5 * time.Second}
				go func() { _ = srv.Serve(l) }()
				stop = func() { _ = srv.Close() }
			}
			e := newExporter(t, Config{Transport: Transport{Protocol: tr.proto, Endpoint: "http://" + l.Addr().String(),
				Retry: RetryConfig{InitialInterval: 5 * time.Millisecond, MaxInterval: 10 * time.Millisecond, MaxElapsed: 100 * time.Millisecond}}})
			require.NoError(t, e.Export(ctx(t), events(17, 3)))
			stop()
			err = e.Export(ctx(t), events(18, 4))
			require.ErrorIs(t, err, syscall.ECONNREFUSED)
			st := e.Stats()
			assert.Positive(t, st.Retries, "retried: the receiver may be restarting")
			assert.Equal(t, uint64(3), st.Exported)
			assert.Equal(t, uint64(4), st.Failed)
		})
	}
}

// TestInstrumentWithoutCollector: an Instrument exporting to a port where
// nothing listens returns from Shutdown with a *personalize.DropError
// counting every event and naming the endpoint, without waiting for the
// retry budget (whose first wait alone is 5s).
func TestInstrumentWithoutCollector(t *testing.T) {
	url := closedPort(t)
	e, err := New(Config{Transport: Transport{Endpoint: url}})
	require.NoError(t, err)
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k", Secret: make([]byte, 32)})
	require.NoError(t, err)
	var handled []error
	var mu sync.Mutex
	in, err := personalize.New(personalize.Config{Service: "feed", Pseudonymize: kr, Exporters: []personalize.Exporter{e},
		ErrorHandler: func(err error) { mu.Lock(); handled = append(handled, err); mu.Unlock() }})
	require.NoError(t, err)
	for i := range 5 {
		_, inf := in.Start(context.Background(), personalize.Request{User: fmt.Sprint("u", i), Surface: "home"})
		inf.Impress([]personalize.Item{{ID: "sku-1", Position: 1}})
		require.NoError(t, inf.End(nil))
	}
	err = in.Shutdown(ctx(t))
	var de *personalize.DropError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, personalize.DropExportFailed, de.Reason)
	assert.Equal(t, int64(5), de.Count)
	assert.Equal(t, "otlp", de.Exporter)
	// The pipeline keeps the last export error as text.
	assert.ErrorContains(t, err, "POST "+url+"/v1/logs: connection refused: no OTLP receiver there")
	assert.Zero(t, e.Stats().Retries)
	mu.Lock()
	defer mu.Unlock()
	assert.NotEmpty(t, handled, "the failure was reported when it happened, too")
}

func TestPartialSuccessCounted(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			s, url := tr.sink(t)
			s.partial = 3
			e := newExporter(t, Config{Transport: Transport{Protocol: tr.proto, Endpoint: url}})
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
}
