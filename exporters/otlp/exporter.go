package otlp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/rankscope/rankscope/internal/retry"
	"github.com/rankscope/rankscope/personalize"
)

// ScopeName is the instrumentation scope of the exported log records.
const ScopeName = "github.com/rankscope/rankscope/exporters/otlp"

// ErrShutdown is returned by Export after Shutdown.
var ErrShutdown = errors.New("otlp: exporter is shut down")

func contextBackground() context.Context { return context.Background() }

// Exporter sends events as OTLP log records. It implements
// [personalize.Exporter].
type Exporter struct {
	name  string
	proto Protocol

	// direct is the default path: events encoded straight into an OTLP
	// request and sent by our own HTTP or gRPC client. nil on the SDK path.
	direct *directPath

	// The SDK path (Config.UseSDK or Config.LogExporter): events become
	// SDK records sent by an SDK log exporter.
	exp      sdklog.Exporter
	provider *sdklog.LoggerProvider
	logger   log.Logger
	proc     *collect

	// sem (capacity 1) serializes Export, ForceFlush and Shutdown, so
	// ForceFlush and Shutdown wait for an Export in flight; acquiring it
	// honors the caller's context.
	sem    chan struct{}
	closed atomic.Bool
	enc    encoder // owned by Export

	// limit is Config.MaxRequestBytes. On the SDK path sizer measures
	// the records (the SDK exporters send the same bytes as the direct
	// encoder) to split batches the same way.
	limit        int
	sizer        *requestEncoder
	sizeBuf      []byte // the sizer's: one record at a time
	deadLetterFn func(context.Context, DeadLetter)
	handler      func(error)

	// netRetry retries exports that failed to connect: the OTLP/HTTP
	// exporter retries only on retryable statuses, not when the collector
	// is unreachable (gRPC retries Unavailable itself).
	netRetry bool
	policy   retry.Policy

	exported, failed, rejected, dropped, deadLettered atomic.Uint64
	batches, failedBatches, requests, retries         atomic.Uint64
	lastErr                                           atomic.Pointer[string]

	shutdownOnce sync.Once
	shutdownErr  error
}

var (
	_ personalize.Exporter  = (*Exporter)(nil)
	_ personalize.Named     = (*Exporter)(nil)
	_ personalize.Transient = (*Exporter)(nil)
)

// collect is the SDK processor of the exporter's private LoggerProvider:
// it gathers the records of one Export call so they are sent in a single
// OTLP request. The pipeline already batches and queues; a BatchProcessor
// would add a second queue that drops silently.
type collect struct {
	recs []sdklog.Record
}

func (c *collect) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

func (c *collect) OnEmit(_ context.Context, r *sdklog.Record) error {
	c.recs = append(c.recs, *r) // the record is ours alone: emitted by Export
	return nil
}

func (c *collect) Shutdown(context.Context) error   { return nil }
func (c *collect) ForceFlush(context.Context) error { return nil }

// New builds an exporter from cfg; it validates the configuration and
// resolves environment variables now, but connects lazily.
//
// By default events are encoded straight into OTLP requests and sent by
// the exporter's own HTTP or gRPC client (the direct path); with
// Config.UseSDK or Config.LogExporter they go through the OpenTelemetry
// SDK's log exporters instead (the SDK path).
func New(cfg Config) (*Exporter, error) {
	e := &Exporter{name: cfg.Name, sem: make(chan struct{}, 1), deadLetterFn: cfg.DeadLetter, handler: cfg.ErrorHandler}
	if e.name == "" {
		e.name = "otlp"
	}
	if e.handler == nil {
		e.handler = otel.Handle
	}
	res := cfg.Resource
	if res == nil {
		res = resource.Default()
	}
	var err error
	if e.limit, err = cfg.requestLimit(); err != nil {
		return nil, err
	}
	enc := newRequestEncoder(res, ScopeName, e.limit)
	if env := enc.requestSize(0); env >= e.limit {
		return nil, fmt.Errorf("otlp: Config.MaxRequestBytes: %d leaves no room for records after the resource and scope (%d bytes)", e.limit, env)
	}
	var policy retry.Policy
	enabled := false
	if cfg.LogExporter == nil {
		var (
			initial, maxI, elapsed time.Duration
			err                    error
		)
		enabled, initial, maxI, elapsed = cfg.Transport.Retry.values()
		policy, err = retry.Policy{InitialInterval: initial, MaxInterval: max(maxI, initial), MaxElapsed: elapsed}.Normalize("otlp: Transport.Retry")
		if err != nil {
			return nil, err
		}
	}
	if cfg.LogExporter == nil && !cfg.UseSDK {
		r, err := cfg.Transport.resolve()
		if err != nil {
			return nil, err
		}
		e.proto = r.proto
		e.direct, err = newDirectPath(r, enc, enabled, policy)
		if err != nil {
			return nil, err
		}
		return e, nil
	}
	e.proc, e.sizer = &collect{}, enc
	if cfg.LogExporter != nil {
		e.exp = cfg.LogExporter
	} else {
		exp, proto, err := cfg.Transport.logExporter()
		if err != nil {
			return nil, err
		}
		e.exp, e.proto = exp, proto
		e.netRetry, e.policy = enabled, policy
	}
	e.provider = sdklog.NewLoggerProvider(
		sdklog.WithResource(res),
		sdklog.WithProcessor(e.proc),
		// Events are never truncated by OTEL_LOGRECORD_ATTRIBUTE_* limits.
		sdklog.WithAttributeCountLimit(-1),
		sdklog.WithAttributeValueLengthLimit(-1),
		// The mapping never repeats a key; skipping the SDK's
		// deduplication saves a map per record.
		sdklog.WithAllowKeyDuplication(),
	)
	e.logger = e.provider.Logger(ScopeName, log.WithSchemaURL(""))
	return e, nil
}

