package otlp

import (
	"context"
	"crypto/tls"
	"fmt"
	"math"
	"net/url"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"google.golang.org/grpc/credentials"

	"github.com/rankscope/rankscope/personalize"
)

// Protocol is the OTLP transport.
type Protocol string

// Protocols, named as in OTEL_EXPORTER_OTLP_PROTOCOL.
const (
	ProtocolGRPC         Protocol = "grpc"
	ProtocolHTTPProtobuf Protocol = "http/protobuf"
)

// Compression of OTLP payloads.
type Compression string

// Compressions, named as in OTEL_EXPORTER_OTLP_COMPRESSION.
const (
	CompressionGzip Compression = "gzip"
	CompressionNone Compression = "none"
)

// Transport says where and how to send OTLP. Every zero field falls back
// to the standard environment variables (see the package documentation),
// then to the OpenTelemetry defaults: a field set in code always wins.
type Transport struct {
	// Protocol: "grpc" or "http/protobuf". Default: the signal's
	// OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL, then OTEL_EXPORTER_OTLP_PROTOCOL,
	// then http/protobuf.
	Protocol Protocol
	// Endpoint is a base URL ("http://collector:4318",
	// "https://collector:4317"); an http scheme means no TLS. For
	// http/protobuf the signal path (/v1/logs, /v1/traces, /v1/metrics) is
	// appended unless the path already ends with it. Default: the
	// environment, then localhost:4318 (HTTP) or localhost:4317 (gRPC).
	Endpoint string
	// Headers are sent with every export (e.g. authentication). Default:
	// OTEL_EXPORTER_OTLP_[<SIGNAL>_]HEADERS.
	Headers map[string]string
	// TLS configures server verification and, with Certificates, mTLS.
	// Default: the *_CERTIFICATE, *_CLIENT_CERTIFICATE and *_CLIENT_KEY
	// variables, then the system roots.
	TLS *tls.Config
	// Compression: "gzip" or "none". Default: the environment, then none.
	Compression Compression
	// Timeout bounds one OTLP request, its retries included (each request
	// of a batch split by Config.MaxRequestBytes has its own; the Export
	// context bounds the whole call). Default: the environment, then 10s.
	Timeout time.Duration
	// Retry configures the OTLP exporter's own retries of retryable
	// failures (gRPC Unavailable..., HTTP 429/502/503/504).
	Retry RetryConfig
}

// RetryConfig configures OTLP retries; the zero value means enabled with
// the OpenTelemetry defaults (5s initial, 30s max interval, 1m elapsed),
// each bounded by the Export context's deadline.
type RetryConfig struct {
	Disabled        bool
	InitialInterval time.Duration
	MaxInterval     time.Duration
	MaxElapsed      time.Duration
}

// Config configures an [Exporter]. The zero value sends to the endpoint the
// environment names (or localhost) with the defaults.
type Config struct {
	Transport

	// Resource describes the process in every export. Default:
	// resource.Default() (service.name from OTEL_SERVICE_NAME, SDK
	// attributes, OTEL_RESOURCE_ATTRIBUTES).
	Resource *resource.Resource

	// LogExporter, if set, replaces the OTLP log exporter (Transport is
	// then ignored): any OpenTelemetry SDK log exporter receives the
	// records, through the SDK path. Shutdown shuts it down.
	LogExporter sdklog.Exporter

	// UseSDK sends through the OpenTelemetry SDK's OTLP log exporters
	// (otlploggrpc, otlploghttp) instead of the exporter's own encoder and
	// transport (the default, several times faster). Both send the same
	// records with the same attributes and read the same environment.
	UseSDK bool

	// MaxRequestBytes bounds the encoded size of one OTLP request
	// (uncompressed protobuf, as receivers check it). A batch that would
	// exceed it is sent in several requests, each event once; an event
	// whose record alone exceeds it (with the resource and scope) is not
	// sent but dead-lettered (DeadLetter, Stats.DeadLettered). Default
	// DefaultMaxRequestBytes (4 MiB: gRPC's default max receive message
	// size, so a stock Collector accepts every request over either
	// protocol); at least 1 KiB and more than the resource and scope
	// alone. Set it to the receiver's limit when that is lower.
	MaxRequestBytes int

	// DeadLetter receives the events that were not sent because a request
	// holding one alone would exceed MaxRequestBytes (Reason
	// ReasonTooLarge), one call per event, from Export before it returns.
	// It must not retain dl.Events. Such events are counted in
	// Stats.DeadLettered and reported to ErrorHandler whether or not
	// DeadLetter is set.
	DeadLetter func(ctx context.Context, dl DeadLetter)

	// ErrorHandler receives the errors Export does not return: a
	// *TooLargeError for each dead-lettered event. Default: otel.Handle.
	ErrorHandler func(error)

	// Name names the exporter in the pipeline's stats; default "otlp".
	Name string
}

