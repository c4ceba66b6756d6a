package audit

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode/utf8"
)

// MaxFieldBytes bounds Accessor, Action and Resource of a record.
const MaxFieldBytes = 4096

// maxLineBytes bounds a record's line when reading a log.
const maxLineBytes = 4*MaxFieldBytes + 512

// Record is one access: who (Accessor) did what (Action) to which data
// (Resource) and when, chained to the record before it by Prev.
type Record struct {
	Seq      uint64    `json:"seq"` // 1 for the first record, then +1
	Time     time.Time `json:"time"`
	Accessor string    `json:"accessor"`
	Action   string    `json:"action"`
	Resource string    `json:"resource"`
	// Prev is the Hash of the record before (64 zero digits for the first).
	Prev string `json:"prev"`
	// Hash is hex(HMAC-SHA256(key, canonical record)) with a key, or
	// hex(SHA-256(canonical record)) without; canonical covers every field
	// above, Prev included, so each record commits to all before it.
	Hash string `json:"hash"`
}

// Head is the end of a log: the last record's sequence number and hash.
// Kept apart from the log, it makes truncation detectable.
type Head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

var zeroHash = hex.EncodeToString(make([]byte, sha256.Size))

// Sync is the fsync policy of a [Log].
type Sync int

const (
	// SyncEach fsyncs the log (and the head file) after every record,
	// before Append returns: a record Append accepted survives a crash of
	// the machine. The default: audit records are few and each one is
	// evidence.
	SyncEach Sync = iota
	// SyncNone leaves writing back to the operating system: a crash of
	// the machine (not of the process) can lose the last records, which
	// Verify then reports as a truncation against a head that was synced
	// separately.
	SyncNone
)

