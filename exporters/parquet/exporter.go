package parquet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"

	"github.com/rankscope/rankscope/internal/pagecache"
	"github.com/rankscope/rankscope/personalize"
)

// Defaults of [Config].
const (
	DefaultPrefix       = "events"
	DefaultMaxBytes     = 256 << 20 // 256 MiB
	DefaultMaxAge       = 15 * time.Minute
	DefaultRowGroupRows = 4096
	DefaultMaxOpenFiles = 4
)

// File name parts. A finished file is named
//
//	<Dir>/dt=<YYYY-MM-DD>/hour=<HH>/<prefix>-<UTC creation time>-<seq>.parquet
//
// and is written under the hidden name "." + that base name + ".open" in
// the same directory, then renamed.
const (
	Ext       = ".parquet"
	OpenExt   = ".open"
	timeStamp = "20060102T150405.000000000Z"
)

// MetadataSchemaVersion is the key of the file's key/value metadata that
// holds the schema_version of docs/SCHEMA.md the file was written with
// (every row also carries it in the schema_version column).
const MetadataSchemaVersion = "rankscope.schema_version"

// ErrClosed is the cause of Export's [WriteError] after Shutdown.
var ErrClosed = errors.New("parquet: exporter is shut down")

// Config configures an [Exporter]. The zero value of every field but Dir
// means its default.
type Config struct {
	// Dir is the root of the partition tree. Required. New creates it
	// with permissions 0700 if it does not exist and fails if a file
	// cannot be created in it.
	Dir string
	// Prefix starts every file name. Letters, digits, '.', '_' and '-'
	// only, not starting with '.' or '_' (names engines treat as hidden).
	// Replicas writing to one tree need distinct prefixes. Default
	// [DefaultPrefix].
	Prefix string
	// MaxBytes rotates a partition's file once the row groups written to
	// it reach this size (checked after each row group). Default
	// [DefaultMaxBytes].
	MaxBytes int64
	// MaxAge rotates a file once it is this old (checked on Export and
	// ForceFlush). Rows become readable when their file is finished, so
	// MaxAge bounds how long rows wait to become visible. Default
	// [DefaultMaxAge].
	MaxAge time.Duration
	// RowGroupRows is the number of rows buffered in memory, per open
	// file, before they are written out as a row group. Default
	// [DefaultRowGroupRows].
	RowGroupRows int
	// MaxOpenFiles bounds the files open at once, one per partition
	// (event hour) being written; opening one more finishes the least
	// recently written. Default [DefaultMaxOpenFiles].
	MaxOpenFiles int
	// Now is the clock used for file names and MaxAge; default time.Now.
	Now func() time.Time
	// KeepPageCache keeps finished files in the operating system's page
	// cache. Otherwise, on Linux, a file's pages are dropped from the
	// cache after the sync that finishes it (they are clean then, so
	// this costs no I/O), as the file exporter does
	// (file.Config.KeepPageCache, docs/design/file.md, "The page
	// cache"). Set it when something reads the files as soon as they are
	// finished and should find them in memory.
	KeepPageCache bool
}

// Exporter writes events as Parquet files in Hive-style partitions by
// event hour (UTC). Build it with [New].
type Exporter struct {
	cfg Config

	exported, pending, failed atomic.Uint64 // rows; see Stats

	mu     sync.Mutex // guards everything below
	closed bool
	parts  map[string]*part // open files by partition directory
	seq    uint64           // next file sequence number
	clock  uint64           // LRU clock
	gen    uint64           // Export generation, to count a batch's rows per file
	// inExport is set while write runs; batchLost counts the rows of the
	// current Export lost with a file that failed.
	inExport  bool
	batchLost int64
	// free holds the writers of finished files for reuse (at most
	// MaxOpenFiles): a writer's column buffers cost more than a small
	// file's rows.
	free []*pq.GenericWriter[any]
}

// part is the open file of one partition.
type part struct {
	dir        string // partition directory, "dt=.../hour=..", relative to Dir
	tmp, final string // absolute paths
	f          *os.File
	w          *pq.GenericWriter[any]
	rows       int64 // rows in the file, written or buffered
	group      int   // rows buffered since the last row group
	opened     time.Time
	used       uint64 // LRU clock reading of the last write
	gen        uint64 // Export generation of batchRows
	batchRows  int64  // rows of the current Export in this file
}

