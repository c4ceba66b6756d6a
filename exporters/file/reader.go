package file

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"filippo.io/age"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/schema"
)

// DefaultMaxLineBytes is the longest line a reader accepts unless
// [ReadConfig].MaxLineBytes says otherwise: [personalize.MaxEventBytes]
// (4 MiB), the limit the pipeline enforces at emit, so every event it
// writes can be read back.
const DefaultMaxLineBytes = personalize.MaxEventBytes

// MaxReportedErrors bounds [ReadStats].SkippedErrors.
const MaxReportedErrors = 16

// ErrLineTooLong is the cause of a [LineError] for a line longer than the
// reader's MaxLineBytes.
var ErrLineTooLong = errors.New("line too long")

// ErrNoNewline is the cause of a [TornLineError] whose line has no
// terminating newline.
var ErrNoNewline = errors.New("no terminating newline")

// LineError is a malformed line in the middle of a file: not a valid event
// (the cause is then a *personalize.DecodeError) or longer than the
// maximum line length ([ErrLineTooLong]).
type LineError struct {
	File   string // path of the file
	Line   int    // 1-based line number
	Offset int64  // byte offset of the line's start in the file
	Err    error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("file: %s:%d (offset %d): %v", e.File, e.Line, e.Offset, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// TornLineError is the unfinished last line of a file a writer had not
// closed (its name still ends in ".open"): a writer that crashed, or one
// still writing. Its cause is [ErrNoNewline] when the line lacks its
// newline, else the decode error. The lines before it are all read; a
// reader following a live writer can resume at Offset later.
type TornLineError struct {
	File   string // path of the file
	Line   int    // 1-based line number
	Offset int64  // byte offset of the torn line's start
	Len    int64  // bytes from Offset to the end of the file
	Err    error
}

func (e *TornLineError) Error() string {
	return fmt.Sprintf("file: %s:%d (offset %d): torn last line of %d bytes: %v", e.File, e.Line, e.Offset, e.Len, e.Err)
}

func (e *TornLineError) Unwrap() error { return e.Err }

// ReadStats describes what a read saw.
type ReadStats struct {
	Files  int   // files opened
	Events int64 // events delivered
	Bytes  int64 // bytes read
	// Torn lists the torn last lines of files still named ".open" (at most
	// one per such file). They are not errors of the read: a crashed or
	// running writer leaves one. Lines before them were read.
	Torn []*TornLineError
	// Skipped counts malformed lines skipped with ReadConfig.SkipMalformed;
	// SkippedErrors holds the first [MaxReportedErrors] of them.
	Skipped       int64
	SkippedErrors []*LineError
}

// ReadConfig configures reading. The zero value reads with the defaults.
type ReadConfig struct {
	// SkipMalformed skips and counts malformed lines in the middle of a
	// file instead of stopping with a *LineError.
	SkipMalformed bool
	// MaxLineBytes is the longest line accepted, newline excluded; a longer
	// line is malformed. Default [DefaultMaxLineBytes].
	MaxLineBytes int
	// Workers is how many goroutines [ReadConfig.ReadDir] decodes lines
	// on. 0 or 1 (the default) decodes on the calling goroutine. With n > 1
	// one goroutine reads and splits lines into batches, n decode them,
	// and fn still runs on the calling goroutine, in file and line order,
	// with the same errors and stats as a sequential read; see
	// [ReadConfig.ReadDir] for the memory this takes. A [Reader] always
	// decodes on the goroutine calling Next.
	Workers int
	// Identities decrypt encrypted files (".jsonl.age", written with
	// Config.Recipients), e.g. an *age.X25519Identity. Without them an
	// encrypted file fails the read with [ErrNoIdentity]. A file cut short
	// or altered reads up to the damage, then reports the rest as one line
	// whose cause is a *[DecryptError]: torn in a ".open" file, malformed
	// (or skipped) in a closed one. Offsets and Bytes of an encrypted file
	// count plaintext.
	Identities []age.Identity
	// Audit, if set, records each read (NewReader, ReadDir) in an audit
	// trail before it starts, as read by Accessor, the identity of whoever
	// reads (required with Audit); a read whose record cannot be written
	// does not happen. See package privacy/audit.
	Audit    Auditor
	Accessor string
}

// ReadDir streams the events of every event file in dir to fn, in file
// creation order and line order, with the default [ReadConfig]. See
// [ReadConfig.ReadDir].
func ReadDir(dir string, fn func(personalize.Event) error) (ReadStats, error) {
	return ReadConfig{}.ReadDir(dir, fn)
}

// ReadDir streams the events of every event file in dir to fn, in file
// creation order (see [NewReader] for which files and in which order),
// then line order.
//
// It returns the first error of fn as is, the first malformed line as a
// *[LineError] (unless SkipMalformed), or an I/O error; the stats say how
// far it got. Torn last lines of unfinished files are not errors: they are
// listed in ReadStats.Torn after every line before them was delivered.
//
// Then, if a package registered a format ([RegisterFormat], as
// exporters/parquet does for ".parquet"), it reads that format's files
// in dir and its subdirectories, in path order.
//
// With Workers > 1 the read runs ahead of fn by at most 2*Workers+4
// batches of up to 256 lines or 256 KiB (or one longer line) each, with
// their decoded events; every goroutine it starts has ended when it
// returns.
func (c ReadConfig) ReadDir(dir string, fn func(personalize.Event) error) (ReadStats, error) {
	r, err := c.NewReader(dir)
	if err != nil {
		return ReadStats{}, err
	}
	defer r.Close()
	if c.Workers > 1 {
		return c.thenFormats(dir, fn)(r.readParallel(c.Workers, fn))
	}
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return c.thenFormats(dir, fn)(r.Stats(), nil)
		}
		if err != nil {
			return r.Stats(), err
		}
		if err := fn(ev); err != nil {
			return r.Stats(), err
		}
	}
}

