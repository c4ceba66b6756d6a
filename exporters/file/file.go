package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"

	"github.com/rankscope/rankscope/internal/pagecache"
	"github.com/rankscope/rankscope/internal/prefetch"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/schema"
)

// Defaults of [Config].
const (
	DefaultPrefix     = "events"
	DefaultMaxBytes   = 64 << 20 // 64 MiB
	DefaultMaxAge     = time.Hour
	DefaultBufferSize = 256 << 10 // 256 KiB
)

// File name parts: the event-file naming rules of package schema
// (schema.FileName). A file is named
//
//	<prefix>-<UTC creation time as 20060102T150405.000000000Z>-<seq>.jsonl
//
// and carries the extra suffix ".open" while it is being written.
const (
	Ext     = schema.FileExt
	OpenExt = schema.OpenExt
)

// ErrClosed is the cause of Export's [WriteError] after Shutdown.
var ErrClosed = errors.New("file: exporter is shut down")

// Config configures an [Exporter]. The zero value of every field but Dir
// means its default.
type Config struct {
	// Dir is the directory the files are written to. Required. New creates
	// it with permissions 0700 if it does not exist (an existing directory
	// keeps its permissions) and fails if a file cannot be created in it.
	Dir string
	// Prefix starts every file name. Letters, digits, '.', '_' and '-'
	// only, not starting with '.'. Default [DefaultPrefix].
	Prefix string
	// MaxBytes rotates the file before a line would take it past this
	// size. A line longer than MaxBytes gets a file of its own. Default
	// [DefaultMaxBytes].
	MaxBytes int64
	// MaxAge rotates a file once it is this old. Age is checked on Export
	// and ForceFlush: an idle exporter keeps its file open until the next
	// call. Default [DefaultMaxAge].
	MaxAge time.Duration
	// BufferSize is the size of the buffers Export encodes a batch into
	// and writes to the file, each in one write call (a line longer than
	// that gets a buffer of its own). At most 512 KiB is used. Export
	// holds no event data between calls. Default [DefaultBufferSize].
	BufferSize int
	// Encoders is the number of goroutines that encode a batch of 64 or
	// more events in parallel while Export writes the encoded chunks in
	// order; 1 encodes on the calling goroutine. Default 1: encoding and
	// writing on one goroutine keeps the encoded bytes in that core's cache
	// for the write, which cost less CPU per event than 2 encoders on a
	// 2-core machine and delivered as many events per second
	// (docs/design/file.md). Raise it when one exporter must write more
	// than about 300,000 events a second and cores are idle.
	Encoders int
	// Now is the clock used for file names and MaxAge; default time.Now.
	Now func() time.Time
	// Recipients, if set, encrypts every file to them with age
	// (filippo.io/age, e.g. *age.X25519Recipient): files are named
	// ".jsonl.age" and are standard age files, which [ReadConfig] reads
	// given a matching identity in Identities. The age stream holds up to
	// 64 KiB of the latest lines in memory until its next chunk begins, so
	// a nil Export means those lines are handed to the encryptor, not yet
	// in the file; ForceFlush and Shutdown finish the file (a rotation) so
	// that every line is on disk. See the package doc, "Encryption".
	Recipients []age.Recipient
	// KeepPageCache keeps closed files in the operating system's page
	// cache, as the kernel does by default. Otherwise, on Linux, once a
	// file is synced at rotation or Shutdown its pages are dropped from
	// the cache (posix_fadvise POSIX_FADV_DONTNEED; they are clean then,
	// so this costs no I/O), and the next file's writes reuse that memory.
	// On virtual machines whose memory the host backs lazily or takes
	// back (free page reporting, ballooning), a write into a page the
	// guest has not used lately costs a fault in the host, and reusing
	// pages made the exporter's writes several times cheaper
	// (docs/design/file.md, "The page cache"). Nothing is synced sooner or
	// later either way. Set it when something reads the closed files soon
	// after rotation and should find them in memory. The active file is
	// never dropped, so with a MaxBytes much larger than the default
	// 64 MiB more of each file's writes land on fresh pages.
	KeepPageCache bool
	// Retention, if positive, deletes closed event files older than this
	// (by the creation time in their name) while the exporter runs,
	// counted in [Stats].Expired. See the package doc, "Retention".
	Retention time.Duration
}

