package personalize

import (
	"sync"
	"sync/atomic"
)

// impBlock is the memory of one impression under construction: the
// Impression, inline room for its usual stages, and the copy of its items.
// When every exporter is Transient, blocks come from a pool and go back to
// it once every worker has settled the batch that carried them, so a
// steady stream of inferences reuses the same memory instead of allocating
// about 1.5 KB each. The user's *Inference never reaches a recycled block:
// it lets go of it in End, after the barrier that stops late stages.
type impBlock struct {
	imp    Impression
	stages [4]StageTiming
	items  []Item // capacity kept across uses
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
		b.imp.blk = b
		return b
	}
	b := new(impBlock)
	b.imp.blk = b
	return b
}

// putBlock empties im's block and returns it to the pool; impressions
// that did not come from the pool (decoded, replayed) are left alone.
func (in *Instrument) putBlock(im *Impression) {
	if im == nil || im.blk == nil {
		return
	}
	b := im.blk
	clear(b.items)
	b.items = b.items[:0]
	b.stages = [4]StageTiming{}
	b.imp = Impression{}
	in.blocks.Put(b)
}

// release recycles the impressions of a batch once every worker is done
// with it (exported, failed, or dropped).
type release struct {
	in    *Instrument
	batch []Event
	left  atomic.Int32
}

func (in *Instrument) newRelease(batch []Event) *release {
	if !in.recycle {
		return nil
	}
	r := &release{in: in, batch: batch}
	r.left.Store(int32(len(in.workers)))
	return r
}

// done marks one worker finished with the batch.
func (r *release) done() {
	if r == nil || r.left.Add(-1) != 0 {
		return
	}
	for i := range r.batch {
		r.in.putBlock(r.batch[i].Impression)
	}
}

// blockPool is the type of Instrument.blocks.
type blockPool = sync.Pool
