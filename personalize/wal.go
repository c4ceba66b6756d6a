package personalize

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rankscope/rankscope/personalize/schema"
)

// The write-ahead log of durable mode (Config.WAL). Emits append one JSON
// line each (AppendJSON, already pseudonymized) to the active segment file;
// concurrent appends are written together, one write(2) per group (group
// commit): the first appender to find no write in progress writes every
// line appended so far, the others wait for it, and lines appended while it
// writes go out in the next group. Each segment counts the settlements it
// still awaits (one per event and exporter, plus one while the segment is
// open or being replayed); the goroutine that brings the count to zero
// deletes the file. The design and its cost are in docs/design/durable.md.

// wal is an instrument's write-ahead log.
type wal struct {
	in       *Instrument
	dir      string
	maxBytes int64
	segBytes int64
	always   bool          // fsync every group before its appends return
	every    time.Duration // fsync interval of the active segment otherwise
	nw       int64         // settlements per event: one per exporter
	lock     *os.File

	mu      sync.Mutex
	cond    sync.Cond   // signalled when a group has been written
	cur     *walGroup   // appended lines not yet handed to a writer
	spare   walGroup    // buffers of the last written group, for reuse
	writing bool        // a writer is writing a group
	active  *walSegment // receives appends; nil until the next append
	nextSeq uint64
	done    []*walSegment // sealed and fully written: to fsync, close and release
	dirSync bool          // a segment was created since the directory was fsynced
	closed  bool

	bytes    atomic.Int64 // bytes of the live segment files
	segments atomic.Int64 // live segment files
	books    walBooks

	pseudonyms walPseudonyms

	stop       chan struct{} // closed by close: the loop and the replay return
	wg         sync.WaitGroup
	replayDone chan struct{} // closed when the replay has finished or stopped
	tele       *walTelemetry
}

// walBooks are the WAL's counters (Stats.WAL).
type walBooks struct {
	appended, writes, syncs   atomic.Int64
	replayed, malformed, torn atomic.Int64
	full, failed, deleted     atomic.Int64
}

// walSegment is one segment file.
type walSegment struct {
	w    *wal
	seq  uint64
	path string
	born time.Time
	// outstanding counts the settlements the segment awaits: one per event
	// and exporter, plus one while it is open (released once it is sealed,
	// written, fsynced and closed) or being replayed.
	outstanding atomic.Int64

	// Guarded by w.mu.
	size      int64 // bytes appended (the file's size once written)
	unwritten int   // lines appended and not yet written
	sealed    bool  // takes no more appends
	dirty     bool  // written since its last fsync

	// Used by the writer of the moment alone (writers take turns under
	// w.mu), and by the loop once the segment is sealed and fully written.
	f   *os.File // nil for a previous process's segment
	off int64    // end of the whole lines written
}

// walGroup is the lines of one group commit, in segment order.
type walGroup struct {
	buf    []byte
	chunks []walChunk
	done   bool
	// failFrom is the index of the first chunk that could not be written
	// (len(chunks) when all were); err says why.
	failFrom int
	err      error
}

// walChunk is the lines of one segment within a group: buf[previous end:end].
type walChunk struct {
	seg   *walSegment
	end   int
	lines int
}

// walRef says how many events of a batch belong to one segment; batches
// carry one per segment their events came from (usually one).
type walRef struct {
	seg *walSegment
	n   int64
}

// settleWAL releases one exporter's claim on the events of refs: they are
// exported, failed or dropped, and counted.
func settleWAL(refs []walRef) {
	for _, r := range refs {
		r.seg.release(r.n)
	}
}

// walRotateAge is the age at which a non-empty active segment is sealed
// even if it is not full, so a quiet service's delivered events leave the
// disk (and are not replayed after a crash) within about a second.
const walRotateAge = time.Second

// walSpareMax is the largest group buffer kept for reuse.
const walSpareMax = 1 << 20

// ErrWALFull is matched (errors.Is) by the error an emit returns when the
// write-ahead log is at Config.WAL.MaxBytes.
var ErrWALFull = errors.New("personalize: write-ahead log full")

// errWALFull is the error of every refusal for a full log: one shared
// value, so refusing allocates nothing.
var errWALFull = &DropError{Reason: DropWALFull, Count: 1}