var (
	_ personalize.Exporter  = (*Exporter)(nil)
	_ personalize.Named     = (*Exporter)(nil)
	_ personalize.Transient = (*Exporter)(nil)
)

// New validates cfg, creates cfg.Dir if needed, checks that a file can be
// created in it and returns an exporter. No file is created before the
// first event.
func New(cfg Config) (*Exporter, error) {
	if cfg.Dir == "" {
		return nil, errors.New("parquet: Config.Dir: required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if err := checkPrefix(cfg.Prefix); err != nil {
		return nil, err
	}
	switch {
	case cfg.MaxBytes < 0:
		return nil, fmt.Errorf("parquet: Config.MaxBytes: must be >= 0, got %d", cfg.MaxBytes)
	case cfg.MaxAge < 0:
		return nil, fmt.Errorf("parquet: Config.MaxAge: must be >= 0, got %v", cfg.MaxAge)
	case cfg.RowGroupRows < 0:
		return nil, fmt.Errorf("parquet: Config.RowGroupRows: must be >= 0, got %d", cfg.RowGroupRows)
	case cfg.MaxOpenFiles < 0:
		return nil, fmt.Errorf("parquet: Config.MaxOpenFiles: must be >= 0, got %d", cfg.MaxOpenFiles)
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.RowGroupRows == 0 {
		cfg.RowGroupRows = DefaultRowGroupRows
	}
	if cfg.MaxOpenFiles == 0 {
		cfg.MaxOpenFiles = DefaultMaxOpenFiles
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("parquet: Config.Dir: %w", err)
	}
	if st, err := os.Stat(cfg.Dir); err != nil {
		return nil, fmt.Errorf("parquet: Config.Dir: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("parquet: Config.Dir: %s is not a directory", cfg.Dir)
	}
	f, err := os.CreateTemp(cfg.Dir, ".rankscope-probe-*")
	if err != nil {
		return nil, fmt.Errorf("parquet: Config.Dir: not writable: %w", err)
	}
	err = f.Close()
	if rerr := os.Remove(f.Name()); err == nil {
		err = rerr
	}
	if err != nil {
		return nil, fmt.Errorf("parquet: Config.Dir: probe: %w", err)
	}
	return &Exporter{cfg: cfg, parts: map[string]*part{}}, nil
}

func checkPrefix(p string) error {
	if p[0] == '.' || p[0] == '_' {
		return fmt.Errorf("parquet: Config.Prefix: must not start with '.' or '_', got %q", p)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("parquet: Config.Prefix: only letters, digits, '.', '_' and '-' allowed, got %q", p)
		}
	}
	return nil
}

// Name returns "parquet".
func (e *Exporter) Name() string { return "parquet" }

// Transient reports true: Export copies what it needs of each event into
// the writer's column buffers before it returns and keeps no reference
// to the batch or its events ([personalize.Transient]).
func (e *Exporter) Transient() bool { return true }

// encoded is a batch turned into rows, grouped by partition.
type encoded struct {
	enc    rowEncoder
	values []pq.Value // every row's values, back to back
	ends   []int      // end of each encoded row in values
	dirs   []string   // partition of each encoded row
	groups []group
}

type group struct {
	dir  string
	rows []pq.Row
}

var encodedPool = sync.Pool{New: func() any { return new(encoded) }}

// maxPooledValues keeps the value buffers of huge batches out of the pool.
const maxPooledValues = 1 << 20

func (b *encoded) reset() {
	clear(b.values) // drop references to event strings
	b.values, b.ends, b.dirs = b.values[:0], b.ends[:0], b.dirs[:0]
	for i := range b.groups {
		clear(b.groups[i].rows)
	}
	b.groups = b.groups[:0]
}

// encode turns the batch into rows grouped by partition, in batch order
// within each partition, and returns the errors of events it could not
// encode, each naming its index.
func (b *encoded) encode(batch []personalize.Event) error {
	var bad error
	for i, ev := range batch {
		if err := b.enc.encode(ev); err != nil {
			bad = errors.Join(bad, fmt.Errorf("parquet: batch[%d]: %w", i, err))
			continue
		}
		b.values = append(b.values, b.enc.row...)
		b.ends = append(b.ends, len(b.values))
		b.dirs = append(b.dirs, partitionOf(ev.Time()))
	}
	start := 0
	for i, end := range b.ends {
		r := pq.Row(b.values[start:end:end])
		start = end
		g := -1
		for j := range b.groups { // a batch spans few partitions
			if b.groups[j].dir == b.dirs[i] {
				g = j
				break
			}
		}
		if g < 0 {
			g = len(b.groups)
			if g < cap(b.groups) { // reuse a pooled group's row slice
				b.groups = b.groups[:g+1]
				b.groups[g].dir, b.groups[g].rows = b.dirs[i], b.groups[g].rows[:0]
			} else {
				b.groups = append(b.groups, group{dir: b.dirs[i]})
			}
		}
		b.groups[g].rows = append(b.groups[g].rows, r)
	}
	return bad
}

// Export encodes the batch into Parquet rows (outside the lock) and
// appends each event's row to the open file of its partition, the
// partition of its event time (the end of the inference for an
// impression) in UTC, opening or rotating files as needed. Rows are
// buffered in memory up to Config.RowGroupRows per file and then written
// out as a row group; a file is readable once finished (rotated, evicted
// by Config.MaxOpenFiles, ForceFlush or Shutdown).
//
// A nil return means every event is in a file, written or buffered. Every
// other return is a *[WriteError] saying how many events of the batch
// made it into files (Written) and how many did not (Failed): events
// without a payload and dead letters (named by their index), the rest of
// the batch after a failed write, a done ctx or Shutdown. A file whose
// write or finish fails is removed with its rows; rows of earlier batches
// lost with it are reported in a *[LostError] found through the
// WriteError with errors.As, and counted in Stats.Failed.
func (e *Exporter) Export(ctx context.Context, batch []personalize.Event) error {
	if err := ctx.Err(); err != nil {
		e.failed.Add(uint64(len(batch)))
		return &WriteError{Failed: len(batch), Err: err}
	}
	b := encodedPool.Get().(*encoded)
	defer func() {
		b.reset()
		if cap(b.values) <= maxPooledValues {
			encodedPool.Put(b)
		}
	}()
	bad := b.encode(batch)

	written, err := e.write(ctx, b.groups)
	if err == nil && bad == nil {
		return nil
	}
	err = errors.Join(err, bad)
	failed := len(batch) - written
	e.failed.Add(uint64(failed))
	return &WriteError{Written: written, Failed: failed, Err: err}
}

// write appends the groups' rows to their partitions' files and returns
// how many of them are in files that are still open or finished.
func (e *Exporter) write(ctx context.Context, groups []group) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0, ErrClosed
	}
	e.gen++
	e.inExport, e.batchLost = true, 0
	defer func() { e.inExport = false }()
	now := e.cfg.Now()
	appended := 0
	var errs error
	for _, p := range e.partsOlderThan(now) {
		errs = errors.Join(errs, e.finish(p))
	}
	done := func(err error) (int, error) {
		return appended - int(e.batchLost), errors.Join(errs, err)
	}
	for _, g := range groups {
		rows := g.rows
		for len(rows) > 0 {
			if err := ctx.Err(); err != nil {
				return done(err)
			}
			p, err := e.open(g.dir, now)
			if err != nil {
				return done(err)
			}
			if p.gen != e.gen {
				p.gen, p.batchRows = e.gen, 0
			}
			k := min(len(rows), e.cfg.RowGroupRows-p.group)
			n, err := p.w.WriteRows(rows[:k])
			p.rows += int64(n)
			p.group += n
			p.batchRows += int64(n)
			p.used = e.tick()
			e.pending.Add(uint64(n))
			appended += n
			if err == nil && n < k {
				err = fmt.Errorf("wrote %d of %d rows", n, k)
			}
			if err != nil {
				return done(e.discard(p, fmt.Errorf("parquet: write %s: %w", p.tmp, err)))
			}
			rows = rows[k:]
			if p.group < e.cfg.RowGroupRows {
				continue
			}
			if err := p.w.Flush(); err != nil {
				return done(e.discard(p, fmt.Errorf("parquet: write row group to %s: %w", p.tmp, err)))
			}
			p.group = 0
			if p.w.Size() >= e.cfg.MaxBytes {
				if err := e.finish(p); err != nil {
					return done(err)
				}
			}
		}
	}
	return done(nil)
}

