package schema

import (
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// Field ids of the event object and its array elements. Keys match field
// names as encoding/json matches them: exactly, else under Unicode simple
// case folding ("Type", "SERVICE" and "ſervice" name fields too).
const (
	fUnknown = iota
	fSchemaVersion
	fType
	fEventID
	fTime
	fService
	fConsentBasis
	fRequestID
	fTraceID
	fSpanID
	fStartTime
	fSurface
	fChannel
	fUserID
	fUserKeyID
	fSessionID
	fSessionKeyID
	fModel
	fModelVersion
	fFeatureSet
	fExperiments
	fFlags
	fContext
	fItems
	fStages
	fDurationNS
	fStatus
	fErrorType
	fDegraded
	fItem
	fKind
	fName
	fValue
	fCurrency
	fDwellNS
	fScrollDepth
	fExperiment
	fVariant
	fFeatureHash
	fTrainingSnapshot
	fOwner
	// Element fields not named at the top level.
	fKey
	fID
	fPosition
	fScore
	fPropensity
	fCategory
	fProvider
	fOffsetNS
	fDetail
	fExplanation
	fFeature
)

// Shapes of the objects: their keys in the order AppendJSON writes them.
var (
	// The event's members: the impression's order, then the other types'
	// members. Once the type is read, the type's own order is used.
	eventShape = newShape(eventKey, "schema_version", "type", "event_id", "time", "service", "consent_basis",
		"request_id", "trace_id", "span_id", "start_time", "surface", "channel", "user_id", "user_key_id", "session_id",
		"session_key_id", "model", "model_version", "feature_set", "experiments", "flags", "context",
		"items", "stages", "duration_ns", "status", "error_type", "degraded", "item", "kind", "name",
		"value", "currency", "dwell_ns", "scroll_depth", "experiment", "variant",
		"feature_hash", "training_snapshot", "owner")
	outcomeShape = newShape(eventKey, "schema_version", "type", "event_id", "time", "service", "consent_basis",
		"request_id", "trace_id", "span_id", "user_id", "user_key_id", "session_id", "session_key_id", "item", "kind", "name",
		"value", "currency", "dwell_ns", "scroll_depth", "channel", "surface", "start_time", "model",
		"model_version", "feature_set", "experiments", "flags", "context", "items", "stages",
		"duration_ns", "status", "error_type", "degraded", "experiment", "variant",
		"feature_hash", "training_snapshot", "owner")
	exposureShape = newShape(eventKey, "schema_version", "type", "event_id", "time", "service", "consent_basis",
		"user_id", "user_key_id", "experiment", "variant", "surface", "request_id", "start_time",
		"channel", "session_id", "session_key_id", "model", "model_version", "feature_set",
		"experiments", "flags", "context", "items", "stages", "duration_ns", "status", "error_type",
		"degraded", "item", "kind", "name", "value", "currency", "dwell_ns", "scroll_depth",
		"trace_id", "span_id", "feature_hash", "training_snapshot", "owner")
	linkShape = newShape(eventKey, "schema_version", "type", "event_id", "time", "service", "consent_basis",
		"user_id", "user_key_id", "session_id", "session_key_id", "request_id", "start_time", "surface",
		"channel", "model", "model_version", "feature_set", "experiments", "flags", "context", "items",
		"stages", "duration_ns", "status", "error_type", "degraded", "item", "kind", "name", "value",
		"currency", "dwell_ns", "scroll_depth", "experiment", "variant", "trace_id", "span_id",
		"feature_hash", "training_snapshot", "owner")
	// A model record's members, then the rest.
	modelShape = newShape(eventKey, "schema_version", "type", "event_id", "time", "service", "model",
		"model_version", "feature_set", "feature_hash", "training_snapshot", "owner", "consent_basis", "request_id", "trace_id",
		"span_id", "start_time", "surface", "channel", "user_id", "user_key_id", "session_id", "session_key_id",
		"experiments", "flags", "context", "items", "stages", "duration_ns", "status", "error_type", "degraded",
		"item", "kind", "name", "value", "currency", "dwell_ns", "scroll_depth", "experiment", "variant")
	assignShape  = newShape(assignKey, "experiment", "variant")
	flagShape    = newShape(flagKey, "key", "variant")
	itemShape    = newShape(itemKey, "id", "position", "score", "propensity", "category", "provider", "explanation")
	contribShape = newShape(contribKey, "feature", "value")
	stageShape   = newShape(stageKey, "name", "offset_ns", "duration_ns", "status", "detail")
)

var (
	assignShapePtr  = &assignShape
	flagShapePtr    = &flagShape
	itemShapePtr    = &itemShape
	contribShapePtr = &contribShape
	stageShapePtr   = &stageShape
)

// shape is what the decoder knows of an object: how to look a key up, and
// the members as AppendJSON writes them (`"name":`), to recognize most
// keys with one comparison.
type shape struct {
	lookup func(k []byte) int
	lits   []string
	ids    []int
}

func newShape(lookup func([]byte) int, names ...string) shape {
	sh := shape{lookup: lookup}
	for _, n := range names {
		sh.lits = append(sh.lits, `"`+n+`":`)
		sh.ids = append(sh.ids, lookup([]byte(n)))
	}
	return sh
}

// fields decodes the object at the position (its '{'), calling member
// with the field id of each key (fUnknown for others) and the position at
// the value. A key written as AppendJSON writes it (no escapes, the colon
// right after) is recognized by comparing the bytes with the expected
// members, starting after the previous match; any other goes through
// keyString and the shape's lookup.
//
// member may point *shp at another shape of the same members (the event's
// type-specific orders); matching continues from the same index.
func (d *Decoder) fields(shp **shape, member func(id int) error) error {
	empty, err := d.objectStart()
	if err != nil || empty {
		return err
	}
	next := 0
	for {
		sh := *shp
		n := len(sh.lits)
		id := -1
		if d.pos+1 < len(d.data) {
			c := d.data[d.pos+1]
			rest := d.data[d.pos:]
			for j := range n {
				k := next + j
				if k >= n {
					k -= n
				}
				lit := sh.lits[k]
				if lit[1] == c && len(rest) >= len(lit) && string(rest[:len(lit)]) == lit {
					id, next = sh.ids[k], k+1
					d.pos += len(lit)
					d.ws()
					break
				}
			}
		}
		if id < 0 {
			k, err := d.objectKey()
			if err != nil {
				return err
			}
			id = sh.lookup(k)
		}
		if err := member(id); err != nil {
			return err
		}
		end, err := d.objectNext()
		if err != nil || end {
			return err
		}
	}
}

// Field names of each object, for case-insensitive matching.
var (
	eventFieldNames = map[string]int{"schema_version": fSchemaVersion, "type": fType, "event_id": fEventID,
		"time": fTime, "service": fService, "consent_basis": fConsentBasis, "request_id": fRequestID, "trace_id": fTraceID,
		"span_id": fSpanID, "start_time": fStartTime,
		"surface": fSurface, "channel": fChannel, "user_id": fUserID, "user_key_id": fUserKeyID,
		"session_id": fSessionID, "session_key_id": fSessionKeyID, "model": fModel,
		"model_version": fModelVersion, "feature_set": fFeatureSet, "experiments": fExperiments,
		"flags": fFlags, "context": fContext, "items": fItems, "stages": fStages,
		"duration_ns": fDurationNS, "status": fStatus, "error_type": fErrorType, "degraded": fDegraded,
		"item": fItem, "kind": fKind, "name": fName, "value": fValue, "currency": fCurrency,
		"dwell_ns": fDwellNS, "scroll_depth": fScrollDepth, "experiment": fExperiment, "variant": fVariant,
		"feature_hash": fFeatureHash, "training_snapshot": fTrainingSnapshot, "owner": fOwner}
	assignFieldNames = map[string]int{"experiment": fExperiment, "variant": fVariant}
	flagFieldNames   = map[string]int{"key": fKey, "variant": fVariant}
	itemFieldNames   = map[string]int{"id": fID, "position": fPosition, "score": fScore,
		"propensity": fPropensity, "category": fCategory, "provider": fProvider, "explanation": fExplanation}
	contribFieldNames = map[string]int{"feature": fFeature, "value": fValue}
	stageFieldNames   = map[string]int{"name": fName, "offset_ns": fOffsetNS, "duration_ns": fDurationNS,
		"status": fStatus, "detail": fDetail}

	eventFold   = foldTable(eventFieldNames)
	assignFold  = foldTable(assignFieldNames)
	flagFold    = foldTable(flagFieldNames)
	itemFold    = foldTable(itemFieldNames)
	contribFold = foldTable(contribFieldNames)
	stageFold   = foldTable(stageFieldNames)
)

func foldTable(names map[string]int) map[string]int {
	m := make(map[string]int, len(names))
	for n, id := range names {
		m[string(appendFold(nil, []byte(n)))] = id
	}
	return m
}

// appendFold appends k with ASCII letters upper-cased and every other rune
// replaced by the smallest rune of its simple case-folding orbit; two keys
// fold alike exactly when bytes.EqualFold holds.
func appendFold(dst, k []byte) []byte {
	for i := 0; i < len(k); {
		c := k[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(k[i:])
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		dst = utf8.AppendRune(dst, least)
		i += n
	}
	return dst
}

// foldLookup finds a key that matched no field name exactly. Only keys
// with an upper-case or non-ASCII byte can match under folding (the names
// are lower-case ASCII).
func foldLookup(table map[string]int, k []byte) int {
	plain := true
	for _, c := range k {
		if c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			plain = false
			break
		}
	}
	if plain {
		return fUnknown
	}
	var buf [64]byte
	return table[string(appendFold(buf[:0], k))]
}

func eventKey(k []byte) int {
	switch string(k) {
	case "schema_version":
		return fSchemaVersion
	case "type":
		return fType
	case "event_id":
		return fEventID
	case "time":
		return fTime
	case "service":
		return fService
	case "consent_basis":
		return fConsentBasis
	case "request_id":
		return fRequestID
	case "trace_id":
		return fTraceID
	case "span_id":
		return fSpanID
	case "start_time":
		return fStartTime
	case "surface":
		return fSurface
	case "channel":
		return fChannel
	case "user_id":
		return fUserID
	case "user_key_id":
		return fUserKeyID
	case "session_id":
		return fSessionID
	case "session_key_id":
		return fSessionKeyID
	case "model":
		return fModel
	case "model_version":
		return fModelVersion
	case "feature_set":
		return fFeatureSet
	case "experiments":
		return fExperiments
	case "flags":
		return fFlags
	case "context":
		return fContext
	case "items":
		return fItems
	case "stages":
		return fStages
	case "duration_ns":
		return fDurationNS
	case "status":
		return fStatus
	case "error_type":
		return fErrorType
	case "degraded":
		return fDegraded
	case "item":
		return fItem
	case "kind":
		return fKind
	case "name":
		return fName
	case "value":
		return fValue
	case "currency":
		return fCurrency
	case "dwell_ns":
		return fDwellNS
	case "scroll_depth":
		return fScrollDepth
	case "experiment":
		return fExperiment
	case "variant":
		return fVariant
	case "feature_hash":
		return fFeatureHash
	case "training_snapshot":
		return fTrainingSnapshot
	case "owner":
		return fOwner
	}
	return foldLookup(eventFold, k)
}

func itemKey(k []byte) int {
	switch string(k) {
	case "id":
		return fID
	case "position":
		return fPosition
	case "score":
		return fScore
	case "propensity":
		return fPropensity
	case "category":
		return fCategory
	case "provider":
		return fProvider
	case "explanation":
		return fExplanation
	}
	return foldLookup(itemFold, k)
}

func contribKey(k []byte) int {
	switch string(k) {
	case "feature":
		return fFeature
	case "value":
		return fValue
	}
	return foldLookup(contribFold, k)
}

func stageKey(k []byte) int {
	switch string(k) {
	case "name":
		return fName
	case "offset_ns":
		return fOffsetNS
	case "duration_ns":
		return fDurationNS
	case "status":
		return fStatus
	case "detail":
		return fDetail
	}
	return foldLookup(stageFold, k)
}

func assignKey(k []byte) int {
	switch string(k) {
	case "experiment":
		return fExperiment
	case "variant":
		return fVariant
	}
	return foldLookup(assignFold, k)
}

func flagKey(k []byte) int {
	switch string(k) {
	case "key":
		return fKey
	case "variant":
		return fVariant
	}
	return foldLookup(flagFold, k)
}

// event decodes the top-level object into d.w and the element scratch.
func (d *Decoder) event() error {
	w := &d.w
	sh := &eventShape
	return d.fields(&sh, func(id int) error {
		switch id {
		case fSchemaVersion:
			return d.int(&w.version, &w.hasVersion, top("schema_version"))
		case fType:
			err := d.str(&d.tmp, &w.typ, top("type"))
			switch string(d.bytesOf(w.typ)) {
			case "outcome":
				sh = &outcomeShape
			case "exposure":
				sh = &exposureShape
			case "link":
				sh = &linkShape
			case "model":
				sh = &modelShape
			default:
				sh = &eventShape
			}
			return err
		case fEventID:
			return d.str(&d.tmp, &w.eventID, top("event_id"))
		case fTime:
			return d.str(&d.tmp, &w.time, top("time"))
		case fService:
			return d.str(&d.tmp, &w.service, top("service"))
		case fConsentBasis:
			return d.str(&d.tmp, &w.consentBasis, top("consent_basis"))
		case fRequestID:
			return d.str(&d.ids, &w.requestID, top("request_id"))
		case fTraceID:
			return d.str(&d.tmp, &w.traceID, top("trace_id"))
		case fSpanID:
			return d.str(&d.tmp, &w.spanID, top("span_id"))
		case fStartTime:
			return d.str(&d.tmp, &w.startTime, top("start_time"))
		case fSurface:
			return d.str(&d.tmp, &w.surface, top("surface"))
		case fChannel:
			return d.str(&d.tmp, &w.channel, top("channel"))
		case fUserID:
			return d.str(&d.ids, &w.userID, top("user_id"))
		case fUserKeyID:
			return d.str(&d.tmp, &w.userKeyID, top("user_key_id"))
		case fSessionID:
			return d.str(&d.ids, &w.sessionID, top("session_id"))
		case fSessionKeyID:
			return d.str(&d.tmp, &w.sessionKeyID, top("session_key_id"))
		case fModel:
			return d.str(&d.tmp, &w.model, top("model"))
		case fModelVersion:
			return d.str(&d.tmp, &w.modelVersion, top("model_version"))
		case fFeatureSet:
			return d.str(&d.tmp, &w.featureSet, top("feature_set"))
		case fExperiments:
			return d.array(&w.exps, "experiments", func() { d.exps = d.exps[:0] }, d.assignment)
		case fFlags:
			return d.array(&w.flags, "flags", func() { d.flags = d.flags[:0] }, d.flag)
		case fContext:
			return d.context()
		case fItems:
			return d.array(&w.items, "items", func() { d.items = d.items[:0] }, d.item)
		case fStages:
			return d.array(&w.stages, "stages", func() { d.stages = d.stages[:0] }, d.stage)
		case fDurationNS:
			return d.int(&w.durationNS, &w.hasDuration, top("duration_ns"))
		case fStatus:
			return d.str(&d.tmp, &w.status, top("status"))
		case fErrorType:
			return d.str(&d.tmp, &w.errorType, top("error_type"))
		case fDegraded:
			return d.bool(&w.degraded, top("degraded"))
		case fItem:
			return d.str(&d.ids, &w.item, top("item"))
		case fKind:
			return d.str(&d.tmp, &w.kind, top("kind"))
		case fName:
			return d.str(&d.tmp, &w.name, top("name"))
		case fValue:
			return d.float(&w.value, nil, top("value"))
		case fCurrency:
			return d.str(&d.tmp, &w.currency, top("currency"))
		case fDwellNS:
			return d.int(&w.dwellNS, nil, top("dwell_ns"))
		case fScrollDepth:
			return d.float(&w.scrollDepth, nil, top("scroll_depth"))
		case fExperiment:
			return d.str(&d.tmp, &w.experiment, top("experiment"))
		case fVariant:
			return d.str(&d.tmp, &w.variant, top("variant"))
		case fFeatureHash:
			return d.str(&d.tmp, &w.featureHash, top("feature_hash"))
		case fTrainingSnapshot:
			return d.str(&d.tmp, &w.trainingSnapshot, top("training_snapshot"))
		case fOwner:
			return d.str(&d.tmp, &w.owner, top("owner"))
		}
		return d.skipValue()
	})
}

// field names a field for an error, built only when one is reported.
type field struct {
	array string // "" for a top-level field
	i     int
	name  string
}

func (f field) String() string {
	if f.array == "" {
		return f.name
	}
	return f.array + "[" + strconv.Itoa(f.i) + "]." + f.name
}

func top(name string) field { return field{name: name} }

func elemField(array string, i int, name string) field { return field{array, i, name} }

func (d *Decoder) assignment(i int, null bool) error {
	d.exps = append(d.exps, wireAssignSpans{})
	if null {
		return nil
	}
	a := &d.exps[len(d.exps)-1]
	return d.fields(&assignShapePtr, func(id int) error {
		switch id {
		case fExperiment:
			return d.str(&d.tmp, &a.experiment, elemField("experiments", i, "experiment"))
		case fVariant:
			return d.str(&d.tmp, &a.variant, elemField("experiments", i, "variant"))
		}
		return d.skipValue()
	})
}

func (d *Decoder) flag(i int, null bool) error {
	d.flags = append(d.flags, wireFlagSpans{})
	if null {
		return nil
	}
	f := &d.flags[len(d.flags)-1]
	return d.fields(&flagShapePtr, func(id int) error {
		switch id {
		case fKey:
			return d.str(&d.tmp, &f.key, elemField("flags", i, "key"))
		case fVariant:
			return d.str(&d.tmp, &f.variant, elemField("flags", i, "variant"))
		}
		return d.skipValue()
	})
}

func (d *Decoder) item(i int, null bool) error {
	d.items = append(d.items, wireItemSpans{})
	if null {
		return nil
	}
	it := &d.items[len(d.items)-1]
	m := d.mark()
	nc := len(d.contribs)
	if d.fastItem(it) {
		return nil
	}
	d.rewind(m)
	d.contribs = d.contribs[:nc]
	*it = wireItemSpans{exOff: uint32(nc)}
	return d.fields(&itemShapePtr, func(id int) error {
		switch id {
		case fID:
			return d.str(&d.ids, &it.id, elemField("items", i, "id"))
		case fPosition:
			return d.int(&it.position, &it.hasPos, elemField("items", i, "position"))
		case fScore:
			return d.float(&it.score, &it.hasScore, elemField("items", i, "score"))
		case fPropensity:
			return d.float(&it.propensity, nil, elemField("items", i, "propensity"))
		case fCategory:
			return d.str(&d.tmp, &it.category, elemField("items", i, "category"))
		case fProvider:
			return d.str(&d.tmp, &it.provider, elemField("items", i, "provider"))
		case fExplanation:
			return d.array(&it.exState, explanationField(i, -1, ""), func() {
				d.contribs = d.contribs[:it.exOff]
				it.exN = 0
			}, func(j int, null bool) error { return d.contribution(it, i, j, null) })
		}
		return d.skipValue()
	})
}

// contribution decodes element j of item i's explanation.
func (d *Decoder) contribution(it *wireItemSpans, i, j int, null bool) error {
	d.contribs = append(d.contribs, wireContribSpans{})
	it.exN++
	if null {
		return nil
	}
	c := &d.contribs[len(d.contribs)-1]
	return d.fields(&contribShapePtr, func(id int) error {
		switch id {
		case fFeature:
			return d.str(&d.tmp, &c.feature, field{name: explanationField(i, j, "feature")})
		case fValue:
			return d.float(&c.value, &c.hasValue, field{name: explanationField(i, j, "value")})
		}
		return d.skipValue()
	})
}

func (d *Decoder) stage(i int, null bool) error {
	d.stages = append(d.stages, wireStageSpans{})
	if null {
		return nil
	}
	s := &d.stages[len(d.stages)-1]
	m := d.mark()
	if d.fastStage(s) {
		return nil
	}
	d.rewind(m)
	*s = wireStageSpans{}
	return d.fields(&stageShapePtr, func(id int) error {
		switch id {
		case fName:
			return d.str(&d.tmp, &s.name, elemField("stages", i, "name"))
		case fOffsetNS:
			return d.int(&s.offsetNS, nil, elemField("stages", i, "offset_ns"))
		case fDurationNS:
			return d.int(&s.durationNS, nil, elemField("stages", i, "duration_ns"))
		case fStatus:
			return d.str(&d.tmp, &s.status, elemField("stages", i, "status"))
		case fDetail:
			return d.str(&d.tmp, &s.detail, elemField("stages", i, "detail"))
		}
		return d.skipValue()
	})
}

// context decodes the context object. Like the reference, which keeps the
// raw value and checks it only for impressions after the other fields, a
// context that is not an object of strings is not a JSON error: the first
// fault is kept and reported by build.
func (d *Decoder) context() error {
	w := &d.w
	d.attrs = d.attrs[:0]
	w.ctxErrField, w.ctxErrMsg = "", ""
	switch d.peek() {
	case 'n':
		w.ctx = false
		return d.literal("null")
	case '{':
	default:
		w.ctx = true
		w.ctxErrField, w.ctxErrMsg = "context", "must be an object of strings"
		return d.skipValue()
	}
	w.ctx = true
	return d.members(func(k []byte) error {
		if w.ctxErrField != "" {
			return d.skipValue()
		}
		if d.peek() != '"' {
			w.ctxErrField, w.ctxErrMsg = "context."+string(k), "must be a string"
			return d.skipValue()
		}
		off := len(d.tmp)
		d.tmp = append(d.tmp, k...)
		key := span{uint32(off), uint32(len(k))}
		val, err := d.stringInto(&d.tmp)
		if err != nil {
			return err
		}
		d.attrs = append(d.attrs, wireAttrSpans{key: key, value: val})
		return nil
	})
}

// bytesOf returns the bytes of s in the tmp arena.
func (d *Decoder) bytesOf(s span) []byte { return d.tmp[s.off : s.off+s.n] }

// intern returns the string of s (in tmp), shared with earlier equal
// strings while the table holds them.
func (d *Decoder) intern(s span) string {
	if s.n == 0 {
		return ""
	}
	b := d.tmp[s.off : s.off+s.n]
	slot := &d.recent[(uint(len(b))*31+uint(b[0])*7+uint(b[len(b)-1])*13+uint(b[len(b)/2]))&255]
	if *slot == string(b) {
		return *slot
	}
	if v, ok := d.strs[string(b)]; ok {
		*slot = v
		return v
	}
	v := string(b)
	if len(b) <= MaxInternLen {
		if len(d.strs) >= MaxInternStrings {
			clear(d.strs)
			d.recent = [256]string{}
		}
		d.strs[v] = v
		*slot = v
	}
	return v
}

func parseEventTypeBytes(b []byte) (EventType, bool) {
	for i := 1; i < len(eventTypeNames); i++ {
		if eventTypeNames[i] == string(b) {
			return EventType(i), true
		}
	}
	return 0, false
}

func parseOutcomeKindBytes(b []byte) (OutcomeKind, bool) {
	for i := 1; i < len(outcomeKindNames); i++ {
		if outcomeKindNames[i] == string(b) {
			return OutcomeKind(i), true
		}
	}
	return 0, false
}

func parseStatusBytes(b []byte) (StageStatus, bool) {
	switch string(b) {
	case "", "ok":
		return StageOK, true
	case "error":
		return StageError, true
	case "timeout":
		return StageTimeout, true
	case "fallback":
		return StageFallback, true
	}
	return 0, false
}

// uuidHexAt is where each byte's two hex digits start in the canonical
// form of a UUID.
var uuidHexAt = [16]int{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// parseEventIDBytes parses the canonical 36-character form directly and
// anything else with [ParseEventID] (which takes braces, URNs, no dashes).
func parseEventIDBytes(b []byte) (EventID, error) {
	var id EventID
	if len(b) == 36 && b[8] == '-' && b[13] == '-' && b[18] == '-' && b[23] == '-' {
		var bad byte
		for j, i := range uuidHexAt {
			hi, lo := hexValue[b[i]], hexValue[b[i+1]]
			bad |= hi | lo
			id[j] = hi<<4 | lo
		}
		if bad&0xf0 == 0 {
			return id, nil
		}
	}
	return ParseEventID(string(b))
}

// parseTime parses RFC 3339 as time.Parse(time.RFC3339Nano, ...) does. UTC
// times ("...Z", the form AppendJSON writes) are parsed here without
// allocating, by the same rules as the time package's own fast path;
// everything else goes to time.Parse.
func parseTime(b []byte) (time.Time, error) {
	if len(b) >= 20 && b[len(b)-1] == 'Z' && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' && b[16] == ':' {
		ok := true
		num := func(s []byte, lo, hi int) int {
			x := 0
			for _, c := range s {
				if c < '0' || c > '9' {
					ok = false
					return lo
				}
				x = x*10 + int(c-'0')
			}
			if x < lo || x > hi {
				ok = false
				return lo
			}
			return x
		}
		year := num(b[0:4], 0, 9999)
		month := num(b[5:7], 1, 12)
		day := num(b[8:10], 1, daysInMonth(time.Month(month), year))
		hour := num(b[11:13], 0, 23)
		minute := num(b[14:16], 0, 59)
		sec := num(b[17:19], 0, 59)
		rest := b[19 : len(b)-1]
		nsec := 0
		if len(rest) > 0 {
			// A fraction: '.' and at least one digit; digits past the
			// ninth are ignored.
			if len(rest) < 2 || rest[0] != '.' {
				ok = false
			}
			for i := 1; i < len(rest) && ok; i++ {
				c := rest[i]
				if c < '0' || c > '9' {
					ok = false
					break
				}
				if i <= 9 {
					nsec = nsec*10 + int(c-'0')
				}
			}
			for i := len(rest); i <= 9; i++ {
				nsec *= 10
			}
		}
		if ok {
			return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), nil
		}
	}
	return time.Parse(time.RFC3339Nano, string(b))
}

