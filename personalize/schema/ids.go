package schema

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
)

// EventID identifies one event: a time-ordered UUID (version 7, RFC 9562),
// assigned by the pipeline when the event is accepted unless the caller set
// one (an impression's carries the inference's end time, other events' the
// time they were accepted). Receivers deduplicate by it.
type EventID [16]byte

// RequestID identifies one inference; outcomes carry it to link back to the
// impression. A service may supply its own; otherwise a UUIDv7 string.
type RequestID = string

// NewEventID returns a fresh UUIDv7 (RFC 9562 section 5.7): a 48-bit Unix
// millisecond timestamp, then 74 random bits from the runtime's ChaCha8
// generator (math/rand/v2), which needs no lock and no system call. Ids
// sort by creation time to the millisecond; within a millisecond they are
// unordered. Two ids collide with probability 2^-74 per pair made in the
// same millisecond.
func NewEventID() EventID { return NewEventIDAt(time.Now()) }

// NewEventIDAt is [NewEventID] with the timestamp t, for a caller that has
// just read the clock.
func NewEventIDAt(t time.Time) EventID {
	var id EventID
	ms := uint64(t.UnixMilli())
	hi, lo := rand.Uint64(), rand.Uint64()
	binary.BigEndian.PutUint64(id[0:8], ms<<16|0x7000|hi&0x0fff)
	binary.BigEndian.PutUint64(id[8:16], 0x8000000000000000|lo&0x3fffffffffffffff)
	return id
}

// IsZero reports whether id is unset.
func (id EventID) IsZero() bool { return id == EventID{} }

// String returns the canonical 36-character form.
func (id EventID) String() string { return uuid.UUID(id).String() }

// AppendText appends the canonical form to b.
func (id EventID) AppendText(b []byte) ([]byte, error) {
	var buf [36]byte
	hex.Encode(buf[0:8], id[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], id[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], id[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], id[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], id[10:])
	return append(b, buf[:]...), nil
}

// MarshalText implements encoding.TextMarshaler.
func (id EventID) MarshalText() ([]byte, error) { return id.AppendText(nil) }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *EventID) UnmarshalText(b []byte) error {
	u, err := uuid.ParseBytes(b)
	if err != nil {
		return errors.New("invalid event id: " + err.Error())
	}
	*id = EventID(u)
	return nil
}

// ParseEventID parses the canonical form.
func ParseEventID(s string) (EventID, error) {
	var id EventID
	err := id.UnmarshalText([]byte(s))
	return id, err
}

// TraceID is a W3C trace id (16 bytes, written as 32 lowercase hex digits);
// the zero value means absent. It converts to and from OpenTelemetry's
// trace.TraceID with a plain conversion.
type TraceID [16]byte

// SpanID is a W3C span (parent) id (8 bytes, 16 hex digits); zero means
// absent.
type SpanID [8]byte

// IsZero reports whether id is absent.
func (id TraceID) IsZero() bool { return id == TraceID{} }

// String returns the 32 hex digits, or "" when absent.
func (id TraceID) String() string {
	if id.IsZero() {
		return ""
	}
	return hex.EncodeToString(id[:])
}

// IsZero reports whether id is absent.
func (id SpanID) IsZero() bool { return id == SpanID{} }

// String returns the 16 hex digits, or "" when absent.
func (id SpanID) String() string {
	if id.IsZero() {
		return ""
	}
	return hex.EncodeToString(id[:])
}

// parseHexID decodes exactly len(dst) bytes from lowercase or uppercase
// hex; an id of all zeros is invalid (W3C trace context), as it would read
// as absent.
func parseHexID(dst, b []byte) error {
	if len(b) != 2*len(dst) {
		return fmt.Errorf("want %d hex digits, got %d bytes", 2*len(dst), len(b))
	}
	if _, err := hex.Decode(dst, b); err != nil {
		return errors.New("not hex")
	}
	for _, c := range dst {
		if c != 0 {
			return nil
		}
	}
	return errors.New("all zeros")
}

// parseTraceContext parses the optional trace_id and span_id of an
// impression or outcome; empty means absent.
func parseTraceContext(traceID, spanID []byte) (TraceID, SpanID, error) {
	var t TraceID
	var s SpanID
	if len(traceID) > 0 {
		if err := parseHexID(t[:], traceID); err != nil {
			return t, s, decodeErr("trace_id", "%v", err)
		}
	}
	if len(spanID) > 0 {
		if err := parseHexID(s[:], spanID); err != nil {
			return t, s, decodeErr("span_id", "%v", err)
		}
	}
	return t, s, nil
}
