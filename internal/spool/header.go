package spool

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
)

// A batch file starts with one header line:
//
//	rsspool1 <events> <bytes> <crc32c>\n
//
// events and bytes are decimal without leading zeros, crc32c is the
// CRC-32C (Castagnoli) of the bytes after the header, as 8 lowercase hex
// digits. A file that does not start with the magic "rsspool1 " was
// written before headers existed (or lost its first bytes); [Spool.Read]
// returns its content unchecked and the caller validates it.
const (
	headerMagic  = "rsspool1 "
	maxHeaderLen = 64
	maxEvents    = 1<<31 - 1
	maxDataBytes = 1 << 48
)

// ErrCorrupt is wrapped by the errors of [Spool.Read] for a batch whose
// header is malformed or does not match its content or its file name
// (a truncated, extended or altered file).
var ErrCorrupt = errors.New("spool: corrupt batch")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type header struct {
	events int
	size   int64
	sum    uint32
}

func headerOf(events int, data []byte) header {
	return header{events: events, size: int64(len(data)), sum: crc32.Checksum(data, castagnoli)}
}

// appendHeader appends the header line of h to b.
func appendHeader(b []byte, h header) []byte {
	b = append(b, headerMagic...)
	b = strconv.AppendUint(b, uint64(h.events), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(h.size), 10)
	b = append(b, ' ')
	const hex = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, hex[h.sum>>uint(shift)&0xf])
	}
	return append(b, '\n')
}

// parseHeader parses the header at the start of b. It returns n == 0 and
// no error when b does not start with the magic (a headerless file), and
// an error wrapping ErrCorrupt when it starts with the magic but the line
// is not a header. n is the header's length, newline included.
func parseHeader(b []byte) (h header, n int, err error) {
	if !bytes.HasPrefix(b, []byte(headerMagic)) {
		return header{}, 0, nil
	}
	end := bytes.IndexByte(b[:min(len(b), maxHeaderLen)], '\n')
	if end < 0 {
		return header{}, 0, fmt.Errorf("%w: header line unterminated within %d bytes", ErrCorrupt, maxHeaderLen)
	}
	fields := bytes.Split(b[len(headerMagic):end], []byte{' '})
	if len(fields) != 3 {
		return header{}, 0, fmt.Errorf("%w: header has %d fields, want 3", ErrCorrupt, len(fields))
	}
	events, ok := parseDecimal(fields[0], maxEvents)
	if !ok {
		return header{}, 0, fmt.Errorf("%w: header event count %q", ErrCorrupt, fields[0])
	}
	size, ok := parseDecimal(fields[1], maxDataBytes)
	if !ok {
		return header{}, 0, fmt.Errorf("%w: header size %q", ErrCorrupt, fields[1])
	}
	sum, ok := parseHex32(fields[2])
	if !ok {
		return header{}, 0, fmt.Errorf("%w: header checksum %q", ErrCorrupt, fields[2])
	}
	return header{events: int(events), size: int64(size), sum: sum}, end + 1, nil
}

// parseDecimal parses digits without a leading zero (but "0"), at most
// limit.
func parseDecimal(b []byte, limit uint64) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (limit-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// parseHex32 parses exactly 8 lowercase hex digits.
func parseHex32(b []byte) (uint32, bool) {
	if len(b) != 8 {
		return 0, false
	}
	var v uint32
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(d)
	}
	return v, true
}

// check verifies content against h and the event count of the file name.
func (h header) check(name string, events int, content []byte) error {
	switch {
	case h.events != events:
		return fmt.Errorf("%w: %s: header counts %d events, the name %d", ErrCorrupt, name, h.events, events)
	case int64(len(content)) < h.size:
		return fmt.Errorf("%w: %s: truncated: %d of %d bytes", ErrCorrupt, name, len(content), h.size)
	case int64(len(content)) > h.size:
		return fmt.Errorf("%w: %s: %d bytes, header says %d", ErrCorrupt, name, len(content), h.size)
	case crc32.Checksum(content, castagnoli) != h.sum:
		return fmt.Errorf("%w: %s: checksum mismatch", ErrCorrupt, name)
	}
	return nil
}
