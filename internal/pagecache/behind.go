package pagecache

import "os"

// Window is the unit of [Behind]'s writeback: 8 MiB.
const Window = 8 << 20

// lag is how many windows behind the one just written Behind drops: the
// disk has the time it takes to write two windows to finish one.
const lag = 2

// Behind keeps an appended file's page cache to a few windows: each time
// the file grows past a multiple of [Window], it starts writeback of the
// window just completed and drops the window [lag] before it, waiting
// for that one's writeback first (rarely: it was started two windows
// ago). So at most about (lag+1)×Window of the file is cached at a time,
// and the writer reuses the same memory instead of touching fresh pages.
// It does not make anything durable; sync the file as before.
//
// The zero value is ready for a new, empty file. A Behind is not safe for
// concurrent use; the writer calls it under the lock of its file.
type Behind struct {
	next int64 // the file size at which the next window is complete
}

// Wrote tells b that f's size is now size, all of it written by the
// caller since b was zero (or since [Behind.Reset]).
func (b *Behind) Wrote(f *os.File, size int64) {
	if b.next == 0 {
		b.next = Window
	}
	for size >= b.next {
		start := b.next - Window
		drop := start - lag*Window
		wrote(f, start, b.next, drop)
		b.next += Window
	}
}

// Reset readies b for a new file.
func (b *Behind) Reset() { b.next = 0 }
