package schema

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
)

// EventID identifies one event: a time-ordered UUID (version 7, RFC 9562),
// assigned by the pipeline when the event is accepted unless the caller set
// one. Receivers deduplicate by it.
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
func NewEventID() EventID {
	var id EventID
	ms := uint64(time.Now().UnixMilli())
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
