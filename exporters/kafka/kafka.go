package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/rankscope/rankscope/internal/prefetch"
	"github.com/rankscope/rankscope/personalize"
)

// ErrShutdown is returned by Export after Shutdown.
var ErrShutdown = errors.New("kafka: exporter is shut down")

// Exporter writes each event as one Kafka record. See the package
// documentation for keys, ordering and delivery.
type Exporter struct {
	cfg     Config
	cl      *kgo.Client
	c       counters
	limit   atomic.Int64 // record batch limit in force
	learned atomic.Bool  // the topic's max.message.bytes was read (or cannot be)
	brokers string       // for errors
	// dialErr is the error of the last failed connection to a broker
	// (dialHook), for an error whose last attempt the deadline cut short.
	dialErr atomic.Pointer[error]

	// life guards closed and the registration of in-flight Exports.
	life     sync.RWMutex
	closed   bool
	inflight sync.WaitGroup

	// held counts the bytes of the encoded batches whose records the
	// client may still reference (see reserve); freed is signalled when
	// it drops.
	held  atomic.Int64
	freed chan struct{}

	exportCtx    context.Context // canceled when Shutdown's deadline passes
	cancelExport context.CancelFunc

	// Owned by Export (never called concurrently); reused while the last
	// flight settled before its Export returned.
	lines   []byte
	ends    []int // end offset in lines of each record's key+value
	keyLens []int
	kept    []int // batch index of each record
	recs    []kgo.Record

	shutdownOnce sync.Once
	shutdownErr  error
}

var (
	_ personalize.Exporter  = (*Exporter)(nil)
	_ personalize.Named     = (*Exporter)(nil)
	_ personalize.Transient = (*Exporter)(nil)
)

// New validates cfg and builds the exporter's client. It does not
// connect: the first Export does, so New succeeds while the brokers are
// down. Errors name the bad field.
func New(cfg Config) (*Exporter, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	e := &Exporter{cfg: cfg, brokers: strings.Join(cfg.Brokers, ","), freed: make(chan struct{}, 1)}
	e.limit.Store(int64(cfg.MaxMessageBytes))
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.ClientID(cfg.ClientID),
		kgo.RequiredAcks(kgo.AllISRAcks()), // also franz-go's default; idempotence requires it
		kgo.ProducerBatchCompression(cfg.Compression.codec()),
		kgo.ProducerLinger(cfg.Linger),
		kgo.ProducerBatchMaxBytesFn(func(string) int32 { return int32(e.limit.Load()) }),
		kgo.MaxBufferedBytes(cfg.MaxBufferedBytes),
		kgo.MaxBufferedRecords(cfg.MaxBufferedRecords),
		kgo.DialTimeout(cfg.DialTimeout),
		kgo.WithHooks(dialHook{e}),
	}
	if cfg.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(cfg.TLS.Clone()))
	}
	opts = append(opts, cfg.ClientOptions...)
	e.cl, err = kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: Config.ClientOptions: %w", err)
	}
	e.exportCtx, e.cancelExport = context.WithCancel(context.Background())
	return e, nil
}

// Name implements personalize.Named.
func (e *Exporter) Name() string { return e.cfg.Name }

// Transient reports true: Export encodes each event into its own bytes
// and keeps no reference to the batch or its events once it returns
// ([personalize.Transient]).
func (e *Exporter) Transient() bool { return true }

func (e *Exporter) handle(err error) {
	if h := e.cfg.ErrorHandler; h != nil {
		h(err)
	}
}

// recordKey returns the partitioning key of an event: the pseudonymized
// user id of its payload, else its session pseudonym, else its request
// id, else "" (no key: the partitioner spreads such records). A model
// lineage record, which has no user, is keyed by its model name.
func recordKey(ev personalize.Event) string {
	switch {
	case ev.Impression != nil:
		return firstOf(ev.Impression.UserID.ID, ev.Impression.SessionID.ID, ev.Impression.RequestID)
	case ev.Outcome != nil:
		return firstOf(ev.Outcome.UserID.ID, ev.Outcome.SessionID.ID, ev.Outcome.RequestID)
	case ev.Exposure != nil:
		return ev.Exposure.UserID.ID
	case ev.Link != nil:
		return firstOf(ev.Link.UserID.ID, ev.Link.SessionID.ID, "")
	case ev.Model != nil:
		return ev.Model.Model // no user: a model's lineage records share a partition
	}
	return ""
}

func firstOf(a, b, c string) string {
	switch {
	case a != "":
		return a
	case b != "":
		return b
	}
	return c
}

