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
// deadline, and while the circuit breaker stays closed. Other 4xx statuses are not retried: the events go to
// Config.DeadLetter with the status. Other statuses (500, 501, ...) are not
// retried in line either: the request is spooled for replay when a spool is
// configured, else dead-lettered with its status.
//
// With Config.Spool.Dir set, requests that could not be delivered (endpoint
// down, retries exhausted, the circuit breaker open, the Export deadline or
// Shutdown's deadline reached) are written to a bounded spool directory
// and Export returns nil for them. [New] fails, naming Config.Spool.Dir,
// when it cannot create the directory or a file in it. A background
// goroutine replays the spool oldest first: right after any request
// succeeds, every Spool.ReplayInterval (doubling while replays fail, never
// sooner than a server's Retry-After), at the end of the breaker's
// cool-down, at ForceFlush and Shutdown, and when a new exporter opens the
// directory. Over MaxBytes or MaxFiles the oldest spooled requests are
// dropped and counted (DropSpoolFull). A spooled request answered with a
// 5xx status Spool.MaxReplayFailures times is dead-lettered.
//
// Each spool file carries a header with its event count, size and
// CRC-32C. Before a spooled request is sent, the file is checked against
// its header, every line must decode as an event and there must be as
// many as its name counts. A file that fails (truncated, or altered on
// disk) is not sent: its events are counted as DropSpoolCorrupt, the
// ErrorHandler receives an error wrapping [ErrSpoolCorrupt] that names the
// file, and the file is removed (not kept aside: that would be disk use
// outside the spool's bounds, and the error names what was lost).
//
// # Circuit breaker
//
// Retrying in line while the endpoint is down would hold every batch for
// up to Retry.MaxElapsed and let the pipeline's queue overflow before the
// spool is reached. A circuit breaker stops that:
//
//   - Closed (the start): requests go out with in-line retries. Every
//     attempt that fails, from Export or from a replay, counts: a
//     transport error (connection refused or reset, the per-attempt
//     Timeout) or an answer other than 2xx and 4xx (500, 502, 503...). A
//     2xx, or a 4xx other than 408 and 429, resets the count (the endpoint
//     answers); 408 and 429 neither count nor reset (Retry-After is
//     honored instead). Breaker.FailureThreshold failures in a row
//     (default 5) open the breaker, which also ends the retries of the
//     request in flight.
//   - Open: Export sends nothing: it spools each request at once (no
//     request, no retry sleep), or without a spool drops it, counted as
//     DropBreakerOpen, and returns an error wrapping [ErrBreakerOpen].
//     The opening is reported to the ErrorHandler.
//   - Half-open: after Breaker.CoolDown (default 5s) one probe request is
//     let through: the oldest spooled request, sent by the replay loop
//     when the spool holds any, else the next Export's first request
//     (without in-line retries). Meanwhile everything else is handled as
//     when open. The probe's success closes the breaker and the replay
//     loop drains the spool; its failure opens it for another CoolDown.
//
// Any successful request closes the breaker. Stats.Breaker and
// Stats.BreakerOpens show it; Breaker.Disabled turns it off.
//
// Order after an outage: the requests spooled while the endpoint was down
// are replayed one at a time, oldest first, so their events arrive in the
// order they were exported. Batches exported after the breaker closed go
// out at once, concurrently with that replay, and may arrive before older
// spooled events. A request the endpoint always answers with a 5xx status
// keeps the breaker open, probe after probe, until it is dead-lettered
// after Spool.MaxReplayFailures probes.
//
// # Accounting
//
// [Exporter.Stats] keeps
//
//	Accepted + Recovered == Delivered + DeadLettered + sum(Dropped) + SpoolEvents
//
// whenever no Export call or replay is under way (while one is, the events
// it handles may be missing from the right side). Dropped is split by
// [DropReason].
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