func (e *Exporter) tick() uint64 { e.clock++; return e.clock }

// partsOlderThan returns the open files that reached MaxAge at now.
func (e *Exporter) partsOlderThan(now time.Time) []*part {
	var old []*part
	for _, p := range e.parts {
		if now.Sub(p.opened) >= e.cfg.MaxAge {
			old = append(old, p)
		}
	}
	return old
}

// open returns the open file of partition dir, creating it, after
// finishing the least recently written file if MaxOpenFiles are open.
// e.mu is held.
func (e *Exporter) open(dir string, now time.Time) (*part, error) {
	if p := e.parts[dir]; p != nil {
		return p, nil
	}
	if len(e.parts) >= e.cfg.MaxOpenFiles {
		var lru *part
		for _, p := range e.parts {
			if lru == nil || p.used < lru.used {
				lru = p
			}
		}
		if err := e.finish(lru); err != nil {
			return nil, err
		}
	}
	abs := filepath.Join(e.cfg.Dir, filepath.FromSlash(dir))
	if _, err := os.Stat(abs); err != nil {
		if err := os.MkdirAll(abs, 0o700); err != nil {
			return nil, fmt.Errorf("parquet: create partition: %w", err)
		}
		// Make the new directories durable: the hour's in the day's,
		// the day's in Dir.
		if err := syncDir(filepath.Dir(abs)); err != nil {
			return nil, err
		}
		if err := syncDir(e.cfg.Dir); err != nil {
			return nil, err
		}
	}
	ts := now.UTC().Format(timeStamp)
	for range 1000 {
		base := e.cfg.Prefix + "-" + ts + "-" + fmt.Sprintf("%06d", e.seq) + Ext
		e.seq++
		final := filepath.Join(abs, base)
		if _, err := os.Lstat(final); err == nil {
			continue // a finished file of that name exists (another writer)
		}
		tmp := filepath.Join(abs, "."+base+OpenExt)
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parquet: create: %w", err)
		}
		var w *pq.GenericWriter[any]
		if n := len(e.free); n > 0 { // a finished file's writer and buffers
			w, e.free = e.free[n-1], e.free[:n-1]
			w.Reset(f)
		} else {
			w = pq.NewGenericWriter[any](f, schema,
				pq.Compression(codec),
				pq.PageBufferSize(pageBufferSize),
				pq.KeyValueMetadata(MetadataSchemaVersion, strconv.Itoa(personalize.SchemaVersion)))
		}
		p := &part{dir: dir, tmp: tmp, final: final, f: f, w: w, opened: now, used: e.tick()}
		e.parts[dir] = p
		return p, nil
	}
	return nil, fmt.Errorf("parquet: create: no free file name for %s-%s in %s", e.cfg.Prefix, ts, abs)
}

