package otlp

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// resolved is a Transport with the environment and defaults applied. It
// follows the OpenTelemetry OTLP exporter specification as the Go SDK's
// otlploghttp/otlploggrpc implement it, so moving between them changes
// nothing a user configured; the one difference is that a malformed
// variable is an error naming it (the SDK reports it to the global error
// handler and ignores it).
type resolved struct {
	proto       Protocol
	url         *url.URL // HTTP: the full URL; gRPC: scheme and host
	headers     map[string]string
	tls         *tls.Config // nil: system roots (HTTPS) or plaintext
	insecure    bool        // plaintext (http scheme, or *_INSECURE=true)
	compression Compression
	timeout     time.Duration // 0: none
}

const defaultTimeout = 10 * time.Second

// getenv returns the first non-empty variable of the signal-specific and
// generic names ("LOGS_X", "X" under OTEL_EXPORTER_OTLP_).
func getenv(name string) (key, val string) {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_LOGS_" + name, "OTEL_EXPORTER_OTLP_" + name} {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return k, v
		}
	}
	return "", ""
}

func (t Transport) resolve() (resolved, error) {
	var r resolved
	if err := t.validate(); err != nil {
		return r, err
	}
	var err error
	if r.proto, err = resolveProtocol(t.Protocol, envLogProtocol); err != nil {
		return r, err
	}
	if err := r.resolveEndpoint(t); err != nil {
		return r, err
	}

	r.headers = t.Headers
	if r.headers == nil {
		if k, v := getenv("HEADERS"); k != "" {
			if r.headers, err = parseHeaders(v); err != nil {
				return r, fmt.Errorf("otlp: %s: %w", k, err)
			}
		}
	}

	r.compression = t.Compression
	if r.compression == "" {
		switch k, v := getenv("COMPRESSION"); v {
		case "", "none":
			r.compression = CompressionNone
		case "gzip":
			r.compression = CompressionGzip
		default:
			return r, fmt.Errorf("otlp: %s: must be gzip or none, got %q", k, v)
		}
	}

	r.timeout = t.Timeout
	if r.timeout == 0 {
		r.timeout = defaultTimeout
		if k, v := getenv("TIMEOUT"); k != "" {
			ms, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ms < 0 || ms > int64(time.Duration(1<<62)/time.Millisecond) {
				return r, fmt.Errorf("otlp: %s: must be a number of milliseconds >= 0, got %q", k, v)
			}
			r.timeout = time.Duration(ms) * time.Millisecond
		}
	}

	r.tls = t.TLS
	if r.tls == nil && !r.insecure {
		if r.tls, err = envTLS(); err != nil {
			return r, err
		}
	}
	return r, nil
}

// resolveEndpoint applies code > OTEL_EXPORTER_OTLP_LOGS_ENDPOINT (used as
// is) > OTEL_EXPORTER_OTLP_ENDPOINT (a base: /v1/logs is appended for
// HTTP) > localhost:4318 or :4317. The scheme says whether TLS is used;
// without one, OTEL_EXPORTER_OTLP_[LOGS_]INSECURE does (default TLS).
func (r *resolved) resolveEndpoint(t Transport) error {
	isHTTP := r.proto == ProtocolHTTPProtobuf
	if t.Endpoint != "" {
		s, err := t.endpointURL(r.proto, "/v1/logs")
		if err != nil {
			return err
		}
		u, _ := url.Parse(s) // validated by endpointURL
		if !isHTTP {
			u.Path, u.RawPath = "", ""
		}
		r.url, r.insecure = u, u.Scheme == "http"
		return nil
	}
	schemeSet := false
	for i, k := range []string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		v := strings.TrimSpace(os.Getenv(k))
		if v == "" {
			continue
		}
		raw := v
		if !strings.Contains(v, "://") {
			raw = "https://" + v // host[:port]: the scheme comes from *_INSECURE
		} else {
			schemeSet = true
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("otlp: %s: must be an http:// or https:// URL with a host, got %q", k, redactURL(v))
		}
		u.User, u.RawQuery, u.Fragment = nil, "", ""
		switch {
		case !isHTTP:
			u.Path, u.RawPath = "", ""
		case i == 0: // the signal endpoint is used as is
			if u.Path == "" {
				u.Path = "/"
			}
		default:
			u.Path = path.Join("/", u.Path, "/v1/logs")
		}
		u.RawPath = ""
		r.url = u
		break
	}
	if r.url == nil {
		if isHTTP {
			r.url = &url.URL{Scheme: "https", Host: "localhost:4318", Path: "/v1/logs"}
		} else {
			r.url = &url.URL{Scheme: "https", Host: "localhost:4317"}
		}
	}
	if schemeSet {
		r.insecure = r.url.Scheme == "http"
		return nil
	}
	if k, v := getenv("INSECURE"); k != "" {
		switch strings.ToLower(v) {
		case "true":
			r.insecure = true
		case "false":
		default:
			return fmt.Errorf("otlp: %s: must be true or false, got %q", k, v)
		}
	}
	if r.insecure {
		r.url.Scheme = "http"
	}
	return nil
}

// parseHeaders parses key=value,... with URL-encoded values (the W3C
// baggage-like format of OTEL_EXPORTER_OTLP_HEADERS). Errors never quote
// values: they are often secrets.
func parseHeaders(s string) (map[string]string, error) {
	out := map[string]string{}
	for i, h := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(h, "=")
		k = strings.TrimSpace(k)
		if !ok || !validHeaderKey(k) {
			return nil, fmt.Errorf("entry %d: want key=value with a token key", i+1)
		}
		v, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("entry %d (%s): bad percent-encoding in the value", i+1, k)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

func validHeaderKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// envTLS loads *_CERTIFICATE (CA bundle) and the *_CLIENT_CERTIFICATE /
// *_CLIENT_KEY pair; nil when none is set.
func envTLS() (*tls.Config, error) {
	var cfg *tls.Config
	if k, v := getenv("CERTIFICATE"); k != "" {
		pem, err := os.ReadFile(v)
		if err != nil {
			return nil, fmt.Errorf("otlp: %s: %w", k, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("otlp: %s: no PEM certificate in %s", k, v)
		}
		cfg = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	for _, p := range [][2]string{
		{"OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY"},
		{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_KEY"},
	} {
		certFile, keyFile := os.Getenv(p[0]), os.Getenv(p[1])
		if certFile == "" && keyFile == "" {
			continue
		}
		if certFile == "" || keyFile == "" {
			return nil, fmt.Errorf("otlp: %s and %s: set both or neither", p[0], p[1])
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("otlp: %s, %s: %w", p[0], p[1], err)
		}
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		cfg.Certificates = []tls.Certificate{cert}
		break
	}
	return cfg, nil
}
