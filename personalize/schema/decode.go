package schema

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"sync"
	"unicode/utf8"
)

// UnmarshalEvent decodes one JSON event written by [AppendJSON] and
// validates it. Unknown fields are ignored (newer minor versions add
// fields); a schema_version newer than [SchemaVersion] is an error.
//
// Every error is a *[DecodeError]. Its Field names the schema field at
// fault ("items[3].position", "context.device") when the line is JSON but
// not a valid event, or a value has the wrong JSON type; it is "" when the
// line is not JSON at all.
//
// UnmarshalEvent accepts and rejects exactly the lines encoding/json
// would, with the same decoded values (it is tested against such an
// implementation), at a fraction of the cost: it uses a pooled [Decoder].
// It is safe for concurrent use.
func UnmarshalEvent(line []byte) (Event, error) {
	d := decoderPool.Get().(*Decoder)
	e, err := d.Decode(line)
	d.release()
	decoderPool.Put(d)
	return e, err
}

var decoderPool = sync.Pool{New: func() any { return NewDecoder() }}

// Intern table bounds of a [Decoder] (besides its 256 most recently
// used strings, which it keeps in front of the table).
const (
	// MaxInternStrings is how many distinct strings a Decoder's intern
	// table holds; when it is full it is emptied and refilled.
	MaxInternStrings = 1024
	// MaxInternLen is the longest string (in bytes) a Decoder interns.
	MaxInternLen = 64
)

// pooledScratchMax is the largest scratch buffer a pooled decoder keeps
// between calls; a larger one (a huge line) is dropped.
const pooledScratchMax = 64 << 10

// Decoder decodes event lines (the JSON of [AppendJSON]) in a single pass
// over the bytes, reusing its scratch memory from one line to the next.
// [UnmarshalEvent] is Decode on a pooled Decoder; use a Decoder of your
// own in a loop to keep its intern table warm.
//
// # Memory
//
// Decoded events share no memory with the line or the decoder. The
// identifiers of one event (request, user and session pseudonyms, item
// ids) are substrings of one string allocated for that event. Short
// strings that repeat across events (service, surface, channel, model,
// experiment and variant names, flag keys, context attributes, item
// categories and providers, stage names and details, key ids...) are
// interned: equal values share one string. The intern table holds at most
// [MaxInternStrings] strings of at most [MaxInternLen] bytes; when it is
// full it is emptied. Scratch buffers grow to the longest line decoded.
//
// A Decoder is not safe for concurrent use.
type Decoder struct {
	data  []byte
	pos   int
	depth int

	ids   []byte // unescaped strings that become the event's id block
	tmp   []byte // unescaped strings that are parsed or interned
	key   []byte // an unescaped key with escapes
	stack []byte // open brackets while skipping a value

	w      wireSpans
	exps   []wireAssignSpans
	flags  []wireFlagSpans
	attrs  []wireAttrSpans
	items  []wireItemSpans
	stages []wireStageSpans
	// contribs are the items' explanations, item by item.
	contribs []wireContribSpans

	strs   map[string]string
	recent [256]string // direct-mapped front of strs
}

// NewDecoder returns a Decoder with an empty intern table.
func NewDecoder() *Decoder {
	return &Decoder{strs: make(map[string]string, 64)}
}

// span is a string's unescaped bytes in one of the decoder's arenas.
type span struct{ off, n uint32 }

// maxSpanLine is the longest line whose arenas spans can address:
// unescaping at most triples a line (U+FFFD for each invalid byte). Longer
// lines, far beyond any event, go to the reference decoder.
const maxSpanLine = 1 << 30

// Slice states of an array field: encoding/json merges a repeated array
// into the earlier one element by element, which the decoder does not
// reproduce (it falls back to the reference decoder).
const (
	sliceNil = iota
	sliceEmpty
	sliceFull
)