func daysInMonth(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// build checks the decoded fields in the reference decoder's order and
// assembles the event.
func (d *Decoder) build() (Event, error) {
	w := &d.w
	if !w.hasVersion {
		return Event{}, decodeErr("schema_version", "missing")
	}
	if w.version < 1 || w.version > SchemaVersion {
		return Event{}, decodeErr("schema_version", "unsupported version %d (this reader knows 1..%d)", w.version, SchemaVersion)
	}
	typ, ok := parseEventTypeBytes(d.bytesOf(w.typ))
	if !ok {
		return Event{}, decodeErr("type", "unknown event type %q", string(d.bytesOf(w.typ)))
	}
	id, err := parseEventIDBytes(d.bytesOf(w.eventID))
	if err != nil {
		return Event{}, decodeErr("event_id", "%v", err)
	}
	t, err := parseTime(d.bytesOf(w.time))
	if err != nil {
		return Event{}, decodeErr("time", "%v", err)
	}
	var e Event
	e.Type = typ
	switch typ {
	case EventImpression:
		im, err := d.impression(id, t)
		if err != nil {
			return Event{}, err
		}
		e.Impression = im
	case EventOutcome:
		tid, sid, err := parseTraceContext(d.bytesOf(w.traceID), d.bytesOf(w.spanID))
		if err != nil {
			return Event{}, err
		}
		kind, ok := parseOutcomeKindBytes(d.bytesOf(w.kind))
		if !ok {
			return Event{}, decodeErr("kind", "unknown outcome kind %q", string(d.bytesOf(w.kind)))
		}
		ids := d.idBlock()
		e.Outcome = &Outcome{EventID: id, RequestID: ids.of(w.requestID), TraceID: tid, SpanID: sid, Time: t, Service: d.intern(w.service),
			UserID:    Pseudonym{ID: ids.of(w.userID), KeyID: d.intern(w.userKeyID)},
			SessionID: Pseudonym{ID: ids.of(w.sessionID), KeyID: d.intern(w.sessionKeyID)},
			Item:      ids.of(w.item), Kind: kind, Name: d.intern(w.name), Value: w.value,
			Currency: d.intern(w.currency), Dwell: time.Duration(w.dwellNS), ScrollDepth: w.scrollDepth,
			Channel: d.intern(w.channel), Surface: d.intern(w.surface)}
	case EventExposure:
		ids := d.idBlock()
		e.Exposure = &Exposure{EventID: id, Time: t, Service: d.intern(w.service),
			UserID:     Pseudonym{ID: ids.of(w.userID), KeyID: d.intern(w.userKeyID)},
			Experiment: d.intern(w.experiment), Variant: d.intern(w.variant), Surface: d.intern(w.surface)}
	case EventLink:
		ids := d.idBlock()
		e.Link = &Link{EventID: id, Time: t, Service: d.intern(w.service),
			UserID:    Pseudonym{ID: ids.of(w.userID), KeyID: d.intern(w.userKeyID)},
			SessionID: Pseudonym{ID: ids.of(w.sessionID), KeyID: d.intern(w.sessionKeyID)}}
	case EventModel:
		e.Model = &ModelMetadata{EventID: id, Time: t, Service: d.intern(w.service), Model: d.intern(w.model),
			Version: d.intern(w.modelVersion), FeatureSet: d.intern(w.featureSet), FeatureHash: d.intern(w.featureHash),
			TrainingSnapshot: d.intern(w.trainingSnapshot), Owner: d.intern(w.owner)}
	}
	e.setConsentBasis(d.intern(w.consentBasis))
	if err := e.Validate(); err != nil {
		if ve, ok := err.(*ValidationError); ok {
			return Event{}, &DecodeError{Field: ve.Field, Err: err}
		}
		return Event{}, err
	}
	return e, nil
}

// idBlock is one string holding every identifier of an event.
type idBlock string

func (d *Decoder) idBlock() idBlock { return idBlock(d.ids) }

func (b idBlock) of(s span) string { return string(b[s.off : s.off+s.n]) }

func (d *Decoder) impression(id EventID, end time.Time) (*Impression, error) {
	w := &d.w
	tid, sid, err := parseTraceContext(d.bytesOf(w.traceID), d.bytesOf(w.spanID))
	if err != nil {
		return nil, err
	}
	if w.startTime.n == 0 {
		return nil, decodeErr("start_time", "missing")
	}
	start, err := parseTime(d.bytesOf(w.startTime))
	if err != nil {
		return nil, decodeErr("start_time", "%v", err)
	}
	status, ok := parseStatusBytes(d.bytesOf(w.status))
	if !ok {
		return nil, decodeErr("status", "unknown status %q", string(d.bytesOf(w.status)))
	}
	if w.ctxErrField != "" {
		return nil, decodeErr(w.ctxErrField, "%s", w.ctxErrMsg)
	}
	for i := range d.items {
		if !d.items[i].hasPos {
			return nil, decodeErr(itemField(i, "position"), "missing")
		}
		if !d.items[i].hasScore {
			return nil, decodeErr(itemField(i, "score"), "missing")
		}
		it := &d.items[i]
		for j, c := range d.contribs[it.exOff : it.exOff+it.exN] {
			if !c.hasValue {
				return nil, decodeErr(explanationField(i, j, "value"), "missing")
			}
		}
	}
	for i := range d.stages {
		if _, ok := parseStatusBytes(d.bytesOf(d.stages[i].status)); !ok {
			return nil, decodeErr("stages["+strconv.Itoa(i)+"].status", "unknown status %q", string(d.bytesOf(d.stages[i].status)))
		}
	}
	if w.hasDuration && time.Duration(w.durationNS) != end.Sub(start) {
		return nil, decodeErr("duration_ns", "%d disagrees with time - start_time (%d)", w.durationNS, end.Sub(start))
	}
	ids := d.idBlock()
	im := &Impression{EventID: id, RequestID: ids.of(w.requestID), TraceID: tid, SpanID: sid, Start: start, End: end,
		Service: d.intern(w.service), Surface: d.intern(w.surface), Channel: d.intern(w.channel),
		UserID:    Pseudonym{ID: ids.of(w.userID), KeyID: d.intern(w.userKeyID)},
		SessionID: Pseudonym{ID: ids.of(w.sessionID), KeyID: d.intern(w.sessionKeyID)},
		Model:     d.intern(w.model), ModelVersion: d.intern(w.modelVersion),
		FeatureSet: d.intern(w.featureSet), Status: status, ErrorType: d.intern(w.errorType)}
	if len(d.exps) > 0 {
		im.Experiments = make([]Assignment, len(d.exps))
		for i, a := range d.exps {
			im.Experiments[i] = Assignment{Experiment: d.intern(a.experiment), Variant: d.intern(a.variant)}
		}
	}
	if len(d.flags) > 0 {
		im.Flags = make([]Flag, len(d.flags))
		for i, f := range d.flags {
			im.Flags[i] = Flag{Key: d.intern(f.key), Variant: d.intern(f.variant)}
		}
	}
	if w.ctx && len(d.attrs) > 0 {
		im.Context = make([]Attr, len(d.attrs))
		for i, a := range d.attrs {
			im.Context[i] = Attr{Key: d.intern(a.key), Value: d.intern(a.value)}
		}
	}
	im.Items = make([]Item, len(d.items))
	var ex []Contribution
	if len(d.contribs) > 0 {
		ex = make([]Contribution, len(d.contribs))
		for k := range d.contribs {
			ex[k] = Contribution{Feature: d.intern(d.contribs[k].feature), Value: d.contribs[k].value}
		}
	}
	for i := range d.items {
		it := &d.items[i]
		im.Items[i] = Item{ID: ids.of(it.id), Position: int(it.position), Score: it.score,
			Propensity: it.propensity, Category: d.intern(it.category), Provider: d.intern(it.provider)}
		if it.exN > 0 {
			im.Items[i].Explanation = ex[it.exOff : it.exOff+it.exN : it.exOff+it.exN]
		}
	}
	if len(d.stages) > 0 {
		im.Stages = make([]StageTiming, len(d.stages))
		for i := range d.stages {
			s := &d.stages[i]
			st, _ := parseStatusBytes(d.bytesOf(s.status))
			im.Stages[i] = StageTiming{Name: d.intern(s.name), Offset: time.Duration(s.offsetNS),
				Duration: time.Duration(s.durationNS), Status: st, Detail: d.intern(s.detail)}
		}
	}
	return im, nil
}
