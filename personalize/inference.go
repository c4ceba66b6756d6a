package personalize

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize/schema"
)

// Request describes one inference call: who is served, where, by which
// model, under which experiments and flags.
//
// The slices are retained (not copied) until the impression is exported:
// do not modify them after Start. Sharing one read-only slice across
// requests is fine.
type Request struct {
	// ID is the service's request id; if empty a UUIDv7 is generated.
	ID RequestID
	// User and Session are raw identifiers; they are pseudonymized before
	// export and never leave the process. At least one is required.
	User    string
	Session string
	Surface string // where the ranking is shown: home_feed, search ...
	Channel string // web, app, email ...

	Model        string
	ModelVersion string
	FeatureSet   string
	Experiments  []Assignment
	Flags        []Flag
	// Context carries attributes such as device and region; only keys on
	// the instrument's allow-list are exported.
	Context []Attr
	// Time, if set, is the wall-clock time the request is recorded at, for
	// backfills, replays and simulations: the impression starts at Time and
	// ends Time plus the measured duration. Durations and stage timings are
	// always measured on the monotonic clock. Zero means now.
	Time time.Time
}

// Inference is one wrapped inference call, from [Instrument.Start] to
// [Inference.End]. Stages may be timed from several goroutines at once;
// Impress and End must not race with each other. After End only
// RequestID may be called (it stays valid: the Inference is never reused);
// stages that end after End are counted as late, Impress and Fallback do
// nothing.
type Inference struct {
	in  *Instrument
	ctx inferenceContext

	mu    sync.Mutex
	blk   *impBlock // the impression being built; handed over at End
	reqID RequestID // kept here: RequestID stays valid after End
	// sh is the shard the impression goes to, chosen at Start.
	sh    *shard
	ended atomic.Bool
	// shed marks the instrument's shared stand-in for inferences refused
	// at Start because their shard's door was full: it records nothing.
	shed bool
	// Fields are ordered so that the struct fits the 80-byte size class:
	// it is the one allocation of an inference. The trace span, rarely
	// set, lives in the block (impBlock.span).
}

// inferenceWithID is an Inference with room for the request id Start
// generates: the id's string points into idBuf, so it costs no
// allocation of its own, and an Inference given an id does not carry the
// room. idBuf is never written again once the id is in it; the Inference
// is never reused, so the string stays valid.
type inferenceWithID struct {
	Inference
	idBuf [36]byte
}

// inferenceContext is the context handed back by Start: it answers the
// latency recorder key with the inference itself, so Start costs no
// context allocation.
type inferenceContext struct {
	context.Context
	inf *Inference
}

type inferenceKey struct{}

func (c *inferenceContext) Value(key any) any {
	if key == (inferenceKey{}) || latency.IsRecorderKey(key) {
		return c.inf
	}
	return c.Context.Value(key)
}

// FromContext returns the inference ctx belongs to, or nil.
//
// A request shed at Start (its shard's door was full) has no inference in
// its context, so FromContext returns nil for it. Every method of a nil
// *Inference does nothing and End on it returns [ErrNoInference], so code
// that takes the inference from the context works unchanged under load.
func FromContext(ctx context.Context) *Inference {
	inf, _ := ctx.Value(inferenceKey{}).(*Inference)
	return inf
}