// Config configures a [Log].
type Config struct {
	// Path of the log file, created 0600 if missing. Required.
	Path string
	// Key, if set (at least 32 bytes of secret randomness), makes each
	// hash an HMAC-SHA256: without the key nobody can rewrite the chain
	// after an edit. Without a key the chain is plain SHA-256, which
	// detects edits only by someone who did not recompute the hashes
	// after theirs (e.g. a careless or partial edit), or given a head kept
	// out of the editor's reach.
	Key []byte
	// HeadFile, if set, receives the [Head] after every record (written
	// to a temporary file and renamed). Keep it where whoever can write
	// the log cannot (another volume, host or account): Verify against it
	// detects a truncated log, which the chain alone cannot.
	HeadFile string
	// Sync is the fsync policy; default SyncEach.
	Sync Sync
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Log is an append-only, hash-chained audit log of JSON lines. It is safe
// for concurrent use within one process; two processes must not append to
// one log.
type Log struct {
	cfg  Config
	mu   sync.Mutex
	f    *os.File
	head Head
	err  error // sticky write error
}

// Open opens (or creates) the log at cfg.Path, verifies the records it
// already holds (and, if cfg.HeadFile exists, that the log reaches its
// head) and returns a log that appends after the last one. A log that
// fails verification is not opened: appending to a tampered chain would
// launder it.
func Open(cfg Config) (*Log, error) {
	if cfg.Path == "" {
		return nil, errors.New("audit: Config.Path: required")
	}
	if cfg.Key != nil && len(cfg.Key) < 32 {
		return nil, fmt.Errorf("audit: Config.Key: at least 32 bytes, got %d", len(cfg.Key))
	}
	if cfg.Sync != SyncEach && cfg.Sync != SyncNone {
		return nil, fmt.Errorf("audit: Config.Sync: unknown %d", cfg.Sync)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	f, err := os.OpenFile(cfg.Path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: Config.Path: %w", err)
	}
	var head *Head
	if cfg.HeadFile != "" {
		h, err := ReadHead(cfg.HeadFile)
		switch {
		case err == nil:
			head = &h
		case !errors.Is(err, os.ErrNotExist):
			f.Close()
			return nil, fmt.Errorf("audit: Config.HeadFile: %w", err)
		}
	}
	res, err := Verify(f, cfg.Key, head)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: Open %s: %w", cfg.Path, err)
	}
	return &Log{cfg: cfg, f: f, head: res.Last}, nil
}

// Head returns the end of the log.
func (l *Log) Head() Head {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head
}

// Append records that accessor performed action on resource, now. The
// three are required, valid UTF-8 without control characters, at most
// MaxFieldBytes each; an error names the bad one. A write error is
// returned by this and every later Append: callers that gate access on
// Append (as the readers do) then refuse access rather than go unlogged.
func (l *Log) Append(accessor, action, resource string) error {
	for _, f := range [...]struct{ name, v string }{{"accessor", accessor}, {"action", action}, {"resource", resource}} {
		if err := checkField(f.name, f.v); err != nil {
			return err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if l.f == nil {
		return errors.New("audit: log is closed")
	}
	r := Record{Seq: l.head.Seq + 1, Time: l.cfg.Now().UTC(), Accessor: accessor, Action: action,
		Resource: resource, Prev: l.head.Hash}
	if r.Prev == "" {
		r.Prev = zeroHash
	}
	r.Hash = hashRecord(l.cfg.Key, &r)
	line, err := json.Marshal(&r)
	if err != nil {
		return fmt.Errorf("audit: encode: %w", err)
	}
	if _, err := l.f.Write(append(line, '\n')); err != nil {
		l.err = fmt.Errorf("audit: write %s: %w", l.cfg.Path, err)
		return l.err
	}
	if l.cfg.Sync == SyncEach {
		if err := l.f.Sync(); err != nil {
			l.err = fmt.Errorf("audit: sync %s: %w", l.cfg.Path, err)
			return l.err
		}
	}
	l.head = Head{Seq: r.Seq, Hash: r.Hash}
	if l.cfg.HeadFile != "" {
		if err := writeHead(l.cfg.HeadFile, l.head, l.cfg.Sync == SyncEach); err != nil {
			l.err = err
			return err
		}
	}
	return nil
}

// Close closes the log file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

func checkField(name, v string) error {
	switch {
	case v == "":
		return fmt.Errorf("audit: %s: required", name)
	case len(v) > MaxFieldBytes:
		return fmt.Errorf("audit: %s: longer than %d bytes", name, MaxFieldBytes)
	case !utf8.ValidString(v):
		return fmt.Errorf("audit: %s: not valid UTF-8", name)
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("audit: %s: control character %U", name, c)
		}
	}
	return nil
}

// hashRecord computes r's hash over a length-prefixed encoding of every
// field but Hash.
func hashRecord(key []byte, r *Record) string {
	var h hash.Hash
	if key != nil {
		h = hmac.New(sha256.New, key)
	} else {
		h = sha256.New()
	}
	var b [8]byte
	h.Write([]byte("rankscope-audit-v1\x00"))
	binary.BigEndian.PutUint64(b[:], r.Seq)
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], uint64(r.Time.UnixNano()))
	h.Write(b[:])
	for _, s := range [...]string{r.Accessor, r.Action, r.Resource, r.Prev} {
		binary.BigEndian.PutUint64(b[:], uint64(len(s)))
		h.Write(b[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeHead replaces the head file atomically.
func writeHead(path string, h Head, sync bool) error {
	b, _ := json.Marshal(h)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("audit: head %s: %w", path, err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil && sync {
		if d, derr := os.Open(filepath.Dir(path)); derr == nil {
			err = d.Sync()
			d.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("audit: head %s: %w", path, err)
	}
	return nil
}

// ReadHead reads a head file written by a [Log].
func ReadHead(path string) (Head, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Head{}, err
	}
	var h Head
	if err := json.Unmarshal(b, &h); err != nil {
		return Head{}, fmt.Errorf("audit: head %s: %w", path, err)
	}
	if h.Seq > 0 && !isHash(h.Hash) {
		return Head{}, fmt.Errorf("audit: head %s: hash: not 64 hex digits", path)
	}
	return h, nil
}

func isHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// VerifyError locates the first problem Verify found.
type VerifyError struct {
	Line    int    // 1-based line of the log; 0 for a problem with the end
	Seq     uint64 // the record's sequence number, if it parsed
	Problem string
}

func (e *VerifyError) Error() string {
	if e.Line == 0 {
		return "audit: verify: " + e.Problem
	}
	return fmt.Sprintf("audit: verify: line %d (seq %d): %s", e.Line, e.Seq, e.Problem)
}

// Result is what Verify checked.
type Result struct {
	Records int
	Last    Head // the last record's; zero for an empty log
	// Ahead is how many records the log holds beyond the head given to
	// Verify: a crash between writing a record and its head leaves 1.
	Ahead int
}

// Verify reads a log from r and checks every record: well-formed, fields
// valid, sequence numbers 1, 2, 3..., each Prev equal to the Hash before,
// each Hash recomputed with key (nil: plain SHA-256). That detects an
// edited, inserted, deleted or reordered record. If head is not nil the
// log must reach it: a log whose records stop before head.Seq, or whose
// record head.Seq has another hash, was truncated or rewritten. The first
// problem is returned as a *[VerifyError].
//
// What it cannot detect: without head, records cut from the end (the rest
// is a valid chain); without key, a log rewritten from the edit onward
// with recomputed hashes (and, with a head, one whose head was rewritten
// too); with key, a rewrite by someone who holds the key. Keep the key and
// the head out of reach of whoever can write the log.
func Verify(r io.Reader, key []byte, head *Head) (Result, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var res Result
	prev := zeroHash
	headHashSeen := false
	for line := 1; ; line++ {
		b, err := readLine(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, &VerifyError{Line: line, Problem: err.Error()}
		}
		var rec Record
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return res, &VerifyError{Line: line, Problem: "malformed record: " + err.Error()}
		}
		ve := func(p string) error { return &VerifyError{Line: line, Seq: rec.Seq, Problem: p} }
		switch {
		case rec.Seq != uint64(line):
			return res, ve(fmt.Sprintf("sequence number %d, want %d (a record removed, inserted or moved)", rec.Seq, line))
		case rec.Prev != prev:
			return res, ve("prev does not match the hash of the record before (removed, inserted or moved)")
		}
		for _, f := range [...]struct{ name, v string }{{"accessor", rec.Accessor}, {"action", rec.Action}, {"resource", rec.Resource}} {
			if err := checkField(f.name, f.v); err != nil {
				return res, ve(err.Error())
			}
		}
		if !hmac.Equal([]byte(hashRecord(key, &rec)), []byte(rec.Hash)) {
			return res, ve("hash does not match the record (edited, or the wrong key)")
		}
		prev = rec.Hash
		res.Records++
		res.Last = Head{Seq: rec.Seq, Hash: rec.Hash}
		if head != nil && rec.Seq == head.Seq {
			if rec.Hash != head.Hash {
				return res, ve("hash differs from the head's: the log was rewritten")
			}
			headHashSeen = true
		}
	}
	if head != nil && head.Seq > 0 {
		if !headHashSeen {
			return res, &VerifyError{Problem: fmt.Sprintf("log ends at seq %d, head says %d: truncated", res.Last.Seq, head.Seq)}
		}
		res.Ahead = int(res.Last.Seq - head.Seq)
	}
	return res, nil
}

// readLine returns the next line without its newline, io.EOF at the end;
// a last line without newline (a torn append) is an error.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > maxLineBytes {
			return nil, fmt.Errorf("line longer than %d bytes", maxLineBytes)
		}
		switch err {
		case nil:
			return line[:len(line)-1], nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(line) == 0 {
				return nil, io.EOF
			}
			return nil, errors.New("last line has no newline (a torn append)")
		default:
			return nil, err
		}
	}
}
