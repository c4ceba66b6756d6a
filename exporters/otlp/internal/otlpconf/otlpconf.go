// Package otlpconf holds the parts of OTLP transport configuration shared
// by the log exporter (package otlp) and the trace and metric providers of
// package otlpsetup: protocol resolution from the environment, endpoint
// validation and error-safe URLs. It imports nothing outside the standard
// library, so neither package pays for the other's dependencies.
package otlpconf

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Protocol names, as in OTEL_EXPORTER_OTLP_PROTOCOL.
const (
	GRPC         = "grpc"
	HTTPProtobuf = "http/protobuf"
)

// EnvProtocol is the generic protocol variable.
const EnvProtocol = "OTEL_EXPORTER_OTLP_PROTOCOL"

// Protocol applies code > signalEnv > OTEL_EXPORTER_OTLP_PROTOCOL >
// http/protobuf. Errors name the field or variable the bad value came from.
func Protocol(code, signalEnv string) (string, error) {
	p, field := code, "Transport.Protocol"
	if p == "" {
		for _, k := range []string{signalEnv, EnvProtocol} {
			if v := strings.TrimSpace(os.Getenv(k)); v != "" {
				p, field = v, k
				break
			}
		}
	}
	switch p {
	case "":
		return HTTPProtobuf, nil
	case GRPC, HTTPProtobuf:
		return p, nil
	case "http/json":
		return "", fmt.Errorf("otlp: %s: http/json is not supported; use grpc or http/protobuf", field)
	}
	return "", fmt.Errorf("otlp: %s: must be grpc or http/protobuf, got %q", field, p)
}

// EndpointURL validates a Transport.Endpoint set in code ("" stays "") and,
// for http/protobuf, appends signalPath unless the path already ends with it.
func EndpointURL(endpoint, proto, signalPath string) (string, error) {
	if endpoint == "" {
		return "", nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("otlp: Transport.Endpoint: must be an http:// or https:// URL with a host, got %q", RedactURL(endpoint))
	}
	if proto == HTTPProtobuf && !strings.HasSuffix(u.Path, signalPath) {
		u.Path = strings.TrimSuffix(u.Path, "/") + signalPath
	}
	return u.String(), nil
}

// RedactURL drops user info and query from a URL for error messages.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparseable>"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

// Validate checks the Transport fields that need no environment:
// compression, timeout and retry intervals.
func Validate(compression string, timeout time.Duration, retryIntervals ...time.Duration) error {
	switch compression {
	case "", "gzip", "none":
	default:
		return fmt.Errorf("otlp: Transport.Compression: must be gzip or none, got %q", compression)
	}
	if timeout < 0 {
		return fmt.Errorf("otlp: Transport.Timeout: must be >= 0, got %v", timeout)
	}
	for _, d := range retryIntervals {
		if d < 0 {
			return fmt.Errorf("otlp: Transport.Retry: intervals must be >= 0, got %v", d)
		}
	}
	return nil
}

// Retry applies the defaults of otlp.RetryConfig (the OpenTelemetry
// ones): 5s initial interval, 30s max interval, 1m elapsed.
func Retry(initial, maxInterval, maxElapsed time.Duration) (time.Duration, time.Duration, time.Duration) {
	if initial <= 0 {
		initial = 5 * time.Second
	}
	if maxInterval <= 0 {
		maxInterval = 30 * time.Second
	}
	if maxElapsed <= 0 {
		maxElapsed = time.Minute
	}
	return initial, maxInterval, maxElapsed
}