// finish writes the file's last row group and footer, syncs and closes
// it, renames it to its final name and syncs the directory. A file that
// fails is removed (see discard). e.mu is held.
func (e *Exporter) finish(p *part) error {
	delete(e.parts, p.dir)
	if p.rows == 0 {
		_ = p.f.Close()
		if err := os.Remove(p.tmp); err != nil {
			return fmt.Errorf("parquet: remove empty %s: %w", p.tmp, err)
		}
		return nil
	}
	err := p.w.Close()
	if err == nil {
		err = p.f.Sync()
	}
	if err == nil && !e.cfg.KeepPageCache {
		pagecache.Drop(p.f)
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(p.tmp, p.final)
	}
	if err != nil {
		return e.discard(p, fmt.Errorf("parquet: finish %s: %w", p.tmp, err))
	}
	e.subPending(p.rows)
	e.exported.Add(uint64(p.rows))
	if len(e.free) < e.cfg.MaxOpenFiles {
		e.free = append(e.free, p.w)
	}
	return syncDir(filepath.Dir(p.final))
}

// discard removes a file that failed and settles its rows: those of the
// current Export are added to e.batchLost (Export counts them as failed),
// those of earlier batches are counted as failed here and reported in a
// *LostError wrapping cause. e.mu is held.
func (e *Exporter) discard(p *part, cause error) error {
	delete(e.parts, p.dir)
	_ = p.f.Close() // may be closed already
	_ = os.Remove(p.tmp)
	var ours int64
	if e.inExport && p.gen == e.gen {
		ours = p.batchRows
	}
	e.batchLost += ours
	earlier := p.rows - ours
	e.subPending(p.rows)
	e.failed.Add(uint64(earlier))
	if earlier > 0 {
		return &LostError{File: p.final, Rows: earlier, Err: cause}
	}
	return cause
}