// Name implements personalize.Named.
func (e *Exporter) Name() string { return e.name }

// Transient reports whether Export keeps nothing of the batch once it
// returns ([personalize.Transient]), so the pipeline may reuse the events'
// memory: true unless Config.DeadLetter is set (the exporter cannot know
// what that callback keeps).
func (e *Exporter) Transient() bool { return e.deadLetterFn == nil }

// Protocol returns the resolved transport ("" with Config.LogExporter).
func (e *Exporter) Protocol() Protocol { return e.proto }

// Export converts batch to log records and sends them in one OTLP
// request, or several when they exceed Config.MaxRequestBytes, each
// retried within ctx's deadline. An event too large for a request alone
// is dead-lettered, not sent, and does not make Export fail. On failure
// every event of the failed requests is counted in Stats.Failed.
func (e *Exporter) Export(ctx context.Context, batch []personalize.Event) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("otlp: export: %w", err)
	}
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("otlp: export: %w", ctx.Err())
	}
	defer func() { <-e.sem }()
	if e.closed.Load() {
		return ErrShutdown
	}
	if len(batch) == 0 {
		return nil
	}
	var out outcome
	if e.direct != nil {
		e.exportDirect(ctx, batch, &out)
	} else {
		e.exportSDK(ctx, batch, &out)
	}
	return out.finish(e)
}

// outcome gathers the results of the requests of one Export call.
type outcome struct {
	sent, failed bool
	errs         []error
}

func (o *outcome) add(failed bool, err error) {
	o.sent = true
	o.failed = o.failed || failed
	if err != nil {
		o.errs = append(o.errs, err)
	}
}

// finish counts the Export call and returns its error.
func (o *outcome) finish(e *Exporter) error {
	if o.sent {
		e.batches.Add(1)
	}
	if o.failed {
		e.failedBatches.Add(1)
	}
	switch len(o.errs) {
	case 0:
		return nil
	case 1:
		return o.errs[0]
	}
	return errors.Join(o.errs...)
}

// exportSDK sends batch through the SDK log exporter, in requests split
// as the direct path splits them (measured with the direct encoder).
func (e *Exporter) exportSDK(ctx context.Context, batch []personalize.Event, out *outcome) {
	now := time.Now()
	bg := context.Background() // records carry no trace context of the export goroutine
	for from := 0; from < len(batch); {
		var r encodeResult
		e.sizeBuf, r = e.sizer.measure(e.sizeBuf[:0], batch[from:], now)
		if cap(e.sizeBuf) > maxPooledBytes {
			e.sizeBuf = nil
		}
		part := batch[from : from+r.next]
		skip := e.sizer.tooLarge
		e.deadLetter(ctx, batch[from:], skip)
		from += r.next
		e.proc.recs = e.proc.recs[:0]
		for i := range part {
			if len(skip) > 0 && skip[0].index == i {
				skip = skip[1:]
				continue
			}
			var rec log.Record
			e.enc.attrs = e.enc.attrs[:0]
			if err := e.enc.encode(part[i]); err != nil {
				e.dropped.Add(1)
				continue
			}
			rec.SetEventName(EventName(part[i].Type))
			rec.SetTimestamp(part[i].Time())
			rec.SetSeverity(log.SeverityInfo)
			rec.AddAttributes(e.enc.attrs...)
			e.logger.Emit(bg, rec)
		}
		n := len(e.proc.recs)
		if n == 0 {
			continue
		}
		err := e.exp.Export(ctx, e.proc.recs)
		if err != nil && e.netRetry {
			err = e.retryNetwork(ctx, err)
		}
		clear(e.proc.recs)
		var rejected int64
		if err != nil {
			rejected, _ = partialSuccess(err)
		}
		out.add(e.account(n, rejected, err))
	}
	if len(e.enc.attrs) > 1024 {
		e.enc = encoder{}
	}
}

