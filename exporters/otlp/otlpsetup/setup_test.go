package otlpsetup

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"

	"github.com/rankscope/rankscope/exporters/otlp"
)

func TestSetup(t *testing.T) {
	var mu sync.Mutex
	paths := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		paths[r.URL.Path]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	p, err := Setup(context.Background(), Config{
		Transport: otlp.Transport{Protocol: otlp.ProtocolHTTPProtobuf, Endpoint: srv.URL},
		Resource:  resource.NewSchemaless(semconv.ServiceName("feed-ranker")),
	})
	require.NoError(t, err)
	_, span := p.TracerProvider.Tracer("t").Start(context.Background(), "rank")
	span.End()
	c, err := p.MeterProvider.Meter("t").Int64Counter("rankings")
	require.NoError(t, err)
	c.Add(context.Background(), 1)
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, p.Shutdown(sctx), "Shutdown flushes both providers")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, paths["/v1/traces"])
	assert.Equal(t, 1, paths["/v1/metrics"])

	t.Run("disabled and grpc", func(t *testing.T) {
		p, err := Setup(context.Background(), Config{Transport: otlp.Transport{Protocol: otlp.ProtocolGRPC, Endpoint: "http://127.0.0.1:1"},
			DisableTraces: true})
		require.NoError(t, err)
		assert.Nil(t, p.TracerProvider)
		require.NotNil(t, p.MeterProvider)
		sctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = p.Shutdown(sctx) // nothing recorded; must not hang
	})
}
