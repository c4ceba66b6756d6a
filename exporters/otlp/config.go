package otlp

import (
	"context"
	"crypto/tls"
	"fmt"
	"math"
	"time"

	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/rankscope/rankscope/exporters/otlp/internal/otlpconf"
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

// envLogProtocol is the logs signal's protocol variable.
const envLogProtocol = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"

// resolveProtocol applies code > signal env > generic env > default.
func resolveProtocol(p Protocol, signalEnv string) (Protocol, error) {
	s, err := otlpconf.Protocol(string(p), signalEnv)
	return Protocol(s), err
}

// endpointURL validates t.Endpoint and, for HTTP, appends signalPath.
func (t Transport) endpointURL(proto Protocol, signalPath string) (string, error) {
	return otlpconf.EndpointURL(t.Endpoint, string(proto), signalPath)
}

// redactURL drops user info and query from a URL for error messages.
func redactURL(s string) string { return otlpconf.RedactURL(s) }

func (t Transport) validate() error {
	r := t.Retry
	return otlpconf.Validate(string(t.Compression), t.Timeout, r.InitialInterval, r.MaxInterval, r.MaxElapsed)
}

func (r RetryConfig) values() (enabled bool, initial, maxI, elapsed time.Duration) {
	initial, maxI, elapsed = otlpconf.Retry(r.InitialInterval, r.MaxInterval, r.MaxElapsed)
	return !r.Disabled, initial, maxI, elapsed
}