// Start begins an inference. The returned context carries the inference:
// [latency.Time] and [latency.Start] on it record stages into the
// impression. If ctx carries a sampled span, an inference span is started
// as its child and stage spans become children of it; unsampled requests
// create no spans.
//
// When the door of the shard the request belongs to is shut (an emit on
// it found its entry queue full and the shard's batcher has not drained
// the queue since) and Config.BlockTimeout is not set, the inference is
// shed at once, before anything is built: Start returns ctx unchanged and
// a shared stand-in whose Stage, Impress and Fallback do nothing, whose
// RequestID is empty, and whose End returns a *DropError matching
// [ErrQueueFull] (counted as queue_full). The stage latencies of shed
// inferences are not recorded; shedding depends on the queue, not on
// latency, so the recorded ones remain a fair sample.
func (in *Instrument) Start(ctx context.Context, req Request) (context.Context, *Inference) {
	key := req.User
	if key == "" {
		key = req.Session
	}
	sh := in.shardOf(key)
	if in.cfg.BlockTimeout == 0 && sh.shut.Load() && !in.closed.Load() {
		return ctx, sh.shed
	}
	var inf *Inference
	var idBuf []byte // room for a generated request id
	if req.ID == "" {
		x := &inferenceWithID{Inference: Inference{in: in, sh: sh}}
		inf, idBuf = &x.Inference, x.idBuf[:0]
	} else {
		inf = &Inference{in: in, sh: sh}
	}
	blk := in.getBlock()
	inf.blk = blk
	// Take the block's lines back now (see impBlock.reclaim).
	blk.reclaim()
	// The whole impression is written here: a recycled block is not
	// cleared when it is pooled (see putBlock).
	blk.imp = Impression{
		Start: latency.Now(), RequestID: req.ID, Service: in.cfg.Service,
		Surface: req.Surface, Channel: req.Channel,
		Model: req.Model, ModelVersion: req.ModelVersion, FeatureSet: req.FeatureSet,
		Experiments: req.Experiments, Flags: req.Flags, Context: req.Context,
		Stages: blk.stages[:0],
	}
	blk.rawUser, blk.rawSession = req.User, req.Session
	blk.wall, blk.span = req.Time, nil
	im := &blk.imp
	if im.RequestID == "" {
		b, _ := schema.NewEventIDAt(im.Start).AppendText(idBuf)
		im.RequestID = unsafe.String(&b[0], len(b))
	}
	inf.reqID = im.RequestID
	parent := trace.SpanFromContext(ctx)
	if sc := parent.SpanContext(); sc.IsValid() {
		im.TraceID, im.SpanID = schema.TraceID(sc.TraceID()), schema.SpanID(sc.SpanID())
		if sc.IsSampled() {
			ctx, blk.span = in.tracer(parent).Start(ctx, "rankscope.inference",
				trace.WithSpanKind(trace.SpanKindInternal),
				trace.WithAttributes(attribute.String("rankscope.request_id", im.RequestID),
					attribute.String("rankscope.surface", req.Surface),
					attribute.String("rankscope.model.version", req.ModelVersion)))
		}
	}
	inf.ctx = inferenceContext{Context: ctx, inf: inf}
	return &inf.ctx, inf
}

// RequestID returns the id outcomes use to refer to this inference; it
// is empty for an inference shed at Start.
func (inf *Inference) RequestID() RequestID {
	if inf == nil {
		return ""
	}
	return inf.reqID
}

// Stage starts timing a named stage of this inference; end it with
// Span.End(err). Errors classify the stage (see [latency.StatusOf]):
// deadlines as timeouts, [latency.ErrFallback] as fallbacks.
func (inf *Inference) Stage(name string) latency.Span {
	if inf == nil || inf.shed {
		return latency.Span{}
	}
	_, s := latency.Start(&inf.ctx, name)
	return s
}

// Observe implements [latency.Recorder]: it records a finished stage in the
// impression and in the instrument's latency tracker.
func (inf *Inference) Observe(o latency.Observation) {
	if inf == nil || inf.shed {
		return
	}
	inf.mu.Lock()
	if inf.ended.Load() {
		inf.mu.Unlock()
		inf.in.stats.lateStages.Add(1)
		return
	}
	im := &inf.blk.imp
	im.Stages = append(im.Stages, StageTiming{
		Name: o.Stage, Offset: o.Start.Sub(im.Start), Duration: o.Duration,
		Status: o.Status, Detail: o.Detail,
	})
	inf.mu.Unlock()
	// The latency tracker's windows (and the OTel histogram, when on) are
	// recorded by the batcher from the impression's stages, off the
	// request path; see Instrument.recordStages.
}

// Impress records the ranked items served. It copies items, their
// explanations included (Item.Explanation; the caller may reuse its
// slices once Impress returns). Calling it again replaces the items.
func (inf *Inference) Impress(items []Item) {
	if inf == nil || inf.shed || inf.ended.Load() {
		return
	}
	b := inf.blk
	b.items = append(b.items[:0], items...)
	b.imp.Items = b.items
	b.copyExplanations(items)
}