type wireSpans struct {
	hasVersion  bool
	hasDuration bool
	degraded    bool
	exps        uint8
	flags       uint8
	items       uint8
	stages      uint8
	ctx         bool // a non-null context was seen (last one wins)
	version     int64
	durationNS  int64
	dwellNS     int64
	value       float64
	scrollDepth float64

	typ, eventID, time, startTime, status, kind, traceID, spanID span // in tmp

	requestID, userID, sessionID, item span // in ids

	service, consentBasis, surface, channel, userKeyID, sessionKeyID, model, modelVersion,
	featureSet, errorType, name, currency, experiment, variant span // in tmp, interned

	featureHash, trainingSnapshot, owner span // a model record's; in tmp, interned

	ctxErrField string // first reason the context is not an object of strings
	ctxErrMsg   string
}

type wireAssignSpans struct{ experiment, variant span }
type wireFlagSpans struct{ key, variant span }
type wireAttrSpans struct{ key, value span }

type wireItemSpans struct {
	id                 span // ids
	category, provider span // tmp, interned
	hasPos, hasScore   bool
	exState            uint8  // slice state of the explanation
	exOff, exN         uint32 // the explanation: contribs[exOff:exOff+exN]
	position           int64
	score, propensity  float64
}

type wireContribSpans struct {
	feature  span // tmp, interned
	hasValue bool
	value    float64
}

type wireStageSpans struct {
	name, status, detail span // tmp; name and detail interned
	offsetNS, durationNS int64
}

// errFallback asks Decode to hand the line to the reference decoder.
var errFallback = errors.New("fallback")

// jsonError is a line that is not JSON.
type jsonError struct {
	off int
	msg string
}

func (e *jsonError) Error() string {
	return "invalid JSON at offset " + strconv.Itoa(e.off) + ": " + e.msg
}

// typeError is a JSON value of the wrong type for its field.
type typeError struct {
	got, want string
}

func (e *typeError) Error() string { return "cannot decode " + e.got + " as " + e.want }

func (d *Decoder) syntax(msg string) error {
	return &DecodeError{Err: &jsonError{off: d.pos, msg: msg}}
}

// unexpected reports the byte at the position, or the end of the line,
// where the grammar wanted something else.
func (d *Decoder) unexpected() error {
	if d.pos >= len(d.data) {
		return d.syntax("unexpected end of JSON input")
	}
	return d.syntax("invalid character " + strconv.QuoteRune(rune(d.data[d.pos])))
}

// release drops scratch buffers a huge line grew, before pooling.
func (d *Decoder) release() {
	d.data = nil
	if cap(d.ids) > pooledScratchMax {
		d.ids = nil
	}
	if cap(d.tmp) > pooledScratchMax {
		d.tmp = nil
	}
	if cap(d.key) > pooledScratchMax {
		d.key = nil
	}
	if cap(d.stack) > pooledScratchMax {
		d.stack = nil
	}
	if cap(d.items) > 4096 {
		d.items = nil
	}
	if cap(d.contribs) > 4096 {
		d.contribs = nil
	}
	if cap(d.stages) > 4096 || cap(d.exps) > 4096 || cap(d.flags) > 4096 || cap(d.attrs) > 4096 {
		d.stages, d.exps, d.flags, d.attrs = nil, nil, nil, nil
	}
}

// Decode decodes and validates one event line, like [UnmarshalEvent].
func (d *Decoder) Decode(line []byte) (Event, error) {
	line = bytes.TrimSpace(line)
	if len(line) > maxSpanLine {
		return unmarshalEventReference(line)
	}
	d.data, d.pos, d.depth = line, 0, 0
	d.ids, d.tmp = d.ids[:0], d.tmp[:0]
	d.exps, d.flags, d.attrs, d.items, d.stages = d.exps[:0], d.flags[:0], d.attrs[:0], d.items[:0], d.stages[:0]
	d.contribs = d.contribs[:0]
	d.w = wireSpans{}
	err := d.document()
	if err == errFallback {
		return unmarshalEventReference(line)
	}
	if err != nil {
		return Event{}, err
	}
	return d.build()
}

