// Package otlp exports rankscope events as OpenTelemetry log records over
// OTLP (gRPC or HTTP/protobuf), to an OpenTelemetry Collector or any OTLP
// backend, and sets up OTLP trace and metric providers for services that
// have none.
//
// # Mapping
//
// Each event becomes one log record whose event name is
// rankscope.impression, rankscope.outcome, rankscope.exposure or
// rankscope.link, whose timestamp is the event time, and whose typed
// attributes carry every field: semantic-convention names where one fits
// (log.record.uid for the event id, enduser.pseudo.id, session.id,
// error.type, feature_flag.key and feature_flag.result.variant for
// exposures) and rankscope.* for the rest. The items, stages, experiments
// and flags of an impression are parallel typed arrays
// (rankscope.items.id[i], rankscope.items.position[i],
// rankscope.items.score[i] ... describe item i, in ranking order). The
// full table is in docs/SCHEMA.md ("OTLP mapping"); [Decode] is the
// inverse, for receivers and tests.
//
// # One queue, two paths
//
// The exporter does not use the SDK's BatchProcessor: the pipeline
// already queues and batches, and a second queue would drop silently.
// Each Export call sends its batch in one OTLP request, retried within
// the Export context's deadline and the Timeout.
//
// By default (the direct path) the batch is encoded straight into an
// ExportLogsServiceRequest in a pooled buffer by a small protobuf
// encoder, with the resource and instrumentation scope encoded once, and
// sent by the exporter's own client: an HTTP POST to /v1/logs
// (application/x-protobuf, optional gzip) or a gRPC call to
// opentelemetry.proto.collector.logs.v1.LogsService/Export whose codec
// passes the bytes through. Retries follow the OTLP specification: HTTP
// 429, 502, 503 and 504 (honoring Retry-After), gRPC Unavailable,
// Aborted, DataLoss... and ResourceExhausted with RetryInfo (honoring its
// delay), and refused or dropped connections. With Config.UseSDK (or
// Config.LogExporter) events become SDK log records sent by the
// OpenTelemetry SDK's otlploghttp/otlploggrpc exporters instead (the SDK
// path): the same records, several times slower. Both paths send the
// same attributes (they share one mapping) and read the same variables.
//
// A failed export returns an error and counts every event of the batch
// in [Stats] (Failed); the pipeline counts it too. A partial success (the
// receiver accepted the request but rejected some records) returns a
// [*RejectedError] and counts exactly the rejected records (Rejected).
// Records are never truncated by OTEL_LOGRECORD_ATTRIBUTE_* limits.
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
// plaintext); without one, *_INSECURE does. On the direct path a
// malformed variable makes [New] fail with an error naming it (the SDK
// path reports it to the OpenTelemetry error handler and ignores it).
// Header values never appear in errors. [Setup] reads the TRACES and
// METRICS variants the same way, and OTEL_METRIC_EXPORT_INTERVAL.
//
// # Bounds
//
// The exporter keeps no queue: it holds one batch's request (direct
// path) or records (SDK path) while an Export runs. Request buffers are
// pooled; buffers over 8 MiB are not kept. An HTTP request body is
// limited to 64 MiB, as in the SDK exporter; a response is read up to 4
// MiB.
//
// # Concurrency
//
// Export, ForceFlush and Shutdown are serialized (ForceFlush and Shutdown
// wait for an Export in flight, bounded by their context); Stats may be
// called at any time. [Decode] and [AppendAttributes] are safe for
// concurrent use.
package otlp