// batchBytes is the size franz-go gives a record batch holding only a
// record with a key and value of these lengths (v2 batch framing plus
// the record; no headers): what MaxMessageBytes bounds.
func batchBytes(keyLen, valueLen int) int {
	kl := keyLen
	if keyLen == 0 {
		kl = -1 // a nil key is encoded as length -1
	}
	rec := 1 + 1 + 1 + varintLen(int64(kl)) + keyLen + varintLen(int64(valueLen)) + valueLen + 1
	return recordBatchOverhead + varintLen(int64(rec)) + rec
}

// recordBatchOverhead is the framing of a v2 record batch as franz-go
// counts it against the batch limit: the 61-byte batch header and the
// 4-byte length of the records field in a produce request.
const recordBatchOverhead = 4 + 61

// varintLen is the length of v as a zigzag varint.
func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

// flight is the records of one Export call and what became of them. The
// promise runs on franz-go's promise goroutine.
type flight struct {
	e     *Exporter
	bytes int64 // reserved in Exporter.held until every record settled
	mu    sync.Mutex
	left  int
	// returned is set when Export has returned: outcomes after that are
	// late (counted in Stats only, reported to ErrorHandler).
	returned bool
	acked    int
	dropped  [numDropReasons]int
	first    error
	done     chan struct{}
}

func (f *flight) promise(_ *kgo.Record, err error) {
	e := f.e
	var r DropReason
	e.c.settling.Lock()
	e.c.pending.Add(-1)
	if err == nil {
		e.c.delivered.Add(1)
	} else {
		r = classify(err)
		e.c.drop(r, 1)
	}
	e.c.settling.Unlock()
	if err != nil {
		e.c.setErr(err)
	}
	f.mu.Lock()
	late := f.returned
	if err == nil {
		f.acked++
	} else {
		f.dropped[r]++
		if f.first == nil {
			f.first = err
		}
	}
	f.left--
	if f.left == 0 {
		close(f.done)
		e.held.Add(-f.bytes)
		select {
		case e.freed <- struct{}{}:
		default:
		}
	}
	f.mu.Unlock()
	switch {
	case late && err == nil:
		e.c.late.Add(1)
	case late:
		e.handle(fmt.Errorf("kafka: a record pending when its Export returned was dropped (%s): %w", r, err))
	}
}

// Export writes one record per event of batch to Config.Topic, keyed by
// the event's user pseudonym (see the package documentation), and waits
// until the brokers acknowledged every record (acks=all) or ctx ends.
//
// It returns nil when every event was delivered. Otherwise it returns a
// *ExportError whose Delivered method counts the acknowledged events, so
// the pipeline counts only the rest as failed: events too large for a
// record batch (DropTooLarge) do not fail the others. When ctx ends
// first, Export returns at once; records already sent stay with the
// client (the idempotent producer does not abandon a sent request) and
// their outcome is counted in Stats when it is known.
func (e *Exporter) Export(ctx context.Context, batch []personalize.Event) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("kafka: export: %w", err)
	}
	e.life.RLock()
	if e.closed {
		e.life.RUnlock()
		return ErrShutdown
	}
	e.inflight.Add(1)
	e.life.RUnlock()
	defer e.inflight.Done()
	if len(batch) == 0 {
		return nil
	}
	e.c.accepted.Add(uint64(len(batch)))
	e.c.exports.Add(1)

	// Stop waiting when the caller's context ends or Shutdown's deadline
	// passes.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(e.exportCtx, cancel)
	defer stop()

	if err := e.learnLimit(ctx); err != nil {
		e.c.drop(DropUnavailable, len(batch))
		e.c.setErr(err)
		e.c.failedExports.Add(1)
		return &ExportError{Events: len(batch), Dropped: map[DropReason]int{DropUnavailable: len(batch)}, Err: err}
	}

	var errs []error
	var dropped [numDropReasons]int
	limit := int(e.limit.Load())
	e.lines, e.ends, e.keyLens, e.kept = e.lines[:0], e.ends[:0], e.keyLens[:0], e.kept[:0]
	for i := range batch {
		prefetch.Ahead(batch, i)
		start := len(e.lines)
		key := recordKey(batch[i])
		e.lines = append(e.lines, key...)
		var err error
		e.lines, err = personalize.AppendJSON(e.lines, batch[i])
		if err != nil {
			e.lines = e.lines[:start]
			dropped[DropEncode]++
			if len(errs) < 8 {
				errs = append(errs, fmt.Errorf("kafka: event %d: %w", i, err))
			}
			continue
		}
		if n := batchBytes(len(key), len(e.lines)-start-len(key)); n > limit {
			e.lines = e.lines[:start]
			dropped[DropTooLarge]++
			tl := &TooLargeError{Key: key, Type: batch[i].Type.String(), Bytes: n, Limit: limit}
			e.handle(tl)
			if len(errs) < 8 {
				errs = append(errs, tl)
			}
			continue
		}
		e.ends = append(e.ends, len(e.lines))
		e.keyLens = append(e.keyLens, len(key))
		e.kept = append(e.kept, i)
	}
	for r, n := range dropped {
		e.c.drop(DropReason(r), n)
	}

	var f *flight
	if len(e.ends) > 0 {
		if err := e.reserve(ctx, int64(len(e.lines))); err != nil {
			dropped[DropDeadline] += len(e.ends)
			e.c.drop(DropDeadline, len(e.ends))
			e.c.setErr(err)
			errs = append(errs, err)
		} else {
			f = e.produce(ctx)
		}
	}
	var acked, pending int
	if f != nil {
		select {
		case <-f.done:
		case <-ctx.Done():
		}
		f.mu.Lock()
		f.returned = true
		acked, pending = f.acked, f.left
		for r, n := range f.dropped {
			dropped[r] += n
		}
		if f.first != nil {
			errs = append([]error{f.first}, errs...)
		}
		f.mu.Unlock()
		if pending > 0 {
			// The client still holds records pointing into e.lines and
			// e.recs: let them go with it.
			e.lines, e.recs = nil, nil
			errs = append(errs, fmt.Errorf("kafka: %d records pending at the Export deadline (brokers %s): %w", pending, e.brokers, context.Cause(ctx)))
		}
	}
	if e.recs != nil {
		clear(e.recs)
		e.recs = e.recs[:0]
	}
	if cap(e.lines) > 4*e.cfg.MaxMessageBytes {
		e.lines = nil
	}
	if acked == len(batch) {
		return nil
	}
	e.c.failedExports.Add(1)
	ee := &ExportError{Events: len(batch), Acked: acked, Pending: pending, Err: errors.Join(errs...)}
	for r, n := range dropped {
		if n > 0 {
			if ee.Dropped == nil {
				ee.Dropped = map[DropReason]int{}
			}
			ee.Dropped[DropReason(r)] = n
		}
	}
	return ee
}