// WALError reports a failure of the write-ahead log that no emit returns:
// a segment that could not be fsynced, closed, removed or read, or lines of
// a previous process's segment skipped at replay. It goes to the error
// handler.
type WALError struct {
	Path string // the segment file
	Op   string // "sync", "close", "remove", "read", "replay"
	Err  error
}

func (e *WALError) Error() string {
	return "personalize: write-ahead log: " + e.Op + " " + e.Path + ": " + e.Err.Error()
}

func (e *WALError) Unwrap() error { return e.Err }

// segmentName returns the file name of segment seq: names sort by seq.
func segmentName(seq uint64) string {
	return fmt.Sprintf("wal-%020d", seq) + schema.FileExt
}

// parseSegmentName is the inverse of segmentName.
func parseSegmentName(name string) (uint64, bool) {
	s, ok := strings.CutPrefix(name, "wal-")
	if !ok {
		return 0, false
	}
	if s, ok = strings.CutSuffix(s, schema.FileExt); !ok || len(s) != 20 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	seq, err := strconv.ParseUint(s, 10, 64)
	return seq, err == nil && seq > 0
}

// openWAL opens the instrument's log: it checks and locks the directory,
// finds the segments a previous process left, and starts the loop and the
// replay of those segments. The shards must exist.
func openWAL(in *Instrument) (*wal, error) {
	cfg := in.cfg.WAL
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("personalize: Config.WAL.Dir: cannot create %q: %w", cfg.Dir, err)
	}
	probe, err := os.CreateTemp(cfg.Dir, ".probe-*")
	if err != nil {
		return nil, fmt.Errorf("personalize: Config.WAL.Dir: %q is not writable: %w", cfg.Dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("personalize: Config.WAL.Dir: %w", err)
	}
	w := &wal{
		in: in, dir: cfg.Dir, maxBytes: cfg.MaxBytes, segBytes: cfg.SegmentBytes,
		always: cfg.SyncAlways, every: cfg.SyncInterval, nw: int64(len(in.workers)), lock: lock,
		cur: &walGroup{}, nextSeq: 1, stop: make(chan struct{}), replayDone: make(chan struct{}),
	}
	w.pseudonyms.seed = maphash.MakeSeed()
	w.cond.L = &w.mu
	old, err := w.scan()
	if err != nil {
		unlockDir(lock)
		return nil, fmt.Errorf("personalize: Config.WAL.Dir: %w", err)
	}
	if w.tele, err = newWALTelemetry(in, w); err != nil {
		unlockDir(lock)
		return nil, err
	}
	for _, sh := range in.shards {
		sh.slots = make(chan struct{}, sh.queue.Cap())
	}
	w.wg.Add(2)
	go w.loop()
	go w.replay(old)
	return w, nil
}

// scan lists the segments a previous process left, oldest first, counts
// them in the books and sets the next sequence number after theirs.
func (w *wal) scan() ([]*walSegment, error) {
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return nil, err
	}
	var old []*walSegment
	for _, e := range entries {
		seq, ok := parseSegmentName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		s := &walSegment{w: w, seq: seq, path: filepath.Join(w.dir, e.Name()), size: info.Size(), sealed: true}
		s.outstanding.Store(1) // the replay's claim
		old = append(old, s)
		w.bytes.Add(s.size)
		w.segments.Add(1)
		w.nextSeq = max(w.nextSeq, seq+1)
	}
	sort.Slice(old, func(i, j int) bool { return old[i].seq < old[j].seq })
	return old, nil
}

// append writes line (one event and its newline) to the log and returns
// its segment, with a claim per exporter on it, once the line is written
// (and fsynced with SyncAlways). It refuses the line when the log is full
// or the write fails.
func (w *wal) append(line []byte) (*walSegment, error) {
	n := int64(len(line))
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, ErrShutdown
	}
	if w.bytes.Load()+n > w.maxBytes {
		w.mu.Unlock()
		w.books.full.Add(1)
		return nil, errWALFull
	}
	seg := w.active
	if seg == nil || seg.size > 0 && seg.size+n > w.segBytes {
		var err error
		if seg, err = w.newSegmentLocked(); err != nil {
			w.mu.Unlock()
			w.books.failed.Add(1)
			return nil, &DropError{Reason: DropWALError, Count: 1, Err: err}
		}
	}
	seg.size += n
	seg.unwritten++
	w.bytes.Add(n)
	seg.outstanding.Add(w.nw)
	g := w.cur
	g.buf = append(g.buf, line...)
	k := len(g.chunks) - 1
	if k >= 0 && g.chunks[k].seg == seg {
		g.chunks[k].end = len(g.buf)
		g.chunks[k].lines++
	} else {
		g.chunks = append(g.chunks, walChunk{seg: seg, end: len(g.buf), lines: 1})
		k++
	}
	for !g.done {
		if w.writing {
			w.cond.Wait()
		} else {
			w.commitLocked()
		}
	}
	var err error
	if k >= g.failFrom {
		err = g.err
	}
	w.mu.Unlock()
	if err != nil {
		seg.release(w.nw) // not in the log: nothing to settle
		w.books.failed.Add(1)
		return nil, &DropError{Reason: DropWALError, Count: 1, Err: err}
	}
	w.books.appended.Add(1)
	return seg, nil
}

