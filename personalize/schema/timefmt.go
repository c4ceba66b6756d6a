package schema

import (
	"encoding/binary"
	"sync/atomic"
	"time"
)

// secondCache holds the formatted "YYYY-MM-DDTHH:MM:SS" of the second last
// formatted, behind a sequence lock made of atomics so that neither
// reading nor replacing it allocates or races. Every timestamp of an
// event, and of the events around it, usually falls in the same second, so
// the calendar arithmetic runs about once a second instead of twice an
// event; timestamps spread over many seconds (replayed traffic) miss the
// cache and format in full, still without allocating.
type secondCache struct {
	seq atomic.Uint64 // zero until the first store; odd while a writer is storing
	sec atomic.Int64
	w   [3]atomic.Uint64 // the 19 bytes, little-endian, zero-padded
}

var lastSecond secondCache

// load copies the cached prefix into p when it is for sec.
func (c *secondCache) load(sec int64, p *[24]byte) bool {
	s := c.seq.Load()
	if s == 0 || s&1 != 0 || c.sec.Load() != sec {
		return false
	}
	w0, w1, w2 := c.w[0].Load(), c.w[1].Load(), c.w[2].Load()
	if c.seq.Load() != s {
		return false
	}
	binary.LittleEndian.PutUint64(p[0:], w0)
	binary.LittleEndian.PutUint64(p[8:], w1)
	binary.LittleEndian.PutUint64(p[16:], w2)
	return true
}

// store replaces the cached prefix unless another writer holds the lock,
// in which case this one simply does not cache.
func (c *secondCache) store(sec int64, p *[24]byte) {
	s := c.seq.Load()
	if s&1 != 0 || !c.seq.CompareAndSwap(s, s+1) {
		return
	}
	c.sec.Store(sec)
	c.w[0].Store(binary.LittleEndian.Uint64(p[0:]))
	c.w[1].Store(binary.LittleEndian.Uint64(p[8:]))
	c.w[2].Store(binary.LittleEndian.Uint64(p[16:]))
	c.seq.Store(s + 2)
}

// appendTime appends t in UTC as time.RFC3339Nano does (fraction without
// trailing zeros, "Z" suffix), several times faster than AppendFormat:
// an impression writes two timestamps. Years outside 0000..9999 (which
// validation refuses) take the standard path.
func appendTime(b []byte, t time.Time) []byte {
	sec := t.Unix()
	var p [24]byte
	if !lastSecond.load(sec, &p) {
		u := t.UTC()
		year, month, day := u.Date()
		if year < 0 || year > 9999 {
			return u.AppendFormat(b, time.RFC3339Nano)
		}
		hour, min, s := u.Clock()
		p = [24]byte{
			byte('0' + year/1000), byte('0' + year/100%10), byte('0' + year/10%10), byte('0' + year%10), '-',
			byte('0' + month/10), byte('0' + month%10), '-',
			byte('0' + day/10), byte('0' + day%10), 'T',
			byte('0' + hour/10), byte('0' + hour%10), ':',
			byte('0' + min/10), byte('0' + min%10), ':',
			byte('0' + s/10), byte('0' + s%10)}
		lastSecond.store(sec, &p)
	}
	b = append(b, p[:19]...)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z')
}
