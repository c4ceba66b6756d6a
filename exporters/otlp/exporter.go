package otlp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/rankscope/rankscope/internal/retry"
	"github.com/rankscope/rankscope/personalize"
)

// ScopeName is the instrumentation scope of the exported log records.
const ScopeName = "github.com/rankscope/rankscope/exporters/otlp"

// ErrShutdown is returned by Export after Shutdown.
var ErrShutdown = errors.New("otlp: exporter is shut down")

// Exporter sends events as OTLP log records. It implements
// [personalize.Exporter].
type Exporter struct {
	name  string
	proto Protocol

	// direct encodes events straight into an OTLP request and sends it
	// with the exporter's own HTTP or gRPC client.
	direct *directPath

	// sem (capacity 1) serializes Export, ForceFlush and Shutdown, so
	// ForceFlush and Shutdown wait for an Export in flight; acquiring it
	// honors the caller's context.
	sem    chan struct{}
	closed atomic.Bool

	// limit is Config.MaxRequestBytes.
	limit        int
	deadLetterFn func(context.Context, DeadLetter)
	handler      func(error)

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

// New builds an exporter from cfg; it validates the configuration and
// resolves environment variables now, but connects lazily. Events are
// encoded straight into OTLP requests and sent by the exporter's own HTTP
// or gRPC client.
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
	enabled, initial, maxI, elapsed := cfg.Transport.Retry.values()
	policy, err := retry.Policy{InitialInterval: initial, MaxInterval: max(maxI, initial), MaxElapsed: elapsed}.Normalize("otlp: Transport.Retry")
	if err != nil {
		return nil, err
	}
	r, err := cfg.Transport.resolve()
	if err != nil {
		return nil, err
	}
	e.proto = r.proto
	if e.direct, err = newDirectPath(r, enc, enabled, policy); err != nil {
		return nil, err
	}
	return e, nil
}

// Name implements personalize.Named.
func (e *Exporter) Name() string { return e.name }

// Transient reports whether Export keeps nothing of the batch once it
// returns ([personalize.Transient]), so the pipeline may reuse the events'
// memory: true unless Config.DeadLetter is set (the exporter cannot know
// what that callback keeps).
func (e *Exporter) Transient() bool { return e.deadLetterFn == nil }

// Protocol returns the resolved transport.
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
	e.exportDirect(ctx, batch, &out)
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
	if errors.As(err, &ps) {
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

// partialSuccessError is a receiver's partial success.
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

// ForceFlush waits for an Export in flight; Export is synchronous, so
// nothing else is buffered here.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	<-e.sem
	return nil
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
		e.direct.snd.close()
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
	// Retries counts re-sent requests (retryable statuses, connections
	// refused or lost after the receiver was once reached).
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