// newSegmentLocked seals the active segment and creates the next one.
func (w *wal) newSegmentLocked() (*walSegment, error) {
	if a := w.active; a != nil {
		w.sealLocked(a)
	}
	seq := w.nextSeq
	path := filepath.Join(w.dir, segmentName(seq))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	w.nextSeq++
	s := &walSegment{w: w, seq: seq, path: path, f: f, born: time.Now()}
	s.outstanding.Store(1) // released once sealed, written and closed
	w.segments.Add(1)
	if w.always {
		// The new file's name must be on disk before its lines count as
		// durable.
		if err := syncDir(w.dir); err != nil {
			w.in.cfg.ErrorHandler(&WALError{Path: w.dir, Op: "sync", Err: err})
		}
	} else {
		w.dirSync = true
	}
	w.active = s
	return s, nil
}

// sealLocked makes s take no more appends; once its lines are written it
// goes to the loop to be fsynced and closed.
func (w *wal) sealLocked(s *walSegment) {
	s.sealed = true
	if w.active == s {
		w.active = nil
	}
	if s.unwritten == 0 {
		w.done = append(w.done, s)
	}
}

// commitLocked writes the current group, releasing w.mu meanwhile, and
// wakes its appenders.
func (w *wal) commitLocked() {
	g := w.cur
	w.cur = &walGroup{buf: w.spare.buf[:0], chunks: w.spare.chunks[:0]}
	w.spare = walGroup{}
	w.writing = true
	w.mu.Unlock()
	g.failFrom, g.err = w.write(g)
	w.mu.Lock()
	w.writing = false
	for i, c := range g.chunks {
		s := c.seg
		s.unwritten -= c.lines
		s.dirty = true
		if i >= g.failFrom && !s.sealed {
			// What is in the file is whole lines, but the file may be in
			// trouble: new lines go to a new segment.
			w.sealLocked(s)
		} else if s.sealed && s.unwritten == 0 {
			w.done = append(w.done, s)
		}
	}
	g.done = true
	if cap(g.buf) <= walSpareMax {
		w.spare = walGroup{buf: g.buf, chunks: g.chunks}
	}
	g.buf, g.chunks = nil, nil
	w.cond.Broadcast()
}

// write writes g, one write(2) per segment in it, and fsyncs with
// SyncAlways. It returns the index of the first chunk that failed.
func (w *wal) write(g *walGroup) (int, error) {
	start := 0
	for i, c := range g.chunks {
		b := g.buf[start:c.end]
		start = c.end
		s := c.seg
		n, err := s.f.Write(b)
		w.books.writes.Add(1)
		if err == nil && w.always {
			err = s.f.Sync()
			w.books.syncs.Add(1)
		}
		if err != nil {
			if n > 0 {
				// Cut the file back to its last whole line; if that fails
				// too, replay skips the partial line as torn or malformed.
				_ = s.f.Truncate(s.off)
			}
			return i, err
		}
		s.off += int64(n)
	}
	return len(g.chunks), nil
}

// loop fsyncs the active segment every SyncInterval, seals it when it is
// older than walRotateAge, and finishes sealed segments.
func (w *wal) loop() {
	defer w.wg.Done()
	every := w.every
	if w.always {
		every = DefaultWALSyncInterval // only to rotate and finish segments
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case now := <-t.C:
			w.tick(now)
		}
	}
}