// document parses the whole line: one object (or null) and nothing else.
func (d *Decoder) document() error {
	if len(d.data) == 0 {
		return d.syntax("unexpected end of JSON input")
	}
	var err error
	switch d.data[0] {
	case '{':
		err = d.event()
	case 'n':
		// encoding/json decodes null into a struct as nothing.
		err = d.literal("null")
	default:
		if err = d.skipValue(); err == nil {
			d.ws()
			if d.pos < len(d.data) {
				return d.syntax("invalid character " + strconv.QuoteRune(rune(d.data[d.pos])) + " after top-level value")
			}
			return &DecodeError{Err: &typeError{got: jsonKind(d.data[0]), want: "an event object"}}
		}
	}
	if err != nil {
		return err
	}
	d.ws()
	if d.pos < len(d.data) {
		return d.syntax("invalid character " + strconv.QuoteRune(rune(d.data[d.pos])) + " after top-level value")
	}
	return nil
}

func jsonKind(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// ws skips JSON whitespace. AppendJSON writes none: the check is inlined.
func (d *Decoder) ws() {
	if d.pos < len(d.data) && d.data[d.pos] <= ' ' {
		d.wsSlow()
	}
}

func (d *Decoder) wsSlow() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next byte, or 0 at the end.
func (d *Decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

const maxDepth = 10000 // encoding/json's nesting limit

func (d *Decoder) push() error {
	d.depth++
	if d.depth > maxDepth {
		return d.syntax("exceeded max depth")
	}
	return nil
}

// objectStart consumes '{' (the caller checked it) and reports whether the
// object is empty (its '}' consumed too).
func (d *Decoder) objectStart() (empty bool, err error) {
	d.pos++
	if err := d.push(); err != nil {
		return false, err
	}
	d.ws()
	if d.peek() == '}' {
		d.pos++
		d.depth--
		return true, nil
	}
	return false, nil
}

// objectKey reads a key and its colon, leaving the position at the value.
func (d *Decoder) objectKey() ([]byte, error) {
	if d.peek() != '"' {
		return nil, d.unexpected()
	}
	k, err := d.keyString()
	if err != nil {
		return nil, err
	}
	d.ws()
	if d.peek() != ':' {
		return nil, d.unexpected()
	}
	d.pos++
	d.ws()
	return k, nil
}

// objectNext consumes the ',' or '}' after a member and reports whether
// the object ended.
func (d *Decoder) objectNext() (end bool, err error) {
	d.ws()
	switch d.peek() {
	case ',':
		d.pos++
		d.ws()
		return false, nil
	case '}':
		d.pos++
		d.depth--
		return true, nil
	}
	return false, d.unexpected()
}

// arrayStart consumes '[' and reports whether the array is empty.
func (d *Decoder) arrayStart() (empty bool, err error) {
	d.pos++
	if err := d.push(); err != nil {
		return false, err
	}
	d.ws()
	if d.peek() == ']' {
		d.pos++
		d.depth--
		return true, nil
	}
	return false, nil
}

func (d *Decoder) arrayNext() (end bool, err error) {
	d.ws()
	switch d.peek() {
	case ',':
		d.pos++
		d.ws()
		return false, nil
	case ']':
		d.pos++
		d.depth--
		return true, nil
	}
	return false, d.unexpected()
}

// literal consumes the literal word (true, false or null).
func (d *Decoder) literal(word string) error {
	for i := 0; i < len(word); i++ {
		if d.pos >= len(d.data) || d.data[d.pos] != word[i] {
			return d.unexpected()
		}
		d.pos++
	}
	return nil
}

// number consumes a JSON number and returns its bytes.
func (d *Decoder) number() ([]byte, error) {
	start := d.pos
	data := d.data
	i := d.pos
	if i < len(data) && data[i] == '-' {
		i++
	}
	if i >= len(data) {
		d.pos = i
		return nil, d.unexpected()
	}
	switch c := data[i]; {
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		i++
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	default:
		d.pos = i
		return nil, d.unexpected()
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			d.pos = i
			return nil, d.unexpected()
		}
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			d.pos = i
			return nil, d.unexpected()
		}
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	d.pos = i
	return data[start:i], nil
}

// parseInt parses a JSON number as encoding/json does for an int64 field:
// an integer literal in range, else a type error.
func parseInt(b []byte) (int64, bool) {
	neg := b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) <= 18 {
		var n int64
		for _, c := range digits {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int64(c-'0')
		}
		if neg {
			n = -n
		}
		return n, true
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

// parseFloat parses a JSON number as encoding/json does for a float64
// field (a type error when it is out of range). A decimal of at most 15
// significant digits and no exponent is m / 10^k with both operands exact
// in float64, so one division rounds it correctly (Clinger's fast path,
// the one strconv takes first too); anything else goes to strconv.
func parseFloat(b []byte) (float64, bool) {
	i := 0
	neg := b[0] == '-'
	if neg {
		i = 1
	}
	var m uint64
	digits, frac := 0, -1
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case '0' <= c && c <= '9':
			if m != 0 || c != '0' {
				digits++
			}
			m = m*10 + uint64(c-'0')
			if frac >= 0 {
				frac++
			}
			continue
		case c == '.':
			frac = 0
			continue
		}
		digits = 99 // an exponent
		break
	}
	if digits <= 15 && frac < len(pow10) {
		f := float64(m)
		if frac > 0 {
			f /= pow10[frac]
		}
		if neg {
			f = -f
		}
		return f, true
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}

// pow10 holds the powers of ten exact in float64.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// safeASCII marks the bytes a JSON string holds as they are: printable
// ASCII other than '"' and '\\'.
var safeASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanSafe returns the index of the first byte at or after i that is not
// safeASCII, or len(b), testing eight bytes at a time.
func scanSafe(b []byte, i int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		q, bs := x^(lo*'"'), x^(lo*'\\')
		// Bit 7 of a byte is set in m where the byte is < 0x20, '"', '\\'
		// or >= 0x80; the lowest such flag is exact (borrows only
		// propagate upwards).
		m := ((x-lo*0x20)&^x | (q-lo)&^q | (bs-lo)&^bs | x) & hi
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		i += 8
	}
	for i < len(b) && safeASCII[b[i]] {
		i++
	}
	return i
}