// Exporter writes events as JSON lines ([personalize.AppendJSON], one
// event per line) to rotating files. Build it with [New].
type Exporter struct {
	cfg   Config
	chunk int // inline encode buffer size: BufferSize, at most maxChunkBytes

	exported, failed atomic.Uint64 // events; see Stats
	lost             atomic.Uint64 // events; see Stats.Lost
	ret              retention

	mu     sync.Mutex // guards everything below
	closed bool
	f      *os.File  // active file, nil until the first line
	path   string    // active file path, with the .open suffix
	opened time.Time // clock reading when the active file was created
	size   int64     // bytes of whole lines written to the active file
	seq    uint64    // next file sequence number
	seal   *sealer   // the active file's encryption, with Recipients
	// reserved is how far from its start the active file's blocks were
	// asked to be allocated (see reserveAhead); reserve says whether to go
	// on: not for an encrypted file, whose size is not size, nor after the
	// file system refused.
	reserved int64
	reserve  bool
	// fin is the file a rotation left to finish (sync, close, rename) in
	// the background, nil when none is; see rotate.
	fin *finishing
	// syncFile syncs a file to stable storage: (*os.File).Sync, replaced
	// by tests to hold or fail a sync.
	syncFile func(*os.File) error
	// preallocate allocates a file's blocks ahead of its writes:
	// pagecache.Allocate, replaced by tests to fail.
	preallocate func(f *os.File, off, n int64) error
}

// finishing is a closed file being synced, closed and renamed by a
// background goroutine.
type finishing struct {
	path string        // its name while open (with OpenExt)
	done chan struct{} // closed when it is finished
	err  error         // the outcome, set before done is closed
}

var (
	_ personalize.Exporter  = (*Exporter)(nil)
	_ personalize.Named     = (*Exporter)(nil)
	_ personalize.Transient = (*Exporter)(nil)
)

