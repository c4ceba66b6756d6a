package otlp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

func fastRetry() RetryConfig {
	return RetryConfig{InitialInterval: 5 * time.Millisecond, MaxInterval: 10 * time.Millisecond, MaxElapsed: 5 * time.Second}
}

// TestHTTPStatuses: retryable statuses are retried (honoring
// Retry-After), others fail at once with the receiver's message.
func TestHTTPStatuses(t *testing.T) {
	t.Run("429 with Retry-After", func(t *testing.T) {
		var calls atomic.Int32
		var first, second time.Time
		s, _ := httpSink(t)
		h := httpSinkHandler(t, s)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				first = time.Now()
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			second = time.Now()
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		e := newExporter(t, Config{Transport: Transport{Endpoint: srv.URL, Retry: fastRetry()}})
		batch := events(40, 20)
		require.NoError(t, e.Export(ctx(t), batch))
		assert.Equal(t, encodeAll(batch), encodeAll(s.delivered()))
		assert.GreaterOrEqual(t, second.Sub(first), time.Second, "waited as the receiver asked, not the 5ms backoff")
		assert.Equal(t, uint64(1), e.Stats().Retries)
	})
	for _, code := range []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			var calls atomic.Int32
			s, _ := httpSink(t)
			h := httpSinkHandler(t, s)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) <= 2 {
					w.WriteHeader(code)
					return
				}
				h.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			e := newExporter(t, Config{Transport: Transport{Endpoint: srv.URL, Retry: fastRetry()}})
			require.NoError(t, e.Export(ctx(t), events(41, 5)))
			assert.Len(t, s.delivered(), 5)
			assert.Equal(t, uint64(2), e.Stats().Retries)
		})
	}
	t.Run("400 is final and carries the Status message", func(t *testing.T) {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			calls.Add(1)
			b, _ := proto.Marshal(&spb.Status{Code: 3, Message: "missing resource"})
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write(b)
		}))
		t.Cleanup(srv.Close)
		e := newExporter(t, Config{Transport: Transport{Endpoint: srv.URL, Retry: fastRetry()}})
		err := e.Export(ctx(t), events(42, 6))
		require.ErrorContains(t, err, "400 Bad Request: missing resource")
		assert.Equal(t, int32(1), calls.Load(), "not retried")
		assert.Equal(t, Stats{Failed: 6, Batches: 1, FailedBatches: 1, Requests: 1, LastError: e.Stats().LastError}, e.Stats())
	})
	t.Run("500 is final with a text body", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "disk full", http.StatusInternalServerError)
		}))
		t.Cleanup(srv.Close)
		e := newExporter(t, Config{Transport: Transport{Endpoint: srv.URL, Retry: fastRetry()}})
		require.ErrorContains(t, e.Export(ctx(t), events(43, 2)), "500 Internal Server Error: disk full")
	})
	t.Run("timeout bounds the export", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		e := newExporter(t, Config{Transport: Transport{Endpoint: srv.URL, Timeout: 100 * time.Millisecond, Retry: fastRetry()}})
		start := time.Now()
		require.ErrorIs(t, e.Export(ctx(t), events(44, 2)), context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 3*time.Second)
		assert.Equal(t, uint64(2), e.Stats().Failed)
	})
}

// TestSecretsNotInErrors: header values and URL user info or query never
// reach error messages.
func TestSecretsNotInErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	u := "http://user:SECRET1@" + srv.Listener.Addr().String() + "/p?token=SECRET2"
	e := newExporter(t, Config{Transport: Transport{Endpoint: u, Headers: map[string]string{"authorization": "Bearer SECRET3"}}})
	err := e.Export(ctx(t), events(45, 2))
	require.ErrorContains(t, err, "403")
	for _, s := range []string{"SECRET1", "SECRET2", "SECRET3"} {
		assert.NotContains(t, err.Error(), s)
		assert.NotContains(t, e.Stats().LastError, s)
	}
	_, err = New(Config{Transport: Transport{Endpoint: "http://c:1"}, Name: "x"})
	require.NoError(t, err)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=SECRET4,broken")
	_, err = New(Config{})
	require.ErrorContains(t, err, "otlp: OTEL_EXPORTER_OTLP_HEADERS: entry 2")
	assert.NotContains(t, err.Error(), "SECRET4")
}