// exportDirect encodes batch into requests of at most the limit and
// sends them one after the other.
func (e *Exporter) exportDirect(ctx context.Context, batch []personalize.Event, out *outcome) {
	d := e.direct
	now := time.Now()
	for from := 0; from < len(batch); {
		p := getPayload()
		var r encodeResult
		p.buf, r = d.enc.encode(p.buf, batch[from:], now)
		e.dropped.Add(uint64(r.dropped))
		e.deadLetter(ctx, batch[from:], d.enc.tooLarge)
		from += r.next
		if r.n == 0 {
			p.release()
			continue
		}
		p.data = r.req
		out.add(e.sendDirect(ctx, p, r.n))
	}
}

// sendDirect sends the request of n records in p and releases p.
func (e *Exporter) sendDirect(ctx context.Context, p *payload, n int) (failed bool, err error) {
	d := e.direct
	if d.gzip {
		z, err := gzipPayload(p)
		p.release()
		if err != nil {
			return e.account(n, 0, err)
		}
		p = z
	}
	rejected, msg, err := d.export(ctx, p, &e.retries)
	p.release()
	if err == nil && (rejected != 0 || msg != "") {
		return e.account(n, rejected, &partialSuccessError{rejected: rejected, msg: msg})
	}
	return e.account(n, 0, err)
}

// deadLetter hands the events of batch listed in over to the dead-letter
// path: counted, given to Config.DeadLetter, reported to the error
// handler.
func (e *Exporter) deadLetter(ctx context.Context, batch []personalize.Event, over []oversized) {
	for _, o := range over {
		e.deadLettered.Add(1)
		ev := batch[o.index : o.index+1 : o.index+1]
		err := &TooLargeError{ID: ev[0].ID(), Type: ev[0].Type, Bytes: o.size, AtLeast: o.atMin, Limit: e.limit}
		if e.deadLetterFn != nil {
			e.deadLetterFn(ctx, DeadLetter{Reason: ReasonTooLarge, Events: ev, Err: err})
		}
		e.handler(err)
	}
}

// account counts the outcome of a request of n records: err is nil, a
// partial success rejecting some records (rejected may be 0: a warning),
// or a failure of the whole request. It returns whether the request
// failed and the error for Export.
func (e *Exporter) account(n int, rejected int64, err error) (failed bool, _ error) {
	e.requests.Add(1)
	if err == nil {
		e.exported.Add(uint64(n))
		return false, nil
	}
	msg := err.Error()
	e.lastErr.Store(&msg)
	var ps *partialSuccessError
	if _, sdk := partialSuccess(err); sdk || errors.As(err, &ps) {
		rejected = min(max(rejected, 0), int64(n))
		e.exported.Add(uint64(n) - uint64(rejected))
		e.rejected.Add(uint64(rejected))
		if rejected == 0 {
			return false, nil // a warning message without rejected records
		}
		return false, &RejectedError{Rejected: int(rejected), Exported: n - int(rejected), Err: err}
	}
	e.failed.Add(uint64(n))
	return true, fmt.Errorf("otlp: export of %d events: %w", n, err)
}

// partialSuccessError is a receiver's partial success on the direct path.
type partialSuccessError struct {
	rejected int64
	msg      string
}

func (e *partialSuccessError) Error() string {
	return fmt.Sprintf("OTLP partial success: %s (%d log records rejected)", e.msg, e.rejected)
}

// RejectedError reports an OTLP partial success: the receiver accepted the
// request but rejected some records.
type RejectedError struct {
	Rejected, Exported int
	Err                error
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("otlp: receiver rejected %d of %d events: %v", e.Rejected, e.Rejected+e.Exported, e.Err)
}

func (e *RejectedError) Unwrap() error { return e.Err }

