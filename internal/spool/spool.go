package spool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"filippo.io/age"
)

// Config bounds a spool. Zero values mean the defaults.
type Config struct {
	// Dir is the spool directory; created if missing. Required.
	Dir string
	// MaxBytes bounds the total size of spooled batches; default 64 MiB.
	MaxBytes int64
	// MaxFiles bounds the number of spooled batches; default 4096.
	MaxFiles int
	// Recipients, if set, encrypts every batch with age before it is
	// written (see the package doc, "Encryption"); Identities must then
	// hold an identity of one of them, or Open fails: a spool that cannot
	// read back what it writes is a misconfiguration.
	Recipients []age.Recipient
	// Identities decrypt encrypted batches in Read.
	Identities []age.Identity
}

// Defaults of [Config].
const (
	DefaultMaxBytes = 64 << 20
	DefaultMaxFiles = 4096
)

// DirError reports a spool directory that cannot be created, written or
// listed.
type DirError struct {
	Dir     string
	Problem string // "cannot be created", "is not writable", "cannot be listed"
	Err     error
}

func (e *DirError) Error() string {
	return fmt.Sprintf("spool: Config.Dir: %q %s: %v", e.Dir, e.Problem, e.Err)
}

func (e *DirError) Unwrap() error { return e.Err }

// ErrTooLarge is returned by [Spool.Put] for a batch larger than MaxBytes.
var ErrTooLarge = errors.New("spool: batch larger than Config.MaxBytes")

// Entry describes one spooled batch.
type Entry struct {
	Seq    uint64
	Events int
	Key    string
	// Size is the size of the batch's data (the file less its header).
	Size int64
}

// Name returns the file name of e.
func (e Entry) Name() string {
	return fmt.Sprintf("%020d-%d-%s.batch", e.Seq, e.Events, e.Key)
}

// ParseName parses a batch file name written by [Entry.Name]; ok is false
// for any other name.
func ParseName(name string) (e Entry, ok bool) {
	base, found := strings.CutSuffix(name, ".batch")
	if !found {
		return Entry{}, false
	}
	seqS, rest, found := strings.Cut(base, "-")
	if !found || len(seqS) != 20 {
		return Entry{}, false
	}
	evS, key, found := strings.Cut(rest, "-")
	if !found || !ValidKey(key) || evS == "" || (len(evS) > 1 && evS[0] == '0') {
		return Entry{}, false
	}
	seq, err := strconv.ParseUint(seqS, 10, 64)
	if err != nil {
		return Entry{}, false
	}
	ev, err := strconv.ParseUint(evS, 10, 31)
	if err != nil {
		return Entry{}, false
	}
	return Entry{Seq: seq, Events: int(ev), Key: key}, true
}

// ValidKey reports whether key can name a batch: 1..64 letters, digits,
// '-' or '_'.
func ValidKey(key string) bool {
	if key == "" || len(key) > 64 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Spool is an open spool directory.
type Spool struct {
	cfg Config

	mu      sync.Mutex
	entries []Entry // ascending Seq
	bytes   int64
	next    uint64
}

// Open opens (creating if needed) the spool directory, checks that it can
// create and remove a file there, deletes leftover temporary files and
// loads the existing batches in sequence order. Errors about the
// directory are *[DirError].
func Open(cfg Config) (*Spool, error) {
	if cfg.Dir == "" {
		return nil, errors.New("spool: Config.Dir: required")
	}
	if cfg.MaxBytes < 0 {
		return nil, fmt.Errorf("spool: Config.MaxBytes: must be >= 0, got %d", cfg.MaxBytes)
	}
	if cfg.MaxFiles < 0 {
		return nil, fmt.Errorf("spool: Config.MaxFiles: must be >= 0, got %d", cfg.MaxFiles)
	}
	if err := checkKeys(cfg); err != nil {
		return nil, err
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxFiles == 0 {
		cfg.MaxFiles = DefaultMaxFiles
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, &DirError{Dir: cfg.Dir, Problem: "cannot be created", Err: err}
	}
	if err := probeWritable(cfg.Dir); err != nil {
		return nil, &DirError{Dir: cfg.Dir, Problem: "is not writable", Err: err}
	}
	des, err := os.ReadDir(cfg.Dir)
	if err != nil {
		return nil, &DirError{Dir: cfg.Dir, Problem: "cannot be listed", Err: err}
	}
	s := &Spool{cfg: cfg, next: 1}
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, ".tmp-") {
			_ = os.Remove(filepath.Join(cfg.Dir, name))
			continue
		}
		e, ok := ParseName(name)
		if !ok || !de.Type().IsRegular() {
			continue
		}
		size, err := dataSize(filepath.Join(cfg.Dir, name))
		if err != nil {
			continue // removed meanwhile
		}
		e.Size = size
		s.entries = append(s.entries, e)
		s.bytes += e.Size
		if e.Seq >= s.next {
			s.next = e.Seq + 1
		}
	}
	slices.SortFunc(s.entries, func(a, b Entry) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	return s, nil
}

// probeWritable creates and removes a temporary file in dir. The name has
// the ".tmp-" prefix, so a crash in between leaves a file Open deletes.
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".tmp-probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	err = f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return err
}

