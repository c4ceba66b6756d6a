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
// A file holds one header line, then the batch's data:
//
//	rsspool1 <events> <bytes> <crc32c>\n
//
// the event count (again, as in the name), the data's size and its CRC-32C
// (Castagnoli) in 8 lowercase hex digits. [Spool.Read] checks all three
// and returns an error wrapping [ErrCorrupt] for a file that was truncated
// or altered on disk; the caller decides what to do with it (the webhook
// exporter counts its events as lost and removes it). Files without the
// header, written by earlier versions, are read unchecked.
//
// # Encryption
//
// With Config.Recipients each batch's data is encrypted with age
// (filippo.io/age) in memory before it is written; the header's size and
// CRC then describe the ciphertext, and MaxBytes counts ciphertext (about
// 200 bytes more per batch for one X25519 recipient). [Spool.Read]
// decrypts with Config.Identities; a batch that does not decrypt is
// reported like a corrupt one (wrapping [ErrCorrupt]). Open refuses
// Recipients without an identity that opens them. Batches written before
// encryption was turned on are read as they are.
//
// # Directory
//
// [Open] creates the directory if missing and creates and removes a
// temporary file in it, so a directory that cannot be written fails at
// Open rather than at the first outage.
//
// # Bounds
//
// MaxBytes and MaxFiles bound the directory. [Spool.Put] evicts the oldest
// batches until the new one fits and returns them so the caller can count
// the events it lost; a batch larger than MaxBytes on its own is refused
// with [ErrTooLarge]. MaxBytes counts data, not headers: each file adds at
// most 64 bytes of header to it.
//
// # Concurrency
//
// A Spool is safe for concurrent use by one process. Two processes must not
// share a directory.
package spool