// DefaultMaxRequestBytes is the default Config.MaxRequestBytes: 4 MiB,
// gRPC's default max receive message size, which the OpenTelemetry
// Collector's OTLP receiver keeps (its HTTP receiver accepts 20 MiB).
const DefaultMaxRequestBytes = 4 << 20

// maxMaxRequestBytes: protobuf messages are limited to 2 GiB.
const maxMaxRequestBytes = math.MaxInt32

// ReasonTooLarge is DeadLetter.Reason for an event whose record alone
// makes a request larger than Config.MaxRequestBytes.
const ReasonTooLarge = "too_large"

// DeadLetter is what the exporter did not send.
type DeadLetter struct {
	// Reason is ReasonTooLarge.
	Reason string
	// Events are the events not sent; read-only, not to be retained.
	Events []personalize.Event
	// Err says why (a *TooLargeError).
	Err error
}

// TooLargeError reports an event that was not sent because a request
// holding it alone would exceed Config.MaxRequestBytes.
type TooLargeError struct {
	ID   personalize.EventID
	Type personalize.EventType
	// Bytes is the size of a request holding the event alone; a lower
	// bound when AtLeast (an impression whose items alone exceed the
	// limit is not encoded).
	Bytes   int
	AtLeast bool
	// Limit is Config.MaxRequestBytes.
	Limit int
}

func (e *TooLargeError) Error() string {
	least := ""
	if e.AtLeast {
		least = "at least "
	}
	return fmt.Sprintf("otlp: %s %s not sent (%s): a request holding it alone takes %s%d bytes, over Config.MaxRequestBytes (%d)",
		e.Type, e.ID, ReasonTooLarge, least, e.Bytes, e.Limit)
}

// requestLimit validates Config.MaxRequestBytes and applies the default.
func (c *Config) requestLimit() (int, error) {
	switch n := c.MaxRequestBytes; {
	case n == 0:
		return DefaultMaxRequestBytes, nil
	case n < 1<<10 || n > maxMaxRequestBytes:
		return 0, fmt.Errorf("otlp: Config.MaxRequestBytes: must be 0 (default %d) or between 1024 and %d, got %d",
			DefaultMaxRequestBytes, maxMaxRequestBytes, n)
	default:
		return n, nil
	}
}

var (
	envProtocol    = "OTEL_EXPORTER_OTLP_PROTOCOL"
	envLogProtocol = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"
)

// resolveProtocol applies code > signal env > generic env > default.
func resolveProtocol(p Protocol, signalEnv string) (Protocol, error) {
	field := "Transport.Protocol"
	if p == "" {
		for _, k := range []string{signalEnv, envProtocol} {
			if v := strings.TrimSpace(os.Getenv(k)); v != "" {
				p, field = Protocol(v), k
				break
			}
		}
	}
	switch p {
	case "":
		return ProtocolHTTPProtobuf, nil
	case ProtocolGRPC, ProtocolHTTPProtobuf:
		return p, nil
	case "http/json":
		return "", fmt.Errorf("otlp: %s: http/json is not supported; use grpc or http/protobuf", field)
	}
	return "", fmt.Errorf("otlp: %s: must be grpc or http/protobuf, got %q", field, string(p))
}

// endpointURL validates t.Endpoint and, for HTTP, appends signalPath.
func (t Transport) endpointURL(proto Protocol, signalPath string) (string, error) {
	if t.Endpoint == "" {
		return "", nil
	}
	u, err := url.Parse(t.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("otlp: Transport.Endpoint: must be an http:// or https:// URL with a host, got %q", redactURL(t.Endpoint))
	}
	if proto == ProtocolHTTPProtobuf && !strings.HasSuffix(u.Path, signalPath) {
		u.Path = strings.TrimSuffix(u.Path, "/") + signalPath
	}
	return u.String(), nil
}

