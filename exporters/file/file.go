package file

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rankscope/rankscope/personalize"
)

// Defaults of [Config].
const (
	DefaultPrefix     = "events"
	DefaultMaxBytes   = 64 << 20 // 64 MiB
	DefaultMaxAge     = time.Hour
	DefaultBufferSize = 256 << 10 // 256 KiB
)

// File name parts. A file is named
//
//	<prefix>-<UTC creation time as 20060102T150405.000000000Z>-<seq>.jsonl
//
// and carries the extra suffix ".open" while it is being written.
const (
	Ext       = ".jsonl"
	OpenExt   = ".open"
	timeStamp = "20060102T150405.000000000Z"
)

// ErrClosed is returned by Export after Shutdown.
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
	// BufferSize is the size of the write buffer, the most event data held
	// in memory between writes. Default [DefaultBufferSize].
	BufferSize int
	// Encoders is the number of goroutines that encode a batch of 64 or
	// more events in parallel while Export writes the encoded chunks in
	// order; 1 encodes on the calling goroutine. Default: GOMAXPROCS at New,
	// at most 4.
	Encoders int
	// Now is the clock used for file names and MaxAge; default time.Now.
	Now func() time.Time
}

// Exporter writes events as JSON lines ([personalize.AppendJSON], one
// event per line) to rotating files. Build it with [New].
type Exporter struct {
	cfg Config

	mu     sync.Mutex // guards everything below
	closed bool
	f      *os.File      // active file, nil until the first line
	fw     *countWriter  // under bw, over f
	bw     *bufio.Writer // reset onto each new file
	path   string        // active file path, with the .open suffix
	opened time.Time     // clock reading when the active file was created
	size   int64         // bytes of whole lines handed to bw for the active file
	seq    uint64        // next file sequence number
}

var (
	_ personalize.Exporter = (*Exporter)(nil)
	_ personalize.Named    = (*Exporter)(nil)
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
		cfg.Encoders = min(runtime.GOMAXPROCS(0), 4)
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
	e := &Exporter{cfg: cfg, fw: &countWriter{}}
	e.bw = bufio.NewWriterSize(e.fw, cfg.BufferSize)
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

// chunkBytes is how much encoded data Export prepares before taking the
// lock to write it.
const chunkBytes = 64 << 10

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
	return &encoder{buf: make([]byte, 0, chunkBytes+16<<10), ends: make([]int, 0, 128)}
}}

// Export appends one line per event. Events are encoded outside the lock
// into pooled chunk buffers, each written under the lock as a run of whole
// lines. A batch of at least 2×32 events is encoded by up to
// Config.Encoders goroutines while Export writes the chunks in order; a
// smaller batch is encoded on the calling goroutine in chunks of about
// 64 KiB.
//
// ctx is checked before each chunk: on cancellation the chunks already
// written stay written and ctx's error is returned. An event without a
// payload is skipped and reported in the returned error after the rest of
// the batch is written. Export returns [ErrClosed] after Shutdown.
//
// A nil return means the lines are in the exporter's buffer or the file;
// they are on stable storage after ForceFlush or Shutdown returns nil.
func (e *Exporter) Export(ctx context.Context, batch []personalize.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.cfg.Encoders > 1 && len(batch) >= 2*eventsPerChunk {
		return e.exportParallel(ctx, batch)
	}
	enc := getEncoder()
	defer putEncoder(enc)
	var bad error
	i := 0
	for {
		enc.reset()
		for ; i < len(batch) && len(enc.buf) < chunkBytes; i++ {
			enc.add(batch[i], i)
		}
		bad = errors.Join(bad, enc.err)
		if err := e.write(enc); err != nil {
			return err
		}
		if i >= len(batch) {
			return bad
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// eventsPerChunk is the chunk size of parallel encoding.
const eventsPerChunk = 32

// exportParallel encodes chunks of eventsPerChunk events on worker
// goroutines and writes them in order as they complete. At most
// 2×Encoders chunks are encoded ahead of the writer. All workers have
// returned when it returns.
func (e *Exporter) exportParallel(ctx context.Context, batch []personalize.Event) error {
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
					enc.add(batch[j], j)
				}
				slots[i] <- enc
			}
		})
	}
	var err, bad error
	for i := range slots {
		enc := <-slots[i] // chunk indices are taken in order, so slot i fills
		bad = errors.Join(bad, enc.err)
		if err = ctx.Err(); err == nil {
			err = e.write(enc)
		}
		putEncoder(enc)
		<-ahead
		if err != nil {
			break
		}
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
		return err
	}
	return bad
}

