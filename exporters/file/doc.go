// Package file writes rankscope events to rotating JSON-lines files and
// reads them back.
//
// # Writing
//
// [New] returns an [Exporter] (a personalize.Exporter named "file") that
// appends one line per event in the format of personalize.AppendJSON
// (docs/SCHEMA.md) to files in Config.Dir:
//
//	events-20261102T090000.000000000Z-000000.jsonl        closed, complete
//	events-20261102T100000.000000000Z-000001.jsonl.open   being written
//
// The name holds the UTC creation time and a sequence number, so names sort
// by creation. The file being written carries the suffix ".open"; when it
// is rotated or the exporter shut down it is synced to stable storage,
// closed and renamed to its final name (and the directory synced).
// A closed file therefore always ends with a whole line; only a ".open"
// file left by a crash can end with a torn one. A rotated file is finished
// in the background while Export writes the next one, one file at a time;
// the next rotation, ForceFlush, Shutdown and a failed Export wait for it
// and return its error, if any.
//
// Files are created with permissions 0600; New creates a missing directory
// with 0700, and fails, naming Config.Dir, if it cannot create a file in
// it (it creates and removes a probe file). A file is rotated before a
// line would take it past Config.MaxBytes (default 64 MiB; a single longer
// line gets a file of its own) and once it is Config.MaxAge old (default
// 1h; checked on Export and ForceFlush). A line is never split across
// files. No event file is created until the first event.
//
// Export encodes outside the lock into pooled buffers of Config.BufferSize
// bytes (default 256 KiB, at most 512 KiB) and writes each buffer's whole
// lines to the file under the lock, in one write call. It holds no event
// data after it returns: a nil return means every line is in the file (the
// operating system's cache), where it survives a crash of the process. A
// batch of 64 events or more is encoded by Config.Encoders goroutines
// (default 1: on the calling goroutine), 32 events per chunk, while Export
// joins the chunks in order into such buffers and writes them; the
// goroutines end before Export returns. Memory is bounded, per concurrent
// Export, by one buffer of Config.BufferSize plus, for a parallel batch, at
// most 2×Encoders chunk buffers of 32 events. ForceFlush fsyncs the file;
// Shutdown syncs and closes it, and is idempotent. Export after Shutdown
// fails with [ErrClosed].
//
// On Linux the exporter gives the page cache back: a file synced at
// rotation or Shutdown is dropped from it, so a long run does not fill
// the machine's (or the container's) memory with cached lines, and the
// next file's writes reuse warm pages. This changes nothing about
// durability. Set Config.KeepPageCache when something reads the closed
// files right after rotation and should find them in memory.
//
// On Linux the exporter also allocates the active file's disk blocks
// ahead of its lines, 8 MiB at a time (at most up to MaxBytes), with
// fallocate(2) keeping the file's size: a file system that allocates at
// each write (ext4) then has less to do per line. The file's size is
// always that of its whole lines, so readers see nothing past them, and
// a file gives back the blocks it did not use when it is finished (at
// rotation or Shutdown; a write error's cut does the same). A file system
// that refuses (no fallocate, or less free space than the step) is
// written as it would be without, and is asked again only for the next
// file. Two things show: `du` counts up to 8 MiB more for the active
// file than its size, and a crashed writer's ".open" file keeps those
// blocks until it is removed (by Retention, with the rest) or truncated
// to its size.
//
// # Write errors
//
// On a write error (a full disk) Export stops. The lines that reached the
// file whole stay; the file is cut back to its last whole line and closed,
// or removed if no whole line reached it, so no empty file is left
// behind; the next Export starts a new file. Every error Export returns is
// a *[WriteError] saying how many events of the batch were written
// (Written) and how many were not (Failed); its Delivered method returns
// Written, so a pipeline that looks for interface{ Delivered() int } on
// export errors counts the written part of the batch as exported and only
// the rest as failed. [Exporter.Stats] keeps the totals: Exported counts
// the lines written, Failed the events that were not.
//
// # Reading
//
// [ReadDir] streams every event of a directory to a callback, and
// [NewReader] returns a pull-style [Reader]; [ReadConfig] holds the
// options of both. Files are read in creation order, lines in order. Lines
// are at most [DefaultMaxLineBytes] (4 MiB, the pipeline's own event limit) unless configured.
//
// The last line of a ".open" file may be torn: a writer crashed, or is
// still writing. A last line without its newline, or whose bytes do not
// decode, is reported in [ReadStats].Torn as a [TornLineError] (file,
// line, offset), after every line before it was delivered; it is not an
// error of the read. A newline ends every line the exporter writes, so a
// line counts only once its newline is written, and a reader following a
// live writer can resume at the torn line's offset.
//
// A malformed line anywhere else stops the read with a [LineError] naming
// the file, line number and offset, or, with ReadConfig.SkipMalformed, is
// skipped and counted in ReadStats.Skipped. Blank lines are ignored. A
// closed file whose last line lacks a newline (not one the exporter wrote)
// is read leniently: the line is delivered if it decodes.
//
// # Encryption
//
// With Config.Recipients (age recipients, e.g. an *age.X25519Recipient
// from age.ParseX25519Recipient) every file is one age stream
// (age-encryption.org/v1, readable by the age command) named ".jsonl.age"
// (".jsonl.age.open" while written); nothing is written in the clear.
// ReadConfig.Identities decrypts them, and a read of an encrypted file
// without identities fails with [ErrNoIdentity]. age seals 64 KiB chunks
// of plaintext and marks the last one final, so:
//
//   - up to 64 KiB of the latest lines wait in memory, encrypted only when
//     the next chunk begins; a crash of the process loses them, and
//     ForceFlush and Shutdown finish the file (ForceFlush rotates) to put
//     every line on disk;
//   - a crashed writer's ".open" file ends in a chunk that is cut short or
//     not final: the reader delivers the lines of the whole chunks before
//     it and reports the rest as one torn line whose cause is a
//     *[DecryptError], like a torn plain file; in a closed file the same
//     damage (or an altered chunk, which authentication detects) is a
//     malformed line;
//   - a failed write cannot cut the file back to a line: the file is cut
//     to its last whole chunk and left ".open" (the reader reports the
//     tail as torn), and the lines written by earlier Exports that were
//     still in the buffer are counted in [Stats].Lost.
//
// Encryption runs under the exporter's lock (it is one stream per file),
// costing about 1.2 to 1.7 µs of CPU per 2 KB event on the 2-core test VM
// (see README, "Governance").
//
// # Retention
//
// Config.Retention deletes the files of Config.Prefix whose creation time
// (in the name) is older than Retention: closed files, and ".open" files
// left by crashed writers, never the active file. It runs at New (an
// error there fails New), when a new file opens and on ForceFlush, at most
// once a minute; no goroutine. A file holds events from its creation up to
// MaxAge later, so an event is kept at most Retention (plus the time until
// the next check) and at least Retention − MaxAge. Deletions are counted in
// [Stats].Expired, failures in Stats.ExpireErrors.
//
// # Erasure and data-subject access
//
// [Erase] removes one person's records from the files of a directory, for
// an erasure request; [Access] writes them to an io.Writer as JSON lines,
// for an access request. The person is a [Subject]: the pseudonyms of
// their user id (and, optionally, session ids) under every key of the
// keyring ([NewSubject]), so records made before a key rotation are found
// too. A record is theirs if its user_id is one of those pseudonyms, or if
// it has no user_id and its session_id is one of their sessions, given or
// named by one of their link events anywhere in the directory (a session
// linked under one key is known under that key only). A record carrying
// another user's id is never theirs, even in their session (a shared
// device). Anonymous records of a session linked to several users go with
// any of them.
//
// Erase reads every file first (to collect the linked sessions and to fail
// on damage or missing keys before changing anything), then replaces each
// file that held a record of the subject by a copy without them: written
// to a temporary file in the directory (".<name>.erase-*.tmp", ignored by
// readers), fsynced, renamed over the file, the directory fsynced. A crash
// or error leaves the old file or the new one, never a cut one; the next
// Erase removes a crashed one's temporary file. The kept lines stay
// byte for byte and in order; an encrypted file is decrypted with
// Identities and encrypted again to Recipients (required, and checked to
// be readable by Identities). Lines that do not decode are kept unless
// they hold one of the subject's pseudonyms.
//
// Erase leaves ".open" files alone unless asked (and counts the subject's
// records in them): a running exporter writes to its ".open" file through
// a descriptor, so a rewrite would lose what it writes afterwards. Erase
// after the exporter rotated the file (ForceFlush rotates an encrypted
// file; MaxAge or MaxBytes a plain one) or with the exporter stopped, and
// stop new records first (privacy.OptOutSet). If Retention deletes a file
// while Erase rewrites it, the rename brings the rewritten copy back until
// the next retention check deletes it again. Files of other formats
// (Parquet partitions of exporters/parquet) are refused, or skipped and
// counted; they must be erased by their own means.
//
// # Concurrency
//
// An [Exporter] is safe for concurrent use: the pipeline's single Export
// goroutine may run alongside ForceFlush, Shutdown and Stats, and
// concurrent Exports interleave whole chunks of lines. A [Reader] is not safe for
// concurrent use; separate readers of one directory are independent.
// Erase and Access may run beside readers and exporters (see above for
// ".open" files); two erasures of one directory exclude each other with
// a lock file (".erase.lock", flock on Unix).
package file