// dataSize returns the size of a batch file's data: the file's size less
// its header, if it has a well-formed one.
func dataSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	var buf [maxHeaderLen]byte
	n, err := io.ReadFull(f, buf[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, err
	}
	if _, hn, herr := parseHeader(buf[:n]); herr == nil {
		return fi.Size() - int64(hn), nil
	}
	return fi.Size(), nil
}

// Len returns the number of spooled batches.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Dir returns the spool directory.
func (s *Spool) Dir() string { return s.cfg.Dir }

// Put stores one batch of events under key, behind a header holding the
// event count, the size and a checksum of data. It first evicts the oldest
// batches while the spool would exceed a bound and returns them (already
// deleted). On a write error nothing is stored, but evictions stand.
func (s *Spool) Put(key string, events int, data []byte) (evicted []Entry, err error) {
	if !ValidKey(key) {
		return nil, fmt.Errorf("spool: key %q: must be 1..64 of [A-Za-z0-9_-]", key)
	}
	if events < 0 {
		return nil, fmt.Errorf("spool: events: must be >= 0, got %d", events)
	}
	size := int64(len(data))
	if size > s.cfg.MaxBytes {
		return nil, ErrTooLarge
	}
	if len(s.cfg.Recipients) > 0 {
		sealed, err := seal(data, s.cfg.Recipients)
		if err != nil {
			return nil, err
		}
		data = sealed
		size = int64(len(data))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.entries) > 0 && (len(s.entries)+1 > s.cfg.MaxFiles || s.bytes+size > s.cfg.MaxBytes) {
		old := s.entries[0]
		if err := os.Remove(filepath.Join(s.cfg.Dir, old.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return evicted, fmt.Errorf("spool: evict %s: %w", old.Name(), err)
		}
		s.entries = s.entries[1:]
		s.bytes -= old.Size
		evicted = append(evicted, old)
	}
	e := Entry{Seq: s.next, Events: events, Key: key, Size: size}
	tmp := filepath.Join(s.cfg.Dir, ".tmp-"+strconv.FormatUint(e.Seq, 10))
	var hdr [maxHeaderLen]byte
	if err := writeFile(tmp, appendHeader(hdr[:0], headerOf(events, data)), data); err != nil {
		_ = os.Remove(tmp)
		return evicted, fmt.Errorf("spool: write: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.cfg.Dir, e.Name())); err != nil {
		_ = os.Remove(tmp)
		return evicted, fmt.Errorf("spool: write: %w", err)
	}
	s.next++
	s.entries = append(s.entries, e)
	s.bytes += size
	return evicted, nil
}

func writeFile(name string, hdr, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(hdr); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Oldest returns the oldest batch, if any.
func (s *Spool) Oldest() (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) == 0 {
		return Entry{}, false
	}
	return s.entries[0], true
}

// Read returns the data of a spooled batch, checked against its header:
// an error wrapping [ErrCorrupt] means the file is malformed, truncated or
// altered, or its header's event count differs from its name's. The data
// of a file without a header (written by an earlier version) is returned
// unchecked.
func (s *Spool) Read(e Entry) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(s.cfg.Dir, e.Name()))
	if err != nil {
		return nil, fmt.Errorf("spool: read: %w", err)
	}
	h, n, err := parseHeader(b)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, e.Name())
	}
	if n == 0 {
		return s.open(e, b)
	}
	if err := h.check(e.Name(), e.Events, b[n:]); err != nil {
		return nil, err
	}
	return s.open(e, b[n:])
}

// Remove deletes a batch (after delivery). Removing a batch that is no
// longer spooled (evicted meanwhile) reports false.
func (s *Spool) Remove(e Entry) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.entries, func(x Entry) bool { return x.Seq == e.Seq })
	if i < 0 {
		return false, nil
	}
	if err := os.Remove(filepath.Join(s.cfg.Dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("spool: remove: %w", err)
	}
	s.bytes -= s.entries[i].Size
	s.entries = slices.Delete(s.entries, i, i+1)
	return true, nil
}

// Usage is the current content of a spool.
type Usage struct {
	Files  int
	Bytes  int64
	Events int
}

// Usage returns the current content.
func (s *Spool) Usage() Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := Usage{Files: len(s.entries), Bytes: s.bytes}
	for _, e := range s.entries {
		u.Events += e.Events
	}
	return u
}
