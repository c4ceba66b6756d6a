package parquet

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unsafe"

	pq "github.com/parquet-go/parquet-go"

	"github.com/rankscope/rankscope/personalize"
)

// errNoPayload is the cause of a batch entry without a payload.
var errNoPayload = errors.New("event has no payload")

// errDeadLetter is the cause of a dead letter (Event.Invalid set): the
// Parquet schema has no column for "rejected", and a rejected event may
// not fit the schema; dead letters go to the file exporter.
var errDeadLetter = errors.New("dead letters (Event.Invalid set) are not written as Parquet; use the file exporter for dead letters")

// rowEncoder appends the values of one event's row in column order.
type rowEncoder struct {
	row   pq.Row
	basis string // the consent basis of the event being encoded
}

// bytesOf views s as bytes without copying. The writer copies values
// into its column buffers and never writes to them.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func strValue(s string) pq.Value { return pq.ByteArrayValue(bytesOf(s)) }

// req appends the value of a required top-level column.
func (e *rowEncoder) req(c int, v pq.Value) { e.row = append(e.row, v.Level(0, 0, c)) }

// opt appends the value of an optional top-level column, NULL unless ok.
func (e *rowEncoder) opt(c int, v pq.Value, ok bool) {
	if ok {
		e.row = append(e.row, v.Level(0, 1, c))
	} else {
		e.row = append(e.row, pq.NullValue().Level(0, 0, c))
	}
}

// str appends an optional string column: NULL when s is empty.
func (e *rowEncoder) str(c int, s string) { e.opt(c, strValue(s), s != "") }

// none appends the single value of a list column whose list is absent
// (def defNull) or empty (def defEmpty).
func (e *rowEncoder) none(c, def int) { e.row = append(e.row, pq.NullValue().Level(0, def, c)) }

// elem appends element i's value of a list column's required field.
func (e *rowEncoder) elem(c, i int, v pq.Value) {
	e.row = append(e.row, v.Level(min(i, 1), defElem, c))
}

// elemOpt appends element i's value of an optional field, NULL unless ok.
func (e *rowEncoder) elemOpt(c, i int, v pq.Value, ok bool) {
	if ok {
		e.row = append(e.row, v.Level(min(i, 1), defElemOpt, c))
	} else {
		e.row = append(e.row, pq.NullValue().Level(min(i, 1), defElem, c))
	}
}

// splitTime returns t as microseconds since the Unix epoch (rounded down)
// and the nanoseconds within the microsecond (0..999). Every time of the
// schema (years 0000 to 9999) fits.
func splitTime(t time.Time) (micros int64, nanos int32) {
	ns := int64(t.Nanosecond())
	return t.Unix()*1_000_000 + ns/1000, int32(ns % 1000)
}

// joinTime is the inverse of splitTime, in UTC.
func joinTime(micros int64, nanos int32) time.Time {
	sec := micros / 1_000_000
	us := micros % 1_000_000
	if us < 0 {
		sec--
		us += 1_000_000
	}
	return time.Unix(sec, us*1000+int64(nanos)).UTC()
}

// header appends the common columns schema_version .. service.
func (e *rowEncoder) header(typ personalize.EventType, id personalize.EventID, t time.Time, service string) {
	micros, nanos := splitTime(t)
	e.req(cSchemaVersion, pq.Int32Value(personalize.SchemaVersion))
	e.req(cType, strValue(typ.String()))
	text, _ := id.AppendText(nil) // 36 bytes, never fails
	e.req(cEventID, pq.ByteArrayValue(text))
	e.req(cTime, pq.Int64Value(micros))
	e.req(cTimeNanos, pq.Int32Value(nanos))
	e.str(cService, service)
	e.str(cConsentBasis, e.basis)
}

// nulls appends NULL (absent lists included) for columns from..to-1.
func (e *rowEncoder) nulls(from, to int) {
	for c := from; c < to; c++ {
		e.row = append(e.row, pq.NullValue().Level(0, defNull, c))
	}
}