// New validates cfg, creates cfg.Dir if needed, checks that a file can be
// created in it (it creates and removes a probe file) and returns an
// exporter. No event file is created before the first event.
func New(cfg Config) (*Exporter, error) {
	if cfg.Dir == "" {
		return nil, errors.New("file: Config.Dir: required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if err := checkPrefix(cfg.Prefix); err != nil {
		return nil, err
	}
	switch {
	case cfg.MaxBytes < 0:
		return nil, fmt.Errorf("file: Config.MaxBytes: must be >= 0, got %d", cfg.MaxBytes)
	case cfg.MaxAge < 0:
		return nil, fmt.Errorf("file: Config.MaxAge: must be >= 0, got %v", cfg.MaxAge)
	case cfg.BufferSize < 0:
		return nil, fmt.Errorf("file: Config.BufferSize: must be >= 0, got %d", cfg.BufferSize)
	case cfg.Encoders < 0:
		return nil, fmt.Errorf("file: Config.Encoders: must be >= 0, got %d", cfg.Encoders)
	}
	if cfg.Encoders == 0 {
		cfg.Encoders = 1
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.BufferSize == 0 {
		cfg.BufferSize = DefaultBufferSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("file: Config.Dir: %w", err)
	}
	if st, err := os.Stat(cfg.Dir); err != nil {
		return nil, fmt.Errorf("file: Config.Dir: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("file: Config.Dir: %s is not a directory", cfg.Dir)
	}
	if err := probe(cfg.Dir); err != nil {
		return nil, fmt.Errorf("file: Config.Dir: %w", err)
	}
	for i, r := range cfg.Recipients {
		if r == nil {
			return nil, fmt.Errorf("file: Config.Recipients[%d]: is nil", i)
		}
	}
	cfg.Recipients = append([]age.Recipient(nil), cfg.Recipients...)
	if cfg.Retention < 0 {
		return nil, fmt.Errorf("file: Config.Retention: must be >= 0, got %v", cfg.Retention)
	}
	e := &Exporter{cfg: cfg, chunk: min(cfg.BufferSize, maxChunkBytes), syncFile: (*os.File).Sync, preallocate: pagecache.Allocate}
	if err := e.expire(cfg.Now(), true); err != nil {
		return nil, fmt.Errorf("file: Config.Retention: %w", err)
	}
	return e, nil
}

// probe creates and removes a file in dir, to refuse at New a directory
// nothing can be written to (a read-only mount, missing permissions). Its
// name starts with ".rankscope-probe-" and has no ".jsonl" suffix, so a
// reader ignores one a crash left behind.
func probe(dir string) error {
	f, err := os.CreateTemp(dir, ".rankscope-probe-*")
	if err != nil {
		return fmt.Errorf("not writable: %w", err)
	}
	err = f.Close()
	if rerr := os.Remove(f.Name()); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	return nil
}

func checkPrefix(p string) error {
	if p[0] == '.' {
		return fmt.Errorf("file: Config.Prefix: must not start with '.', got %q", p)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("file: Config.Prefix: only letters, digits, '.', '_' and '-' allowed, got %q", p)
		}
	}
	return nil
}

// Name returns "file".
func (e *Exporter) Name() string { return "file" }

// maxChunkBytes bounds the encode buffer of a batch encoded inline
// (Config.BufferSize): grown by one more event it still fits in the pool.
const maxChunkBytes = maxPooled / 2

// encoder is a pooled encode buffer: lines, each ending in '\n', the end
// offset of each, and the errors of events that could not be encoded.
type encoder struct {
	buf  []byte
	ends []int
	err  error
}

func (enc *encoder) reset() { enc.buf, enc.ends, enc.err = enc.buf[:0], enc.ends[:0], nil }

// add encodes ev, the batch's event i.
func (enc *encoder) add(ev personalize.Event, i int) {
	b, err := personalize.AppendJSON(enc.buf, ev)
	if err != nil {
		enc.err = errors.Join(enc.err, fmt.Errorf("file: batch[%d]: %w", i, err))
		return
	}
	enc.buf = append(b, '\n')
	enc.ends = append(enc.ends, len(enc.buf))
}

// merge appends o's lines to enc's.
func (enc *encoder) merge(o *encoder) {
	off := len(enc.buf)
	enc.buf = append(enc.buf, o.buf...)
	for _, end := range o.ends {
		enc.ends = append(enc.ends, off+end)
	}
}

func getEncoder() *encoder { return encoders.Get().(*encoder) }

func putEncoder(enc *encoder) {
	if cap(enc.buf) <= maxPooled {
		enc.err = nil
		encoders.Put(enc)
	}
}

// maxPooled keeps buffers grown by huge events out of the pool.
const maxPooled = 1 << 20

var encoders = sync.Pool{New: func() any {
	// Sized for a parallel chunk (32 events); an inline one grows once.
	return &encoder{buf: make([]byte, 0, 80<<10), ends: make([]int, 0, 128)}
}}

// Export appends one line per event. Events are encoded outside the lock
// into pooled buffers of about Config.BufferSize bytes, each written to
// the file under the lock in one write call (two across a rotation). A
// batch of at least 2×32 events is encoded by up to Config.Encoders
// goroutines, 32 events per chunk, while Export writes the chunks in
// order, joining consecutive chunks into buffers of that size; a smaller
// batch is encoded on the calling goroutine.
//
// A nil return means every line is written to the file (the operating
// system's cache; it survives a crash of the process); the lines are on
// stable storage after ForceFlush or Shutdown returns nil. Export holds no
// event data after it returns.
//
// Every other return is a *[WriteError] saying how many events of the
// batch were written and how many were not. Export stops at the first
// failed write (a full disk): the lines that reached the file whole stay
// and count as written, the file is cut back to its last whole line and
// closed (or removed if it holds none), and the next Export starts a new
// file. ctx is checked before each write: on cancellation the lines
// already written stay written. An event without a payload is skipped and
// named in the error after the rest of the batch is written. After
// Shutdown the error's cause is [ErrClosed].
// Transient reports true: Export encodes the batch and writes it before it
// returns, keeping no reference to the events, so the pipeline may reuse
// their memory ([personalize.Transient]).
func (e *Exporter) Transient() bool { return true }

func (e *Exporter) Export(ctx context.Context, batch []personalize.Event) error {
	written := 0
	err := ctx.Err()
	if err == nil {
		if e.cfg.Encoders > 1 && len(batch) >= 2*eventsPerChunk {
			written, err = e.exportParallel(ctx, batch)
		} else {
			written, err = e.exportInline(ctx, batch)
		}
	}
	if err == nil {
		return nil
	}
	failed := len(batch) - written
	e.failed.Add(uint64(failed))
	return &WriteError{Written: written, Failed: failed, Err: err}
}

// exportInline encodes and writes the batch on the calling goroutine and
// returns how many events it wrote.
func (e *Exporter) exportInline(ctx context.Context, batch []personalize.Event) (int, error) {
	enc := getEncoder()
	defer putEncoder(enc)
	var bad error
	written, i := 0, 0
	for {
		enc.reset()
		for ; i < len(batch) && len(enc.buf) < e.chunk; i++ {
			prefetch.Ahead(batch, i)
			enc.add(batch[i], i)
		}
		bad = errors.Join(bad, enc.err)
		n, err := e.write(enc)
		written += n
		if err != nil {
			return written, joinBad(err, bad)
		}
		if i >= len(batch) {
			return written, bad
		}
		if err := ctx.Err(); err != nil {
			return written, joinBad(err, bad)
		}
	}
}

// joinBad adds the encoding errors, if any, to the error that stopped
// Export.
func joinBad(err, bad error) error {
	if bad == nil {
		return err
	}
	return errors.Join(err, bad)
}

// eventsPerChunk is the chunk size of parallel encoding.
const eventsPerChunk = 32

// exportParallel encodes chunks of eventsPerChunk events on worker
// goroutines and writes them in order as they complete, consecutive chunks
// together up to e.chunk bytes, and returns how many events it wrote. At
// most 2×Encoders chunks are encoded ahead of the writer. All workers have
// returned when it returns.
func (e *Exporter) exportParallel(ctx context.Context, batch []personalize.Event) (int, error) {
	n := (len(batch) + eventsPerChunk - 1) / eventsPerChunk
	slots := make([]chan *encoder, n)
	for i := range slots {
		slots[i] = make(chan *encoder, 1)
	}
	ahead := make(chan struct{}, 2*e.cfg.Encoders)
	stop := make(chan struct{})
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(e.cfg.Encoders, n) {
		wg.Go(func() {
			for {
				select {
				case ahead <- struct{}{}:
				case <-stop:
					return
				}
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				enc := getEncoder()
				enc.reset()
				lo, hi := i*eventsPerChunk, min((i+1)*eventsPerChunk, len(batch))
				for j := lo; j < hi; j++ {
					prefetch.Ahead(batch[:hi], j)
					enc.add(batch[j], j)
				}
				slots[i] <- enc
			}
		})
	}
	written := 0
	var err, bad error
	for i := 0; i < n && err == nil; {
		// Chunk indices are taken in order, so slot i fills. The chunks
		// that follow are appended to it up to one write of e.chunk bytes.
		enc := <-slots[i]
		bad = errors.Join(bad, enc.err)
		for i++; i < n && len(enc.buf) < e.chunk; i++ {
			<-ahead
			next := <-slots[i]
			bad = errors.Join(bad, next.err)
			enc.merge(next)
			putEncoder(next)
		}
		if err = ctx.Err(); err == nil {
			var k int
			k, err = e.write(enc)
			written += k
		}
		putEncoder(enc)
		<-ahead
	}
	close(stop)
	wg.Wait()
	for i := range slots { // chunks encoded after an early stop
		select {
		case enc := <-slots[i]:
			putEncoder(enc)
		default:
		}
	}
	if err != nil {
		return written, joinBad(err, bad)
	}
	return written, bad
}

// write writes the encoded lines to the file, rotating as needed, and
// returns how many it wrote whole (and kept). Every write to the file is a
// run of whole lines starting at the end of the last one, so after a
// write that fails part way the file is cut back to its last newline.
func (e *Exporter) write(enc *encoder) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0, ErrClosed
	}
	n, err := e.writeLines(enc)
	e.exported.Add(uint64(n))
	if err != nil {
		// Settle the directory before reporting: a file still finishing
		// after a rotation is synced and renamed (or its error joined),
		// so what the caller finds on disk is what the counts say.
		err = errors.Join(err, e.waitFinish())
	}
	return n, err
}

