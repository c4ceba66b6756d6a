// Package spool is a bounded on-disk FIFO of opaque batches, used by the
// webhook exporter to keep batches it could not deliver across outages and
// restarts.
//
// # Layout
//
// Each batch is one file named "<seq>-<events>-<key>.batch" in the spool
// directory: a 20-digit sequence number (FIFO order, continued across
// restarts), the number of events in the batch, and the caller's key (an
// idempotency key made of letters, digits, '-' and '_'). Files are written
// to a temporary name, synced and renamed, so a crash leaves either a whole
// batch or a ".tmp" file that [Open] deletes. Other files in the directory
// are ignored.
//
// # Bounds
//
// MaxBytes and MaxFiles bound the directory. [Spool.Put] evicts the oldest
// batches until the new one fits and returns them so the caller can count
// the events it lost; a batch larger than MaxBytes on its own is refused
// with [ErrTooLarge].
//
// # Concurrency
//
// A Spool is safe for concurrent use by one process. Two processes must not
// share a directory.
package spool
