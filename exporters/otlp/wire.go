package otlp

import (
	"encoding/binary"
	"math"
	"math/bits"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/rankscope/rankscope/internal/prefetch"
	"github.com/rankscope/rankscope/personalize"
)

// This file is the direct path's encoder: it appends an OTLP
// ExportLogsServiceRequest (opentelemetry/proto/collector/logs/v1) for a
// batch of events to a byte slice, in protobuf wire format, without
// building intermediate records or messages.
//
// Field numbers (opentelemetry-proto v1.x):
//
//	ExportLogsServiceRequest  1 resource_logs
//	ResourceLogs              1 resource, 2 scope_logs, 3 schema_url
//	Resource                  1 attributes
//	ScopeLogs                 1 scope, 2 log_records, 3 schema_url
//	InstrumentationScope      1 name, 2 version, 3 attributes
//	LogRecord                 1 time_unix_nano (fixed64), 2 severity_number,
//	                          5 body, 6 attributes, 9 trace_id (bytes, 16),
//	                          10 span_id (bytes, 8), 11 observed_time_unix_nano
//	                          (fixed64), 12 event_name
//	KeyValue                  1 key, 2 value
//	AnyValue                  1 string, 2 bool, 3 int, 4 double (fixed64),
//	                          5 array, 6 kvlist, 7 bytes
//	ArrayValue, KeyValueList  1 values

// Wire types.
const (
	wtVarint  = 0
	wtFixed64 = 1
	wtLen     = 2
)

// Tags (field<<3 | wire type) used here; every field number is below 16,
// so each tag is one byte.
const (
	tagRequestResourceLogs = 1<<3 | wtLen
	tagResourceLogsRes     = 1<<3 | wtLen
	tagResourceLogsScope   = 2<<3 | wtLen
	tagResourceLogsSchema  = 3<<3 | wtLen
	tagResourceAttr        = 1<<3 | wtLen
	tagScopeLogsScope      = 1<<3 | wtLen
	tagScopeLogsRecord     = 2<<3 | wtLen
	tagScopeName           = 1<<3 | wtLen
	tagRecordTime          = 1<<3 | wtFixed64
	tagRecordSeverity      = 2<<3 | wtVarint
	tagRecordBody          = 5<<3 | wtLen
	tagRecordAttr          = 6<<3 | wtLen
	tagRecordTraceID       = 9<<3 | wtLen
	tagRecordSpanID        = 10<<3 | wtLen
	tagRecordObserved      = 11<<3 | wtFixed64
	tagRecordEventName     = 12<<3 | wtLen
	tagKVKey               = 1<<3 | wtLen
	tagKVValue             = 2<<3 | wtLen
	tagAnyString           = 1<<3 | wtLen
	tagAnyBool             = 2<<3 | wtVarint
	tagAnyInt              = 3<<3 | wtVarint
	tagAnyDouble           = 4<<3 | wtFixed64
	tagAnyArray            = 5<<3 | wtLen
	tagAnyKvlist           = 6<<3 | wtLen
	tagAnyBytes            = 7<<3 | wtLen
	tagValues              = 1<<3 | wtLen
)

// severityInfo is SEVERITY_NUMBER_INFO.
const severityInfo = 9

// sizeVarint is the encoded length of v.
func sizeVarint(v uint64) int { return (bits.Len64(v|1)*9 + 64) / 64 }

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendFixed64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

// sizeLen is the size of a length-delimited field of n bytes with a
// one-byte tag.
func sizeLen(n int) int { return 1 + sizeVarint(uint64(n)) + n }

func appendLenField(b []byte, t byte, s string) []byte {
	b = append(b, t)
	b = appendVarint(b, uint64(len(s)))
	return append(b, s...)
}

// openLen starts a length-delimited field whose size is not known yet: it
// appends the tag and reserves reserve bytes for the length, and returns
// the position of the reservation. closeLen writes the length, moving the
// body when its varint does not take exactly reserve bytes.
func openLen(b []byte, t byte, reserve int) ([]byte, int) {
	b = append(b, t)
	at := len(b)
	for range reserve {
		b = append(b, 0)
	}
	return b, at
}