// keyString reads a string at the position (after its quote check) and
// returns its unescaped bytes: a slice of the line when it needs no
// unescaping, else of the decoder's key buffer. Valid until the next key.
func (d *Decoder) keyString() ([]byte, error) {
	data := d.data
	start := d.pos + 1
	i := scanSafe(data, start)
	if i < len(data) && data[i] == '"' {
		d.pos = i + 1
		return data[start:i], nil
	}
	d.key = d.key[:0]
	var err error
	d.key, err = d.appendString(d.key)
	return d.key, err
}

// stringInto appends the unescaped string at the position to *arena and
// returns where it is.
func (d *Decoder) stringInto(arena *[]byte) (span, error) {
	data := d.data
	start := d.pos + 1
	i := scanSafe(data, start)
	off := len(*arena)
	if i < len(data) && data[i] == '"' {
		d.pos = i + 1
		*arena = append(*arena, data[start:i]...)
		return span{uint32(off), uint32(i - start)}, nil
	}
	var err error
	*arena, err = d.appendString(*arena)
	return span{uint32(off), uint32(len(*arena) - off)}, err
}

// appendString unescapes the string at the position (its opening quote)
// onto dst as encoding/json does: all JSON escapes, surrogate pairs, and
// U+FFFD for each byte of invalid UTF-8 and each unpaired surrogate.
func (d *Decoder) appendString(dst []byte) ([]byte, error) {
	data := d.data
	i := d.pos + 1
	for {
		start := i
		i = scanSafe(data, i)
		dst = append(dst, data[start:i]...)
		if i >= len(data) {
			d.pos = i
			return dst, d.syntax("unexpected end of JSON input")
		}
		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			return dst, nil
		case c == '\\':
			if i+1 >= len(data) {
				d.pos = len(data)
				return dst, d.syntax("unexpected end of JSON input")
			}
			switch e := data[i+1]; e {
			case '"', '\\', '/':
				dst = append(dst, e)
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r, ok := hex4(data, i+2)
				if !ok {
					d.pos = i + 2
					return dst, d.badEscape(i + 2)
				}
				i += 6
				if r >= 0xd800 && r < 0xe000 { // a surrogate
					if r < 0xdc00 && i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
						if r2, ok := hex4(data, i+2); ok && r2 >= 0xdc00 && r2 < 0xe000 {
							dst = utf8.AppendRune(dst, 0x10000+(r-0xd800)<<10+(r2-0xdc00))
							i += 6
							continue
						}
					}
					r = 0xfffd
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default:
				d.pos = i + 1
				return dst, d.syntax("invalid character " + strconv.QuoteRune(rune(e)) + " in string escape code")
			}
			i += 2
		case c < 0x20:
			d.pos = i
			return dst, d.syntax("invalid character " + strconv.QuoteRune(rune(c)) + " in string literal")
		default: // c >= 0x80
			r, size := utf8.DecodeRune(data[i:])
			if size == 1 && r == utf8.RuneError { // invalid UTF-8: one U+FFFD per byte
				dst = append(dst, "\uFFFD"...)
			} else {
				dst = append(dst, data[i:i+size]...)
			}
			i += size
		}
	}
}

