package file

import (
	"io"
	"sync"

	"github.com/rankscope/rankscope/personalize"
)

// Batch bounds of a parallel read ([ReadConfig].Workers > 1): a batch
// closes at whichever comes first (a single longer line still makes one
// batch).
const (
	readBatchLines = 256
	readBatchBytes = 256 << 10
)

// readBatch is a run of consecutive lines, copied out of the reader's
// buffer, with what decoding them gave.
type readBatch struct {
	lines  []rawLine
	at     []readPos // stats after reading each line
	buf    []byte    // the lines' bytes
	events []personalize.Event
	errs   []error
	done   chan struct{} // closed when every line is decoded

	// end, if set, follows the batch's lines: io.EOF or the reader's
	// sticky error; endAt is the stats then.
	end   error
	endAt readPos
}

// readPos is how far the sequential reader's stats were at a line.
type readPos struct {
	files int
	bytes int64
}

func (b *readBatch) reset() {
	clear(b.events) // drop the last batch's events for the collector
	clear(b.errs)
	b.lines, b.at, b.buf = b.lines[:0], b.at[:0], b.buf[:0]
	b.events, b.errs = b.events[:0], b.errs[:0]
	b.done = make(chan struct{})
	b.end = nil
}

// fill reads lines into b until a bound or the end of the directory.
func (r *Reader) fill(b *readBatch) {
	for len(b.lines) < readBatchLines && len(b.buf) < readBatchBytes {
		raw, err := r.readRaw()
		if err != nil {
			b.end, b.endAt = err, readPos{r.stats.Files, r.stats.Bytes}
			break
		}
		off := len(b.buf)
		b.buf = append(b.buf, raw.data...)
		// Point data at the offset for now: buf may still move.
		raw.data = b.buf[off:len(b.buf):len(b.buf)]
		b.lines = append(b.lines, raw)
		b.at = append(b.at, readPos{r.stats.Files, r.stats.Bytes})
	}
	// Re-slice every line's data into the final buffer.
	off := 0
	for i := range b.lines {
		n := len(b.lines[i].data)
		if b.lines[i].tooLong {
			b.lines[i].data = nil
			continue
		}
		b.lines[i].data = b.buf[off : off+n : off+n]
		off += n
	}
}

// decode decodes the lines of b that the reading rules need decoded.
func decodeBatch(dec *personalize.Decoder, b *readBatch) {
	for i := range b.lines {
		var ev personalize.Event
		var err error
		if b.lines[i].needsDecode() {
			ev, err = dec.Decode(b.lines[i].data)
		}
		b.events = append(b.events, ev)
		b.errs = append(b.errs, err)
	}
	close(b.done)
}

// readParallel is ReadDir with workers decoding goroutines: the calling
// goroutine settles lines and calls fn in order.
func (r *Reader) readParallel(workers int, fn func(personalize.Event) error) (ReadStats, error) {
	inflight := 2*workers + 2
	order := make(chan *readBatch, inflight) // batches in line order
	work := make(chan *readBatch, inflight)  // batches to decode
	free := make(chan *readBatch, inflight+2)
	quit := make(chan struct{})
	var wg sync.WaitGroup

	wg.Add(1)
	go func() { // the reader: fills batches in order
		defer wg.Done()
		defer close(work)
		defer close(order)
		for {
			var b *readBatch
			select {
			case b = <-free:
			default:
				b = new(readBatch)
			}
			b.reset()
			r.fill(b)
			select {
			case order <- b:
			case <-quit:
				return
			}
			select {
			case work <- b:
			case <-quit:
				return
			}
			if b.end != nil {
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dec := personalize.NewDecoder()
			for b := range work {
				decodeBatch(dec, b)
			}
		}()
	}
	stop := func() {
		close(quit)
		wg.Wait()
	}

	var st ReadStats
	for b := range order {
		<-b.done
		for i := range b.lines {
			l := &b.lines[i]
			st.Files, st.Bytes = b.at[i].files, b.at[i].bytes
			ok, err := r.cfg.settle(&st, l, b.errs[i])
			if err != nil {
				stop()
				return st, err
			}
			if !ok {
				continue
			}
			st.Events++
			if err := fn(b.events[i]); err != nil {
				stop()
				return st, err
			}
		}
		if b.end != nil {
			st.Files, st.Bytes = b.endAt.files, b.endAt.bytes
			stop()
			if b.end == io.EOF {
				return st, nil
			}
			return st, b.end
		}
		select {
		case free <- b:
		default:
		}
	}
	// Unreachable: the reader sends a batch with end set before it closes
	// order, and returns early only after quit.
	stop()
	return st, nil
}