type scriptedLogs struct {
	collogspb.UnimplementedLogsServiceServer
	calls atomic.Int32
	fail  func(n int32) error
}

func (s *scriptedLogs) Export(context.Context, *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	if err := s.fail(s.calls.Add(1)); err != nil {
		return nil, err
	}
	return &collogspb.ExportLogsServiceResponse{}, nil
}

func scriptedGRPC(t *testing.T, fail func(n int32) error) (*scriptedLogs, string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &scriptedLogs{fail: fail}
	srv := grpc.NewServer()
	collogspb.RegisterLogsServiceServer(srv, s)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return s, "http://" + l.Addr().String()
}

// TestGRPCStatuses: the retryable codes of the OTLP specification are
// retried; ResourceExhausted only with RetryInfo, whose delay is honored.
func TestGRPCStatuses(t *testing.T) {
	throttled := func(d time.Duration) error {
		st, err := status.New(codes.ResourceExhausted, "slow down").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
		require.NoError(t, err)
		return st.Err()
	}
	for _, tt := range []struct {
		name    string
		err     error
		retried bool
	}{
		{"unavailable", status.Error(codes.Unavailable, "x"), true},
		{"aborted", status.Error(codes.Aborted, "x"), true},
		{"data loss", status.Error(codes.DataLoss, "x"), true},
		{"resource exhausted with RetryInfo", throttled(300 * time.Millisecond), true},
		{"resource exhausted without RetryInfo", status.Error(codes.ResourceExhausted, "x"), false},
		{"invalid argument", status.Error(codes.InvalidArgument, "bad"), false},
		{"permission denied", status.Error(codes.PermissionDenied, "no"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var firstAt, secondAt time.Time
			s, url := scriptedGRPC(t, func(n int32) error {
				if n == 1 {
					firstAt = time.Now()
					return tt.err
				}
				secondAt = time.Now()
				return nil
			})
			e := newExporter(t, Config{Transport: Transport{Protocol: ProtocolGRPC, Endpoint: url, Retry: fastRetry()}})
			err := e.Export(ctx(t), events(46, 3))
			if !tt.retried {
				require.Error(t, err)
				assert.Equal(t, int32(1), s.calls.Load())
				assert.Equal(t, uint64(3), e.Stats().Failed)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, int32(2), s.calls.Load())
			if tt.name == "resource exhausted with RetryInfo" {
				assert.GreaterOrEqual(t, secondAt.Sub(firstAt), 300*time.Millisecond, "RetryInfo's delay")
			}
		})
	}
}

// TestBodyOutlivesExport: a server that answers before reading the body
// leaves the HTTP transport writing it after Export returned; the pooled
// buffer must not be reused meanwhile (the race detector watches).
func TestBodyOutlivesExport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	e := newExporter(t, Config{Transport: Transport{Endpoint: srv.URL}})
	batch := events(47, 1500)
	for range 5 {
		require.NoError(t, e.Export(ctx(t), batch))
	}
	assert.Equal(t, uint64(5*1500), e.Stats().Exported)
}

