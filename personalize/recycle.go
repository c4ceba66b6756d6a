package personalize

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"go.opentelemetry.io/otel/trace"

	"github.com/rankscope/rankscope/internal/prefetch"
)

// impBlock is the memory of one impression under construction: the
// Impression, inline room for its usual stages, and the copy of its items.
// When every exporter is Transient, blocks come from a pool and go back to
// it once every worker has settled the batch that carried them, so a
// steady stream of inferences reuses the same memory instead of allocating
// about 1.5 KB each. The user's *Inference never reaches a recycled block:
// it lets go of it in End, after the barrier that stops late stages.
//
// The block also carries what the pipeline keeps beside the impression
// until it pseudonymizes: the raw identifiers given to Start, which the
// schema's Impression has no field for.
type impBlock struct {
	imp                 Impression
	rawUser, rawSession string
	wall                time.Time // Request.Time: the recorded start when set
	stages              [4]StageTiming
	items               []Item // capacity kept across uses
	// span is the inference's trace span when the trace is sampled; Start
	// sets it, End ends and clears it.
	span trace.Span
	// contribs holds the items' explanations, copied so that no item
	// aliases the caller's memory; capacity kept up to maxPooledContribs.
	contribs []Contribution
}

// maxPooledContribs bounds the explanation room a pooled block keeps: a
// block that held a larger copy (the validator refuses such impressions
// anyway, at MaxContributions per item) drops it rather than pin it.
const maxPooledContribs = 1024

// maxPooledItems bounds the item room a pooled block keeps (96 KiB): a
// block that carried a larger ranking lets its copy go rather than pin it
// in the pool.
const maxPooledItems = 1024

// reclaim writes the block's stage room and the items of its last use, at
// Start, before anything is recorded into them. A recycled block was last
// read by a batcher and the exporters' workers, often on other cores, so
// each of its cache lines must be taken back from them before the caller
// can write it. Written here, the lines are requested together and their
// transfers overlap; written where they are filled, each Observe's unlock
// and End's barrier waited for its own. On two cores that took the
// caller's Start, stages and End from 543–706 to 304–364 ns per inference
// (docs/design/pipeline.md, "Taking a recycled block back"). Clearing the
// items also lets their strings go while the block is in use.
func (b *impBlock) reclaim() {
	b.stages = [len(b.stages)]StageTiming{}
	clear(b.items)
}

// warmBlock requests for writing the lines of the block the next Start on
// this processor will take (End calls it once its impression is handed
// over). The pool's next block was last read by a batcher and a worker,
// often on another core, and Start's stores into it (reclaim) waited for
// each of its lines to come back; requested here, the transfers run while
// the caller returns from End and goes on to its next request. The block
// goes back to the pool's slot for this processor, where the next Get
// finds it first; if another processor's Get takes it instead, the hint
// was wasted, nothing else. Only with more than one core (Instrument.warm):
// on one, every block is already in this core's cache.
func (in *Instrument) warmBlock() {
	b, ok := in.blocks.Get().(*impBlock)
	if !ok {
		return
	}
	prefetch.LinesForWrite(unsafe.Pointer(b), unsafe.Sizeof(*b))
	if n := len(b.items); n > 0 {
		prefetch.LinesForWrite(unsafe.Pointer(&b.items[0]), uintptr(n)*unsafe.Sizeof(b.items[0]))
	}
	in.blocks.Put(b)
}

// recyclable reports whether every exporter is Transient.
func recyclable(exps []Exporter) bool {
	for _, e := range exps {
		t, ok := e.(Transient)
		if !ok || !t.Transient() {
			return false
		}
	}
	return true
}

// getBlock returns an empty block, from the pool when recycling.
func (in *Instrument) getBlock() *impBlock {
	if !in.recycle {
		return new(impBlock)
	}
	if b, ok := in.blocks.Get().(*impBlock); ok {
		return b
	}
	return new(impBlock)
}

// putBlock returns b to the pool. It does not clear b: Start does
// (reclaim), on the core that fills the block next; clearing here, on the
// worker's, would be a second pass over memory that has gone cold since
// the batch was built (it cost 12% of an inference with a discarding
// exporter) and would leave the lines for the caller to take back. Until reused, a pooled block keeps
// the strings of its last impression reachable; the pool drops its blocks
// at garbage collection, so that lasts two GC cycles at most. Oversized
// item and explanation buffers are let go.
func (in *Instrument) putBlock(b *impBlock) {
	if cap(b.contribs) > maxPooledContribs {
		b.contribs = nil
	}
	if cap(b.items) > maxPooledItems {
		b.items = nil
	}
	in.blocks.Put(b)
}

// release recycles a batch once every worker is done with it (exported,
// failed, or dropped): its impression blocks, when every exporter is
// Transient, and the batch slice itself, which no exporter may keep
// ([Exporter]). Impressions of the batch that did not come from a block
// (replayed from the WAL) are not in blocks.
type release struct {
	in     *Instrument
	batch  []Event
	blocks []*impBlock
	left   atomic.Int32
}

// newRelease returns the release of batch and its blocks.
func (in *Instrument) newRelease(batch []Event, blocks []*impBlock) *release {
	if !in.recycle {
		blocks = nil
	}
	r := &release{in: in, batch: batch, blocks: blocks}
	r.left.Store(int32(len(in.workers)))
	return r
}

// done marks one worker finished with the batch.
func (r *release) done() {
	if r == nil || r.left.Add(-1) != 0 {
		return
	}
	for _, b := range r.blocks {
		r.in.putBlock(b)
	}
	if r.blocks != nil {
		clear(r.blocks)
		r.in.blockLists.Put(&r.blocks)
	}
	clear(r.batch)
	r.in.batches.Put(&r.batch)
}

// getBlockList returns an empty list for the impression blocks of the next
// batch, reused from a settled batch when one is pooled (nil without
// recycling: there are no blocks to list).
func (in *Instrument) getBlockList() []*impBlock {
	if !in.recycle {
		return nil
	}
	if p, ok := in.blockLists.Get().(*[]*impBlock); ok {
		return (*p)[:0]
	}
	return nil
}

// getBatch returns an empty batch slice with room for a full batch.
func (in *Instrument) getBatch() []Event {
	if p, ok := in.batches.Get().(*[]Event); ok && cap(*p) >= in.cfg.BatchSize {
		return (*p)[:0]
	}
	return make([]Event, 0, in.cfg.BatchSize)
}

// blockPool is the type of Instrument.blocks.
type blockPool = sync.Pool

// copyExplanations points the explanations of b.items, just copied from
// src, into b.contribs, a copy in the block's own memory: one growth at
// most, each item's slice capped at its length so no append reaches a
// neighbour's. The explanations are counted in src: reading the fresh copy
// right behind the wide stores that wrote it stalls the processor (it was
// 6% of an inference).
func (b *impBlock) copyExplanations(src []Item) {
	n := 0
	for i := range src {
		n += len(src[i].Explanation)
	}
	clear(b.contribs)
	b.contribs = b.contribs[:0]
	if n == 0 {
		return
	}
	b.contribs = slices.Grow(b.contribs, n)
	for i := range b.items {
		it := &b.items[i]
		if len(it.Explanation) == 0 {
			it.Explanation = nil
			continue
		}
		at := len(b.contribs)
		b.contribs = append(b.contribs, it.Explanation...)
		it.Explanation = b.contribs[at:len(b.contribs):len(b.contribs)]
	}
}
