package otlp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"

	"github.com/rankscope/rankscope/exporters/otlp/internal/otlpconf"
)

func TestResolveProtocol(t *testing.T) {
	tests := []struct {
		name           string
		code           Protocol
		signal, global string
		want           Protocol
		wantErr        string
	}{
		{"default", "", "", "", ProtocolHTTPProtobuf, ""},
		{"global env", "", "", "grpc", ProtocolGRPC, ""},
		{"signal env wins over global", "", "http/protobuf", "grpc", ProtocolHTTPProtobuf, ""},
		{"code wins over env", ProtocolGRPC, "http/protobuf", "http/protobuf", ProtocolGRPC, ""},
		{"bad env names the variable", "", "", "carrier-pigeon", "", "otlp: OTEL_EXPORTER_OTLP_PROTOCOL: must be grpc or http/protobuf"},
		{"json unsupported", "http/json", "", "", "", "http/json is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(envLogProtocol, tt.signal)
			t.Setenv(otlpconf.EnvProtocol, tt.global)
			got, err := resolveProtocol(tt.code, envLogProtocol)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestEndpointURL(t *testing.T) {
	tests := []struct {
		endpoint string
		proto    Protocol
		want     string
		wantErr  bool
	}{
		{"http://c:4318", ProtocolHTTPProtobuf, "http://c:4318/v1/logs", false},
		{"http://c:4318/", ProtocolHTTPProtobuf, "http://c:4318/v1/logs", false},
		{"https://c/otlp", ProtocolHTTPProtobuf, "https://c/otlp/v1/logs", false},
		{"https://c/otlp/v1/logs", ProtocolHTTPProtobuf, "https://c/otlp/v1/logs", false},
		{"http://c:4317", ProtocolGRPC, "http://c:4317", false},
		{"c:4317", ProtocolGRPC, "", true},
		{"ftp://c", ProtocolGRPC, "", true},
		{"", ProtocolGRPC, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			got, err := Transport{Endpoint: tt.endpoint}.endpointURL(tt.proto, "/v1/logs")
			if tt.wantErr {
				require.ErrorContains(t, err, "otlp: Transport.Endpoint")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := Transport{Endpoint: "ftp://user:SECRET@c/?k=SECRET"}.endpointURL(ProtocolGRPC, "")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET")
}

func TestNewValidates(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"compression", Config{Transport: Transport{Compression: "zstd"}}, "otlp: Transport.Compression"},
		{"timeout", Config{Transport: Transport{Timeout: -1}}, "otlp: Transport.Timeout"},
		{"retry", Config{Transport: Transport{Retry: RetryConfig{MaxInterval: -1}}}, "otlp: Transport.Retry"},
		{"protocol", Config{Transport: Transport{Protocol: "udp"}}, "otlp: Transport.Protocol"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestEnvironment(t *testing.T) {
	t.Run("endpoint and headers from env", func(t *testing.T) {
		s, url := httpSink(t)
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
		t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=t1")
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
		e := newExporter(t, Config{})
		require.NoError(t, e.Export(ctx(t), events(5, 4)))
		assert.Len(t, s.delivered(), 4)
		assert.Equal(t, "t1", s.headers[0].Get("X-Tenant"))
	})
	t.Run("code wins over env", func(t *testing.T) {
		s, url := grpcSink(t)
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1") // nothing there
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
		t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=env")
		e := newExporter(t, Config{Transport: Transport{Protocol: ProtocolGRPC, Endpoint: url,
			Headers: map[string]string{"x-tenant": "code"}}})
		assert.Equal(t, ProtocolGRPC, e.Protocol())
		require.NoError(t, e.Export(ctx(t), events(6, 4)))
		assert.Len(t, s.delivered(), 4)
		assert.Equal(t, []string{"code"}, s.md[0].Get("x-tenant"))
	})
}

// testPKI is a CA with a server and a client certificate.
type testPKI struct {
	pool           *x509.CertPool
	caDER          []byte
	server, client tls.Certificate
}

func newPKI(t *testing.T) testPKI {
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		return k
	}
	caKey := key()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	leaf := func(serial int64, usage x509.ExtKeyUsage) tls.Certificate {
		k := key()
		tpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, tpl, caCert, &k.PublicKey, caKey)
		require.NoError(t, err)
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
	}
	p := testPKI{pool: x509.NewCertPool(), caDER: caDER, server: leaf(2, x509.ExtKeyUsageServerAuth), client: leaf(3, x509.ExtKeyUsageClientAuth)}
	p.pool.AddCert(caCert)
	return p
}

func (p testPKI) serverTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.server}, ClientCAs: p.pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
}

func TestMutualTLS(t *testing.T) {
	pki := newPKI(t)
	clientTLS := &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{pki.client}, MinVersion: tls.VersionTLS12}
	noClientCert := &tls.Config{RootCAs: pki.pool, MinVersion: tls.VersionTLS12}

	t.Run("http", func(t *testing.T) {
		s := &sink{t: t}
		l, err := tls.Listen("tcp", "127.0.0.1:0", pki.serverTLS())
		require.NoError(t, err)
		srv := &http.Server{Handler: httpSinkHandler(t, s), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { _ = srv.Close() })
		endpoint := "https://" + l.Addr().String()

		e := newExporter(t, Config{Transport: Transport{Endpoint: endpoint, TLS: clientTLS}})
		require.NoError(t, e.Export(ctx(t), events(7, 5)))
		assert.Len(t, s.delivered(), 5)

		bad := newExporter(t, Config{Transport: Transport{Endpoint: endpoint, TLS: noClientCert, Retry: RetryConfig{Disabled: true}}})
		require.Error(t, bad.Export(ctx(t), events(8, 5)), "the server requires a client certificate")
		assert.Len(t, s.delivered(), 5)
	})
	t.Run("grpc", func(t *testing.T) {
		s := &sink{t: t}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(pki.serverTLS())))
		collogspb.RegisterLogsServiceServer(srv, grpcLogs{s: s})
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(srv.Stop)
		endpoint := "https://" + l.Addr().String()

		e := newExporter(t, Config{Transport: Transport{Protocol: ProtocolGRPC, Endpoint: endpoint, TLS: clientTLS}})
		require.NoError(t, e.Export(ctx(t), events(9, 5)))
		assert.Len(t, s.delivered(), 5)

		bad := newExporter(t, Config{Transport: Transport{Protocol: ProtocolGRPC, Endpoint: endpoint, TLS: noClientCert, Retry: RetryConfig{Disabled: true}}})
		require.Error(t, bad.Export(ctx(t), events(10, 5)))
		assert.Len(t, s.delivered(), 5)
	})
}
