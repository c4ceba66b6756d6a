// Package kafkatest proves the Kafka exporter (exporters/kafka) against a
// real Kafka-protocol broker: franz-go's in-process fake cluster,
// github.com/twmb/franz-go/pkg/kfake, run on loopback.
//
// # Why a nested module
//
// kfake is a test-only peer; keeping it in its own module (with replace
// github.com/rankscope/rankscope => ../..) means a user's go get of
// rankscope never downloads it.
//
// # Which kfake
//
// kfake has no tagged releases: the module proxy serves it only as
// pseudo-versions, and none at the commit of franz-go v1.22.3 (the
// query github.com/twmb/franz-go/pkg/kfake@v1.22.3 is answered 404). The
// newest it serves, v0.0.0-20260918054303-01f206a7e32c, is used; it was
// written against franz-go v1.21.7, and minimal version selection builds
// it here with v1.22.3, the exporter's version, so the client under test
// is the one users get.
//
// # What the tests check
//
//   - The exporter conformance suite (personalizetest.TestExporter), each
//     record consumed back and decoded with personalize.UnmarshalEvent.
//   - Every event of 40 batches from 64 users delivered once, keyed by
//     the user's pseudonym, each user's events in one partition and in
//     the order they were exported.
//   - The broker down when the exporter starts: Export ends by its
//     deadline with an error naming the broker and every event counted
//     (unavailable); once a broker listens on that address, the next
//     Export delivers.
//   - The broker dying between Exports and during one, then coming back
//     from its data directory: every event counted as delivered is in the
//     log once, the rest counted as dropped; nothing pending after
//     Shutdown.
//   - Oversized records: the topic's max.message.bytes read from the
//     broker and enforced per record (too_large drops, the rest of the
//     batch delivered); the exact boundary against franz-go's own check.
//   - Shutdown flushes records left pending by an Export that returned at
//     its deadline (delivered late, counted in Stats.Late).
//   - No goroutine left behind (goleak in TestMain).
//
// # Running
//
//	cd internal/kafkatest && go vet ./... && go test -race -count=1 ./...
//
// # Concurrency
//
// Test helpers only; nothing here is imported by the library.
package kafkatest