// Reader reads the events of a directory one at a time. It is not safe
// for concurrent use.
type Reader struct {
	cfg   ReadConfig
	files []dirFile
	next  int // index of the next file to open

	f     *os.File
	br    *bufio.Reader
	cur   dirFile
	line  int
	off   int64
	buf   []byte
	stats ReadStats
	err   error // sticky I/O error
}

type dirFile struct {
	path   string
	open   bool // name ends in .open: possibly torn at the end
	sealed bool // name ends in .age (before any .open): encrypted
}

// NewReader lists dir's event files and returns a reader over them, with
// the default [ReadConfig]. See [ReadConfig.NewReader].
func NewReader(dir string) (*Reader, error) { return ReadConfig{}.NewReader(dir) }

// NewReader lists dir's event files: regular files whose names end in
// ".jsonl" (closed) or ".jsonl.open" (being written, or left by a crashed
// writer). Files named by an [Exporter] are read in creation order: by the
// creation time in the name, then the sequence number; other files follow
// in name order. The list is taken now: files created later are not read.
// A file renamed from ".open" to its closed name after the listing is
// still found.
func (c ReadConfig) NewReader(dir string) (*Reader, error) {
	if c.MaxLineBytes < 0 {
		return nil, fmt.Errorf("file: ReadConfig.MaxLineBytes: must be >= 0, got %d", c.MaxLineBytes)
	}
	if c.MaxLineBytes == 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	if c.Workers < 0 {
		return nil, fmt.Errorf("file: ReadConfig.Workers: must be >= 0, got %d", c.Workers)
	}
	if err := c.audit(dir); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("file: read dir: %w", err)
	}
	type keyed struct {
		dirFile
		ts, seq string
		named   bool
		name    string
	}
	var files []keyed
	for _, de := range entries {
		name := de.Name()
		if !de.Type().IsRegular() {
			continue
		}
		k := keyed{name: name}
		base, ok := strings.CutSuffix(name, OpenExt)
		k.open = ok
		base, k.sealed = strings.CutSuffix(base, AgeExt)
		if !strings.HasSuffix(base, Ext) {
			continue
		}
		k.path = filepath.Join(dir, name)
		k.ts, k.seq, k.named = schema.ParseFileName(base)
		files = append(files, k)
	}
	slices.SortFunc(files, func(a, b keyed) int {
		switch {
		case a.named != b.named:
			if a.named {
				return -1
			}
			return 1
		case !a.named:
			return strings.Compare(a.name, b.name)
		}
		if c := strings.Compare(a.ts, b.ts); c != 0 {
			return c
		}
		if c := len(a.seq) - len(b.seq); c != 0 { // numeric order of digit strings
			return c
		}
		if c := strings.Compare(a.seq, b.seq); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	r := &Reader{cfg: c}
	for _, k := range files {
		r.files = append(r.files, k.dirFile)
	}
	return r, nil
}

// Stats returns what the reader has seen so far.
func (r *Reader) Stats() ReadStats { return r.stats }

// Close closes the current file. Next after Close returns io.EOF.
func (r *Reader) Close() error {
	r.next = len(r.files)
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f, r.br = nil, nil
	return err
}

// readBufSize is the bufio.Reader size; longer lines are assembled in the
// reader's own buffer up to MaxLineBytes.
const readBufSize = 64 << 10

// Next returns the next event, or io.EOF after the last one.
//
// A malformed line in the middle of a file is returned as a *[LineError]
// (unless SkipMalformed); calling Next again continues with the following
// line. A torn last line of an unfinished file is recorded in
// Stats().Torn and skipped. Other errors (I/O) are returned by every later
// call.
func (r *Reader) Next() (personalize.Event, error) {
	for {
		raw, err := r.readRaw()
		if err != nil {
			return personalize.Event{}, err
		}
		var ev personalize.Event
		var derr error
		if raw.needsDecode() {
			ev, derr = personalize.UnmarshalEvent(raw.data)
		}
		ok, err := r.cfg.settle(&r.stats, &raw, derr)
		if err != nil {
			return personalize.Event{}, err
		}
		if ok {
			r.stats.Events++
			return ev, nil
		}
	}
}

// rawLine is one line as read, before decoding.
type rawLine struct {
	data     []byte // without the newline; nil if tooLong
	file     string
	open     bool // the file's name ends in .open
	line     int
	off, n   int64 // offset of the line's start; bytes it took
	complete bool  // ended by a newline
	tooLong  bool
	last     bool  // nothing follows in the file (set for .open files)
	broken   error // an encrypted file's *DecryptError: the rest is unreadable
}

func (l *rawLine) blank() bool {
	return l.complete && !l.tooLong && len(bytes.TrimSpace(l.data)) == 0
}

// needsDecode reports whether settle needs the line's decode result.
func (l *rawLine) needsDecode() bool {
	return l.broken == nil && !l.tooLong && !l.blank() && (l.complete || !l.open)
}

// readRaw returns the next line of the directory, io.EOF after the last,
// or a sticky I/O error. The line's data is valid until the next call.
func (r *Reader) readRaw() (rawLine, error) {
	for {
		if r.err != nil {
			return rawLine{}, r.err
		}
		if r.br == nil {
			if r.next >= len(r.files) {
				return rawLine{}, io.EOF
			}
			if err := r.open(r.files[r.next]); err != nil {
				r.err = err
				return rawLine{}, err
			}
			r.next++
			if r.br == nil { // vanished between listing and opening
				continue
			}
		}
		data, n, complete, tooLong, err := r.readLine()
		if derr := asDecryptError(err); derr != nil {
			// An encrypted file that cannot be read on: the rest of it is
			// one broken last line.
			raw := rawLine{data: data, file: r.cur.path, open: r.cur.open, line: r.line + 1,
				off: r.off, n: n, broken: derr, last: true}
			r.off += n
			r.line++
			if err := r.closeCurrent(); err != nil {
				r.err = err
				return rawLine{}, err
			}
			return raw, nil
		}
		if err != nil {
			r.err = fmt.Errorf("file: read %s: %w", r.cur.path, err)
			return rawLine{}, r.err
		}
		if n == 0 { // end of file
			if err := r.closeCurrent(); err != nil {
				r.err = err
				return rawLine{}, err
			}
			continue
		}
		raw := rawLine{data: data, file: r.cur.path, open: r.cur.open, line: r.line + 1,
			off: r.off, n: n, complete: complete, tooLong: tooLong}
		if tooLong {
			raw.data = nil
		}
		r.off += n
		r.line++
		if raw.open {
			raw.last = !complete || r.atEOF()
		}
		return raw, nil
	}
}

// settle applies the reading rules to a line and the error of decoding it
// (nil if it decoded or needed no decoding): it reports whether the line
// is an event to deliver, records torn and skipped lines in st, and
// returns a *LineError for a malformed line unless SkipMalformed.
func (c ReadConfig) settle(st *ReadStats, l *rawLine, derr error) (bool, error) {
	var cause error
	switch {
	case l.broken != nil:
		cause = l.broken
	case l.tooLong:
		cause = ErrLineTooLong
	case l.blank():
		return false, nil
	case !l.complete && l.open:
		cause = ErrNoNewline
	case derr == nil:
		return true, nil
	default:
		cause = derr
	}
	if l.open && l.last {
		st.Torn = append(st.Torn, &TornLineError{File: l.file, Line: l.line, Offset: l.off, Len: l.n, Err: cause})
		return false, nil
	}
	le := &LineError{File: l.file, Line: l.line, Offset: l.off, Err: cause}
	if !c.SkipMalformed {
		return false, le
	}
	st.Skipped++
	if len(st.SkippedErrors) < MaxReportedErrors {
		st.SkippedErrors = append(st.SkippedErrors, le)
	}
	return false, nil
}

func (r *Reader) atEOF() bool {
	_, err := r.br.Peek(1)
	return err == io.EOF
}

// open opens f, or its closed name if the writer renamed it since the
// listing. A file that vanished is skipped.
func (r *Reader) open(f dirFile) error {
	h, err := os.Open(f.path)
	if errors.Is(err, fs.ErrNotExist) && f.open {
		f = dirFile{path: strings.TrimSuffix(f.path, OpenExt), sealed: f.sealed}
		h, err = os.Open(f.path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("file: open: %w", err)
	}
	r.stats.Files++
	r.f, r.cur, r.line, r.off = h, f, 0, 0
	var src io.Reader = h
	if f.sealed {
		if src, err = r.cfg.openSealed(h); err != nil {
			var derr *DecryptError
			if !errors.As(err, &derr) {
				h.Close()
				r.f = nil
				return fmt.Errorf("file: open %s: %w", f.path, err)
			}
			src = brokenReader{derr}
		} else {
			src = sealedReader{src}
		}
	}
	if r.br == nil {
		r.br = bufio.NewReaderSize(src, readBufSize)
	}
	r.br.Reset(src)
	return nil
}

// closeCurrent closes the current file at its end.
func (r *Reader) closeCurrent() error {
	err := r.f.Close()
	r.f, r.br = nil, nil
	if err != nil {
		return fmt.Errorf("file: close %s: %w", r.cur.path, err)
	}
	return nil
}

// readLine returns the next line without its newline, the bytes it took
// in the file (0 at the end of the file), whether the newline was there,
// and whether the line exceeded MaxLineBytes (its bytes are then
// discarded, not buffered).
func (r *Reader) readLine() (line []byte, n int64, complete, tooLong bool, err error) {
	r.buf = r.buf[:0]
	for {
		frag, err := r.br.ReadSlice('\n')
		n += int64(len(frag))
		r.stats.Bytes += int64(len(frag))
		content := frag
		if err == nil {
			content = frag[:len(frag)-1]
		}
		if !tooLong {
			if len(r.buf)+len(content) > r.cfg.MaxLineBytes {
				tooLong = true
				r.buf = r.buf[:0]
			} else {
				r.buf = append(r.buf, content...)
			}
		}
		switch err {
		case nil:
			return r.buf, n, true, tooLong, nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			return r.buf, n, false, tooLong, nil
		default:
			return r.buf, n, false, tooLong, err
		}
	}
}

// asDecryptError returns err's *DecryptError, or nil. It is a function of
// its own so that the error path's variable is not moved to the heap on
// every line read (errors.As takes its address).
func asDecryptError(err error) *DecryptError {
	if err == nil {
		return nil
	}
	var derr *DecryptError
	if errors.As(err, &derr) {
		return derr
	}
	return nil
}
