// Package retry computes exponential backoff delays with jitter and parses
// HTTP Retry-After headers for the exporters of rankscope.
//
// # Policy
//
// A [Policy] describes when to stop (MaxElapsed, MaxAttempts) and how long
// to wait between attempts: InitialInterval * Multiplier^(attempt-1),
// capped at MaxInterval, then randomized by ±Jitter (a fraction). A server's
// Retry-After, when present, replaces the computed delay (it is never
// shortened, only checked against the remaining budget).
//
// # Concurrency
//
// A Policy is a value and safe for concurrent use. [Backoff] holds the state
// of one retried operation and is not safe for concurrent use.
package retry
