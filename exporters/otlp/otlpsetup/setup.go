package otlpsetup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc/credentials"

	"github.com/rankscope/rankscope/exporters/otlp"
	"github.com/rankscope/rankscope/exporters/otlp/internal/otlpconf"
)

// Config configures [Setup]. The zero value sends traces and metrics to
// the endpoint the environment names, with the defaults.
type Config struct {
	// Transport is read as the log exporter reads it, with the TRACES
	// and METRICS variables in place of the LOGS ones.
	otlp.Transport

	// Resource describes the service; default resource.Default().
	Resource *resource.Resource

	// MetricInterval is the period of the metric reader; default 10s
	// (OTEL_METRIC_EXPORT_INTERVAL is honored when this is zero).
	MetricInterval time.Duration

	// DisableTraces and DisableMetrics skip building that provider.
	DisableTraces, DisableMetrics bool

	// SetGlobal installs the providers as the OpenTelemetry globals.
	SetGlobal bool
}

// Providers are the SDK providers built by [Setup]. A nil field was
// disabled.
type Providers struct {
	TracerProvider *sdktrace.TracerProvider
	MeterProvider  *sdkmetric.MeterProvider
}

// Shutdown flushes and stops both providers.
func (p *Providers) Shutdown(ctx context.Context) error {
	var errs []error
	if p.TracerProvider != nil {
		errs = append(errs, p.TracerProvider.Shutdown(ctx))
	}
	if p.MeterProvider != nil {
		errs = append(errs, p.MeterProvider.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// Setup builds a TracerProvider (batching span processor) and a
// MeterProvider (periodic reader) exporting over OTLP, for services that
// have no OpenTelemetry setup yet. Services that already have providers
// pass theirs to personalize.Config.MeterProvider (and their tracer through
// the context) instead. Setup connects lazily; it fails only on invalid
// configuration.
func Setup(ctx context.Context, cfg Config) (*Providers, error) {
	t := cfg.Transport
	if err := otlpconf.Validate(string(t.Compression), t.Timeout, t.Retry.InitialInterval, t.Retry.MaxInterval, t.Retry.MaxElapsed); err != nil {
		return nil, err
	}
	if cfg.MetricInterval < 0 {
		return nil, fmt.Errorf("otlpsetup: Config.MetricInterval: must be >= 0, got %v", cfg.MetricInterval)
	}
	res := cfg.Resource
	if res == nil {
		res = resource.Default()
	}
	p := &Providers{}
	if !cfg.DisableTraces {
		exp, err := traceExporter(ctx, cfg.Transport)
		if err != nil {
			return nil, err
		}
		p.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	}
	if !cfg.DisableMetrics {
		exp, err := metricExporter(ctx, cfg.Transport)
		if err != nil {
			_ = p.Shutdown(ctx)
			return nil, err
		}
		var ropts []sdkmetric.PeriodicReaderOption
		if cfg.MetricInterval > 0 {
			ropts = append(ropts, sdkmetric.WithInterval(cfg.MetricInterval))
		}
		p.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, ropts...)),
			sdkmetric.WithResource(res))
	}
	if cfg.SetGlobal {
		if p.TracerProvider != nil {
			otel.SetTracerProvider(p.TracerProvider)
		}
		if p.MeterProvider != nil {
			otel.SetMeterProvider(p.MeterProvider)
		}
	}
	return p, nil
}