// reserve waits until the encoded batches the client may still
// reference, plus n bytes, fit Config.MaxBufferedBytes (a batch is let
// through alone when nothing else is held), or ctx ends. Records keep
// pointing into their Export's buffer until they settle, so this is what
// bounds the memory behind records left pending by Exports that returned
// at their deadline.
func (e *Exporter) reserve(ctx context.Context, n int64) error {
	for {
		h := e.held.Load()
		if h == 0 || h+n <= int64(e.cfg.MaxBufferedBytes) {
			e.held.Add(n)
			return nil
		}
		select {
		case <-e.freed:
		case <-ctx.Done():
			return fmt.Errorf("kafka: %d bytes of earlier records still unanswered (brokers %s), over Config.MaxBufferedBytes: %w",
				h, e.brokers, context.Cause(ctx))
		}
	}
}

// produce hands the encoded records to the client and returns their
// flight; n bytes are reserved for them.
func (e *Exporter) produce(ctx context.Context) *flight {
	n := len(e.ends)
	if cap(e.recs) < n {
		e.recs = make([]kgo.Record, n)
	}
	e.recs = e.recs[:n]
	f := &flight{e: e, bytes: int64(len(e.lines)), left: n, done: make(chan struct{})}
	e.c.pending.Add(int64(n))
	start := 0
	for i, end := range e.ends {
		kl := e.keyLens[i]
		r := &e.recs[i]
		if kl > 0 {
			r.Key = e.lines[start : start+kl : start+kl]
		}
		r.Value = e.lines[start+kl : end : end]
		start = end
	}
	for i := range e.recs {
		// Produce blocks while the client holds MaxBufferedBytes or
		// MaxBufferedRecords, until ctx ends (the record then fails with
		// ctx's error). Every record's promise is called exactly once.
		e.cl.Produce(ctx, &e.recs[i], f.promise)
	}
	return f
}

