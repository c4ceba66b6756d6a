// Package otlpsetup builds OpenTelemetry trace and metric providers that
// export over OTLP, for services that have no OpenTelemetry setup yet:
// one call gives a TracerProvider (batching span processor) and a
// MeterProvider (periodic reader) to hand to personalize.Config
// (MeterProvider) and to the service's own instrumentation.
//
// It lives apart from package otlp, which exports rankscope's events,
// because it needs the OpenTelemetry SDK's trace and metric exporters and
// gRPC (about 200 packages); a service that already has providers imports
// only otlp.
//
// # Configuration and environment
//
// [Config] embeds [otlp.Transport]: a field set in code wins, a zero field
// falls back to the OTEL_EXPORTER_OTLP_* variables, with the TRACES and
// METRICS variants in place of LOGS, then to the OpenTelemetry defaults;
// the variables are listed in package otlp. The resource defaults to
// resource.Default(), whose service.name comes from OTEL_SERVICE_NAME,
// the variable personalize.ConfigFromEnv reads for Config.Service.
//
// # Concurrency
//
// Setup may be called from any goroutine; the providers it returns are
// safe for concurrent use, and Providers.Shutdown may be called once they
// are no longer needed.
package otlpsetup
