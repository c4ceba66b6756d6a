// Package collectortest proves the OTLP exporter (exporters/otlp) against
// the official OpenTelemetry Collector receiver
// (go.opentelemetry.io/collector/receiver/otlpreceiver v0.165.0, core
// modules v1.71.0), run in process on loopback over gRPC and HTTP.
//
// # Why a nested module
//
// The Collector pulls in a large dependency graph; keeping it in its own
// module (with replace github.com/rankscope/rankscope => ../..) means a
// user's go get of rankscope never downloads it.
//
// # What the tests check
//
//   - Every event sent arrives once, with every field (decoded back with
//     otlp.Decode and compared by its JSON encoding), in order, with its
//     event name and instrumentation scope, over both transports.
//   - The exporter conformance suite (personalizetest.TestExporter) passes
//     against the receiver.
//   - The exporter's direct path (its own protobuf encoder, the default)
//     and its SDK path produce the same request once decoded by the
//     Collector's pdata (TestDirectMatchesSDKInPdata).
//   - Faults: the Collector's pipeline refusing deliveries (retried, each
//     event once); the Collector stopped and restarted on the same ports
//     (retried until it is back; duplicates only from the retried batch);
//     unreachable past the retry budget (the batch fails and is counted).
//   - Request size: with the receiver's limits lowered (HTTP
//     max_request_body_size 256 KiB, gRPC max_recv_msg_size_mib 1) and
//     Config.MaxRequestBytes set to match, a batch of 1000 events is split
//     into requests the receiver accepts, and two events too large for any
//     request (100,000 items; a context value as large as the limit) are
//     dead-lettered as too_large while the 1000 arrive
//     (TestCollectorRequestLimit). With a stock receiver and the
//     exporter's defaults, an impression of 1,000,000 items no longer takes
//     the 511 other events of its batch down, and 6 MB of good events go
//     out in two requests under gRPC's 4 MiB (TestCollectorDefaultLimits).
//
// BenchmarkCollector measures events/s through the exporter into the
// receiver, direct path against SDK path in the same run;
// BenchmarkCollectorParallel runs two exporters at once;
// BenchmarkReceiverDecode measures the receiver's own decoding (pdata)
// of the same requests, which bounds the end-to-end figure.
//
// # Running
//
//	cd internal/collectortest && go vet ./... && go test -race -count=1 ./...
//
// After the root module's go.mod changes, refresh this module's
// requirements with go mod tidy -e (-e because a test-only dependency of
// some Collector modules is not served by the proxy).
//
// # Concurrency
//
// Test helpers only; nothing here is imported by the library.
package collectortest