// writeLines is write's body. e.mu is held.
func (e *Exporter) writeLines(enc *encoder) (int, error) {
	ends := enc.ends
	if len(ends) == 0 {
		return 0, nil
	}
	now := e.cfg.Now()
	if e.f != nil && now.Sub(e.opened) >= e.cfg.MaxAge {
		if err := e.rotate(); err != nil {
			return 0, err
		}
	}
	done, start := 0, 0 // lines written; offset of the next line in enc.buf
	for done < len(ends) {
		if e.f != nil && e.size > 0 && e.size+int64(ends[done]-start) > e.cfg.MaxBytes {
			if err := e.rotate(); err != nil {
				return done, err
			}
		}
		if e.f == nil {
			_ = e.expire(now, false) // counted in Stats.ExpireErrors
			if err := e.openFile(now); err != nil {
				return done, err
			}
		}
		// The longest run of lines from line done that fits in the file:
		// at least that line.
		j := len(ends)
		if e.size+int64(len(enc.buf)-start) > e.cfg.MaxBytes {
			j = done + 1
			for j < len(ends) && e.size+int64(ends[j]-start) <= e.cfg.MaxBytes {
				j++
			}
		}
		run := enc.buf[start:ends[j-1]]
		if e.seal != nil {
			rel := make([]int, 0, j-done) // line ends within run
			for _, end := range ends[done:j] {
				rel = append(rel, end-start)
			}
			w, lost, err := e.seal.write(run, rel)
			if err != nil {
				more, aerr := e.abandon(err)
				e.lost.Add(uint64(lost + more))
				return done + w, aerr
			}
			e.size += int64(len(run))
			done, start = j, ends[j-1]
			continue
		}
		if e.reserve && e.size+int64(len(run)) > e.reserved {
			e.reserveAhead(int64(len(run)))
		}
		n, err := e.f.Write(run)
		if err != nil {
			keep, lines := wholeLines(run[:n])
			return done + lines, e.fail(err, e.size+int64(keep))
		}
		e.size += int64(len(run))
		done, start = j, ends[j-1]
	}
	return done, nil
}

