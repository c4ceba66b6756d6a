// Package audit keeps a tamper-evident record of who read which data and
// when: an append-only log of JSON lines, each record chained to the one
// before by a hash, so that an edited, removed, inserted or reordered
// record breaks the chain, and a head kept apart from the log makes a cut
// end detectable too.
//
// # Records and chain
//
// A [Record] holds a sequence number, the time, the accessor's identity,
// the action ("read", "view"...), the resource (a directory, a URL path)
// and Prev, the hash of the record before. Its Hash is HMAC-SHA256 under
// Config.Key (or plain SHA-256 without a key) of a length-prefixed
// encoding of all those fields. [Verify] recomputes every hash and checks
// the sequence and the links. The cmd/auditverify command runs it on a
// file.
//
// # Truncation and its limits
//
// A chain cut at the end is still a valid chain. [Config].HeadFile keeps
// the last record's (Seq, Hash) in a separate file, rewritten after every
// record; Verify against it reports a log that stops short of the head or
// differs at it. That holds only while the head is out of reach of
// whoever cut the log (another volume, host or account, or copied out
// periodically as a checkpoint): someone who can write both can roll both
// back to an earlier, consistent state. Likewise the key: without it,
// anyone can recompute the hashes after an edit; with it, only a key
// holder can. This package gives evidence, not prevention; ship the log
// and heads to write-once storage for more.
//
// # Durability
//
// With SyncEach (the default) Append fsyncs the log, then writes and
// fsyncs the head, before it returns: an accepted record survives a crash.
// A crash between the two leaves the log one record ahead of its head,
// which Verify accepts and reports in Result.Ahead. A torn last line (a
// crash mid-append) fails verification, and [Open] refuses a log that
// does not verify, so the operator sees it.
//
// # Readers
//
// Readers gate access on Append: exporters/file's ReadConfig.Audit
// records a directory read before it starts, and personalize/dashboard's
// Audited hook records a page view before it is served; if the record
// cannot be written, access is refused.
//
// # Concurrency and bounds
//
// A Log is safe for concurrent use by one process; two processes must not
// append to one file. Each field is at most [MaxFieldBytes]; Verify holds
// one record at a time.
package audit
