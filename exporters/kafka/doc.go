// Package kafka exports rankscope events to an Apache Kafka topic with
// the franz-go client (github.com/twmb/franz-go): one record per event,
// keyed by the user's pseudonym, written by an idempotent producer with
// acks=all, and every accepted event either acknowledged or counted with
// a reason.
//
// # Records
//
// Each event becomes one record on Config.Topic. Its value is the event's
// JSON line as [personalize.AppendJSON] writes it (the file exporter's
// format, without the newline; [personalize.UnmarshalEvent] reads it
// back). Its key is the pseudonymized user id of the payload (UserID.ID;
// never a raw id), else its session pseudonym, else its request id; an
// event with none of them (an exposure or link recorded without a user)
// has no key, and the partitioner spreads such records. A model lineage
// record (type "model") has no user: its key is the model name, so one
// model's records stay in one partition, in order. The record
// timestamp is the time of production; the event's own time is in the
// value.
//
// # Ordering
//
// Kafka's default partitioner (murmur2 of the key, which franz-go
// implements as the Java client does) sends every record of a key to the
// same partition, and a partition keeps the order records were written.
// So one user's events stay in one partition, in the order Export
// received them: the pipeline delivers one shard's events in order, and
// Export is never called concurrently. The idempotent producer (franz-go's
// default, which this package keeps) numbers each partition's batches so
// that a retried request neither duplicates nor reorders records. Adding
// partitions to the topic moves keys: order holds within each period.
//
// # Compression
//
// Record batches are compressed with zstd by default (Config.Compression).
// On the JSON lines of 512 mixed events (BenchmarkCompression, franz-go's
// own codecs), zstd and gzip reach a compressed/raw ratio of 0.18, lz4
// and snappy 0.29: zstd batches are 38% smaller than lz4's, on the wire,
// on every broker's disk and in every replica, for about 8 µs of CPU per
// event against lz4's 4 µs and gzip's 9 µs. Consumers decode zstd cheaply;
// it needs brokers and consumers of Kafka 2.1 or later. Choose lz4 where
// producer CPU is scarcer than network and disk.
//
// # Delivery and accounting
//
// Export hands its records to the client and waits until the brokers have
// acknowledged every one (acks=all: written to every in-sync replica) or
// its context ends. It returns nil when all were delivered. Otherwise it
// returns a *[ExportError] whose Delivered method counts the acknowledged
// events, so the pipeline counts only the others as failed. Lost events
// are counted in [Stats].Dropped by [DropReason]:
//
//   - too_large: the record does not fit a record batch alone (see
//     "Record size"); the rest of the batch is delivered. Also reported
//     to Config.ErrorHandler as a *[TooLargeError].
//   - unavailable: no broker answered before the deadline at the first
//     contact, or the topic does not exist; the error names the brokers
//     and the last attempt's error (or, when the deadline cut that
//     attempt short, why the last failed connection failed).
//   - deadline: the context ended before the record was sent.
//   - failed: the brokers refused the record (a non-retryable error).
//   - shutdown: still held by the client when Shutdown closed it.
//   - encode: the event has no payload.
//
// A record already sent when the context ends cannot be abandoned
// without breaking idempotence (the broker may have written it), so
// franz-go keeps it, and retries it while a broker is unreachable. Export
// returns at its deadline anyway and counts such records as Pending;
// when their outcome is known they become Delivered (and Late: the
// pipeline had counted them failed) or Dropped, reported to the
// ErrorHandler. Shutdown flushes them and closes the client, so
//
//	Accepted == Delivered + sum(Dropped) + Pending
//
// holds whenever no Export is encoding a batch, with Pending zero after
// Shutdown: nothing is lost without being counted. Delivery is at least
// once only in the sense that an event counted dropped at Shutdown may
// already be on the broker (its request reached it, the answer did not).
//
// # Record size
//
// Config.MaxMessageBytes (default 1,000,012 bytes) bounds a record batch
// before compression, as the broker's max.message.bytes bounds it. At its
// first contact with the brokers the exporter reads the topic's
// max.message.bytes and lowers the limit to it, so batches are never
// refused whole. Before an event is produced, the size of a batch holding
// it alone is computed exactly as franz-go counts it (the 61-byte batch
// header, 4 bytes of framing, the record); an event over the limit is
// dropped as too_large and the others go on.
//
// # Bounds
//
// The client holds at most Config.MaxBufferedRecords records (default
// 10,000). Records point into the encoded batch of their Export until
// they settle; the encoded batches still referenced, including those of
// Exports that returned at their deadline, are bounded by
// Config.MaxBufferedBytes (default 64 MiB): an Export waits, up to its
// deadline, for room, then drops its events as deadline. A single batch
// larger than the bound goes alone. So the exporter holds at most
// max(MaxBufferedBytes, one encoded batch) plus the batch it is encoding;
// the pipeline bounds the batch (personalize.Config.BatchSize events).
//
// # Environment
//
// This package reads no environment variables; configuration is in code.
//
// # Concurrency
//
// The exporter follows the [personalize.Exporter] contract: Export is not
// called concurrently; ForceFlush, Shutdown and Stats may be called at any
// time from any goroutine. Config.ErrorHandler may be called from the
// Export goroutine and from franz-go's promise goroutine.
package kafka