// reserveStep is how far ahead of its writes the blocks of the active
// file are allocated.
const reserveStep = 8 << 20

// reserveAhead makes sure the blocks of the active file are allocated for
// its next n bytes, allocating reserveStep at a time (at most up to
// MaxBytes, or what the n bytes need) without changing the file's size
// (fallocate(2), FALLOC_FL_KEEP_SIZE). A file system that allocates at
// each write (ext4's delayed allocation) then only maps blocks already
// allocated: the write(2) of an event cost about a quarter less CPU
// (docs/design/file.md, "Allocating ahead"). A refusal (no space, or no
// fallocate in the file system) is not an error: the rest of the file is
// written as it would be without. What a file holds past its last line is
// given back when it is finished (finishFile). e.mu is held.
func (e *Exporter) reserveAhead(n int64) {
	need := e.size + n
	from := e.reserved
	// A refusal may have allocated part of the range: reserved covers it
	// all, so that finishFile trims it.
	e.reserved = max(min(from+reserveStep, max(e.cfg.MaxBytes, need)), need)
	if err := e.preallocate(e.f, from, e.reserved-from); err != nil {
		e.reserve = false
	}
}

// wholeLines returns the length of the whole lines at the start of
// written, and their number.
func wholeLines(written []byte) (keep, lines int) {
	keep = bytes.LastIndexByte(written, '\n') + 1
	return keep, bytes.Count(written[:keep], newline)
}

var newline = []byte{'\n'}

// openFile creates a new active file. e.mu is held.
func (e *Exporter) openFile(now time.Time) error {
	for range 1000 {
		base := schema.FileName(e.cfg.Prefix, now, e.seq)
		if len(e.cfg.Recipients) > 0 {
			base += AgeExt
		}
		e.seq++
		final := filepath.Join(e.cfg.Dir, base)
		if _, err := os.Lstat(final); err == nil {
			continue // a closed file of that name exists (another writer)
		}
		path := final + OpenExt
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("file: create: %w", err)
		}
		if len(e.cfg.Recipients) > 0 {
			s, err := newSealer(f, e.cfg.Recipients)
			if err != nil {
				return errors.Join(err, discard(f, path))
			}
			e.seal = s
		}
		e.f, e.path, e.opened, e.size = f, path, now, 0
		e.reserved, e.reserve = 0, e.seal == nil
		return nil
	}
	return fmt.Errorf("file: create: no free file name for %s at %s in %s", e.cfg.Prefix, now.UTC().Format(schema.FileTimeLayout), e.cfg.Dir)
}