func closeLen(b []byte, at, reserve int) []byte {
	n := len(b) - at - reserve
	need := sizeVarint(uint64(n))
	if need != reserve {
		if need > reserve {
			b = append(b, make([]byte, need-reserve)...)
		}
		copy(b[at+need:], b[at+reserve:at+reserve+n])
		b = b[:at+need+n]
	}
	v := uint64(n)
	for i := range need - 1 {
		b[at+i] = byte(v) | 0x80
		v >>= 7
	}
	b[at+need-1] = byte(v)
	return b
}

// Sizes of AnyValue messages.
func sizeAnyString(s string) int { return sizeLen(len(s)) }
func sizeAnyInt(v int64) int     { return 1 + sizeVarint(uint64(v)) }

const sizeAnyDouble = 9

// appendKVHeader appends the tag of a KeyValue field t, its length, the
// key, and the header of its AnyValue of size valSize.
func appendKVHeader(b []byte, t byte, k1, k2 string, valSize int) []byte {
	kl := len(k1) + len(k2)
	kv := 1 + sizeVarint(uint64(kl)) + kl + sizeLen(valSize)
	b = append(b, t)
	b = appendVarint(b, uint64(kv))
	b = append(b, tagKVKey)
	b = appendVarint(b, uint64(kl))
	b = append(b, k1...)
	b = append(b, k2...)
	b = append(b, tagKVValue)
	return appendVarint(b, uint64(valSize))
}

// wireSink appends LogRecord.attributes (field 6) for the mapping. Sizes
// are computed exactly before each KeyValue, so attributes need no
// backpatching.
type wireSink struct {
	b []byte
}

var _ attrSink = (*wireSink)(nil)

func (w *wireSink) str(k, v string) {
	w.b = appendKVHeader(w.b, tagRecordAttr, k, "", sizeAnyString(v))
	w.b = appendLenField(w.b, tagAnyString, v)
}

func (w *wireSink) id(k string, id personalize.EventID) {
	const n = 36 // canonical UUID text
	w.b = appendKVHeader(w.b, tagRecordAttr, k, "", sizeLen(n))
	w.b = append(w.b, tagAnyString, n)
	w.b, _ = id.AppendText(w.b)
}

func (w *wireSink) ctxStr(key, v string) {
	w.b = appendKVHeader(w.b, tagRecordAttr, KeyContextPrefix, key, sizeAnyString(v))
	w.b = appendLenField(w.b, tagAnyString, v)
}

func (w *wireSink) i64(k string, v int64) {
	w.b = appendKVHeader(w.b, tagRecordAttr, k, "", sizeAnyInt(v))
	w.b = append(w.b, tagAnyInt)
	w.b = appendVarint(w.b, uint64(v))
}

func (w *wireSink) f64(k string, v float64) {
	w.b = appendKVHeader(w.b, tagRecordAttr, k, "", sizeAnyDouble)
	w.b = append(w.b, tagAnyDouble)
	w.b = appendFixed64(w.b, math.Float64bits(v))
}

func (w *wireSink) boolean(k string, v bool) {
	w.b = appendKVHeader(w.b, tagRecordAttr, k, "", 2)
	var x byte
	if v {
		x = 1
	}
	w.b = append(w.b, tagAnyBool, x)
}

// An array attribute is AnyValue{array_value: ArrayValue{values: AnyValue...}}.

func (w *wireSink) strs(k string, im *personalize.Impression, c strCol) {
	n := c.len(im)
	arr := 0
	for i := range n {
		arr += sizeLen(sizeAnyString(c.at(im, i)))
	}
	w.b = appendKVHeader(w.b, tagRecordAttr, k, "", sizeLen(arr))
	w.b = append(w.b, tagAnyArray)
	w.b = appendVarint(w.b, uint64(arr))
	for i := range n {
		s := c.at(im, i)
		w.b = append(w.b, tagValues)
		w.b = appendVarint(w.b, uint64(sizeAnyString(s)))
		w.b = appendLenField(w.b, tagAnyString, s)
	}
}

func (w *wireSink) i64s(k string, im *personalize.Impression, c intCol) {
	n := c.len(im)
	arr := 0
	for i := range n {
		arr += sizeLen(sizeAnyInt(c.at(im, i)))
	}
	w.b = appendKVHeader(w.b, tagRecordAttr, k, "", sizeLen(arr))
	w.b = append(w.b, tagAnyArray)
	w.b = appendVarint(w.b, uint64(arr))
	for i := range n {
		v := c.at(im, i)
		w.b = append(w.b, tagValues, byte(sizeAnyInt(v)), tagAnyInt) // an int AnyValue is < 128 bytes
		w.b = appendVarint(w.b, uint64(v))
	}
}