// badEscape reports the first non-hex digit of a \u escape at i.
func (d *Decoder) badEscape(i int) error {
	for k := i; k < i+4; k++ {
		if k >= len(d.data) {
			d.pos = len(d.data)
			return d.syntax("unexpected end of JSON input")
		}
		if _, ok := unhex(d.data[k]); !ok {
			d.pos = k
			return d.syntax("invalid character " + strconv.QuoteRune(rune(d.data[k])) + " in \\u hexadecimal character escape")
		}
	}
	return d.syntax("invalid \\u escape")
}

// hexValue maps a hex digit to its value and every other byte to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
		t[c-'a'+'A'] = byte(c - 'a' + 10)
	}
	return t
}()

func unhex(c byte) (rune, bool) {
	v := hexValue[c]
	return rune(v), v != 0xff
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for k := i; k < i+4; k++ {
		v, ok := unhex(b[k])
		if !ok {
			return 0, false
		}
		r = r<<4 | v
	}
	return r, true
}

// skipString validates the string at the position without keeping it.
func (d *Decoder) skipString() error {
	data := d.data
	i := d.pos + 1
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return nil
		case c == '\\':
			if i+1 >= len(data) {
				d.pos = len(data)
				return d.syntax("unexpected end of JSON input")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(data, i+2); !ok {
					d.pos = i + 2
					return d.badEscape(i + 2)
				}
				i += 6
			default:
				d.pos = i + 1
				return d.syntax("invalid character " + strconv.QuoteRune(rune(data[i+1])) + " in string escape code")
			}
		case c < 0x20:
			d.pos = i
			return d.syntax("invalid character " + strconv.QuoteRune(rune(c)) + " in string literal")
		default:
			i++
		}
	}
	d.pos = i
	return d.syntax("unexpected end of JSON input")
}

// skipValue validates and skips any JSON value, keeping encoding/json's
// nesting limit.
func (d *Decoder) skipValue() error {
	base := d.depth
	d.stack = d.stack[:0]
	for {
		// At the start of a value.
		switch d.peek() {
		case '{':
			empty, err := d.objectStart()
			if err != nil {
				return err
			}
			if !empty {
				d.stack = append(d.stack, '}')
				if _, err := d.objectKey(); err != nil {
					return err
				}
				continue
			}
		case '[':
			empty, err := d.arrayStart()
			if err != nil {
				return err
			}
			if !empty {
				d.stack = append(d.stack, ']')
				continue
			}
		case '"':
			if err := d.skipString(); err != nil {
				return err
			}
		case 't':
			if err := d.literal("true"); err != nil {
				return err
			}
		case 'f':
			if err := d.literal("false"); err != nil {
				return err
			}
		case 'n':
			if err := d.literal("null"); err != nil {
				return err
			}
		default:
			if _, err := d.number(); err != nil {
				return err
			}
		}
		// After a value: close containers or move to the next member.
		for {
			if d.depth == base {
				return nil
			}
			top := d.stack[len(d.stack)-1]
			var end bool
			var err error
			if top == '}' {
				end, err = d.objectNext()
			} else {
				end, err = d.arrayNext()
			}
			if err != nil {
				return err
			}
			if !end {
				if top == '}' {
					if _, err := d.objectKey(); err != nil {
						return err
					}
				}
				break
			}
			d.stack = d.stack[:len(d.stack)-1]
		}
	}
}

