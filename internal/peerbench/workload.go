package peerbench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/internal/pagecache"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/privacy"
)

// PoolSize is the number of distinct raw user ids the callers cycle
// through.
const PoolSize = 100_000

// The request fields every contender records alongside the request id, the
// pseudonymized user, the items and the stage timings.
const (
	Surface      = "home_feed"
	Model        = "ranker"
	ModelVersion = "v42"
)

// PacedRate is the paced mode's rate, inferences per second, and
// PacedBurst how many it issues back to back at each tick (every
// PacedBurst/PacedRate seconds, 1 ms): a service's request rate is far
// below what a spinning loop offers, and timers do not tick every 10 µs.
// At 100,000 a second every contender but the OpenTelemetry ones keeps up
// on one core (they are left out of this mode).
const (
	PacedRate  = 100_000
	PacedBurst = 100
)

// Stage names of the unit of work, in order.
var Stages = [3]string{"feature_retrieval", "model_scoring", "network"}

// Users is the pool of raw user ids, "user-0000000" to "user-0099999".
var Users = func() []string {
	out := make([]string, PoolSize)
	for i := range out {
		out[i] = fmt.Sprintf("user-%07d", i)
	}
	return out
}()

// Items is the 10-item ranking every inference serves.
var Items = func() []personalize.Item {
	out := make([]personalize.Item, 10)
	for i := range out {
		out[i] = personalize.Item{ID: fmt.Sprintf("sku-%04d", i), Position: i + 1, Score: 0.9 - float64(i)*0.05, Propensity: 0.3}
	}
	return out
}()

// Keyring is the HMAC-SHA256 keyring (one 32-byte key) every contender
// pseudonymizes user ids with: rankscope through Config.Pseudonymize, the
// others by calling it per inference. It pools its HMAC states, so one
// pseudonym costs one hash and one allocation.
var Keyring = func() *privacy.Keyring {
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("peerbench-hmac-key-0123456789abc")})
	if err != nil {
		panic(err)
	}
	return kr
}()

// Pseudonym returns raw's pseudonym, as every contender writes it.
func Pseudonym(raw string) string {
	p, _ := Keyring.Pseudonymize(privacy.DomainUser, raw)
	return p
}

// Caller is one goroutine's source of requests: a unique request id per
// call and the next user of the pool. It is not safe for concurrent use;
// give each goroutine its own.
type Caller struct {
	g, n uint64
	user int
	buf  [48]byte
}

// NewCaller returns the caller of goroutine g (0 for a sequential loop).
// Callers start at different places of the pool and each walks it in
// order, so a user id comes back only after PoolSize requests of its
// caller.
func NewCaller(g int) *Caller {
	return &Caller{g: uint64(g), user: g * 1567 % PoolSize}
}

// Next returns a new request id ("r<g>-<n>", unique across the callers of
// one run; one allocation) and the raw user id of the request.
func (c *Caller) Next() (reqID, user string) {
	b := append(c.buf[:0], 'r')
	b = strconv.AppendUint(b, c.g, 10)
	b = append(b, '-')
	b = strconv.AppendUint(b, c.n, 10)
	c.n++
	user = Users[c.user]
	if c.user++; c.user == PoolSize {
		c.user = 0
	}
	return string(b), user
}

// Calls is how many requests c has made.
func (c *Caller) Calls() uint64 { return c.n }

// A Sink is one contender's instrumentation stack, writing under one
// directory.
type Sink interface {
	// Infer performs one instrumented inference for c. It returns nil, or
	// an error the caller is told about (rankscope: a *DropError matching
	// personalize.ErrQueueFull when the event was dropped). Safe for
	// concurrent use.
	Infer(c *Caller) error
	// Close delivers every accepted event to disk (flushed and synced) and
	// stops every goroutine of the stack. Call it once, after the last
	// Infer.
	Close() error
	// Delivered counts the events that reached disk and their bytes, by
	// reading the files back (lines), after Close.
	Delivered() (events, bytes int64, err error)
}

// SpanCounter is implemented by sinks that also write trace spans to disk.
type SpanCounter interface {
	// Spans counts the span lines on disk, after Close.
	Spans() (int64, error)
}

// Contender names one instrumentation stack and builds it.
type Contender struct {
	Name string
	// Open builds the stack writing under dir, which exists and is empty.
	Open func(dir string) (Sink, error)
}

// Contenders lists the stacks compared, in report order.
var Contenders = []Contender{
	{"floor", OpenFloor},
	{"floor/file", OpenFloorFile},
	{"rankscope/default", OpenRankscopeDefault},
	{"rankscope/block", OpenRankscopeBlock},
	{"zap", OpenZap},
	{"otel/naive", OpenOTelNaive},
	{"otel/tuned", OpenOTelTuned},
}

// CountLines returns the number of newline-terminated lines in the regular
// files of dir (not recursive) and the files' total size.
func CountLines(dir string) (lines, size int64, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, err
	}
	buf := make([]byte, 1<<20)
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return lines, size, err
		}
		for {
			k, rerr := f.Read(buf)
			lines += int64(bytes.Count(buf[:k], []byte{'\n'}))
			size += int64(k)
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				f.Close()
				return lines, size, rerr
			}
		}
		if err := f.Close(); err != nil {
			return lines, size, err
		}
	}
	return lines, size, nil
}

// fileWriter is a buffered, mutex-guarded file for exporters that write to
// an io.Writer (zap's write syncer buffers on its own; OTel's stdout
// exporters do not). The buffer is 256 KiB, as exporters/file's default.
type fileWriter struct {
	mu sync.Mutex
	f  *os.File
	bw *bufio.Writer
	// pageCache, when set, makes the writer give the page cache back as
	// rankscope's file exporter does by default (file.Config.KeepPageCache):
	// a sync and a drop of the file at each file.DefaultMaxBytes, where
	// the exporter rotates and drops the file it closes. Only floor/file
	// sets it, so that it keeps measuring rankscope's line without the
	// pipeline; zap and the OTel contenders write as their users would.
	pageCache bool
	unsynced  int64
}

const writeBufferSize = 256 << 10

func createFile(path string) (*fileWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	return &fileWriter{f: f, bw: bufio.NewWriterSize(f, writeBufferSize)}, nil
}

func (w *fileWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.bw.Write(p)
	if !w.pageCache || err != nil {
		return n, err
	}
	w.unsynced += int64(n)
	if w.unsynced >= file.DefaultMaxBytes {
		if err := errors.Join(w.bw.Flush(), w.f.Sync()); err != nil {
			return n, err
		}
		pagecache.Drop(w.f)
		w.unsynced = 0
	}
	return n, nil
}

// Close flushes, syncs and closes the file.
func (w *fileWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return errors.Join(w.bw.Flush(), w.f.Sync(), w.f.Close())
}