// encode appends ev's row to e.row (which it resets first). It fails,
// naming the problem, for an event without a payload and a dead letter.
func (e *rowEncoder) encode(ev personalize.Event) error {
	e.row = e.row[:0]
	if ev.Invalid != nil {
		return errDeadLetter
	}
	e.basis = ev.ConsentBasis()
	switch {
	case ev.Impression != nil:
		e.impression(ev.Impression)
	case ev.Outcome != nil:
		o := ev.Outcome
		e.header(personalize.EventOutcome, o.EventID, o.Time, o.Service)
		e.str(cRequestID, o.RequestID)
		e.traceContext(o.TraceID, o.SpanID)
		e.nulls(cStartTime, cSurface)
		e.str(cSurface, o.Surface)
		e.str(cChannel, o.Channel)
		e.pseudonyms(o.UserID, o.SessionID)
		e.nulls(cModel, cItem)
		e.str(cItem, o.Item)
		e.str(cKind, o.Kind.String())
		e.str(cName, o.Name)
		e.opt(cValue, pq.DoubleValue(o.Value), o.Value != 0)
		e.str(cCurrency, o.Currency)
		e.opt(cDwellNS, pq.Int64Value(int64(o.Dwell)), o.Dwell != 0)
		e.opt(cScrollDepth, pq.DoubleValue(o.ScrollDepth), o.ScrollDepth != 0)
		e.nulls(cExperiment, nColumns)
	case ev.Exposure != nil:
		x := ev.Exposure
		e.header(personalize.EventExposure, x.EventID, x.Time, x.Service)
		e.nulls(cRequestID, cSurface)
		e.str(cSurface, x.Surface)
		e.nulls(cChannel, cUserID)
		e.pseudonyms(x.UserID, personalize.Pseudonym{})
		e.nulls(cModel, cExperiment)
		e.str(cExperiment, x.Experiment)
		e.str(cVariant, x.Variant)
		e.nulls(cFeatureHash, nColumns)
	case ev.Link != nil:
		l := ev.Link
		e.header(personalize.EventLink, l.EventID, l.Time, l.Service)
		e.nulls(cRequestID, cUserID)
		e.pseudonyms(l.UserID, l.SessionID)
		e.nulls(cModel, nColumns)
	case ev.Model != nil:
		m := ev.Model
		e.header(personalize.EventModel, m.EventID, m.Time, m.Service)
		e.nulls(cRequestID, cModel)
		e.str(cModel, m.Model)
		e.str(cModelVersion, m.Version)
		e.str(cFeatureSet, m.FeatureSet)
		e.nulls(cExpExperiment, cFeatureHash)
		e.str(cFeatureHash, m.FeatureHash)
		e.str(cTrainingSnapshot, m.TrainingSnapshot)
		e.str(cOwner, m.Owner)
	default:
		return errNoPayload
	}
	return nil
}

// traceContext appends trace_id and span_id: hex, as in JSON, NULL when
// zero.
func (e *rowEncoder) traceContext(trace [16]byte, span [8]byte) {
	e.opt(cTraceID, pq.ByteArrayValue(hex.AppendEncode(nil, trace[:])), trace != [16]byte{})
	e.opt(cSpanID, pq.ByteArrayValue(hex.AppendEncode(nil, span[:])), span != [8]byte{})
}

// pseudonyms appends user_id .. session_key_id.
func (e *rowEncoder) pseudonyms(user, session personalize.Pseudonym) {
	e.str(cUserID, user.ID)
	e.str(cUserKeyID, user.KeyID)
	e.str(cSessionID, session.ID)
	e.str(cSessionKeyID, session.KeyID)
}