// TestEnvironmentDirect: the direct path reads the OTLP variables as the
// SDK exporters do (signal-specific over generic, code over both).
func TestEnvironmentDirect(t *testing.T) {
	clear := func(t *testing.T) {
		for _, k := range []string{"ENDPOINT", "HEADERS", "COMPRESSION", "TIMEOUT", "INSECURE", "PROTOCOL", "CERTIFICATE", "CLIENT_CERTIFICATE", "CLIENT_KEY"} {
			t.Setenv("OTEL_EXPORTER_OTLP_"+k, "")
			t.Setenv("OTEL_EXPORTER_OTLP_LOGS_"+k, "")
		}
	}
	t.Run("resolution", func(t *testing.T) {
		for _, tt := range []struct {
			name     string
			env      map[string]string
			tr       Transport
			url      string
			insecure bool
			timeout  time.Duration
			comp     Compression
		}{
			{"defaults (http)", nil, Transport{}, "https://localhost:4318/v1/logs", false, 10 * time.Second, CompressionNone},
			{"defaults (grpc)", nil, Transport{Protocol: ProtocolGRPC}, "https://localhost:4317", false, 10 * time.Second, CompressionNone},
			{"insecure default", map[string]string{"OTEL_EXPORTER_OTLP_INSECURE": "true"}, Transport{}, "http://localhost:4318/v1/logs", true, 10 * time.Second, CompressionNone},
			{"generic endpoint is a base", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/otlp"}, Transport{}, "http://c:4318/otlp/v1/logs", true, 10 * time.Second, CompressionNone},
			{"signal endpoint is used as is", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://g:1", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "https://c:4318/custom"}, Transport{}, "https://c:4318/custom", false, 10 * time.Second, CompressionNone},
			{"signal endpoint without path", map[string]string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://c:4318"}, Transport{}, "http://c:4318/", true, 10 * time.Second, CompressionNone},
			{"grpc endpoint host only", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317/ignored"}, Transport{Protocol: ProtocolGRPC}, "http://c:4317", true, 10 * time.Second, CompressionNone},
			{"scheme-less endpoint uses INSECURE", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "c:4317", "OTEL_EXPORTER_OTLP_LOGS_INSECURE": "TRUE"}, Transport{Protocol: ProtocolGRPC}, "http://c:4317", true, 10 * time.Second, CompressionNone},
			{"timeout and compression", map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "2500", "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "gzip", "OTEL_EXPORTER_OTLP_COMPRESSION": "none"}, Transport{}, "https://localhost:4318/v1/logs", false, 2500 * time.Millisecond, CompressionGzip},
			{"code wins", map[string]string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "https://env:1/x", "OTEL_EXPORTER_OTLP_TIMEOUT": "5", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"},
				Transport{Endpoint: "http://code:2", Timeout: time.Second, Compression: CompressionNone}, "http://code:2/v1/logs", true, time.Second, CompressionNone},
		} {
			t.Run(tt.name, func(t *testing.T) {
				clear(t)
				for k, v := range tt.env {
					t.Setenv(k, v)
				}
				r, err := tt.tr.resolve()
				require.NoError(t, err)
				assert.Equal(t, tt.url, r.url.String())
				assert.Equal(t, tt.insecure, r.insecure)
				assert.Equal(t, tt.timeout, r.timeout)
				assert.Equal(t, tt.comp, r.compression)
			})
		}
	})
	t.Run("bad values name the variable", func(t *testing.T) {
		for k, v := range map[string]string{
			"OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "zstd",
			"OTEL_EXPORTER_OTLP_TIMEOUT":          "10s",
			"OTEL_EXPORTER_OTLP_INSECURE":         "yes",
			"OTEL_EXPORTER_OTLP_ENDPOINT":         "ftp://c",
			"OTEL_EXPORTER_OTLP_CERTIFICATE":      "/nonexistent/ca.pem",
			"OTEL_EXPORTER_OTLP_CLIENT_KEY":       "/nonexistent/key.pem",
		} {
			t.Run(k, func(t *testing.T) {
				clear(t)
				t.Setenv(k, v)
				_, err := New(Config{})
				require.ErrorContains(t, err, k)
				assert.ErrorContains(t, err, "otlp: OTEL_EXPORTER_OTLP_")
			})
		}
	})
	t.Run("mTLS from certificate files", func(t *testing.T) {
		clear(t)
		pki := newPKI(t)
		dir := t.TempDir()
		write := func(name, typ string, der []byte) string {
			p := filepath.Join(dir, name)
			require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
			return p
		}
		key, err := x509.MarshalPKCS8PrivateKey(pki.client.PrivateKey)
		require.NoError(t, err)
		s := &sink{t: t}
		l, err := tls.Listen("tcp", "127.0.0.1:0", pki.serverTLS())
		require.NoError(t, err)
		srv := &http.Server{Handler: httpSinkHandler(t, s), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { _ = srv.Close() })
		t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "https://"+l.Addr().String()+"/v1/logs")
		t.Setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", write("ca.pem", "CERTIFICATE", pki.caDER))
		t.Setenv("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", write("client.pem", "CERTIFICATE", pki.client.Certificate[0]))
		t.Setenv("OTEL_EXPORTER_OTLP_CLIENT_KEY", write("client.key", "PRIVATE KEY", key))
		e := newExporter(t, Config{Transport: Transport{Retry: RetryConfig{Disabled: true}}})
		require.NoError(t, e.Export(ctx(t), events(48, 3)))
		assert.Len(t, s.delivered(), 3)
	})
}
