// Package webhook exports rankscope events to an HTTP endpoint: batches of
// JSON events POSTed to a URL, with retries, a dead-letter path and an
// optional disk spool, so that every accepted event is either delivered or
// counted with a reason.
//
// # Requests
//
// Each Export call encodes its events with [personalize.AppendJSON] (the
// file exporter's format) and sends them as JSON lines
// (application/x-ndjson, the default) or a JSON array (application/json),
// gzip-compressed unless Config.DisableGzip. Batches larger than
// Config.MaxRequestBytes (uncompressed) are split into several requests.
// Large bodies are compressed on several cores as concatenated gzip
// members, which standard gzip readers decode as one stream.
//
// Every request carries an idempotency key (header Idempotency-Key by
// default, a UUIDv7) that stays the same across its retries and replays,
// and every event keeps its event_id, so a receiver deduplicating by key
// and event id sees each event exactly once although delivery is
// at-least-once.
//
// # Retries, dead letters and the spool
//
// Network errors and the statuses 408, 429, 502, 503 and 504 are retried
// in line with exponential backoff and jitter (Config.Retry), honoring a
// Retry-After header, within Retry.MaxElapsed and the Export context's
// deadline. Other 4xx statuses are not retried: the events go to
// Config.DeadLetter with the status. Other statuses (500, 501, ...) are not
// retried in line either: the request is spooled for replay when a spool is
// configured, else dead-lettered with its status.
//
// With Config.Spool.Dir set, requests that could not be delivered (endpoint
// down, retries exhausted, the Export deadline or Shutdown's deadline
// reached) are written to a bounded spool directory and Export returns nil
// for them. A background goroutine replays the spool oldest first: right
// after any request succeeds, every Spool.ReplayInterval (doubling while
// replays fail, never sooner than a server's Retry-After), at ForceFlush
// and Shutdown, and when a new exporter opens the directory. Over MaxBytes or MaxFiles the oldest spooled requests are
// dropped and counted (DropSpoolFull). A spooled request answered with a
// 5xx status Spool.MaxReplayFailures times is dead-lettered.
//
// # Accounting
//
// [Exporter.Stats] keeps
//
//	Accepted + Recovered == Delivered + DeadLettered + sum(Dropped) + SpoolEvents
//
// Dropped is split by [DropReason].
//
// # Secrets
//
// Header values (Config.Headers, e.g. Authorization) and the URL's user
// info and query never appear in errors, in ErrorHandler reports or in
// [Config.String]; errors name the endpoint by scheme, host and path.
//
// # Environment
//
// This package reads no environment variables; configuration is in code.
//
// # Bounds
//
// The exporter keeps no queue of its own: the pipeline batches, and Export
// holds one encoded batch (about the JSON size of its events) while it
// runs. The spool is bounded by Spool.MaxBytes (default 64 MiB) and
// Spool.MaxFiles (default 4096).
//
// # Concurrency
//
// The exporter follows the [personalize.Exporter] contract: Export is not
// called concurrently, ForceFlush, Shutdown and Stats may be called at any
// time from any goroutine. Config.DeadLetter and Config.ErrorHandler may be
// called from the Export goroutine and from the replay goroutine.
package webhook
