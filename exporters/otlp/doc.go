// Package otlp exports rankscope events as OpenTelemetry log records over
// OTLP (gRPC or HTTP/protobuf), to an OpenTelemetry Collector or any OTLP
// backend. Package [github.com/rankscope/rankscope/exporters/otlp/otlpsetup]
// sets up OTLP trace and metric providers for services that have none; it
// is separate so that this package stays light: it imports no gRPC library
// and no OpenTelemetry SDK exporter (a few dozen packages outside the
// standard library, the rankscope core included; README, "Dependencies",
// has the count and the command).
//
// # Mapping
//
// Each event becomes one log record whose event name is
// rankscope.impression, rankscope.outcome, rankscope.exposure,
// rankscope.link or rankscope.model (a model lineage record), whose timestamp is the event time, and whose typed
// attributes carry every field: semantic-convention names where one fits
// (log.record.uid for the event id, enduser.pseudo.id, session.id,
// error.type, feature_flag.key and feature_flag.result.variant for
// exposures) and rankscope.* for the rest. The items, stages, experiments
// and flags of an impression are parallel typed arrays
// (rankscope.items.id[i], rankscope.items.position[i],
// rankscope.items.score[i] ... describe item i, in ranking order); item
// explanations are flattened into three arrays (see
// [KeyItemExplanationCounts]). The full table is in docs/SCHEMA.md ("OTLP mapping"); [Decode] is the
// inverse, for receivers and tests.
//
// # One queue, one request per batch
//
// The exporter does not use the SDK's BatchProcessor: the pipeline
// already queues and batches, and a second queue would drop silently.
// Each Export call sends its batch in one OTLP request (several when it
// exceeds Config.MaxRequestBytes, see Bounds), retried within the Export
// context's deadline and the Timeout.
//
// The batch is encoded straight into an ExportLogsServiceRequest in a
// pooled buffer by a small protobuf encoder, with the resource and
// instrumentation scope encoded once, and sent by the exporter's own
// client on net/http: an HTTP POST to /v1/logs (application/x-protobuf,
// optional gzip), or a unary gRPC call to
// opentelemetry.proto.collector.logs.v1.LogsService/Export over HTTP/2
// (h2c for http:// endpoints). The requests equal, field for field, what
// the OpenTelemetry SDK's otlploghttp and otlploggrpc send for the same
// records; internal/collectortest checks this against the SDK and the
// Collector's receiver.
//
// A failed request makes Export return an error and counts its events
// in [Stats] (Failed); the pipeline counts the whole batch as failed. A
// partial success (the receiver accepted the request but rejected some
// records) returns a [*RejectedError] and counts exactly the rejected
// records (Rejected). Records are never truncated by
// OTEL_LOGRECORD_ATTRIBUTE_* limits. Every event passed to Export while
// the exporter runs is counted once in
//
//	Exported + Failed + Rejected + Dropped + DeadLettered
//
// # Configuration and environment
//
// [Transport] fields set in code win; a zero field falls back to the
// standard variables, then to the OpenTelemetry defaults:
//
//	OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_LOGS_PROTOCOL   grpc | http/protobuf (default http/protobuf)
//	OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT   default localhost:4318 (HTTP), localhost:4317 (gRPC)
//	OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_LOGS_HEADERS     key=value,...
//	OTEL_EXPORTER_OTLP_COMPRESSION, ..._LOGS_COMPRESSION            gzip | none (default none)
//	OTEL_EXPORTER_OTLP_TIMEOUT, ..._LOGS_TIMEOUT                    milliseconds (default 10000)
//	OTEL_EXPORTER_OTLP_CERTIFICATE, ..._LOGS_CERTIFICATE            CA bundle for server verification
//	OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, ..._CLIENT_KEY           client certificate for mTLS
//	OTEL_EXPORTER_OTLP_INSECURE, ..._LOGS_INSECURE                  plaintext gRPC
//	OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES                     the default Resource
//
// The signal-specific variable wins over the generic one; the signal
// endpoint is used as is, the generic one is a base to which /v1/logs is
// appended (HTTP). An endpoint's scheme decides TLS (http means
// plaintext); without one, *_INSECURE does. A malformed variable makes
// [New] fail with an error naming it (the SDK's exporters report it to
// the OpenTelemetry error handler and ignore it).
// Header values never appear in errors. otlpsetup.Setup reads the TRACES
// and METRICS variants the same way, and OTEL_METRIC_EXPORT_INTERVAL.
//
// The service name of the records' resource comes from OTEL_SERVICE_NAME
// (resource.Default); personalize.ConfigFromEnv reads the same variable
// for Config.Service, so one variable names the service everywhere (see
// README, "Configuration by environment").
//
// # Retries and waits
//
// Retries follow the OTLP specification: HTTP 429, 502, 503 and 504
// (honoring Retry-After), gRPC Unavailable, Aborted, DataLoss, OutOfRange,
// Canceled, DeadlineExceeded, and ResourceExhausted with RetryInfo
// (honoring its delay), and connections refused or lost. The waits, all
// configurable in [Transport] and [RetryConfig]:
//
//	connect         at most 5s per attempt (dial), then TLS at most 10s
//	request         Transport.Timeout (default 10s, OTEL_EXPORTER_OTLP_TIMEOUT) bounds one request and its retries
//	backoff         exponential with jitter from 5s (RetryConfig.InitialInterval) up to 30s (MaxInterval)
//	retry budget    1m (RetryConfig.MaxElapsed), cut short by the Timeout and the Export context
//	Export          the pipeline's personalize.Config.ExportTimeout (default 10s) bounds the whole call
//
// With the defaults a receiver that answers 503 gets one retry after
// about 5s, then the 10s Timeout ends the request.
//
// # No receiver
//
// If nothing listens at the endpoint (the connection is refused, or the
// host name does not resolve) and the receiver has never answered this
// exporter, Export fails at once, without retries, with an error that
// names the endpoint and matches [ErrNoReceiver]; the pipeline counts the
// batch as failed, reports it to its error handler, and
// personalize.Instrument.Shutdown returns a *personalize.DropError with
// the count and that message. A service started without a Collector so
// learns it from the first export and stops in milliseconds, not after
// the retry budget. Once the receiver has answered, a refused connection
// is taken for a restart and retried like any retryable failure.
//
// # Bounds
//
// A request is at most Config.MaxRequestBytes of encoded protobuf,
// counted before compression as receivers count it. The default, 4 MiB,
// is gRPC's default max receive message size, which the OpenTelemetry
// Collector's OTLP receiver keeps (its HTTP receiver accepts 20 MiB), so
// a stock Collector accepts every request over either protocol; set the
// receiver's limit if it is lower. A batch that does not fit is sent as
// several requests, one after the other, each filled as far as the limit
// allows; every event goes in exactly one. If one of them fails, the
// others are still sent and Export returns the error.
//
// An event whose record alone does not fit (with the resource and scope
// every request carries) is not sent but dead-lettered with reason
// "too_large" ([ReasonTooLarge]): it is handed to Config.DeadLetter if
// set, reported to Config.ErrorHandler as a [*TooLargeError], counted in
// Stats.DeadLettered, and the rest of the batch is delivered. Export does
// not fail because of it, so the pipeline counts the event as exported
// (handed over), and the exporter's Stats say how many were
// dead-lettered. An impression whose items alone exceed the limit (each
// takes at least 19 bytes) is refused before it is encoded, so an
// impression of a million items costs no encoding.
//
// The exporter keeps no queue: it holds one request's buffer while an
// Export runs.
// Request buffers are pooled; buffers over 8 MiB are not kept. A response
// is read up to 4 MiB.
//
// # Concurrency
//
// Export, ForceFlush and Shutdown are serialized (ForceFlush and Shutdown
// wait for an Export in flight, bounded by their context); Stats may be
// called at any time. Config.DeadLetter and Config.ErrorHandler are
// called by Export, on its goroutine, before it returns: they must not
// call Export, ForceFlush or Shutdown. [Decode] and [AppendAttributes]
// are safe for concurrent use.
package otlp
