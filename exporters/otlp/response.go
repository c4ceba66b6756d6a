package otlp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// This file decodes the two small messages a receiver answers with:
// ExportLogsServiceResponse (its partial_success) and, on HTTP errors,
// google.rpc.Status (its message). Unknown fields are skipped, as
// protobuf requires; malformed input is an error, never a panic.

var errTruncated = errors.New("truncated message")

// wireReader reads protobuf fields from a message.
type wireReader struct {
	b   []byte
	err error
}

func (r *wireReader) varint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errTruncated
		if n < 0 {
			r.err = errors.New("varint overflows 64 bits")
		}
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

// next returns the next field's number and wire type; ok is false at the
// end or on error.
func (r *wireReader) next() (field int, wt int, ok bool) {
	if len(r.b) == 0 || r.err != nil {
		return 0, 0, false
	}
	t := r.varint()
	if r.err != nil {
		return 0, 0, false
	}
	field, wt = int(t>>3), int(t&7)
	if t>>3 == 0 || t>>3 > 1<<29-1 {
		r.err = fmt.Errorf("invalid field number %d", t>>3)
		return 0, 0, false
	}
	return field, wt, true
}

// bytes reads a length-delimited value.
func (r *wireReader) bytes() []byte {
	n := r.varint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errTruncated
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// maxGroupDepth bounds nested groups so hostile input cannot exhaust the
// stack.
const maxGroupDepth = 64

// skip skips a value of wire type wt (of field number field, for groups).
func (r *wireReader) skip(field, wt int) { r.skipDepth(field, wt, 0) }

func (r *wireReader) skipDepth(field, wt, depth int) {
	switch wt {
	case 0:
		r.varint()
	case 1, 5:
		n := 8
		if wt == 5 {
			n = 4
		}
		if len(r.b) < n {
			r.err = errTruncated
			r.b = nil
			return
		}
		r.b = r.b[n:]
	case 2:
		r.bytes()
	case 3: // a group (deprecated, but valid in unknown fields): skip to its end
		if depth >= maxGroupDepth {
			r.err = errors.New("groups nested too deep")
			r.b = nil
			return
		}
		for {
			f, w, ok := r.next()
			if !ok {
				if r.err == nil {
					r.err = errTruncated
				}
				r.b = nil
				return
			}
			if w == 4 {
				if f != field {
					r.err = fmt.Errorf("group %d ended by %d", field, f)
					r.b = nil
				}
				return
			}
			r.skipDepth(f, w, depth+1)
		}
	default: // an end group without a start, or 6 and 7 (invalid)
		r.err = fmt.Errorf("unexpected wire type %d", wt)
		r.b = nil
	}
}

// parseResponse decodes an ExportLogsServiceResponse: field 1
// partial_success { 1 rejected_log_records int64, 2 error_message string }.
// As in protobuf, repeated occurrences of the embedded message merge and
// a known field with an unexpected wire type is skipped as unknown.
func parseResponse(b []byte) (rejected int64, msg string, err error) {
	r := wireReader{b: b}
	for {
		f, wt, ok := r.next()
		if !ok {
			break
		}
		if f != 1 || wt != wtLen {
			r.skip(f, wt)
			continue
		}
		ps := wireReader{b: r.bytes()}
		for {
			f, wt, ok := ps.next()
			if !ok {
				break
			}
			switch {
			case f == 1 && wt == wtVarint:
				rejected = int64(ps.varint())
			case f == 2 && wt == wtLen:
				msg = validUTF8(ps.bytes())
			default:
				ps.skip(f, wt)
			}
		}
		if ps.err != nil {
			r.err = ps.err
		}
	}
	if r.err != nil {
		return 0, "", fmt.Errorf("otlp: ExportLogsServiceResponse: %w", r.err)
	}
	return rejected, msg, nil
}

// parseStatus decodes a google.rpc.Status { 1 code int32, 2 message
// string, 3 details Any } (details are skipped).
func parseStatus(b []byte) (code int32, msg string, err error) {
	r := wireReader{b: b}
	for {
		f, wt, ok := r.next()
		if !ok {
			break
		}
		switch {
		case f == 1 && wt == wtVarint:
			code = int32(r.varint())
		case f == 2 && wt == wtLen:
			msg = validUTF8(r.bytes())
		default:
			r.skip(f, wt)
		}
	}
	if r.err != nil {
		return 0, "", fmt.Errorf("otlp: google.rpc.Status: %w", r.err)
	}
	return code, msg, nil
}

// validUTF8 returns b as a string with invalid UTF-8 replaced, so a
// hostile server cannot put arbitrary bytes into error messages.
func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string([]rune(string(b))) // replaces invalid bytes with U+FFFD
}
