package schema

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends e as one line of JSON (no trailing newline) in the
// schema of docs/SCHEMA.md. Raw identifiers are never written: only the
// pseudonyms the pipeline set. An event without a payload appends nothing
// and returns an error. A dead letter (Event.Invalid set) carries a
// "rejected" object naming the field and reason.
func AppendJSON(b []byte, e Event) ([]byte, error) {
	switch {
	case e.Impression != nil:
		b = appendImpression(b, e.Impression)
	case e.Outcome != nil:
		b = appendOutcome(b, e.Outcome)
	case e.Exposure != nil:
		b = appendExposure(b, e.Exposure)
	case e.Link != nil:
		b = appendLink(b, e.Link)
	case e.Model != nil:
		b = appendModel(b, e.Model)
	default:
		return b, errors.New("personalize: event has no payload")
	}
	if v := e.Invalid; v != nil {
		// A dead letter says why it was rejected (docs/SCHEMA.md).
		b = append(b[:len(b)-1], `,"rejected":{"field":`...)
		b = appendString(b, v.Field)
		b = append(b, `,"reason":`...)
		b = appendString(b, v.Reason)
		b = append(b, "}}"...)
	}
	return b, nil
}

// MarshalJSON implements json.Marshaler with [AppendJSON].
func (e Event) MarshalJSON() ([]byte, error) { return AppendJSON(nil, e) }

func appendHeader(b []byte, typ EventType, id EventID, t time.Time, service, basis string) []byte {
	b = append(b, `{"schema_version":`...)
	b = strconv.AppendInt(b, SchemaVersion, 10)
	b = append(b, `,"type":"`...)
	b = append(b, typ.String()...)
	b = append(b, `","event_id":"`...)
	b, _ = id.AppendText(b)
	b = append(b, `","time":"`...)
	b = appendTime(b, t)
	b = append(b, '"')
	b = appendStrField(b, "service", service)
	b = appendStrField(b, "consent_basis", basis)
	return b
}