func (w *wireSink) f64s(k string, im *personalize.Impression, c fltCol) {
	n := c.len(im)
	arr := n * sizeLen(sizeAnyDouble)
	w.b = appendKVHeader(w.b, tagRecordAttr, k, "", sizeLen(arr))
	w.b = append(w.b, tagAnyArray)
	w.b = appendVarint(w.b, uint64(arr))
	for i := range n {
		w.b = append(w.b, tagValues, sizeAnyDouble, tagAnyDouble)
		w.b = appendFixed64(w.b, math.Float64bits(c.at(im, i)))
	}
}

// appendAttrValue appends the AnyValue message body of v (without tag and
// length), as the OpenTelemetry SDK's OTLP transform converts it: arrays
// to ArrayValue, maps to KeyValueList, byte slices to bytes_value, an
// empty value to an empty AnyValue. It is used for the resource and scope,
// once per exporter, so it favors simplicity over speed.
func appendAttrValue(b []byte, v attribute.Value) []byte {
	str := func(b []byte, s string) []byte { return appendLenField(b, tagAnyString, s) }
	array := func(b []byte, n int, elem func(b []byte, i int) []byte) []byte {
		b, at := openLen(b, tagAnyArray, 1)
		for i := range n {
			var at2 int
			b, at2 = openLen(b, tagValues, 1)
			b = elem(b, i)
			b = closeLen(b, at2, 1)
		}
		return closeLen(b, at, 1)
	}
	switch v.Type() {
	case attribute.BOOL:
		x := byte(0)
		if v.AsBool() {
			x = 1
		}
		return append(b, tagAnyBool, x)
	case attribute.INT64:
		return appendVarint(append(b, tagAnyInt), uint64(v.AsInt64()))
	case attribute.FLOAT64:
		return appendFixed64(append(b, tagAnyDouble), math.Float64bits(v.AsFloat64()))
	case attribute.STRING:
		return str(b, v.AsString())
	case attribute.BYTESLICE:
		return appendLenField(b, tagAnyBytes, string(v.AsByteSlice()))
	case attribute.BOOLSLICE:
		s := v.AsBoolSlice()
		return array(b, len(s), func(b []byte, i int) []byte { return appendAttrValue(b, attribute.BoolValue(s[i])) })
	case attribute.INT64SLICE:
		s := v.AsInt64Slice()
		return array(b, len(s), func(b []byte, i int) []byte { return appendAttrValue(b, attribute.Int64Value(s[i])) })
	case attribute.FLOAT64SLICE:
		s := v.AsFloat64Slice()
		return array(b, len(s), func(b []byte, i int) []byte { return appendAttrValue(b, attribute.Float64Value(s[i])) })
	case attribute.STRINGSLICE:
		s := v.AsStringSlice()
		return array(b, len(s), func(b []byte, i int) []byte { return str(b, s[i]) })
	case attribute.SLICE:
		s := v.AsSlice()
		return array(b, len(s), func(b []byte, i int) []byte { return appendAttrValue(b, s[i]) })
	case attribute.MAP:
		b, at := openLen(b, tagAnyKvlist, 1)
		for _, kv := range v.AsMap() {
			b = appendKeyValue(b, tagValues, kv)
		}
		return closeLen(b, at, 1)
	case attribute.EMPTY:
		return b
	}
	return str(b, "INVALID") // as the SDK does for an unknown type
}

// appendKeyValue appends kv as a KeyValue message in field t.
func appendKeyValue(b []byte, t byte, kv attribute.KeyValue) []byte {
	b, at := openLen(b, t, 1)
	b = appendLenField(b, tagKVKey, string(kv.Key))
	var at2 int
	b, at2 = openLen(b, tagKVValue, 1)
	b = appendAttrValue(b, kv.Value)
	b = closeLen(b, at2, 1)
	return closeLen(b, at, 1)
}