// closeFile syncs and closes the active file and renames it to its closed
// name, or removes it if it holds no line, after the file a rotation left
// finishing, if any, is finished. It returns the errors of both. e.mu is
// held.
func (e *Exporter) closeFile() error {
	ferr := e.waitFinish()
	f, path, trim, err := e.detach()
	if f == nil || err != nil {
		return errors.Join(ferr, err)
	}
	return errors.Join(ferr, e.finishFile(e.syncFile, f, path, trim))
}

// rotate ends the active file for a new one. Its sync, close and rename
// run on a background goroutine, so the exporter goes on writing the next
// file instead of waiting for the disk: syncing 64 MiB stopped the
// pipeline for tens of milliseconds, every event behind it waiting. At
// most one file finishes at a time: rotate first waits for the one before
// and returns its error (the active file is then left as it is). Until
// finished, the file keeps its .open name, as a crash would leave it, so
// no reader takes it for complete. e.mu is held.
func (e *Exporter) rotate() error {
	if err := e.waitFinish(); err != nil {
		return err
	}
	f, path, trim, err := e.detach()
	if f == nil || err != nil {
		return err
	}
	fin := &finishing{path: path, done: make(chan struct{})}
	e.fin = fin
	syncFile := e.syncFile
	go func() {
		fin.err = e.finishFile(syncFile, f, path, trim)
		close(fin.done)
	}()
	return nil
}

// waitFinish waits for the file a rotation left finishing and returns its
// error. e.mu is held.
func (e *Exporter) waitFinish() error {
	fin := e.fin
	if fin == nil {
		return nil
	}
	<-fin.done
	e.fin = nil
	return fin.err
}

// detach takes the active file off the exporter to be finished: it
// returns the file and its path, or nil when there is none or it held no
// line (it is then removed); an encrypted file's stream is completed
// first. trim is the size to cut the file to, giving back the blocks
// allocated past its last line (reserveAhead), or -1 when none were.
// e.mu is held.
func (e *Exporter) detach() (f *os.File, path string, trim int64, err error) {
	if e.f == nil {
		return nil, "", -1, nil
	}
	if e.size == 0 {
		f, path := e.f, e.path
		e.f, e.seal = nil, nil
		return nil, "", -1, discard(f, path)
	}
	if e.seal != nil {
		if err := e.finishSealed(); err != nil {
			return nil, "", -1, err
		}
	}
	trim = -1
	if e.reserved > e.size {
		trim = e.size
	}
	f, path = e.f, e.path
	e.f = nil
	return f, path, trim, nil
}

// finishFile cuts a detached file to trim bytes if trim >= 0, syncs it
// with syncFile, closes it and renames it to its closed name. It reads no
// field but the configuration, so it may run without e.mu.
func (e *Exporter) finishFile(syncFile func(*os.File) error, f *os.File, path string, trim int64) error {
	var err error
	if trim >= 0 {
		// Truncating to the file's own size frees the blocks past it.
		err = f.Truncate(trim)
	}
	if err == nil {
		err = syncFile(f)
	}
	if err == nil && !e.cfg.KeepPageCache {
		pagecache.Drop(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// Data may not be on disk; leave the .open name so readers treat
		// the tail with suspicion.
		return fmt.Errorf("file: close %s: %w", path, err)
	}
	return e.finish(path)
}

// finish renames a closed file to its final name and syncs the directory.
func (e *Exporter) finish(path string) error {
	final := path[:len(path)-len(OpenExt)]
	if err := os.Rename(path, final); err != nil {
		return fmt.Errorf("file: rename %s: %w", path, err)
	}
	return syncDir(e.cfg.Dir)
}

// discard closes and removes a file that holds no whole line.
func discard(f *os.File, path string) error {
	cerr := f.Close()
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("file: remove empty %s: %w", path, err)
	}
	if cerr != nil {
		return fmt.Errorf("file: close %s: %w", path, cerr)
	}
	return nil
}

// fail handles a failed write to the active file: it truncates the file to
// keep, the end of its last whole line, closes it under its final name (or
// removes it if keep is 0) and forgets it, so that the next Export starts
// a new file. If the truncation fails the file keeps its .open name and
// readers report its tail as torn. werr is the *fs.PathError of the write,
// which names the file.
func (e *Exporter) fail(werr error, keep int64) error {
	f, path := e.f, e.path
	e.f = nil
	err := fmt.Errorf("file: %w", werr)
	if keep == 0 {
		return errors.Join(err, discard(f, path))
	}
	terr := f.Truncate(keep)
	if terr == nil {
		terr = f.Sync()
	}
	cerr := f.Close()
	if terr != nil || cerr != nil {
		return errors.Join(err, terr, cerr)
	}
	return errors.Join(err, e.finish(path))
}