// wrongType returns the error for a value of the wrong JSON type for
// field, after checking that the value is at least JSON.
func (d *Decoder) wrongType(f field, want string) error {
	got := jsonKind(d.peek())
	if err := d.skipValue(); err != nil {
		return err
	}
	return &DecodeError{Field: f.String(), Err: &typeError{got: got, want: want}}
}

// str decodes a string field: a string sets it, null leaves it.
func (d *Decoder) str(arena *[]byte, dst *span, f field) error {
	switch d.peek() {
	case '"':
		s, err := d.stringInto(arena)
		if err != nil {
			return err
		}
		*dst = s
		return nil
	case 'n':
		return d.literal("null")
	}
	return d.wrongType(f, "string")
}

// numberBytes reads a number field's bytes. For null it sets *set to
// false (encoding/json sets a pointer field to nil) and returns ok false
// with the error of reading the literal; a non-number is a type error
// naming want.
func (d *Decoder) numberBytes(set *bool, f field, want string) (b []byte, ok bool, err error) {
	c := d.peek()
	if c == 'n' {
		if set != nil {
			*set = false
		}
		return nil, false, d.literal("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		return nil, false, d.wrongType(f, want)
	}
	b, err = d.number()
	return b, err == nil, err
}

// int decodes an integer field; null leaves it. set reports a number.
func (d *Decoder) int(dst *int64, set *bool, f field) error {
	b, ok, err := d.numberBytes(set, f, "integer")
	if !ok {
		return err
	}
	n, ok := parseInt(b)
	if !ok {
		return &DecodeError{Field: f.String(), Err: &typeError{got: "number " + string(b), want: "integer"}}
	}
	*dst = n
	if set != nil {
		*set = true
	}
	return nil
}

// float decodes a number field; null leaves it. set reports a number.
func (d *Decoder) float(dst *float64, set *bool, f field) error {
	b, ok, err := d.numberBytes(set, f, "number")
	if !ok {
		return err
	}
	v, ok := parseFloat(b)
	if !ok {
		return &DecodeError{Field: f.String(), Err: &typeError{got: "number " + string(b), want: "float64"}}
	}
	*dst = v
	if set != nil {
		*set = true
	}
	return nil
}

func (d *Decoder) bool(dst *bool, f field) error {
	switch d.peek() {
	case 't':
		*dst = true
		return d.literal("true")
	case 'f':
		*dst = false
		return d.literal("false")
	case 'n':
		return d.literal("null")
	}
	return d.wrongType(f, "bool")
}

// array decodes an array field whose elements are objects decoded by elem
// (null elements stay zero); null empties it. state tracks the field for
// the repeated-field fallback.
func (d *Decoder) array(state *uint8, name string, reset func(), elem func(i int, null bool) error) error {
	switch d.peek() {
	case 'n':
		*state = sliceNil
		reset()
		return d.literal("null")
	case '[':
	default:
		return d.wrongType(top(name), "array")
	}
	if *state == sliceFull {
		return errFallback
	}
	reset()
	empty, err := d.arrayStart()
	if err != nil {
		return err
	}
	if empty {
		*state = sliceEmpty
		return nil
	}
	*state = sliceFull
	for i := 0; ; i++ {
		switch d.peek() {
		case '{':
			err = elem(i, false)
		case 'n':
			if err = d.literal("null"); err == nil {
				err = elem(i, true)
			}
		default:
			err = d.wrongType(field{name: name + "[" + strconv.Itoa(i) + "]"}, "object")
		}
		if err != nil {
			return err
		}
		end, err := d.arrayNext()
		if err != nil {
			return err
		}
		if end {
			return nil
		}
	}
}

// members decodes the object at the position (its '{'), calling member
// for each key with the position at the value.
func (d *Decoder) members(member func(key []byte) error) error {
	empty, err := d.objectStart()
	if err != nil || empty {
		return err
	}
	for {
		k, err := d.objectKey()
		if err != nil {
			return err
		}
		if err := member(k); err != nil {
			return err
		}
		end, err := d.objectNext()
		if err != nil || end {
			return err
		}
	}
}