// requestEncoder encodes ExportLogsServiceRequests for one resource and
// the exporter's instrumentation scope, each at most limit bytes. The
// resource and scope messages are encoded once, at construction. Not safe
// for concurrent use (the exporter serializes Export).
type requestEncoder struct {
	resource  []byte // ResourceLogs field 1 (tag, length, Resource), or nil
	scope     []byte // ScopeLogs field 1 (tag, length, InstrumentationScope)
	schemaURL []byte // ResourceLogs field 3, or nil
	headMax   int    // bytes reserved before the records for the headers
	limit     int    // bytes of one request at most
	// budget: records of up to budget bytes always fit a request
	// (limit minus the envelope of the largest request), so encode
	// computes the exact size only beyond it.
	budget int
	w      wireSink
	// tooLarge lists the events of the last encode call that do not fit
	// a request alone, in batch order; reused by the next call.
	tooLarge []oversized
}

// oversized is an event whose record alone makes a request larger than
// the limit.
type oversized struct {
	index int  // in the batch given to encode
	size  int  // bytes of a request holding the event alone
	atMin bool // size is a lower bound: the event was not encoded
}

// encodeResult describes one request made by requestEncoder.encode.
type encodeResult struct {
	req     []byte // the request (a suffix of the returned buffer), nil without records
	next    int    // events of the batch consumed: the next request starts at batch[next]
	n       int    // records in req
	dropped int    // events skipped for lack of a payload
}

// newRequestEncoder returns an encoder of requests of at most limit bytes
// (limit > requestSize(0), checked by the caller).
func newRequestEncoder(res *resource.Resource, scopeName string, limit int) *requestEncoder {
	re := &requestEncoder{limit: limit}
	if res.Len() > 0 {
		var at int
		re.resource, at = openLen(nil, tagResourceLogsRes, 1)
		for _, kv := range res.Attributes() { // sorted by key, as the SDK sends them
			re.resource = appendKeyValue(re.resource, tagResourceAttr, kv)
		}
		re.resource = closeLen(re.resource, at, 1)
	}
	if u := res.SchemaURL(); u != "" {
		re.schemaURL = appendLenField(nil, tagResourceLogsSchema, u)
	}
	var at int
	re.scope, at = openLen(nil, tagScopeLogsScope, 1)
	re.scope = appendLenField(re.scope, tagScopeName, scopeName)
	re.scope = closeLen(re.scope, at, 1)
	// request tag + length, resource, scope_logs tag + length, scope
	re.headMax = 1 + binary.MaxVarintLen64 + len(re.resource) + 1 + binary.MaxVarintLen64 + len(re.scope)
	// The envelope, requestSize(r)-r, grows with r: records within the
	// budget fit with the envelope of a request of limit bytes of records.
	re.budget = limit - (re.requestSize(limit) - limit)
	return re
}

// timeUnixNano is t in Unix nanoseconds, 0 before the epoch (as the SDK).
func timeUnixNano(t time.Time) uint64 {
	n := t.UnixNano()
	if n < 0 {
		return 0
	}
	return uint64(n)
}

// recordReserve is the length reserved for a LogRecord: two bytes fit
// records of 128 B to 16 KiB, most of them.
const recordReserve = 2

// requestSize is the size of a request whose records take records bytes.
func (re *requestEncoder) requestSize(records int) int {
	scopeLogs := len(re.scope) + records
	resourceLogs := len(re.resource) + sizeLen(scopeLogs) + len(re.schemaURL)
	return sizeLen(resourceLogs)
}

// minItemRecordBytes is the least an impression item adds to its record:
// its elements of the id (4 bytes and the id), position (4) and score
// (11) arrays. minRecordSize uses it to refuse an impression too large
// for any request without encoding it.
const minItemRecordBytes = 4 + 4 + 11

// minRecordSize is a lower bound of the size of the record of an event
// whose impression is im (nil for other events), in O(1).
func minRecordSize(im *personalize.Impression) int {
	if im == nil {
		return 0
	}
	return minItemRecordBytes * len(im.Items)
}

// fits reports whether a request with records bytes of records is within
// the limit.
func (re *requestEncoder) fits(records int) bool {
	return records <= re.budget || re.requestSize(records) <= re.limit
}