// ForceFlush syncs the active file to stable storage, or rotates the file
// if it reached MaxAge, after waiting for a file rotated earlier to be
// synced and renamed (it returns that file's error, if any). It returns
// ctx's error without doing anything if ctx is already done, and nil
// after Shutdown.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	if err := e.expire(e.cfg.Now(), false); err != nil {
		return err
	}
	if err := e.waitFinish(); err != nil {
		return err
	}
	if e.f == nil {
		return nil
	}
	if e.cfg.Now().Sub(e.opened) >= e.cfg.MaxAge || e.seal != nil {
		// An encrypted file's last chunk reaches the disk only when the
		// stream is finished.
		return e.closeFile()
	}
	if err := e.syncFile(e.f); err != nil {
		return fmt.Errorf("file: sync %s: %w", e.path, err)
	}
	return nil
}

// Shutdown syncs and closes the active file and renames it to its closed
// name. Later calls return nil and Export returns [ErrClosed]. Closing a
// local file is bounded work, so Shutdown completes even if ctx is done.
func (e *Exporter) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	return e.closeFile()
}

// Stats are the exporter's counters, in events. Once every Export call has
// returned,
//
//	Exported + Failed = the events passed to Export
//
// and Exported is the number of lines the exporter wrote to its files:
// whole lines, the ones a failed write left are counted and kept, the rest
// are cut off. (A failed fsync in ForceFlush or Shutdown, which may mean
// written lines did not reach stable storage, is reported by those calls
// and not in these counts.)
type Stats struct {
	// Exported counts events written to a file. It grows as Export writes,
	// chunk by chunk, and includes the written part of a failed Export
	// ([WriteError].Written).
	Exported uint64
	// Failed counts events passed to Export and not written: those an
	// Export did not get to write after a failed write (a full disk), with
	// a done ctx or after Shutdown, and those that could not be encoded
	// (the sum of [WriteError].Failed).
	Failed uint64
	// Lost counts events that an Export wrote (counted in Exported) into
	// the encryption buffer of an encrypted file (Config.Recipients) and
	// that a later failed write or finish kept from reaching the file: at
	// most 64 KiB of lines per failure. Always 0 without encryption.
	Lost uint64
	// Expired counts event files deleted by Config.Retention, and
	// ExpireErrors the deletions that failed (retried at the next check).
	Expired, ExpireErrors uint64
}

// Stats returns a snapshot of the counters. It is safe to call at any
// time, including concurrently with Export and after Shutdown.
func (e *Exporter) Stats() Stats {
	return Stats{Exported: e.exported.Load(), Failed: e.failed.Load(), Lost: e.lost.Load(),
		Expired: e.ret.expired.Load(), ExpireErrors: e.ret.errors.Load()}
}

// WriteError is the error of an Export that did not write its whole
// batch: every non-nil error Export returns is a *WriteError, not wrapped.
// Its cause Err is found through it with errors.Is and errors.As: a write
// error (an *fs.PathError; on a full disk errors.Is(err,
// syscall.ENOSPC)), ctx's error, [ErrClosed], or an error naming each
// event that could not be encoded by its index in the batch, or several of
// these joined.
//
// Written events of the batch are in the file as whole lines, counted in
// [Stats].Exported; Failed events are not, counted in [Stats].Failed, and
// Written+Failed is the length of the batch. The events written are those
// before the point where Export stopped, in batch order, less any that
// could not be encoded: a caller that retries can resend the rest.
type WriteError struct {
	Written int // events of the batch written to the file
	Failed  int // events of the batch not written
	Err     error
}

func (e *WriteError) Error() string {
	return fmt.Sprintf("file: wrote %d of %d events: %v", e.Written, e.Written+e.Failed, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// Delivered returns Written, the number of events of the batch written.
// A pipeline that looks for the optional interface
//
//	interface{ Delivered() int }
//
// on an export error counts that many events of the batch as exported and
// the rest as failed, instead of failing the whole batch.
func (e *WriteError) Delivered() int { return e.Written }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("file: sync dir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("file: sync dir %s: %w", dir, err)
	}
	return nil
}