func (e *Exporter) subPending(n int64) {
	if n > 0 {
		e.pending.Add(^uint64(n - 1))
	}
}

// ForceFlush finishes every open file, so every row exported so far is
// in a finished, readable file on stable storage; the next rows start
// new files. It returns ctx's error without doing anything if ctx is
// already done, and nil after Shutdown. A file that cannot be finished is
// removed and reported as a *[LostError].
func (e *Exporter) ForceFlush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.finishAll()
}

// finishAll finishes every open file. e.mu is held.
func (e *Exporter) finishAll() error {
	var errs error
	for _, p := range e.parts {
		errs = errors.Join(errs, e.finish(p))
	}
	return errs
}

// Shutdown finishes every open file. Later calls return nil and Export
// returns [ErrClosed]. Finishing local files is bounded work, so Shutdown
// completes even if ctx is done.
func (e *Exporter) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	return e.finishAll()
}

// Stats are the exporter's counters, in events (rows). Once every call
// has returned,
//
//	Exported + Pending + Failed = the events passed to Export
type Stats struct {
	// Exported counts rows in finished files.
	Exported uint64
	// Pending counts rows in open files: readable once the file is
	// finished.
	Pending uint64
	// Failed counts events passed to Export that are in no file: those
	// that could not be encoded, those an Export did not get to write
	// (a failed write, a done ctx, Shutdown), and rows lost with a file
	// that failed (the sum of WriteError.Failed and LostError.Rows).
	Failed uint64
}

// Stats returns a snapshot of the counters. It is safe to call at any
// time, including concurrently with Export and after Shutdown.
func (e *Exporter) Stats() Stats {
	return Stats{Exported: e.exported.Load(), Pending: e.pending.Load(), Failed: e.failed.Load()}
}

// WriteError is the error of an Export that did not put its whole batch
// into files: every non-nil error Export returns is a *WriteError, not
// wrapped. Written+Failed is the length of the batch. Its cause Err is
// found through it with errors.Is and errors.As: a write error (an
// *fs.PathError), ctx's error, [ErrClosed], an error naming each event
// that could not be encoded by its index in the batch, a *[LostError], or
// several of these joined.
type WriteError struct {
	Written int // events of the batch in files (open or finished)
	Failed  int // events of the batch in no file
	Err     error
}

func (e *WriteError) Error() string {
	return fmt.Sprintf("parquet: wrote %d of %d events: %v", e.Written, e.Written+e.Failed, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// Delivered returns Written, the number of events of the batch written.
// A pipeline that looks for the optional interface
//
//	interface{ Delivered() int }
//
// on an export error counts that many events of the batch as exported and
// the rest as failed.
func (e *WriteError) Delivered() int { return e.Written }

// LostError reports rows that an earlier Export had put into a file that
// then could not be written or finished (a full disk): the file was
// removed and its rows are counted in Stats.Failed. Parquet files are
// readable only once finished (the footer is written last), so a failure
// loses the whole file.
type LostError struct {
	File string // final name the file would have had
	Rows int64  // rows lost
	Err  error
}

func (e *LostError) Error() string {
	return fmt.Sprintf("parquet: lost %d rows of %s: %v", e.Rows, e.File, e.Err)
}

func (e *LostError) Unwrap() error { return e.Err }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("parquet: sync dir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("parquet: sync dir %s: %w", dir, err)
	}
	return nil
}

// codec compresses every file's pages: one codec, so its encoders (each
// with megabytes of tables) are pooled across files instead of built for
// each.
var codec = &snappy.Codec{}

// pageBufferSize is the Parquet library's per-column page buffer: a
// writer holds one per column (49), so the library's 256 KiB default
// would cost 12 MiB per open file before any row.
const pageBufferSize = 32 << 10