func appendImpression(b []byte, im *Impression) []byte {
	b = appendHeader(b, EventImpression, im.EventID, im.End, im.Service, im.ConsentBasis)
	b = appendStrField(b, "request_id", im.RequestID)
	b = appendTraceContext(b, im.TraceID, im.SpanID)
	// start_time is written as time - duration so the two always agree:
	// the duration comes from the monotonic clock, which wall-clock
	// timestamps can disagree with by a few nanoseconds.
	b = append(b, `,"start_time":"`...)
	b = appendTime(b, im.End.Round(0).Add(-im.Duration()))
	b = append(b, '"')
	b = appendStrField(b, "surface", im.Surface)
	b = appendStrField(b, "channel", im.Channel)
	b = appendPseudonym(b, "user", im.UserID)
	b = appendPseudonym(b, "session", im.SessionID)
	b = appendStrField(b, "model", im.Model)
	b = appendStrField(b, "model_version", im.ModelVersion)
	b = appendStrField(b, "feature_set", im.FeatureSet)
	if len(im.Experiments) > 0 {
		b = append(b, `,"experiments":[`...)
		for i, a := range im.Experiments {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"experiment":`...)
			b = appendString(b, a.Experiment)
			b = append(b, `,"variant":`...)
			b = appendString(b, a.Variant)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(im.Flags) > 0 {
		b = append(b, `,"flags":[`...)
		for i, f := range im.Flags {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"key":`...)
			b = appendString(b, f.Key)
			b = append(b, `,"variant":`...)
			b = appendString(b, f.Variant)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(im.Context) > 0 {
		b = append(b, `,"context":{`...)
		for i, a := range im.Context {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, a.Key)
			b = append(b, ':')
			b = appendString(b, a.Value)
		}
		b = append(b, '}')
	}
	b = append(b, `,"items":[`...)
	// A slate's propensities are often all the same (a deterministic
	// policy logs 1 for every item, uniform exploration 1/k): an item
	// whose propensity is the previous item's copies its digits.
	var prop float64
	var propAt, propLen int
	for i := range im.Items {
		it := &im.Items[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, it.ID)
		b = append(b, `,"position":`...)
		b = appendPosition(b, it.Position)
		b = append(b, `,"score":`...)
		b = appendFloat(b, it.Score)
		if it.Propensity != 0 {
			b = append(b, `,"propensity":`...)
			if it.Propensity == prop && propLen > 0 {
				b = append(b, b[propAt:propAt+propLen]...)
			} else {
				prop, propAt = it.Propensity, len(b)
				b = appendFloat(b, prop)
				propLen = len(b) - propAt
			}
		}
		b = appendStrField(b, "category", it.Category)
		b = appendStrField(b, "provider", it.Provider)
		if len(it.Explanation) > 0 {
			b = appendExplanation(b, it.Explanation)
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	if len(im.Stages) > 0 {
		b = append(b, `,"stages":[`...)
		for i := range im.Stages {
			s := &im.Stages[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendString(b, s.Name)
			b = append(b, `,"offset_ns":`...)
			b = strconv.AppendInt(b, int64(s.Offset), 10)
			b = append(b, `,"duration_ns":`...)
			b = strconv.AppendInt(b, int64(s.Duration), 10)
			b = append(b, `,"status":"`...)
			b = append(b, s.Status.String()...)
			b = append(b, '"')
			b = appendStrField(b, "detail", s.Detail)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"duration_ns":`...)
	b = strconv.AppendInt(b, int64(im.Duration()), 10)
	b = append(b, `,"status":"`...)
	b = append(b, im.Status.String()...)
	b = append(b, '"')
	b = appendStrField(b, "error_type", im.ErrorType)
	if im.Degraded() {
		b = append(b, `,"degraded":true`...)
	}
	return append(b, '}')
}

func appendOutcome(b []byte, o *Outcome) []byte {
	b = appendHeader(b, EventOutcome, o.EventID, o.Time, o.Service, o.ConsentBasis)
	b = appendStrField(b, "request_id", o.RequestID)
	b = appendTraceContext(b, o.TraceID, o.SpanID)
	b = appendPseudonym(b, "user", o.UserID)
	b = appendPseudonym(b, "session", o.SessionID)
	b = appendStrField(b, "item", o.Item)
	b = append(b, `,"kind":"`...)
	b = append(b, o.Kind.String()...)
	b = append(b, '"')
	b = appendStrField(b, "name", o.Name)
	if o.Value != 0 {
		b = append(b, `,"value":`...)
		b = appendFloat(b, o.Value)
	}
	b = appendStrField(b, "currency", o.Currency)
	if o.Dwell != 0 {
		b = append(b, `,"dwell_ns":`...)
		b = strconv.AppendInt(b, int64(o.Dwell), 10)
	}
	if o.ScrollDepth != 0 {
		b = append(b, `,"scroll_depth":`...)
		b = appendFloat(b, o.ScrollDepth)
	}
	b = appendStrField(b, "channel", o.Channel)
	b = appendStrField(b, "surface", o.Surface)
	return append(b, '}')
}

func appendExposure(b []byte, x *Exposure) []byte {
	b = appendHeader(b, EventExposure, x.EventID, x.Time, x.Service, x.ConsentBasis)
	b = appendPseudonym(b, "user", x.UserID)
	b = appendStrField(b, "experiment", x.Experiment)
	b = appendStrField(b, "variant", x.Variant)
	b = appendStrField(b, "surface", x.Surface)
	return append(b, '}')
}

func appendLink(b []byte, l *Link) []byte {
	b = appendHeader(b, EventLink, l.EventID, l.Time, l.Service, l.ConsentBasis)
	b = appendPseudonym(b, "user", l.UserID)
	b = appendPseudonym(b, "session", l.SessionID)
	return append(b, '}')
}

// appendTraceContext writes trace_id and span_id when set.
func appendTraceContext(b []byte, t TraceID, s SpanID) []byte {
	if !t.IsZero() {
		b = append(b, `,"trace_id":"`...)
		b = hex.AppendEncode(b, t[:])
		b = append(b, '"')
	}
	if !s.IsZero() {
		b = append(b, `,"span_id":"`...)
		b = hex.AppendEncode(b, s[:])
		b = append(b, '"')
	}
	return b
}

func appendPseudonym(b []byte, name string, p Pseudonym) []byte {
	if p.IsZero() {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `_id":`...)
	b = appendString(b, p.ID)
	if p.KeyID != "" {
		b = append(b, `,"`...)
		b = append(b, name...)
		b = append(b, `_key_id":`...)
		b = appendString(b, p.KeyID)
	}
	return b
}

func appendStrField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return appendString(b, v)
}

func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) { // validated away; keep output JSON
		return append(b, "null"...)
	}
	if out, ok := appendShortDecimal(b, f); ok {
		return out
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// pow10u are the powers of ten appendShortDecimal splits digits by.
var pow10u = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7}

// appendShortDecimal writes f as strconv.AppendFloat(b, f, 'g', -1, 64)
// does when f is a short decimal (at most 7 digits after the point, in
// [1e-4, 1e6), as propensities, prices and rounded scores usually are),
// without the general shortest-digits machinery. Other values report
// false after one division, so full-precision scores lose little.
//
// It rounds f to seven decimals, m/1e7, and keeps it when that converts
// back to f (one correctly rounded division). If any k-decimal number
// m'/10^k converts back to f, then m = m'·10^(7-k) (a·1e7 is within a
// hundredth of that integer, rounding included), so stripping m's
// trailing zeros gives the fewest decimals, the shortest representation;
// the stripped number is the same rational as m/1e7 and converts back to
// f too. When seven decimals do not convert back, no fewer do either.
func appendShortDecimal(b []byte, f float64) ([]byte, bool) {
	a := math.Abs(f)
	if !(a >= 1e-4 && a < 1e6) {
		return b, false
	}
	// Floor(x+0.5) is Round(x) wherever the check below can pass (x
	// within a few ulps of an integer) and compiles to one instruction;
	// elsewhere both fail the check. m < 1e13 < 2^53 is exact.
	m := math.Floor(a*1e7 + 0.5)
	if m/1e7 != a {
		return b, false
	}
	// Strip up to seven trailing zeros as 4 + 2 + 1.
	n, k := uint64(m), 7
	if n%10000 == 0 {
		n, k = n/10000, k-4
	}
	if n%100 == 0 {
		n, k = n/100, k-2
	}
	if n%10 == 0 {
		n, k = n/10, k-1
	}
	if f < 0 {
		b = append(b, '-')
	}
	div := pow10u[k]
	whole, frac := n/div, n%div
	if whole < 10 {
		b = append(b, byte('0'+whole))
	} else {
		b = strconv.AppendUint(b, whole, 10)
	}
	if k > 0 {
		b = append(b, '.')
		var d [7]byte
		for i := k - 1; i >= 0; i-- {
			d[i] = byte('0' + frac%10)
			frac /= 10
		}
		b = append(b, d[:k]...)
	}
	return b, true
}

const hexDigits = "0123456789abcdef"

// appendPosition appends an item's position: one or two digits but for
// long rankings.
func appendPosition(b []byte, p int) []byte {
	switch {
	case p >= 0 && p < 10:
		return append(b, byte('0'+p))
	case p >= 10 && p < 100:
		return append(b, byte('0'+p/10), byte('0'+p%10))
	}
	return strconv.AppendInt(b, int64(p), 10)
}

// appendString appends s as a JSON string, escaping as encoding/json does
// for control characters, quotes, backslashes and invalid UTF-8.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	i := plainPrefix(s)
	if i == len(s) { // the usual case: nothing to escape
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plainPrefix returns the length of the longest prefix of s that
// appendString copies as it is: printable ASCII other than '"' and '\\'.
// It tests eight bytes at a time.
func plainPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if escapes8(x) {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			break
		}
	}
	return i
}

// escapes8 reports whether any of the 8 bytes in x is below 0x20, a quote,
// a backslash or not ASCII. The zero-byte tests (v - 0x01…) & ^v & 0x80…
// never miss a byte; they may flag one that needs nothing, which only
// sends the caller to its byte-by-byte loop.
func escapes8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ (ones * '"')
	bs := x ^ (ones * '\\')
	return ((x-ones*0x20)&^x|(q-ones)&^q|(bs-ones)&^bs|x)&highs != 0
}

// wireEvent is the decoding shape of every event type.
type wireEvent struct {
	SchemaVersion *int            `json:"schema_version"`
	Type          string          `json:"type"`
	EventID       string          `json:"event_id"`
	Time          string          `json:"time"`
	Service       string          `json:"service"`
	ConsentBasis  string          `json:"consent_basis"`
	RequestID     string          `json:"request_id"`
	TraceID       string          `json:"trace_id"`
	SpanID        string          `json:"span_id"`
	StartTime     string          `json:"start_time"`
	Surface       string          `json:"surface"`
	Channel       string          `json:"channel"`
	UserID        string          `json:"user_id"`
	UserKeyID     string          `json:"user_key_id"`
	SessionID     string          `json:"session_id"`
	SessionKeyID  string          `json:"session_key_id"`
	Model         string          `json:"model"`
	ModelVersion  string          `json:"model_version"`
	FeatureSet    string          `json:"feature_set"`
	Experiments   []wireAssign    `json:"experiments"`
	Flags         []wireFlag      `json:"flags"`
	Context       json.RawMessage `json:"context"`
	Items         []wireItem      `json:"items"`
	Stages        []wireStage     `json:"stages"`
	DurationNS    *int64          `json:"duration_ns"`
	Status        string          `json:"status"`
	ErrorType     string          `json:"error_type"`
	Degraded      bool            `json:"degraded"`
	Item          string          `json:"item"`
	Kind          string          `json:"kind"`
	Name          string          `json:"name"`
	Value         float64         `json:"value"`
	Currency      string          `json:"currency"`
	DwellNS       int64           `json:"dwell_ns"`
	ScrollDepth   float64         `json:"scroll_depth"`
	Experiment    string          `json:"experiment"`
	Variant       string          `json:"variant"`
	// A model record's own fields (model, model_version and feature_set
	// are shared with impressions).
	FeatureHash      string `json:"feature_hash"`
	TrainingSnapshot string `json:"training_snapshot"`
	Owner            string `json:"owner"`
}

type wireAssign struct {
	Experiment string `json:"experiment"`
	Variant    string `json:"variant"`
}

type wireFlag struct {
	Key     string `json:"key"`
	Variant string `json:"variant"`
}

type wireItem struct {
	ID         string   `json:"id"`
	Position   *int     `json:"position"`
	Score      *float64 `json:"score"`
	Propensity float64  `json:"propensity"`
	Category   string   `json:"category"`
	Provider   string   `json:"provider"`

	Explanation []wireContribution `json:"explanation"`
}

type wireContribution struct {
	Feature string   `json:"feature"`
	Value   *float64 `json:"value"`
}

type wireStage struct {
	Name       string `json:"name"`
	OffsetNS   int64  `json:"offset_ns"`
	DurationNS int64  `json:"duration_ns"`
	Status     string `json:"status"`
	Detail     string `json:"detail"`
}

// DecodeError is returned by [UnmarshalEvent] for a line that is not a
// valid event, naming the field at fault.
type DecodeError struct {
	Field string
	Err   error
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return "personalize: decode event: " + e.Err.Error()
	}
	return "personalize: decode event: " + e.Field + ": " + e.Err.Error()
}

func (e *DecodeError) Unwrap() error { return e.Err }

func decodeErr(field string, format string, args ...any) error {
	return &DecodeError{Field: field, Err: fmt.Errorf(format, args...)}
}

// unmarshalEventReference is the encoding/json implementation of
// [UnmarshalEvent]: the specification the hand-written [Decoder] is tested
// against (decode_test.go), and its fallback for the one input shape it
// does not reproduce itself (an array field repeated in one object, which
// encoding/json merges element by element into the earlier array).
func unmarshalEventReference(line []byte) (Event, error) {
	var w wireEvent
	line = bytes.TrimSpace(line)
	if err := json.Unmarshal(line, &w); err != nil {
		return Event{}, &DecodeError{Err: err}
	}
	if w.SchemaVersion == nil {
		return Event{}, decodeErr("schema_version", "missing")
	}
	if *w.SchemaVersion < 1 || *w.SchemaVersion > SchemaVersion {
		return Event{}, decodeErr("schema_version", "unsupported version %d (this reader knows 1..%d)", *w.SchemaVersion, SchemaVersion)
	}
	typ, ok := ParseEventType(w.Type)
	if !ok {
		return Event{}, decodeErr("type", "unknown event type %q", w.Type)
	}
	id, err := ParseEventID(w.EventID)
	if err != nil {
		return Event{}, decodeErr("event_id", "%v", err)
	}
	t, err := time.Parse(time.RFC3339Nano, w.Time)
	if err != nil {
		return Event{}, decodeErr("time", "%v", err)
	}
	user := Pseudonym{ID: w.UserID, KeyID: w.UserKeyID}
	session := Pseudonym{ID: w.SessionID, KeyID: w.SessionKeyID}
	var e Event
	e.Type = typ
	switch typ {
	case EventImpression:
		tid, sid, err := parseTraceContext([]byte(w.TraceID), []byte(w.SpanID))
		if err != nil {
			return Event{}, err
		}
		im := &Impression{EventID: id, RequestID: w.RequestID, TraceID: tid, SpanID: sid, End: t, Service: w.Service,
			Surface: w.Surface, Channel: w.Channel, UserID: user, SessionID: session, Model: w.Model,
			ModelVersion: w.ModelVersion, FeatureSet: w.FeatureSet, ErrorType: w.ErrorType}
		if w.StartTime == "" {
			return Event{}, decodeErr("start_time", "missing")
		}
		if im.Start, err = time.Parse(time.RFC3339Nano, w.StartTime); err != nil {
			return Event{}, decodeErr("start_time", "%v", err)
		}
		if im.Status, ok = ParseStatusOrOK(w.Status); !ok {
			return Event{}, decodeErr("status", "unknown status %q", w.Status)
		}
		for _, a := range w.Experiments {
			im.Experiments = append(im.Experiments, Assignment(a))
		}
		for _, f := range w.Flags {
			im.Flags = append(im.Flags, Flag(f))
		}
		if im.Context, err = decodeContext(w.Context); err != nil {
			return Event{}, err
		}
		im.Items = make([]Item, len(w.Items))
		for i, it := range w.Items {
			if it.Position == nil {
				return Event{}, decodeErr(itemField(i, "position"), "missing")
			}
			if it.Score == nil {
				return Event{}, decodeErr(itemField(i, "score"), "missing")
			}
			im.Items[i] = Item{ID: it.ID, Position: *it.Position, Score: *it.Score, Propensity: it.Propensity, Category: it.Category, Provider: it.Provider}
			if len(it.Explanation) > 0 {
				ex := make([]Contribution, len(it.Explanation))
				for j, c := range it.Explanation {
					if c.Value == nil {
						return Event{}, decodeErr(explanationField(i, j, "value"), "missing")
					}
					ex[j] = Contribution{Feature: c.Feature, Value: *c.Value}
				}
				im.Items[i].Explanation = ex
			}
		}
		for i, s := range w.Stages {
			st, ok := ParseStatusOrOK(s.Status)
			if !ok {
				return Event{}, decodeErr("stages["+strconv.Itoa(i)+"].status", "unknown status %q", s.Status)
			}
			im.Stages = append(im.Stages, StageTiming{Name: s.Name, Offset: time.Duration(s.OffsetNS), Duration: time.Duration(s.DurationNS), Status: st, Detail: s.Detail})
		}
		if w.DurationNS != nil && time.Duration(*w.DurationNS) != im.End.Sub(im.Start) {
			return Event{}, decodeErr("duration_ns", "%d disagrees with time - start_time (%d)", *w.DurationNS, im.End.Sub(im.Start))
		}
		e.Impression = im
	case EventOutcome:
		kind, ok := ParseOutcomeKind(w.Kind)
		if !ok {
			return Event{}, decodeErr("kind", "unknown outcome kind %q", w.Kind)
		}
		tid, sid, err := parseTraceContext([]byte(w.TraceID), []byte(w.SpanID))
		if err != nil {
			return Event{}, err
		}
		e.Outcome = &Outcome{EventID: id, RequestID: w.RequestID, TraceID: tid, SpanID: sid, Time: t, Service: w.Service,
			UserID: user, SessionID: session, Item: w.Item, Kind: kind, Name: w.Name, Value: w.Value,
			Currency: w.Currency, Dwell: time.Duration(w.DwellNS), ScrollDepth: w.ScrollDepth,
			Channel: w.Channel, Surface: w.Surface}
	case EventExposure:
		e.Exposure = &Exposure{EventID: id, Time: t, Service: w.Service, UserID: user,
			Experiment: w.Experiment, Variant: w.Variant, Surface: w.Surface}
	case EventLink:
		e.Link = &Link{EventID: id, Time: t, Service: w.Service, UserID: user, SessionID: session}
	case EventModel:
		e.Model = &ModelMetadata{EventID: id, Time: t, Service: w.Service, Model: w.Model, Version: w.ModelVersion,
			FeatureSet: w.FeatureSet, FeatureHash: w.FeatureHash, TrainingSnapshot: w.TrainingSnapshot, Owner: w.Owner}
	}
	e.setConsentBasis(w.ConsentBasis)
	if err := e.Validate(); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return Event{}, &DecodeError{Field: ve.Field, Err: err}
		}
		return Event{}, err
	}
	return e, nil
}

// ParseStatusOrOK parses a stage status, treating "" as ok.
func ParseStatusOrOK(s string) (StageStatus, bool) {
	if s == "" {
		return StageOK, true
	}
	for _, st := range []StageStatus{StageOK, StageError, StageTimeout, StageFallback} {
		if st.String() == s {
			return st, true
		}
	}
	return 0, false
}

// decodeContext keeps the attribute order of the line.
func decodeContext(raw json.RawMessage) ([]Attr, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, decodeErr("context", "must be an object of strings")
	}
	var out []Attr
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, decodeErr("context", "%v", err)
		}
		v, err := dec.Token()
		vs, ok := v.(string)
		if err != nil || !ok {
			return nil, decodeErr("context."+fmt.Sprint(k), "must be a string")
		}
		out = append(out, Attr{Key: k.(string), Value: vs})
	}
	return out, nil
}
