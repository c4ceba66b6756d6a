// Package personalizetest helps test code that produces or consumes
// rankscope events.
//
// # In-memory exporter
//
// [NewMemoryExporter] returns a [personalize.Exporter] that keeps deep
// copies of what it receives ([MemoryExporter.Events]), counts calls
// ([MemoryExporter.Stats]) and can be made to fail ([MemoryExporter.SetError])
// or to be slow ([MemoryExporter.SetLatency]). It keeps at most
// [DefaultMaxEvents] events unless told otherwise, dropping and counting
// the rest.
//
// # Conformance suite
//
// [TestExporter] runs the checks every exporter must pass (each event
// delivered once with every field, ForceFlush and Shutdown semantics, no
// retention of the batch slice, context cancellation, concurrent
// ForceFlush, no raw identifiers in the output). An exporter package runs
// it from its own tests with a [Harness] that builds the exporter and
// reads back what it delivered:
//
//	func TestConformance(t *testing.T) {
//		personalizetest.TestExporter(t, personalizetest.Harness{
//			New: func(t *testing.T) personalizetest.Instance { ... },
//		})
//	}
//
// # Event generators
//
// [RandomEvents], [RandomEvent] and [RandomImpression] build realistic,
// valid, pseudonymized events from a seeded math/rand/v2 source, for tests
// and benchmarks of any package. [RawIDEvents] builds events that still
// carry raw identifiers next to their pseudonyms, and [ScanRawIDs] checks
// that none of those raw ids reached an exporter's output. [CloneEvent]
// deep-copies an event.
//
// # Concurrency
//
// [MemoryExporter] is safe for concurrent use. The generators are safe for
// concurrent use with distinct *rand.Rand values (a *rand.Rand is not).
package personalizetest
