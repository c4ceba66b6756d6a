package personalize

import (
	"context"
	"sync"
)

// emitDurable is the emit path of durable mode, on the emitting goroutine,
// for a validated event: take a slot at the shard's door, prepare the event
// (pseudonyms, consent, allow-list, event id: raw identifiers never reach
// the disk), append its JSON line to the WAL, and only then put it on the
// shard's queue, marked prepared. The slot is taken first so that an event
// in the WAL always finds room in the queue: a refusal at the door costs no
// I/O, and an event written to the WAL is never refused after.
func (sh *shard) emitDurable(ev Event, blk *impBlock) error {
	in := sh.in
	if !sh.takeSlot() {
		if ev.Impression != nil {
			in.recordStages(ev.Impression, nil)
		}
		return sh.refuse()
	}
	region := regionOf(&ev)
	rawUser, rawSession, _ := sh.pseudonymize(&ev, blk, true)
	if !in.consents(&ev, rawUser, rawSession, region) {
		<-sh.slots
		sh.books.accept(ev)
		sh.books.optedOut.Add(1)
		return nil
	}
	bp := walLinePool.Get().(*[]byte)
	line, err := AppendJSON((*bp)[:0], ev)
	var seg *walSegment
	if err == nil {
		seg, err = in.wal.append(append(line, '\n'))
	}
	if cap(line) <= walLineMax {
		*bp = line[:0]
		walLinePool.Put(bp)
	}
	if err != nil {
		<-sh.slots
		return err
	}
	sh.books.accept(ev)
	// The slot guarantees room unless dead letters or control messages,
	// which take no slot, fill the queue; the batcher then frees it soon.
	_ = sh.queue.putCtx(context.Background(), envelope{ev: ev, seg: seg, blk: blk}) // no deadline: no error
	return nil
}

// takeSlot takes a slot at the shard's door: at once, or within
// Config.BlockTimeout when set.
func (sh *shard) takeSlot() bool {
	return sendWithin(sh.slots, struct{}{}, sh.in.cfg.BlockTimeout)
}

// takeDurable takes a durable event off the door on the batcher: it frees
// the event's slot and counts the event under its segment in refs, the
// batch's segments.
func (sh *shard) takeDurable(refs []walRef, seg *walSegment) []walRef {
	<-sh.slots
	if n := len(refs); n > 0 && refs[n-1].seg == seg {
		refs[n-1].n++
		return refs
	}
	return append(refs, walRef{seg: seg, n: 1})
}

// walLinePool holds the encode buffers of durable emits.
var walLinePool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// walLineMax is the largest encode buffer returned to walLinePool.
const walLineMax = 64 << 10