// learnLimit reads the topic's max.message.bytes once and lowers the
// batch limit to it. It fails, naming the brokers, when none answers
// before ctx ends or the topic does not exist; an answer without the
// value (no permission to describe configs) leaves Config.MaxMessageBytes
// in force and is reported to the ErrorHandler.
func (e *Exporter) learnLimit(ctx context.Context) error {
	if e.learned.Load() {
		return nil
	}
	req := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType = kmsg.ConfigResourceTypeTopic
	res.ResourceName = e.cfg.Topic
	res.ConfigNames = []string{"max.message.bytes"}
	req.Resources = append(req.Resources, res)
	resp, err := req.RequestWith(ctx, e.cl)
	if err != nil {
		if ctx.Err() != nil {
			if d := e.dialErr.Load(); d != nil && errors.Is(err, ctx.Err()) {
				// The deadline cut the last attempt short: name why
				// the connections before it failed.
				err = fmt.Errorf("%w (last failed connection: %w)", context.Cause(ctx), *d)
			} else {
				err = fmt.Errorf("%w (last attempt: %w)", context.Cause(ctx), err)
			}
		}
		return fmt.Errorf("kafka: brokers %s unreachable: %w", e.brokers, err)
	}
	for _, r := range resp.Resources {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			if errors.Is(err, kerr.UnknownTopicOrPartition) {
				return fmt.Errorf("kafka: topic %q does not exist on brokers %s: %w", e.cfg.Topic, e.brokers, err)
			}
			e.handle(fmt.Errorf("kafka: reading max.message.bytes of topic %q: %w; keeping Config.MaxMessageBytes %d", e.cfg.Topic, err, e.cfg.MaxMessageBytes))
			break
		}
		for _, c := range r.Configs {
			if c.Name != "max.message.bytes" || c.Value == nil {
				continue
			}
			if v, err := strconv.Atoi(*c.Value); err == nil && v >= minMessageBytes && v < int(e.limit.Load()) {
				e.limit.Store(int64(v))
			}
		}
	}
	e.learned.Store(true)
	return nil
}

// ForceFlush waits until every record handed to the client (including
// records left pending by an Export that returned at its deadline) is
// acknowledged or failed, or ctx ends.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	if err := e.cl.Flush(ctx); err != nil {
		return fmt.Errorf("kafka: flush: %w", err)
	}
	return nil
}

// Shutdown stops new Exports, waits for an Export in flight (cancelling
// it when ctx ends), flushes what the client holds until ctx ends, then
// closes the client: records still held are dropped and counted
// (DropShutdown). It is idempotent; later calls return the first result.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.shutdownOnce.Do(func() {
		e.life.Lock()
		e.closed = true
		e.life.Unlock()
		done := make(chan struct{})
		go func() { e.inflight.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			e.cancelExport()
			<-done
		}
		var errs []error
		if err := e.cl.Flush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("kafka: shutdown: flush: %w", err))
		}
		e.cl.Close() // fails what it still holds with kgo.ErrClientClosed
		e.cancelExport()
		// Close queues the failures; their promises run just after.
		if err := e.settle(); err != nil {
			errs = append(errs, err)
		}
		if n := e.c.dropped[DropShutdown].Load(); n > 0 {
			errs = append(errs, fmt.Errorf("kafka: shutdown: %d events dropped in total as %s", n, DropShutdown))
		}
		e.shutdownErr = errors.Join(errs...)
	})
	return e.shutdownErr
}

// settleTimeout bounds Shutdown's wait for the promises of the records
// the closed client failed; they run at once, so it is only reached if
// franz-go broke its promise to call each exactly once.
const settleTimeout = 5 * time.Second

// settle waits until every flight has settled.
func (e *Exporter) settle() error {
	t := time.NewTimer(settleTimeout)
	defer t.Stop()
	for e.held.Load() != 0 {
		select {
		case <-e.freed:
		case <-t.C:
			return fmt.Errorf("kafka: shutdown: %d records unsettled after the client closed", e.c.pending.Load())
		}
	}
	return nil
}

// Stats returns the exporter's counters. Safe for concurrent use.
func (e *Exporter) Stats() Stats {
	e.c.settling.Lock()
	defer e.c.settling.Unlock()
	s := Stats{
		Accepted:        e.c.accepted.Load(),
		Delivered:       e.c.delivered.Load(),
		Late:            e.c.late.Load(),
		Pending:         e.c.pending.Load(),
		Exports:         e.c.exports.Load(),
		FailedExports:   e.c.failedExports.Load(),
		MaxMessageBytes: int(e.limit.Load()),
		Dropped:         map[DropReason]uint64{},
	}
	for r := range e.c.dropped {
		if n := e.c.dropped[r].Load(); n > 0 {
			s.Dropped[DropReason(r)] = n
		}
	}
	if p := e.c.lastErr.Load(); p != nil {
		s.LastError = *p
	}
	return s
}

// dialHook remembers why the last connection to a broker failed, and
// forgets it once one succeeds. A connection cut short by its request's
// context says nothing about the broker and is not remembered.
type dialHook struct{ e *Exporter }

var _ kgo.HookBrokerConnect = dialHook{}

func (h dialHook) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	switch {
	case err == nil:
		h.e.dialErr.Store(nil)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
	default:
		h.e.dialErr.Store(&err)
	}
}
