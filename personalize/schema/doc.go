// Package schema is rankscope's event wire format: the event types
// (impressions, outcomes, exposures, links, model lineage records), their validation, the JSON
// lines codec and the limits every producer and reader shares. It is the
// one definition of docs/SCHEMA.md in Go: the pipeline in package
// personalize validates and encodes with it, and every reader of event
// files (exporters/file, the measurement packages, the examples) decodes
// with it.
//
// Package personalize re-exports these types under the same names
// (personalize.Event is schema.Event), so a ranking service needs only
// personalize; code that reads or writes events without running a pipeline
// (an offline job, a consumer of a Kafka topic) can import schema alone,
// which pulls in no OpenTelemetry SDK.
//
// # Encoding and decoding
//
// [AppendJSON] writes one event as a JSON line (no newline) with no
// reflection; [UnmarshalEvent] reads one back and validates it with the
// same rules as the emit path ([Event.Validate]), so offline analysis
// never sees an event the pipeline would refuse. UnmarshalEvent takes a
// hand-written [Decoder] from a pool; a goroutine decoding many lines can
// keep its own (NewDecoder), which interns short repeated strings. The
// encoding/json implementation of the same rules is kept unexported as the
// decoder's differential oracle (fuzzed against it; docs/design/codec.md).
//
// # Identity fields
//
// On every payload, UserID and SessionID are pseudonyms (wire user_id,
// session_id); User and Session are raw identifiers that exist only on the
// recording types before the pipeline pseudonymizes them.
//
// # Limits
//
// [MaxEventBytes] (4 MiB) bounds an encoded event; [CheckSize] enforces it
// cheaply, and readers accept lines up to it by default. An item's
// explanation ([Item.Explanation], [Contribution]) holds at most
// [MaxContributions] contributions with feature names of at most
// [MaxFeatureNameLen] bytes.
package schema
