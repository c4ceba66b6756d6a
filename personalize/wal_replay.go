package personalize

import (
	"bytes"
	"context"
	"fmt"
	"os"
)

// replay puts the events of the segments a previous process left into the
// pipeline, oldest segment first, alongside new events. Each replayed
// event goes to a shard by its user pseudonym (session when it has none)
// and is exported as it was written: it is already pseudonymized and has
// its event id. A segment is deleted once every exporter has settled the
// events read from it; one that could not be read, or whose replay
// Shutdown interrupted, stays for the next process.
func (w *wal) replay(old []*walSegment) {
	defer w.wg.Done()
	defer close(w.replayDone)
	for _, s := range old {
		if !w.replaySegment(s) {
			return
		}
	}
}

// replaySegment replays s and reports whether to go on.
func (w *wal) replaySegment(s *walSegment) bool {
	in := w.in
	data, err := os.ReadFile(s.path)
	if err != nil {
		in.cfg.ErrorHandler(&WALError{Path: s.path, Op: "read", Err: err})
		return true
	}
	stopped := false
	malformed, torn, firstErr := scanSegment(data, func(ev Event) bool {
		if !w.put(s, ev) {
			stopped = true
			return false
		}
		return true
	})
	w.books.malformed.Add(int64(malformed))
	w.books.torn.Add(int64(torn))
	if malformed+torn > 0 {
		in.cfg.ErrorHandler(&WALError{Path: s.path, Op: "replay",
			Err: fmt.Errorf("skipped %d malformed and %d torn line(s): %w", malformed, torn, firstErr)})
	}
	if stopped {
		return false
	}
	s.release(1) // the replay's claim
	return true
}

// put puts one replayed event of s on its shard's queue, through the door
// like an emit but waiting for a slot; it reports false when the
// instrument is shutting down.
func (w *wal) put(s *walSegment, ev Event) bool {
	in := w.in
	var key string
	switch {
	case ev.Impression != nil:
		key = ev.Impression.UserID.ID
		if key == "" {
			key = ev.Impression.SessionID.ID
		}
	case ev.Outcome != nil:
		key = ev.Outcome.UserID.ID
		if key == "" {
			key = ev.Outcome.SessionID.ID
		}
	case ev.Exposure != nil:
		key = ev.Exposure.UserID.ID
	case ev.Link != nil:
		key = ev.Link.UserID.ID
	case ev.Model != nil:
		key = ev.Model.Model
	}
	sh := in.shardOf(key)
	select {
	case sh.slots <- struct{}{}:
	case <-w.stop:
		return false
	}
	// Like an emit: Shutdown waits for inflight before its stop markers.
	sh.inflight.Add(1)
	defer sh.inflight.Add(-1)
	if in.closed.Load() {
		<-sh.slots
		return false
	}
	s.outstanding.Add(w.nw)
	sh.books.accept(ev)
	w.books.replayed.Add(1)
	_ = sh.queue.putCtx(context.Background(), envelope{ev: ev, seg: s}) // no deadline: no error
	return true
}

// scanSegment decodes the lines of a segment file with UnmarshalEvent and
// calls yield for each event until it returns false. Lines that do not
// decode are skipped and counted as malformed; a last line without its
// newline (a write cut short by a crash) is skipped and counted as torn.
// firstErr is the first decode error.
func scanSegment(data []byte, yield func(Event) bool) (malformed, torn int, firstErr error) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if firstErr == nil {
				firstErr = fmt.Errorf("last line cut short after %d bytes", len(data))
			}
			return malformed, torn + 1, firstErr
		}
		line := data[:i]
		data = data[i+1:]
		ev, err := UnmarshalEvent(line)
		if err != nil {
			malformed++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if !yield(ev) {
			break
		}
	}
	return malformed, torn, firstErr
}
