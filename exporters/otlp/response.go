package otlp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// This file decodes the small messages a receiver answers with:
// ExportLogsServiceResponse (its partial_success) and, on errors,
// google.rpc.Status (its message and RetryInfo), and the gRPC message
// framing around them. Unknown fields are skipped, as
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

// rpcStatus is what the exporter reads of a google.rpc.Status.
type rpcStatus struct {
	code int32
	msg  string
	// retryInfo: a google.rpc.RetryInfo detail was present, asking for a
	// wait of retryDelay before the next attempt.
	retryInfo  bool
	retryDelay time.Duration
}

// retryInfoType is the type URL of a google.rpc.RetryInfo detail.
const retryInfoType = "type.googleapis.com/google.rpc.RetryInfo"

// parseStatus decodes a google.rpc.Status { 1 code int32, 2 message
// string, 3 details repeated Any { 1 type_url string, 2 value bytes } }.
// Of the details it reads RetryInfo { 1 retry_delay Duration { 1 seconds
// int64, 2 nanos int32 } }; the others are skipped.
func parseStatus(b []byte) (rpcStatus, error) {
	var st rpcStatus
	r := wireReader{b: b}
	for {
		f, wt, ok := r.next()
		if !ok {
			break
		}
		switch {
		case f == 1 && wt == wtVarint:
			st.code = int32(r.varint())
		case f == 2 && wt == wtLen:
			st.msg = validUTF8(r.bytes())
		case f == 3 && wt == wtLen:
			if err := st.detail(r.bytes()); err != nil && r.err == nil {
				r.err = err
			}
		default:
			r.skip(f, wt)
		}
	}
	if r.err != nil {
		return rpcStatus{}, fmt.Errorf("otlp: google.rpc.Status: %w", r.err)
	}
	return st, nil
}

// detail reads one Any of Status.details.
func (st *rpcStatus) detail(b []byte) error {
	var typeURL, value []byte
	a := wireReader{b: b}
	for {
		f, wt, ok := a.next()
		if !ok {
			break
		}
		switch {
		case f == 1 && wt == wtLen:
			typeURL = a.bytes()
		case f == 2 && wt == wtLen:
			value = a.bytes()
		default:
			a.skip(f, wt)
		}
	}
	if a.err != nil || string(typeURL) != retryInfoType {
		return a.err
	}
	var secs, nanos int64
	ri := wireReader{b: value}
	for {
		f, wt, ok := ri.next()
		if !ok {
			break
		}
		if f != 1 || wt != wtLen {
			ri.skip(f, wt)
			continue
		}
		d := wireReader{b: ri.bytes()}
		for {
			f, wt, ok := d.next()
			if !ok {
				break
			}
			switch {
			case f == 1 && wt == wtVarint:
				secs = int64(d.varint())
			case f == 2 && wt == wtVarint:
				nanos = int64(int32(d.varint()))
			default:
				d.skip(f, wt)
			}
		}
		if d.err != nil {
			ri.err = d.err
		}
	}
	if ri.err != nil {
		return ri.err
	}
	st.retryInfo = true
	st.retryDelay = durationOf(secs, nanos)
	return nil
}

// durationOf converts a google.protobuf.Duration as durationpb's
// AsDuration does, saturating at the largest time.Duration; a negative
// delay is no delay.
func durationOf(secs, nanos int64) time.Duration {
	const maxSecs = int64(math.MaxInt64 / int64(time.Second))
	switch {
	case secs > maxSecs:
		return math.MaxInt64
	case secs < -maxSecs:
		return 0
	}
	d := time.Duration(secs) * time.Second
	n := d + time.Duration(nanos)
	if nanos > 0 && n < d {
		return math.MaxInt64
	}
	return max(n, 0)
}

// validUTF8 returns b as a string with invalid UTF-8 replaced, so a
// hostile server cannot put arbitrary bytes into error messages.
func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string([]rune(string(b))) // replaces invalid bytes with U+FFFD
}

// grpcMessage returns the message of a unary gRPC response body: one
// frame of a compressed-flag byte, a big-endian uint32 length and the
// message. An empty body has no message.
func grpcMessage(body []byte) (msg []byte, compressed bool, err error) {
	if len(body) == 0 {
		return nil, false, nil
	}
	if len(body) < 5 {
		return nil, false, errors.New("otlp: gRPC response: truncated frame header")
	}
	switch body[0] {
	case 0, 1:
	default:
		return nil, false, fmt.Errorf("otlp: gRPC response: bad compressed flag %d", body[0])
	}
	n := binary.BigEndian.Uint32(body[1:5])
	if uint64(n) != uint64(len(body)-5) {
		return nil, false, fmt.Errorf("otlp: gRPC response: frame of %d bytes in a body of %d", n, len(body)-5)
	}
	return body[5:], body[0] == 1, nil
}