// redactURL drops user info and query from a URL for error messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparseable>"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

func (t Transport) validate() error {
	switch t.Compression {
	case "", CompressionGzip, CompressionNone:
	default:
		return fmt.Errorf("otlp: Transport.Compression: must be gzip or none, got %q", string(t.Compression))
	}
	if t.Timeout < 0 {
		return fmt.Errorf("otlp: Transport.Timeout: must be >= 0, got %v", t.Timeout)
	}
	r := t.Retry
	if r.InitialInterval < 0 || r.MaxInterval < 0 || r.MaxElapsed < 0 {
		return fmt.Errorf("otlp: Transport.Retry: intervals must be >= 0, got %+v", r)
	}
	return nil
}

func (r RetryConfig) values() (enabled bool, initial, maxI, elapsed time.Duration) {
	initial, maxI, elapsed = 5*time.Second, 30*time.Second, time.Minute
	if r.InitialInterval > 0 {
		initial = r.InitialInterval
	}
	if r.MaxInterval > 0 {
		maxI = r.MaxInterval
	}
	if r.MaxElapsed > 0 {
		elapsed = r.MaxElapsed
	}
	return !r.Disabled, initial, maxI, elapsed
}

// logExporter builds the OTLP log exporter for t.
func (t Transport) logExporter() (sdklog.Exporter, Protocol, error) {
	if err := t.validate(); err != nil {
		return nil, "", err
	}
	proto, err := resolveProtocol(t.Protocol, envLogProtocol)
	if err != nil {
		return nil, "", err
	}
	endpoint, err := t.endpointURL(proto, "/v1/logs")
	if err != nil {
		return nil, "", err
	}
	enabled, initial, maxI, elapsed := t.Retry.values()
	if proto == ProtocolGRPC {
		var opts []otlploggrpc.Option
		if endpoint != "" {
			opts = append(opts, otlploggrpc.WithEndpointURL(endpoint))
		}
		if t.Headers != nil {
			opts = append(opts, otlploggrpc.WithHeaders(t.Headers))
		}
		if t.TLS != nil {
			opts = append(opts, otlploggrpc.WithTLSCredentials(credentials.NewTLS(t.TLS)))
		}
		if t.Compression != "" {
			c := "none"
			if t.Compression == CompressionGzip {
				c = "gzip"
			}
			opts = append(opts, otlploggrpc.WithCompressor(c))
		}
		if t.Timeout > 0 {
			opts = append(opts, otlploggrpc.WithTimeout(t.Timeout))
		}
		opts = append(opts, otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: enabled,
			InitialInterval: initial, MaxInterval: maxI, MaxElapsedTime: elapsed}))
		exp, err := otlploggrpc.New(contextBackground(), opts...)
		if err != nil {
			return nil, "", fmt.Errorf("otlp: grpc log exporter: %w", err)
		}
		return exp, proto, nil
	}
	var opts []otlploghttp.Option
	if endpoint != "" {
		opts = append(opts, otlploghttp.WithEndpointURL(endpoint))
	}
	if t.Headers != nil {
		opts = append(opts, otlploghttp.WithHeaders(t.Headers))
	}
	if t.TLS != nil {
		opts = append(opts, otlploghttp.WithTLSClientConfig(t.TLS))
	}
	switch t.Compression {
	case CompressionGzip:
		opts = append(opts, otlploghttp.WithCompression(otlploghttp.GzipCompression))
	case CompressionNone:
		opts = append(opts, otlploghttp.WithCompression(otlploghttp.NoCompression))
	}
	if t.Timeout > 0 {
		opts = append(opts, otlploghttp.WithTimeout(t.Timeout))
	}
	opts = append(opts, otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: enabled,
		InitialInterval: initial, MaxInterval: maxI, MaxElapsedTime: elapsed}))
	exp, err := otlploghttp.New(contextBackground(), opts...)
	if err != nil {
		return nil, "", fmt.Errorf("otlp: http log exporter: %w", err)
	}
	return exp, proto, nil
}