// partialSuccess reports whether err consists only of OTLP partial-success
// errors of the SDK exporters, and how many records they rejected. The
// SDK's error type is internal to it, so it is recognized by its name,
// package and field.
func partialSuccess(err error) (rejected int64, ok bool) {
	var leaves []error
	var walk func(error)
	walk = func(err error) {
		switch x := err.(type) { //nolint:errorlint // walking the tree on purpose
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		default:
			if err != nil {
				leaves = append(leaves, err)
			}
		}
	}
	walk(err)
	if len(leaves) == 0 {
		return 0, false
	}
	for _, leaf := range leaves {
		v := reflect.ValueOf(leaf)
		t := v.Type()
		if t.Kind() != reflect.Struct || t.Name() != "PartialSuccess" ||
			!strings.HasPrefix(t.PkgPath(), "go.opentelemetry.io/otel/exporters/otlp/") {
			return 0, false
		}
		f := v.FieldByName("RejectedItems")
		if f.Kind() != reflect.Int64 {
			return 0, false
		}
		rejected += f.Int()
	}
	return rejected, true
}

// retryNetwork retries an export that could not reach the collector, with
// exponential backoff and jitter, within the retry budget and ctx.
func (e *Exporter) retryNetwork(ctx context.Context, err error) error {
	b := e.policy.Start(nil, nil)
	for err != nil && isNetworkError(err) && ctx.Err() == nil {
		d, ok := b.Next(0)
		if dl, has := ctx.Deadline(); ok && has && time.Until(dl) < d {
			ok = false
		}
		if !ok || retry.Sleep(ctx, d) != nil {
			break
		}
		e.retries.Add(1)
		err = e.exp.Export(ctx, e.proc.recs)
	}
	return err
}

// isNetworkError reports a failure to connect or a connection lost
// mid-request.
func isNetworkError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// ForceFlush waits for an Export in flight (Export is synchronous, so
// nothing else is buffered here) and flushes the OTLP exporter.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-e.sem }()
	if e.closed.Load() || e.direct != nil {
		return nil // the direct path sends synchronously: nothing is buffered
	}
	return e.exp.ForceFlush(ctx)
}

// Shutdown stops new Exports, waits for one in flight (bounded by ctx), then shuts the
// OTLP exporter down. Later calls return the first call's result.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.shutdownOnce.Do(func() {
		e.closed.Store(true) // no Export starts after this
		select {
		case e.sem <- struct{}{}: // the Export in flight, if any, is done
			defer func() { <-e.sem }()
		case <-ctx.Done(): // shut the exporter down under it: it fails fast
		}
		if e.direct != nil {
			e.direct.snd.close()
			return
		}
		e.shutdownErr = errors.Join(e.exp.Shutdown(ctx), e.provider.Shutdown(ctx))
		if e.shutdownErr != nil {
			e.shutdownErr = fmt.Errorf("otlp: shutdown: %w", e.shutdownErr)
		}
	})
	return e.shutdownErr
}

// Stats are the exporter's counters, in events unless named otherwise.
// Every event passed to Export while running is counted once:
//
//	Exported + Failed + Rejected + Dropped + DeadLettered
type Stats struct {
	// Exported: acknowledged by the receiver.
	Exported uint64
	// Failed: in batches the OTLP exporter gave up on.
	Failed uint64
	// Rejected: records the receiver refused in a partial success (the
	// rest of their batch counts as Exported).
	Rejected uint64
	// Dropped: events that could not be mapped (no payload).
	Dropped uint64
	// DeadLettered: events not sent because a request holding one alone
	// would exceed Config.MaxRequestBytes; handed to Config.DeadLetter.
	DeadLettered uint64
	// Batches counts Export calls that sent a request, FailedBatches
	// those of them in which a request failed.
	Batches, FailedBatches uint64
	// Requests counts OTLP requests (retries aside): one per batch, more
	// when a batch exceeds Config.MaxRequestBytes.
	Requests uint64
	// Retries counts re-sent requests. On the direct path that is every
	// retry (refused connections, retryable statuses); on the SDK path only
	// re-sent exports after connection failures (the SDK exporter's own
	// retries of retryable statuses are not visible here).
	Retries uint64
	// LastError is the last export error, or "".
	LastError string
}

// Stats returns a snapshot of the counters.
func (e *Exporter) Stats() Stats {
	st := Stats{Exported: e.exported.Load(), Failed: e.failed.Load(), Rejected: e.rejected.Load(), Dropped: e.dropped.Load(),
		DeadLettered: e.deadLettered.Load(), Batches: e.batches.Load(), FailedBatches: e.failedBatches.Load(),
		Requests: e.requests.Load(), Retries: e.retries.Load()}
	if p := e.lastErr.Load(); p != nil {
		st.LastError = *p
	}
	return st
}