func traceExporter(ctx context.Context, t otlp.Transport) (sdktrace.SpanExporter, error) {
	proto, err := otlpconf.Protocol(string(t.Protocol), "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if err != nil {
		return nil, err
	}
	endpoint, err := otlpconf.EndpointURL(t.Endpoint, proto, "/v1/traces")
	if err != nil {
		return nil, err
	}
	enabled, initial, maxI, elapsed := retryValues(t.Retry)
	if proto == otlpconf.GRPC {
		var opts []otlptracegrpc.Option
		if endpoint != "" {
			opts = append(opts, otlptracegrpc.WithEndpointURL(endpoint))
		}
		if t.Headers != nil {
			opts = append(opts, otlptracegrpc.WithHeaders(t.Headers))
		}
		if t.TLS != nil {
			opts = append(opts, otlptracegrpc.WithTLSCredentials(credentials.NewTLS(t.TLS)))
		}
		if t.Compression != "" {
			opts = append(opts, otlptracegrpc.WithCompressor(grpcCompressor(t.Compression)))
		}
		if t.Timeout > 0 {
			opts = append(opts, otlptracegrpc.WithTimeout(t.Timeout))
		}
		opts = append(opts, otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: enabled,
			InitialInterval: initial, MaxInterval: maxI, MaxElapsedTime: elapsed}))
		exp, err := otlptracegrpc.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("otlpsetup: grpc trace exporter: %w", err)
		}
		return exp, nil
	}
	var opts []otlptracehttp.Option
	if endpoint != "" {
		opts = append(opts, otlptracehttp.WithEndpointURL(endpoint))
	}
	if t.Headers != nil {
		opts = append(opts, otlptracehttp.WithHeaders(t.Headers))
	}
	if t.TLS != nil {
		opts = append(opts, otlptracehttp.WithTLSClientConfig(t.TLS))
	}
	switch t.Compression {
	case otlp.CompressionGzip:
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	case otlp.CompressionNone:
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.NoCompression))
	}
	if t.Timeout > 0 {
		opts = append(opts, otlptracehttp.WithTimeout(t.Timeout))
	}
	opts = append(opts, otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: enabled,
		InitialInterval: initial, MaxInterval: maxI, MaxElapsedTime: elapsed}))
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("otlpsetup: http trace exporter: %w", err)
	}
	return exp, nil
}

func metricExporter(ctx context.Context, t otlp.Transport) (sdkmetric.Exporter, error) {
	proto, err := otlpconf.Protocol(string(t.Protocol), "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL")
	if err != nil {
		return nil, err
	}
	endpoint, err := otlpconf.EndpointURL(t.Endpoint, proto, "/v1/metrics")
	if err != nil {
		return nil, err
	}
	enabled, initial, maxI, elapsed := retryValues(t.Retry)
	if proto == otlpconf.GRPC {
		var opts []otlpmetricgrpc.Option
		if endpoint != "" {
			opts = append(opts, otlpmetricgrpc.WithEndpointURL(endpoint))
		}
		if t.Headers != nil {
			opts = append(opts, otlpmetricgrpc.WithHeaders(t.Headers))
		}
		if t.TLS != nil {
			opts = append(opts, otlpmetricgrpc.WithTLSCredentials(credentials.NewTLS(t.TLS)))
		}
		if t.Compression != "" {
			opts = append(opts, otlpmetricgrpc.WithCompressor(grpcCompressor(t.Compression)))
		}
		if t.Timeout > 0 {
			opts = append(opts, otlpmetricgrpc.WithTimeout(t.Timeout))
		}
		opts = append(opts, otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: enabled,
			InitialInterval: initial, MaxInterval: maxI, MaxElapsedTime: elapsed}))
		exp, err := otlpmetricgrpc.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("otlpsetup: grpc metric exporter: %w", err)
		}
		return exp, nil
	}
	var opts []otlpmetrichttp.Option
	if endpoint != "" {
		opts = append(opts, otlpmetrichttp.WithEndpointURL(endpoint))
	}
	if t.Headers != nil {
		opts = append(opts, otlpmetrichttp.WithHeaders(t.Headers))
	}
	if t.TLS != nil {
		opts = append(opts, otlpmetrichttp.WithTLSClientConfig(t.TLS))
	}
	switch t.Compression {
	case otlp.CompressionGzip:
		opts = append(opts, otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression))
	case otlp.CompressionNone:
		opts = append(opts, otlpmetrichttp.WithCompression(otlpmetrichttp.NoCompression))
	}
	if t.Timeout > 0 {
		opts = append(opts, otlpmetrichttp.WithTimeout(t.Timeout))
	}
	opts = append(opts, otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: enabled,
		InitialInterval: initial, MaxInterval: maxI, MaxElapsedTime: elapsed}))
	exp, err := otlpmetrichttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("otlpsetup: http metric exporter: %w", err)
	}
	return exp, nil
}

func grpcCompressor(c otlp.Compression) string {
	if c == otlp.CompressionGzip {
		return "gzip"
	}
	return "none"
}

// retryValues applies the documented defaults of otlp.RetryConfig.
func retryValues(r otlp.RetryConfig) (enabled bool, initial, maxI, elapsed time.Duration) {
	initial, maxI, elapsed = otlpconf.Retry(r.InitialInterval, r.MaxInterval, r.MaxElapsed)
	return !r.Disabled, initial, maxI, elapsed
}