// encode appends to buf one request of the first events of batch, at
// most re.limit bytes: it stops before the first event whose record
// would make the request larger (result.next; the caller encodes the
// rest into the next request). Events without a payload are skipped and
// counted (result.dropped); events whose record alone makes a request
// larger than the limit are skipped and listed in re.tooLarge. The
// request is a suffix of the returned buffer, which may start after some
// unused bytes of buf. observed is every record's observed_time_unix_nano.
func (re *requestEncoder) encode(buf []byte, batch []personalize.Event, observed time.Time) ([]byte, encodeResult) {
	return re.run(buf, batch, observed, false)
}

// measure is encode without the request: each record is encoded, sized
// and discarded, so buf holds one record at a time and result.req is
// nil. The request-limit tests use it to size records.
func (re *requestEncoder) measure(buf []byte, batch []personalize.Event, observed time.Time) ([]byte, encodeResult) {
	return re.run(buf, batch, observed, true)
}

func (re *requestEncoder) run(buf []byte, batch []personalize.Event, observed time.Time, measure bool) ([]byte, encodeResult) {
	var r encodeResult
	re.tooLarge = re.tooLarge[:0]
	start := len(buf)
	// Leave room for the headers: their lengths are known only at the end.
	for range re.headMax {
		buf = append(buf, 0)
	}
	recStart := len(buf)
	w := &re.w
	w.b = buf
	obs := timeUnixNano(observed)
	records := 0 // bytes of the records in the request
	i := 0
	for ; i < len(batch); i++ {
		prefetch.Ahead(batch, i)
		e := batch[i]
		if m := minRecordSize(e.Impression); !re.fits(m) {
			re.tooLarge = append(re.tooLarge, oversized{index: i, size: re.requestSize(m), atMin: true})
			continue
		}
		before := len(w.b)
		var at int
		w.b, at = openLen(w.b, tagScopeLogsRecord, recordReserve)
		if t := timeUnixNano(e.Time()); t != 0 {
			w.b = appendFixed64(append(w.b, tagRecordTime), t)
		}
		w.b = append(w.b, tagRecordSeverity, severityInfo)
		w.b = append(w.b, tagRecordBody, 0) // empty body, as the SDK sends it
		if err := mapEvent(w, e); err != nil {
			w.b = w.b[:before]
			r.dropped++
			continue
		}
		if tid, sid := traceContext(e); !tid.IsZero() || !sid.IsZero() {
			// The record's own trace context, so a tracing backend links
			// the event to its trace (the spec leaves both empty when
			// absent).
			if !tid.IsZero() {
				w.b = append(append(w.b, tagRecordTraceID, 16), tid[:]...)
			}
			if !sid.IsZero() {
				w.b = append(append(w.b, tagRecordSpanID, 8), sid[:]...)
			}
		}
		if obs != 0 {
			w.b = appendFixed64(append(w.b, tagRecordObserved), obs)
		}
		if name := EventName(e.Type); name != "" {
			w.b = appendLenField(w.b, tagRecordEventName, name)
		}
		w.b = closeLen(w.b, at, recordReserve)
		rec := len(w.b) - before
		if !re.fits(records + rec) {
			w.b = w.b[:before]
			alone := re.requestSize(rec)
			if r.n > 0 && alone <= re.limit {
				break // the next request starts with this event
			}
			re.tooLarge = append(re.tooLarge, oversized{index: i, size: alone})
			continue
		}
		records += rec
		r.n++
		if measure {
			w.b = w.b[:before]
		}
	}
	r.next = i
	buf, w.b = w.b, nil
	if r.n == 0 || measure {
		return buf[:start], r
	}
	buf = append(buf, re.schemaURL...)
	scopeLogs := len(re.scope) + records
	resourceLogs := len(re.resource) + sizeLen(scopeLogs) + len(re.schemaURL)
	// Write the headers right-aligned in the reserved room.
	hl := sizeLen(resourceLogs) - resourceLogs + len(re.resource) + sizeLen(scopeLogs) - scopeLogs + len(re.scope)
	from := recStart - hl
	h := buf[from:from:recStart]
	h = append(h, tagRequestResourceLogs)
	h = appendVarint(h, uint64(resourceLogs))
	h = append(h, re.resource...)
	h = append(h, tagResourceLogsScope)
	h = appendVarint(h, uint64(scopeLogs))
	_ = append(h, re.scope...)
	r.req = buf[from:]
	return buf, r
}