func (e *rowEncoder) impression(im *personalize.Impression) {
	e.header(personalize.EventImpression, im.EventID, im.End, im.Service)
	e.str(cRequestID, im.RequestID)
	e.traceContext(im.TraceID, im.SpanID)
	// As in JSON: start_time is time - duration_ns.
	start, _ := splitTime(im.End.Round(0).Add(-im.Duration()))
	e.opt(cStartTime, pq.Int64Value(start), true)
	e.str(cSurface, im.Surface)
	e.str(cChannel, im.Channel)
	e.pseudonyms(im.UserID, im.SessionID)
	e.str(cModel, im.Model)
	e.str(cModelVersion, im.ModelVersion)
	e.str(cFeatureSet, im.FeatureSet)

	if len(im.Experiments) == 0 {
		e.none(cExpExperiment, defNull)
		e.none(cExpVariant, defNull)
	} else {
		for i, a := range im.Experiments {
			e.elem(cExpExperiment, i, strValue(a.Experiment))
		}
		for i, a := range im.Experiments {
			e.elem(cExpVariant, i, strValue(a.Variant))
		}
	}
	if len(im.Flags) == 0 {
		e.none(cFlagKey, defNull)
		e.none(cFlagVariant, defNull)
	} else {
		for i, f := range im.Flags {
			e.elem(cFlagKey, i, strValue(f.Key))
		}
		for i, f := range im.Flags {
			e.elem(cFlagVariant, i, strValue(f.Variant))
		}
	}
	if len(im.Context) == 0 {
		e.none(cCtxKey, defNull)
		e.none(cCtxValue, defNull)
	} else {
		for i, a := range im.Context {
			e.elem(cCtxKey, i, strValue(a.Key))
		}
		for i, a := range im.Context {
			e.elem(cCtxValue, i, strValue(a.Value))
		}
	}
	items := im.Items
	if len(items) == 0 { // always written, possibly empty
		for c := cItemID; c <= cItemExplValue; c++ {
			e.none(c, defEmpty)
		}
	} else {
		for i := range items {
			e.elem(cItemID, i, strValue(items[i].ID))
		}
		for i := range items {
			e.elem(cItemPosition, i, pq.Int64Value(int64(items[i].Position)))
		}
		for i := range items {
			e.elem(cItemScore, i, pq.DoubleValue(items[i].Score))
		}
		for i := range items {
			e.elemOpt(cItemPropensity, i, pq.DoubleValue(items[i].Propensity), items[i].Propensity != 0)
		}
		for i := range items {
			e.elemOpt(cItemCategory, i, strValue(items[i].Category), items[i].Category != "")
		}
		for i := range items {
			e.elemOpt(cItemProvider, i, strValue(items[i].Provider), items[i].Provider != "")
		}
		e.explanations(items)
	}
	stages := im.Stages
	if len(stages) == 0 {
		for c := cStageName; c <= cStageDetail; c++ {
			e.none(c, defNull)
		}
	} else {
		for i := range stages {
			e.elem(cStageName, i, strValue(stages[i].Name))
		}
		for i := range stages {
			e.elem(cStageOffset, i, pq.Int64Value(int64(stages[i].Offset)))
		}
		for i := range stages {
			e.elem(cStageDuration, i, pq.Int64Value(int64(stages[i].Duration)))
		}
		for i := range stages {
			e.elem(cStageStatus, i, strValue(stages[i].Status.String()))
		}
		for i := range stages {
			e.elemOpt(cStageDetail, i, strValue(stages[i].Detail), stages[i].Detail != "")
		}
	}
	e.opt(cDurationNS, pq.Int64Value(int64(im.Duration())), true)
	e.opt(cStatus, strValue(im.Status.String()), true)
	e.str(cErrorType, im.ErrorType)
	e.opt(cDegraded, pq.BooleanValue(true), im.Degraded())
	e.nulls(cItem, nColumns)
}

// partitionOf returns the Hive partition directory of an event time:
// dt=YYYY-MM-DD/hour=HH in UTC.
func partitionOf(t time.Time) string {
	t = t.UTC()
	y, m, d := t.Date()
	return fmt.Sprintf("dt=%04d-%02d-%02d/hour=%02d", y, m, d, t.Hour())
}
