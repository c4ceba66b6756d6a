// Package statecodec writes and reads the binary encodings of the
// mergeable analysis states (experiment, attribution, latency, drift,
// relevance): a four-byte magic naming the state, a version byte, then
// fields as minimal uvarints, zigzag varints, float64 bits, strings and
// exact sums.
//
// A [Reader] names the field it was reading in every error and stops at
// the first one; it never allocates more than the input can justify
// (lengths are checked against the bytes left), so a decoder built on it
// is safe on hostile input.
package statecodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/rankscope/rankscope/internal/exactsum"
)

// Writer appends an encoding to B.
type Writer struct{ B []byte }

// Header writes magic (4 bytes) and the version.
func (w *Writer) Header(magic string, version byte) {
	w.B = append(w.B, magic...)
	w.B = append(w.B, version)
}

// Uint writes a uvarint.
func (w *Writer) Uint(v uint64) { w.B = binary.AppendUvarint(w.B, v) }

// Int writes a zigzag varint.
func (w *Writer) Int(v int64) { w.B = binary.AppendVarint(w.B, v) }

// Float writes the 8 bytes of v, little endian.
func (w *Writer) Float(v float64) { w.B = binary.LittleEndian.AppendUint64(w.B, math.Float64bits(v)) }

// String writes a length and the bytes.
func (w *Writer) String(s string) {
	w.Uint(uint64(len(s)))
	w.B = append(w.B, s...)
}

// Bool writes one byte.
func (w *Writer) Bool(v bool) {
	if v {
		w.B = append(w.B, 1)
	} else {
		w.B = append(w.B, 0)
	}
}

// Sum writes an exact sum.
func (w *Writer) Sum(s *exactsum.Sum) { w.B = s.AppendBinary(w.B) }

// ErrShort is wrapped by errors for input that ends early.
var ErrShort = errors.New("unexpected end of data")

// Reader reads an encoding. After the first error every read returns a
// zero value and Err returns that error.
type Reader struct {
	b    []byte
	err  error
	what string // prefix for errors: the state's name
}

// NewReader checks the header (magic and version) of b and returns a
// reader positioned after it. what prefixes errors ("experiment.State").
func NewReader(b []byte, what, magic string, version byte) (*Reader, error) {
	r := &Reader{b: b, what: what}
	if len(b) < len(magic)+1 {
		return nil, fmt.Errorf("%s: header: %w", what, ErrShort)
	}
	if string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("%s: magic: want %q, got %q", what, magic, b[:len(magic)])
	}
	if v := b[len(magic)]; v != version {
		return nil, fmt.Errorf("%s: version: %d is not supported (this build reads %d)", what, v, version)
	}
	r.b = b[len(magic)+1:]
	return r, nil
}

// Err returns the first error.
func (r *Reader) Err() error { return r.err }

// Fail records an error about field (the first one wins).
func (r *Reader) Fail(field, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %s: %s", r.what, field, fmt.Sprintf(format, args...))
	}
}

func (r *Reader) short(field string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %s: %w", r.what, field, ErrShort)
	}
}

// Len returns the bytes not yet read.
func (r *Reader) Len() int { return len(r.b) }

// Uint reads a minimal uvarint.
func (r *Reader) Uint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.short(field)
		return 0
	}
	if n != len(binary.AppendUvarint(nil, v)) {
		r.Fail(field, "not a minimal uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Int reads a minimal zigzag varint.
func (r *Reader) Int(field string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.short(field)
		return 0
	}
	if n != len(binary.AppendVarint(nil, v)) {
		r.Fail(field, "not a minimal varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Count reads a uvarint count of items that each take at least minBytes
// bytes, and fails if the input cannot hold that many (so a decoder never
// allocates for a count the data cannot back) or it exceeds max.
func (r *Reader) Count(field string, minBytes, max int) int {
	v := r.Uint(field)
	if r.err != nil {
		return 0
	}
	if v > uint64(max) {
		r.Fail(field, "%d exceeds the bound %d", v, max)
		return 0
	}
	if minBytes > 0 && v > uint64(len(r.b)/minBytes) {
		r.short(field)
		return 0
	}
	return int(v)
}

// Float reads 8 bytes.
func (r *Reader) Float(field string) float64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 8 {
		r.short(field)
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

// String reads a string of at most max bytes.
func (r *Reader) String(field string, max int) string {
	n := r.Count(field, 1, max)
	if r.err != nil {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// Bool reads one byte that must be 0 or 1.
func (r *Reader) Bool(field string) bool {
	if r.err != nil {
		return false
	}
	if len(r.b) < 1 {
		r.short(field)
		return false
	}
	v := r.b[0]
	if v > 1 {
		r.Fail(field, "want 0 or 1, got %d", v)
		return false
	}
	r.b = r.b[1:]
	return v == 1
}

// Sum reads an exact sum.
func (r *Reader) Sum(field string) exactsum.Sum {
	if r.err != nil {
		return exactsum.Sum{}
	}
	s, rest, err := exactsum.Decode(r.b)
	if err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("%s: %s: %w", r.what, field, err)
		}
		return exactsum.Sum{}
	}
	r.b = rest
	return s
}

// End fails if bytes are left over, and returns Err.
func (r *Reader) End() error {
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%s: %d bytes after the end of the state", r.what, len(r.b))
	}
	return r.err
}