// write writes the encoded lines, rotating as needed.
func (e *Exporter) write(enc *encoder) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if len(enc.ends) == 0 {
		return nil
	}
	now := e.cfg.Now()
	if e.f != nil && now.Sub(e.opened) >= e.cfg.MaxAge {
		if err := e.closeFile(); err != nil {
			return err
		}
	}
	all := enc.buf
	// Fast path: the chunk fits in the file and in the buffer.
	if e.f != nil && e.size+int64(len(all)) <= e.cfg.MaxBytes && len(all) <= e.bw.Available() {
		if _, err := e.bw.Write(all); err != nil {
			return e.fail(err)
		}
		e.size += int64(len(all))
		return nil
	}
	start := 0
	for _, end := range enc.ends {
		line := all[start:end]
		start = end
		if e.f != nil && e.size > 0 && e.size+int64(len(line)) > e.cfg.MaxBytes {
			if err := e.closeFile(); err != nil {
				return err
			}
		}
		if e.f == nil {
			if err := e.openFile(now); err != nil {
				return err
			}
		}
		// Keep every write to the file a run of whole lines: flush first
		// if the line does not fit in what is left of the buffer (a line
		// longer than the buffer is then written directly, in one call).
		if len(line) > e.bw.Available() && e.bw.Buffered() > 0 {
			if err := e.bw.Flush(); err != nil {
				return e.fail(err)
			}
		}
		if _, err := e.bw.Write(line); err != nil {
			return e.fail(err)
		}
		e.size += int64(len(line))
	}
	return nil
}

// openFile creates a new active file. e.mu is held.
func (e *Exporter) openFile(now time.Time) error {
	ts := now.UTC().Format(timeStamp)
	for range 1000 {
		base := e.cfg.Prefix + "-" + ts + "-" + fmt.Sprintf("%06d", e.seq) + Ext
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
		e.f, e.path, e.opened, e.size = f, path, now, 0
		e.fw.reset(f)
		e.bw.Reset(e.fw)
		return nil
	}
	return fmt.Errorf("file: create: no free file name for %s-%s in %s", e.cfg.Prefix, ts, e.cfg.Dir)
}

// closeFile flushes, syncs and closes the active file and renames it to
// its closed name. e.mu is held. On a write error the file is cut back to
// its last whole line first (see fail).
func (e *Exporter) closeFile() error {
	if e.f == nil {
		return nil
	}
	if err := e.bw.Flush(); err != nil {
		return e.fail(err)
	}
	f, path := e.f, e.path
	e.f = nil
	if e.size == 0 { // no line: nothing to keep
		return discard(f, path)
	}
	err := f.Sync()
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
// the end of its last whole line on disk, closes it under its final name
// (or removes it if no whole line reached it) and forgets it, so that the
// next Export starts a new file. Lines still in the buffer are lost; the
// returned error says so. If the truncation fails the file keeps its .open
// name and readers report its tail as torn.
func (e *Exporter) fail(werr error) error {
	f, path := e.f, e.path
	e.f = nil
	lost := e.bw.Buffered()
	e.bw.Reset(e.fw)
	if e.fw.good == 0 {
		err := fmt.Errorf("file: write %s: %w (%d buffered bytes lost)", path, werr, lost)
		return errors.Join(err, discard(f, path))
	}
	terr := f.Truncate(e.fw.good)
	if terr == nil {
		terr = f.Sync()
	}
	cerr := f.Close()
	err := fmt.Errorf("file: write %s: %w (%d buffered bytes lost)", path, werr, lost)
	if terr != nil || cerr != nil {
		return errors.Join(err, terr, cerr)
	}
	return errors.Join(err, e.finish(path))
}

// ForceFlush writes buffered lines to the active file and syncs it to
// stable storage, or rotates the file if it reached MaxAge. It returns
// ctx's error without doing anything if ctx is already done, and nil after
// Shutdown.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || e.f == nil {
		return nil
	}
	if e.cfg.Now().Sub(e.opened) >= e.cfg.MaxAge {
		return e.closeFile()
	}
	if err := e.bw.Flush(); err != nil {
		return e.fail(err)
	}
	if err := e.f.Sync(); err != nil {
		return fmt.Errorf("file: sync %s: %w", e.path, err)
	}
	return nil
}

// Shutdown flushes, syncs and closes the active file and renames it to its
// closed name. Later calls return nil and Export returns [ErrClosed].
// Closing a local file is bounded work, so Shutdown completes even if ctx
// is done.
func (e *Exporter) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	return e.closeFile()
}

// countWriter writes to the active file and tracks the offset just past
// the last whole line known to be on disk.
type countWriter struct {
	f    *os.File
	n    int64 // bytes written to f
	good int64 // end of the last complete line written
}

func (w *countWriter) reset(f *os.File) { w.f, w.n, w.good = f, 0, 0 }

// Write is only ever called with runs of whole lines (see Exporter.write),
// so after a short write the last newline in what was written marks the
// last whole line.
func (w *countWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if n > 0 {
		if i := bytes.LastIndexByte(p[:n], '\n'); i >= 0 {
			w.good = w.n + int64(i) + 1
		}
		w.n += int64(n)
	}
	return n, err
}

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
