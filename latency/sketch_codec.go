package latency

import (
	"math"

	"github.com/rankscope/rankscope/internal/statecodec"
)

// The binary encoding of a Sketch: magic "RSLS", version byte, the
// relative accuracy (float64 bits), count, underflow and overflow counts,
// the sum of nanoseconds (float64 bits), min and max (zigzag varints),
// then the index of the first non-empty bucket and the counts from there
// to the last non-empty one. Empty buckets at the edges are not written,
// so equal sketches encode to equal bytes.
const (
	sketchMagic   = "RSLS"
	sketchVersion = 1
)

// MarshalBinary encodes s so that a sketch made in one process can be
// merged in another ([Sketch.UnmarshalBinary], then [Sketch.Merge]).
// Equal sketches give equal bytes.
func (s *Sketch) MarshalBinary() ([]byte, error) {
	m := s.mapping()
	w := statecodec.Writer{B: make([]byte, 0, 48+2*len(s.counts))}
	w.Header(sketchMagic, sketchVersion)
	w.Float(m.alpha)
	w.Uint(s.count)
	w.Uint(s.under)
	w.Uint(s.over)
	w.Float(s.sum)
	w.Int(s.min)
	w.Int(s.max)
	lo, hi := 0, len(s.counts)
	for lo < hi && s.counts[lo] == 0 {
		lo++
	}
	for hi > lo && s.counts[hi-1] == 0 {
		hi--
	}
	w.Uint(uint64(s.off + lo))
	w.Uint(uint64(hi - lo))
	for _, c := range s.counts[lo:hi] {
		w.Uint(c)
	}
	return w.B, nil
}

// UnmarshalBinary replaces s with the sketch encoded in data. It rejects
// input that is truncated, has another magic or version, an accuracy out
// of range, buckets outside [SketchMin, SketchMax], counts that do not add
// up to the total, or min and max that contradict the buckets, with an
// error naming the field.
func (s *Sketch) UnmarshalBinary(data []byte) error {
	r, err := statecodec.NewReader(data, "latency.Sketch", sketchMagic, sketchVersion)
	if err != nil {
		return err
	}
	alpha := r.Float("RelativeAccuracy")
	if r.Err() == nil {
		if err := validAccuracy(alpha); err != nil {
			r.Fail("RelativeAccuracy", "%v", err)
		}
	}
	if r.Err() != nil {
		return r.Err()
	}
	m := mappingFor(alpha)
	d := Sketch{m: m}
	d.count = r.Uint("Count")
	d.under = r.Uint("Underflow")
	d.over = r.Uint("Overflow")
	d.sum = r.Float("Sum")
	d.min = r.Int("Min")
	d.max = r.Int("Max")
	off := r.Uint("Offset")
	n := r.Count("Buckets", 1, m.n)
	if r.Err() == nil && (off >= uint64(m.n) || off+uint64(n) > uint64(m.n)) && n > 0 {
		r.Fail("Offset", "buckets %d..%d outside the %d of this accuracy", off, off+uint64(n), m.n)
	}
	if r.Err() == nil && n == 0 && off != 0 {
		r.Fail("Offset", "must be 0 without buckets, got %d", off)
	}
	if r.Err() != nil {
		return r.Err()
	}
	total := d.under + d.over
	if total < d.under {
		r.Fail("Overflow", "counts overflow")
	}
	if n > 0 {
		d.off = int(off)
		d.counts = make([]uint64, n)
		for i := range d.counts {
			c := r.Uint("Buckets[" + itoa(i) + "]")
			if r.Err() == nil && (i == 0 || i == n-1) && c == 0 {
				r.Fail("Buckets["+itoa(i)+"]", "empty bucket at the edge (not canonical)")
			}
			if total+c < total {
				r.Fail("Buckets["+itoa(i)+"]", "counts overflow")
			}
			total += c
			d.counts[i] = c
		}
	}
	if err := r.End(); err != nil {
		return err
	}
	fail := func(field, format string, args ...any) error {
		r.Fail(field, format, args...)
		return r.Err()
	}
	switch {
	case total != d.count:
		return fail("Count", "%d, but the buckets hold %d", d.count, total)
	case math.IsNaN(d.sum) || math.IsInf(d.sum, 0) || d.sum < 0:
		return fail("Sum", "must be finite and >= 0, got %v", d.sum)
	case d.count == 0 && (d.sum != 0 || d.min != 0 || d.max != 0):
		return fail("Min", "an empty sketch has zero sum, min and max")
	case d.count > 0 && (d.min < 0 || d.min > d.max):
		return fail("Min", "min %d and max %d: want 0 <= min <= max", d.min, d.max)
	case d.under > 0 && d.min >= int64(SketchMin):
		return fail("Min", "%d, but %d durations are below SketchMin", d.min, d.under)
	case d.over > 0 && d.max <= int64(SketchMax):
		return fail("Max", "%d, but %d durations are above SketchMax", d.max, d.over)
	case d.count > 0 && d.sum < float64(d.min) || d.sum > float64(d.max)*float64(d.count):
		return fail("Sum", "%v is outside [min, count*max]", d.sum)
	}
	*s = d
	return nil
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