// Fallback marks the whole response as a fallback (for example a
// popularity list served because the model was down).
func (inf *Inference) Fallback(reason string) {
	if inf == nil || inf.shed || inf.ended.Load() {
		return
	}
	inf.blk.imp.Status = StageFallback
	inf.blk.imp.ErrorType = reason
}

// ErrNoInference is returned by End on a nil *Inference (see
// [FromContext]).
var ErrNoInference = errors.New("personalize: no inference")

// ErrEnded is returned by End when the inference already ended.
var ErrEnded = errors.New("personalize: inference already ended")

// End finishes the inference with err (nil for success), records the
// end-to-end latency and emits the impression event. It returns a
// *ValidationError if the impression is invalid (the event is then counted
// as rejected and handed to the dead-letter exporter), ErrShutdown after
// Shutdown, a *DropError when the queue is full, or nil. It never blocks
// unless Config.BlockTimeout is set.
func (inf *Inference) End(err error) error {
	if inf == nil {
		return ErrNoInference
	}
	if inf.shed {
		return inf.sh.refuse()
	}
	if inf.ended.Swap(true) {
		return ErrEnded
	}
	blk := inf.blk
	im := &blk.imp
	im.End = latency.Now()
	// Wait out a stage recording right now; later ones see ended and are
	// counted as late, so the impression is ours alone from here.
	inf.mu.Lock()
	// From here no stage touches the block: once the impression is handed
	// over it may be recycled (see impBlock).
	inf.blk = nil
	inf.mu.Unlock()
	if !blk.wall.IsZero() {
		d := im.End.Sub(im.Start)
		im.Start = blk.wall
		im.End = blk.wall.Add(d)
	}
	if err != nil {
		st := latency.StatusOf(err)
		if st == StageOK {
			st = StageError
		}
		im.Status = st
		im.ErrorType = latency.ErrorType(err)
	}
	if sp := blk.span; sp != nil {
		blk.span = nil
		if im.Status != StageOK {
			sp.SetStatus(codes.Error, im.Status.String())
		}
		sp.SetAttributes(attribute.Int("rankscope.items", len(im.Items)))
		sp.End()
	}
	err = inf.in.emitTo(inf.sh, Event{Type: EventImpression, Impression: im}, blk)
	if inf.in.warm {
		inf.in.warmBlock()
	}
	return err
}

func (in *Instrument) tracer(parent trace.Span) trace.Tracer {
	return parent.TracerProvider().Tracer(scopeName)
}

const scopeName = "github.com/rankscope/rankscope/personalize"

// Outcome records what a user did. o.Time defaults to now; o.RequestID
// defaults to the request id in ctx's baggage ([BaggageRequestID]), and
// o.TraceID and o.SpanID to the span in ctx. It validates o (returning a
// *ValidationError naming the field) and never blocks unless
// Config.BlockTimeout is set.
func (in *Instrument) Outcome(ctx context.Context, o Outcome) error {
	if o.Time.IsZero() {
		o.Time = latency.Now()
	}
	if o.RequestID == "" && ctx != nil {
		o.RequestID = RequestIDFromContext(ctx)
	}
	if o.TraceID.IsZero() && ctx != nil {
		o.TraceID, o.SpanID = traceContext(ctx)
	}
	return in.emit(Event{Type: EventOutcome, Outcome: &o})
}

// Expose records that a unit was exposed to an experiment arm.
func (in *Instrument) Expose(_ context.Context, x Exposure) error {
	if x.Time.IsZero() {
		x.Time = latency.Now()
	}
	return in.emit(Event{Type: EventExposure, Exposure: &x})
}

// Link records that a session belongs to a user, for attribution across
// sessions and devices.
func (in *Instrument) Link(_ context.Context, l Link) error {
	if l.Time.IsZero() {
		l.Time = latency.Now()
	}
	return in.emit(Event{Type: EventLink, Link: &l})
}