func (w *wal) tick(now time.Time) {
	w.mu.Lock()
	if a := w.active; a != nil && a.size > 0 && now.Sub(a.born) >= walRotateAge {
		w.sealLocked(a)
	}
	var dirty *walSegment
	if a := w.active; a != nil && a.dirty && !w.always {
		a.dirty = false
		dirty = a
	}
	done := w.done
	w.done = nil
	dirSync := w.dirSync
	w.dirSync = false
	w.mu.Unlock()
	w.finish(dirSync, dirty, done)
}

// finish fsyncs the directory (if asked) and the active segment dirty (if
// any), and fsyncs, closes and releases the sealed segments done.
func (w *wal) finish(dirSync bool, dirty *walSegment, done []*walSegment) {
	if dirSync {
		if err := syncDir(w.dir); err != nil {
			w.in.cfg.ErrorHandler(&WALError{Path: w.dir, Op: "sync", Err: err})
		}
	}
	if dirty != nil {
		w.sync(dirty)
	}
	for _, s := range done {
		if s.dirty && !w.always {
			w.sync(s)
		}
		if err := s.f.Close(); err != nil {
			w.in.cfg.ErrorHandler(&WALError{Path: s.path, Op: "close", Err: err})
		}
		s.release(1)
	}
}

func (w *wal) sync(s *walSegment) {
	w.books.syncs.Add(1)
	if err := s.f.Sync(); err != nil {
		w.in.cfg.ErrorHandler(&WALError{Path: s.path, Op: "sync", Err: err})
	}
}

// release settles n claims on s; the last one deletes the file.
func (s *walSegment) release(n int64) {
	if s.outstanding.Add(-n) == 0 {
		s.w.remove(s)
	}
}

func (w *wal) remove(s *walSegment) {
	err := os.Remove(s.path)
	w.mu.Lock()
	size := s.size
	w.mu.Unlock()
	w.bytes.Add(-size)
	w.segments.Add(-1)
	w.books.deleted.Add(1)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		w.in.cfg.ErrorHandler(&WALError{Path: s.path, Op: "remove", Err: err})
	}
}

// close stops the loop and the replay, then seals, fsyncs and closes the
// active segment. Segments that still await settlements (events dropped
// at Shutdown's deadline, or not yet replayed) stay for the next process.
// No append may be in progress or follow.
func (w *wal) close() {
	close(w.stop)
	w.wg.Wait()
	w.mu.Lock()
	w.closed = true
	if a := w.active; a != nil {
		w.sealLocked(a)
	}
	done := w.done
	w.done = nil
	dirSync := w.dirSync
	w.mu.Unlock()
	w.finish(dirSync, nil, done)
	w.tele.close()
	unlockDir(w.lock)
}

// waitReplay waits until the segments of the previous process have all
// been put into the pipeline (or the replay stopped at Shutdown).
func (w *wal) waitReplay(ctx context.Context) error {
	select {
	case <-w.replayDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WALStats are the books of the write-ahead log (durable mode).
type WALStats struct {
	// Appended counts events written to the log by emits; Writes the
	// write(2) calls that wrote them (Appended/Writes is the mean group
	// commit); Syncs the fsyncs.
	Appended int64
	Writes   int64
	Syncs    int64
	// Replayed counts events read back from a previous process's segments
	// and put into the pipeline (they are in Stats.Accepted too).
	// Malformed counts whole lines of those segments that did not decode,
	// Torn their last lines cut short (a crash mid-write): both skipped.
	Replayed  int64
	Malformed int64
	Torn      int64
	// Refused at emit, never accepted: Full for Config.WAL.MaxBytes
	// (DropWALFull), WriteErrors when the write (or, with SyncAlways, the
	// fsync) failed (DropWALError).
	Full        int64
	WriteErrors int64
	// Bytes and Segments are the live segment files now; Deleted counts
	// the segments deleted once every exporter had settled their events.
	Bytes    int64
	Segments int64
	Deleted  int64
}

func (w *wal) stats() *WALStats {
	b := &w.books
	return &WALStats{
		Appended: b.appended.Load(), Writes: b.writes.Load(), Syncs: b.syncs.Load(),
		Replayed: b.replayed.Load(), Malformed: b.malformed.Load(), Torn: b.torn.Load(),
		Full: b.full.Load(), WriteErrors: b.failed.Load(),
		Bytes: w.bytes.Load(), Segments: w.segments.Load(), Deleted: b.deleted.Load(),
	}
}

// syncDir fsyncs a directory so the names created in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
