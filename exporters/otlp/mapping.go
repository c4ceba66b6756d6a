package otlp

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/schema"
)

// Event names of the log records (the LogRecord.event_name field).
const (
	EventNameImpression = "rankscope.impression"
	EventNameOutcome    = "rankscope.outcome"
	EventNameExposure   = "rankscope.exposure"
	EventNameLink       = "rankscope.link"
	EventNameModel      = "rankscope.model"
)

// Attribute keys. Semantic-convention names are used where one fits;
// everything else lives under rankscope.*. docs/SCHEMA.md ("OTLP mapping")
// lists them with their types.
const (
	KeyEventID       = "log.record.uid" // semconv: unique id of the record; the event id
	KeySchemaVersion = "rankscope.schema_version"
	KeyService       = "rankscope.service"
	KeyConsentBasis  = "rankscope.consent_basis"
	KeyUserID        = "enduser.pseudo.id" // semconv: pseudonymous user id
	KeyUserKeyID     = "rankscope.user.key_id"
	KeySessionID     = "session.id" // semconv
	KeySessionKeyID  = "rankscope.session.key_id"
	KeyErrorType     = "error.type"                  // semconv
	KeyFlagKey       = "feature_flag.key"            // semconv; exposures
	KeyFlagVariant   = "feature_flag.result.variant" // semconv; exposures

	KeyRequestID    = "rankscope.request_id"
	KeySurface      = "rankscope.surface"
	KeyChannel      = "rankscope.channel"
	KeyModel        = "rankscope.model"
	KeyModelVersion = "rankscope.model.version"
	KeyFeatureSet   = "rankscope.feature_set"
	KeyDurationNS   = "rankscope.duration_ns"
	KeyStatus       = "rankscope.status"
	KeyDegraded     = "rankscope.degraded"
	// KeyContextPrefix prefixes each exported context attribute:
	// rankscope.context.device, rankscope.context.region ...
	KeyContextPrefix = "rankscope.context."

	// Parallel arrays: element i of each describes the same entry.
	KeyExperimentNames    = "rankscope.experiments.name"
	KeyExperimentVariants = "rankscope.experiments.variant"
	KeyFlagKeys           = "rankscope.flags.key"
	KeyFlagVariants       = "rankscope.flags.variant"
	KeyItemIDs            = "rankscope.items.id"
	KeyItemPositions      = "rankscope.items.position"
	KeyItemScores         = "rankscope.items.score"
	KeyItemPropensities   = "rankscope.items.propensity"
	KeyItemCategories     = "rankscope.items.category"
	KeyItemProviders      = "rankscope.items.provider"
	KeyStageNames         = "rankscope.stages.name"
	KeyStageOffsetsNS     = "rankscope.stages.offset_ns"
	KeyStageDurationsNS   = "rankscope.stages.duration_ns"
	KeyStageStatuses      = "rankscope.stages.status"
	KeyStageDetails       = "rankscope.stages.detail"

	KeyItem               = "rankscope.item"
	KeyOutcomeKind        = "rankscope.outcome.kind"
	KeyOutcomeName        = "rankscope.outcome.name"
	KeyOutcomeValue       = "rankscope.outcome.value"
	KeyOutcomeCurrency    = "rankscope.outcome.currency"
	KeyOutcomeDwellNS     = "rankscope.outcome.dwell_ns"
	KeyOutcomeScrollDepth = "rankscope.outcome.scroll_depth"
)

// A model lineage record's own attributes (besides rankscope.model,
// rankscope.model.version and rankscope.feature_set).
const (
	KeyFeatureHash      = "rankscope.feature_hash"
	KeyTrainingSnapshot = "rankscope.training_snapshot"
	KeyModelOwner       = "rankscope.model.owner"
)

// EventName returns the log record event name of t, or "".
func EventName(t personalize.EventType) string {
	switch t {
	case personalize.EventImpression:
		return EventNameImpression
	case personalize.EventOutcome:
		return EventNameOutcome
	case personalize.EventExposure:
		return EventNameExposure
	case personalize.EventLink:
		return EventNameLink
	case personalize.EventModel:
		return EventNameModel
	}
	return ""
}

// attrSink receives the attributes of one event, in mapping order. Two
// sinks exist: kvSink builds attribute.KeyValues (AppendAttributes, which
// the SDK oracle of internal/collectortest sends), wireSink appends OTLP
// KeyValue messages straight to a request buffer (the exporter). The
// mapping below decides which attributes exist; sinks only write them, so
// both carry the same attributes by construction. Array attributes are columns of an
// impression, read with col.at so no closure is allocated per array.
type attrSink interface {
	str(k, v string)
	id(k string, id personalize.EventID) // canonical UUID text
	ctxStr(key, v string)                // KeyContextPrefix + key
	i64(k string, v int64)
	f64(k string, v float64)
	boolean(k string, v bool)
	strs(k string, im *personalize.Impression, c strCol)
	i64s(k string, im *personalize.Impression, c intCol)
	f64s(k string, im *personalize.Impression, c fltCol)
	explanation(im *personalize.Impression) // the KeyItemExplanation* arrays
}

// strCol, intCol and fltCol name the array attributes of an impression.
type (
	strCol uint8
	intCol uint8
	fltCol uint8
)

const (
	colExperimentName strCol = iota
	colExperimentVariant
	colFlagKey
	colFlagVariant
	colItemID
	colItemCategory
	colItemProvider
	colStageName
	colStageStatus
	colStageDetail
)

const (
	colItemPosition intCol = iota
	colStageOffset
	colStageDuration
)

const (
	colItemScore fltCol = iota
	colItemPropensity
)

func (c strCol) len(im *personalize.Impression) int {
	switch c {
	case colExperimentName, colExperimentVariant:
		return len(im.Experiments)
	case colFlagKey, colFlagVariant:
		return len(im.Flags)
	case colItemID, colItemCategory, colItemProvider:
		return len(im.Items)
	}
	return len(im.Stages)
}

func (c strCol) at(im *personalize.Impression, i int) string {
	switch c {
	case colExperimentName:
		return im.Experiments[i].Experiment
	case colExperimentVariant:
		return im.Experiments[i].Variant
	case colFlagKey:
		return im.Flags[i].Key
	case colFlagVariant:
		return im.Flags[i].Variant
	case colItemID:
		return im.Items[i].ID
	case colItemCategory:
		return im.Items[i].Category
	case colItemProvider:
		return im.Items[i].Provider
	case colStageName:
		return im.Stages[i].Name
	case colStageStatus:
		return im.Stages[i].Status.String()
	}
	return im.Stages[i].Detail
}

// anySet reports whether any element of c is non-empty.
func (c strCol) anySet(im *personalize.Impression) bool {
	for i := range c.len(im) {
		if c.at(im, i) != "" {
			return true
		}
	}
	return false
}

func (c intCol) len(im *personalize.Impression) int {
	if c == colItemPosition {
		return len(im.Items)
	}
	return len(im.Stages)
}

func (c intCol) at(im *personalize.Impression, i int) int64 {
	switch c {
	case colItemPosition:
		return int64(im.Items[i].Position)
	case colStageOffset:
		return int64(im.Stages[i].Offset)
	}
	return int64(im.Stages[i].Duration)
}

func (c fltCol) len(im *personalize.Impression) int { return len(im.Items) }

func (c fltCol) at(im *personalize.Impression, i int) float64 {
	if c == colItemScore {
		return im.Items[i].Score
	}
	return im.Items[i].Propensity
}

// errNoPayload is returned by mapEvent for an event without a payload;
// nothing has been written to the sink then.
var errNoPayload = errors.New("otlp: event has no payload")

// mapEvent writes the attributes of e to s: the mapping of docs/SCHEMA.md
// ("OTLP mapping"). Optional attributes are omitted when empty or zero.
func mapEvent(s attrSink, e personalize.Event) error {
	str := func(k, v string) {
		if v != "" {
			s.str(k, v)
		}
	}
	pseudonym := func(idKey, keyKey string, p personalize.Pseudonym) {
		str(idKey, p.ID)
		str(keyKey, p.KeyID)
	}
	header := func(service string) {
		s.id(KeyEventID, e.ID())
		s.i64(KeySchemaVersion, personalize.SchemaVersion)
		str(KeyService, service)
		str(KeyConsentBasis, e.ConsentBasis())
	}
	switch {
	case e.Impression != nil:
		im := e.Impression
		header(im.Service)
		str(KeyRequestID, im.RequestID)
		s.i64(KeyDurationNS, int64(im.Duration()))
		str(KeySurface, im.Surface)
		str(KeyChannel, im.Channel)
		pseudonym(KeyUserID, KeyUserKeyID, im.UserID)
		pseudonym(KeySessionID, KeySessionKeyID, im.SessionID)
		str(KeyModel, im.Model)
		str(KeyModelVersion, im.ModelVersion)
		str(KeyFeatureSet, im.FeatureSet)
		if len(im.Experiments) > 0 {
			s.strs(KeyExperimentNames, im, colExperimentName)
			s.strs(KeyExperimentVariants, im, colExperimentVariant)
		}
		if len(im.Flags) > 0 {
			s.strs(KeyFlagKeys, im, colFlagKey)
			s.strs(KeyFlagVariants, im, colFlagVariant)
		}
		for i, a := range im.Context {
			if firstKey(im.Context, i) { // keys must be unique in a record; the first wins
				s.ctxStr(a.Key, a.Value)
			}
		}
		s.strs(KeyItemIDs, im, colItemID)
		s.i64s(KeyItemPositions, im, colItemPosition)
		s.f64s(KeyItemScores, im, colItemScore)
		for i := range im.Items {
			if im.Items[i].Propensity != 0 {
				s.f64s(KeyItemPropensities, im, colItemPropensity)
				break
			}
		}
		if colItemCategory.anySet(im) {
			s.strs(KeyItemCategories, im, colItemCategory)
		}
		if colItemProvider.anySet(im) {
			s.strs(KeyItemProviders, im, colItemProvider)
		}
		if explained(im) {
			s.explanation(im)
		}
		if len(im.Stages) > 0 {
			s.strs(KeyStageNames, im, colStageName)
			s.i64s(KeyStageOffsetsNS, im, colStageOffset)
			s.i64s(KeyStageDurationsNS, im, colStageDuration)
			s.strs(KeyStageStatuses, im, colStageStatus)
			if colStageDetail.anySet(im) {
				s.strs(KeyStageDetails, im, colStageDetail)
			}
		}
		s.str(KeyStatus, im.Status.String())
		str(KeyErrorType, im.ErrorType)
		s.boolean(KeyDegraded, im.Degraded())
	case e.Outcome != nil:
		o := e.Outcome
		header(o.Service)
		str(KeyRequestID, o.RequestID)
		pseudonym(KeyUserID, KeyUserKeyID, o.UserID)
		pseudonym(KeySessionID, KeySessionKeyID, o.SessionID)
		str(KeyItem, o.Item)
		s.str(KeyOutcomeKind, o.Kind.String())
		str(KeyOutcomeName, o.Name)
		if o.Value != 0 {
			s.f64(KeyOutcomeValue, o.Value)
		}
		str(KeyOutcomeCurrency, o.Currency)
		if o.Dwell != 0 {
			s.i64(KeyOutcomeDwellNS, int64(o.Dwell))
		}
		if o.ScrollDepth != 0 {
			s.f64(KeyOutcomeScrollDepth, o.ScrollDepth)
		}
		str(KeyChannel, o.Channel)
		str(KeySurface, o.Surface)
	case e.Exposure != nil:
		x := e.Exposure
		header(x.Service)
		pseudonym(KeyUserID, KeyUserKeyID, x.UserID)
		str(KeyFlagKey, x.Experiment)
		str(KeyFlagVariant, x.Variant)
		str(KeySurface, x.Surface)
	case e.Link != nil:
		l := e.Link
		header(l.Service)
		pseudonym(KeyUserID, KeyUserKeyID, l.UserID)
		pseudonym(KeySessionID, KeySessionKeyID, l.SessionID)
	case e.Model != nil:
		m := e.Model
		header(m.Service)
		str(KeyModel, m.Model)
		str(KeyModelVersion, m.Version)
		str(KeyFeatureSet, m.FeatureSet)
		str(KeyFeatureHash, m.FeatureHash)
		str(KeyTrainingSnapshot, m.TrainingSnapshot)
		str(KeyModelOwner, m.Owner)
	default:
		return errNoPayload
	}
	return nil
}

// encoder builds the attribute.KeyValues of events (AppendAttributes),
// reusing its scratch slices. Not safe for concurrent use.
type encoder struct {
	strsBuf []string
	intsBuf []int64
	fltsBuf []float64
	attrs   []attribute.KeyValue
}

var _ attrSink = (*encoder)(nil)

// AppendAttributes appends the attributes of e's record to kvs. The record's
// timestamp is e.Time() and its event name EventName(e.Type).
func AppendAttributes(kvs []attribute.KeyValue, e personalize.Event) ([]attribute.KeyValue, error) {
	var enc encoder
	enc.attrs = kvs
	if err := enc.encode(e); err != nil {
		return kvs, err
	}
	return enc.attrs, nil
}

func (enc *encoder) encode(e personalize.Event) error { return mapEvent(enc, e) }

func (enc *encoder) str(k, v string) { enc.attrs = append(enc.attrs, attribute.String(k, v)) }

func (enc *encoder) id(k string, id personalize.EventID) {
	var b [36]byte
	s, _ := id.AppendText(b[:0])
	enc.attrs = append(enc.attrs, attribute.String(k, string(s)))
}

func (enc *encoder) ctxStr(key, v string) {
	enc.attrs = append(enc.attrs, attribute.String(KeyContextPrefix+key, v))
}

func (enc *encoder) i64(k string, v int64) { enc.attrs = append(enc.attrs, attribute.Int64(k, v)) }

func (enc *encoder) f64(k string, v float64) { enc.attrs = append(enc.attrs, attribute.Float64(k, v)) }

func (enc *encoder) boolean(k string, v bool) { enc.attrs = append(enc.attrs, attribute.Bool(k, v)) }

// strs, i64s and f64s fill a scratch slice; the attribute copies it.
func (enc *encoder) strs(k string, im *personalize.Impression, c strCol) {
	enc.strsBuf = enc.strsBuf[:0]
	for i := range c.len(im) {
		enc.strsBuf = append(enc.strsBuf, c.at(im, i))
	}
	enc.attrs = append(enc.attrs, attribute.StringSlice(k, enc.strsBuf))
}

func (enc *encoder) i64s(k string, im *personalize.Impression, c intCol) {
	enc.intsBuf = enc.intsBuf[:0]
	for i := range c.len(im) {
		enc.intsBuf = append(enc.intsBuf, c.at(im, i))
	}
	enc.attrs = append(enc.attrs, attribute.Int64Slice(k, enc.intsBuf))
}

func (enc *encoder) f64s(k string, im *personalize.Impression, c fltCol) {
	enc.fltsBuf = enc.fltsBuf[:0]
	for i := range c.len(im) {
		enc.fltsBuf = append(enc.fltsBuf, c.at(im, i))
	}
	enc.attrs = append(enc.attrs, attribute.Float64Slice(k, enc.fltsBuf))
}

// firstKey reports whether ctx[i] is the first attribute with its key.
func firstKey(ctx []personalize.Attr, i int) bool {
	for j := range i {
		if ctx[j].Key == ctx[i].Key {
			return false
		}
	}
	return true
}

// DecodeError names the attribute that made [Decode] fail.
type DecodeError struct {
	Key string
	Err error
}

func (e *DecodeError) Error() string { return "otlp: decode " + e.Key + ": " + e.Err.Error() }

func (e *DecodeError) Unwrap() error { return e.Err }

func decErr(key, format string, args ...any) error {
	return &DecodeError{Key: key, Err: fmt.Errorf(format, args...)}
}

// traceContext returns the trace context an event carries: impressions'
// and outcomes' TraceID and SpanID, written to the log record's trace_id
// and span_id fields.
func traceContext(e personalize.Event) (schema.TraceID, schema.SpanID) {
	switch {
	case e.Impression != nil:
		return e.Impression.TraceID, e.Impression.SpanID
	case e.Outcome != nil:
		return e.Outcome.TraceID, e.Outcome.SpanID
	}
	return schema.TraceID{}, schema.SpanID{}
}

// Record is what [DecodeRecord] reads of an OTLP log record.
type Record struct {
	EventName  string
	Time       time.Time
	TraceID    schema.TraceID // the record's trace_id; zero when empty
	SpanID     schema.SpanID  // the record's span_id; zero when empty
	Attributes []attribute.KeyValue
}

// DecodeRecord is [Decode] with the record's trace context: an
// impression's or outcome's TraceID and SpanID come from the record's
// trace_id and span_id fields.
func DecodeRecord(r Record) (personalize.Event, error) {
	e, err := Decode(r.EventName, r.Time, r.Attributes)
	if err != nil {
		return e, err
	}
	switch {
	case e.Impression != nil:
		e.Impression.TraceID, e.Impression.SpanID = r.TraceID, r.SpanID
	case e.Outcome != nil:
		e.Outcome.TraceID, e.Outcome.SpanID = r.TraceID, r.SpanID
	}
	return e, nil
}

// Decode rebuilds an event from a log record's event name, timestamp and
// attributes, the inverse of the exporter's mapping, and validates it. It
// is meant for receivers and tests; unknown attributes are ignored, and so
// is the record's trace context (see [DecodeRecord]).
func Decode(eventName string, ts time.Time, attrs []attribute.KeyValue) (personalize.Event, error) {
	var d decoder
	d.m = make(map[attribute.Key]attribute.Value, len(attrs))
	for _, kv := range attrs {
		d.m[kv.Key] = kv.Value
		if k, ok := strings.CutPrefix(string(kv.Key), KeyContextPrefix); ok {
			if kv.Value.Type() != attribute.STRING {
				return personalize.Event{}, decErr(string(kv.Key), "want string, got %s", kv.Value.Type())
			}
			d.context = append(d.context, personalize.Attr{Key: k, Value: kv.Value.AsString()})
		}
	}
	e, err := d.event(eventName, ts)
	if err != nil {
		return personalize.Event{}, err
	}
	if err := e.Validate(); err != nil {
		return personalize.Event{}, err
	}
	return e, nil
}

type decoder struct {
	m       map[attribute.Key]attribute.Value
	context []personalize.Attr
	err     error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) str(k string) string {
	v, ok := d.m[attribute.Key(k)]
	if !ok {
		return ""
	}
	if v.Type() != attribute.STRING {
		d.fail(decErr(k, "want string, got %s", v.Type()))
		return ""
	}
	return v.AsString()
}

func (d *decoder) i64(k string) (int64, bool) {
	v, ok := d.m[attribute.Key(k)]
	if !ok {
		return 0, false
	}
	if v.Type() != attribute.INT64 {
		d.fail(decErr(k, "want int, got %s", v.Type()))
		return 0, false
	}
	return v.AsInt64(), true
}

func (d *decoder) f64(k string) float64 {
	v, ok := d.m[attribute.Key(k)]
	if !ok {
		return 0
	}
	if v.Type() != attribute.FLOAT64 {
		d.fail(decErr(k, "want double, got %s", v.Type()))
		return 0
	}
	return v.AsFloat64()
}

// strs returns a string array of length n, or of any length when n < 0
// (absent: n empty strings when optional, else an error).
func (d *decoder) strs(k string, n int, optional bool) []string {
	empty := make([]string, max(n, 0))
	v, ok := d.m[attribute.Key(k)]
	if !ok {
		if !optional && n != 0 {
			d.fail(decErr(k, "missing"))
		}
		return empty
	}
	if v.Type() != attribute.STRINGSLICE {
		d.fail(decErr(k, "want string array, got %s", v.Type()))
		return empty
	}
	s := v.AsStringSlice()
	if n >= 0 && len(s) != n {
		d.fail(decErr(k, "has %d elements, want %d", len(s), n))
		return empty
	}
	return s
}

func (d *decoder) ints(k string, n int) []int64 {
	v, ok := d.m[attribute.Key(k)]
	if !ok || v.Type() != attribute.INT64SLICE || len(v.AsInt64Slice()) != n {
		d.fail(decErr(k, "want an int array of %d elements", n))
		return make([]int64, n)
	}
	return v.AsInt64Slice()
}

func (d *decoder) floats(k string, n int, optional bool) []float64 {
	v, ok := d.m[attribute.Key(k)]
	if !ok && optional {
		return make([]float64, n)
	}
	if !ok || v.Type() != attribute.FLOAT64SLICE || len(v.AsFloat64Slice()) != n {
		d.fail(decErr(k, "want a double array of %d elements", n))
		return make([]float64, n)
	}
	return v.AsFloat64Slice()
}

func (d *decoder) pseudonym(idKey, keyKey string) personalize.Pseudonym {
	return personalize.Pseudonym{ID: d.str(idKey), KeyID: d.str(keyKey)}
}

func (d *decoder) event(name string, ts time.Time) (personalize.Event, error) {
	var e personalize.Event
	idS := d.str(KeyEventID)
	id, err := personalize.ParseEventID(idS)
	if err != nil {
		return e, decErr(KeyEventID, "%v", err)
	}
	if v, ok := d.i64(KeySchemaVersion); !ok || v < 1 || v > personalize.SchemaVersion {
		return e, decErr(KeySchemaVersion, "unsupported or missing (this reader knows 1..%d)", personalize.SchemaVersion)
	}
	service := d.str(KeyService)
	switch name {
	case EventNameImpression:
		e.Type = personalize.EventImpression
		e.Impression = d.impression(id, ts, service)
	case EventNameOutcome:
		e.Type = personalize.EventOutcome
		kindS := d.str(KeyOutcomeKind)
		kind, ok := personalize.ParseOutcomeKind(kindS)
		if !ok {
			return e, decErr(KeyOutcomeKind, "unknown outcome kind %q", kindS)
		}
		dwell, _ := d.i64(KeyOutcomeDwellNS)
		e.Outcome = &personalize.Outcome{EventID: id, Time: ts, Service: service,
			RequestID: d.str(KeyRequestID), UserID: d.pseudonym(KeyUserID, KeyUserKeyID),
			SessionID: d.pseudonym(KeySessionID, KeySessionKeyID), Item: d.str(KeyItem), Kind: kind,
			Name: d.str(KeyOutcomeName), Value: d.f64(KeyOutcomeValue), Currency: d.str(KeyOutcomeCurrency),
			Dwell: time.Duration(dwell), ScrollDepth: d.f64(KeyOutcomeScrollDepth),
			Channel: d.str(KeyChannel), Surface: d.str(KeySurface)}
	case EventNameExposure:
		e.Type = personalize.EventExposure
		e.Exposure = &personalize.Exposure{EventID: id, Time: ts, Service: service,
			UserID: d.pseudonym(KeyUserID, KeyUserKeyID), Experiment: d.str(KeyFlagKey),
			Variant: d.str(KeyFlagVariant), Surface: d.str(KeySurface)}
	case EventNameLink:
		e.Type = personalize.EventLink
		e.Link = &personalize.Link{EventID: id, Time: ts, Service: service,
			UserID: d.pseudonym(KeyUserID, KeyUserKeyID), SessionID: d.pseudonym(KeySessionID, KeySessionKeyID)}
	case EventNameModel:
		e.Type = personalize.EventModel
		e.Model = &personalize.ModelMetadata{EventID: id, Time: ts, Service: service, Model: d.str(KeyModel),
			Version: d.str(KeyModelVersion), FeatureSet: d.str(KeyFeatureSet), FeatureHash: d.str(KeyFeatureHash),
			TrainingSnapshot: d.str(KeyTrainingSnapshot), Owner: d.str(KeyModelOwner)}
	default:
		return e, decErr("event_name", "unknown event name %q", name)
	}
	e.SetConsentBasis(d.str(KeyConsentBasis))
	if d.err != nil {
		return personalize.Event{}, d.err
	}
	return e, nil
}

func (d *decoder) impression(id personalize.EventID, ts time.Time, service string) *personalize.Impression {
	dur, ok := d.i64(KeyDurationNS)
	if !ok {
		d.fail(decErr(KeyDurationNS, "missing"))
	}
	im := &personalize.Impression{EventID: id, RequestID: d.str(KeyRequestID), End: ts,
		Start: ts.Add(-time.Duration(dur)), Service: service, Surface: d.str(KeySurface),
		Channel: d.str(KeyChannel), UserID: d.pseudonym(KeyUserID, KeyUserKeyID),
		SessionID: d.pseudonym(KeySessionID, KeySessionKeyID), Model: d.str(KeyModel),
		ModelVersion: d.str(KeyModelVersion), FeatureSet: d.str(KeyFeatureSet),
		Context: d.context, ErrorType: d.str(KeyErrorType)}
	if v, ok := d.m[KeyExperimentNames]; ok {
		names := d.strs(KeyExperimentNames, len(v.AsStringSlice()), false)
		variants := d.strs(KeyExperimentVariants, len(names), false)
		for i := range names {
			im.Experiments = append(im.Experiments, personalize.Assignment{Experiment: names[i], Variant: variants[i]})
		}
	}
	if v, ok := d.m[KeyFlagKeys]; ok {
		keys := d.strs(KeyFlagKeys, len(v.AsStringSlice()), false)
		variants := d.strs(KeyFlagVariants, len(keys), false)
		for i := range keys {
			im.Flags = append(im.Flags, personalize.Flag{Key: keys[i], Variant: variants[i]})
		}
	}
	ids := d.strs(KeyItemIDs, -1, false)
	n := len(ids)
	pos := d.ints(KeyItemPositions, n)
	scores := d.floats(KeyItemScores, n, false)
	props := d.floats(KeyItemPropensities, n, true)
	cats := d.strs(KeyItemCategories, n, true)
	provs := d.strs(KeyItemProviders, n, true)
	im.Items = make([]personalize.Item, n)
	for i := range n {
		im.Items[i] = personalize.Item{ID: ids[i], Position: int(pos[i]), Score: scores[i],
			Propensity: props[i], Category: cats[i], Provider: provs[i]}
	}
	d.explanations(im.Items)
	if v, ok := d.m[KeyStageNames]; ok {
		names := d.strs(KeyStageNames, len(v.AsStringSlice()), false)
		m := len(names)
		offs := d.ints(KeyStageOffsetsNS, m)
		durs := d.ints(KeyStageDurationsNS, m)
		sts := d.strs(KeyStageStatuses, m, false)
		details := d.strs(KeyStageDetails, m, true)
		for i := range m {
			st, ok := personalize.ParseStatusOrOK(sts[i])
			if !ok {
				d.fail(decErr(KeyStageStatuses, "unknown status %q", sts[i]))
			}
			im.Stages = append(im.Stages, personalize.StageTiming{Name: names[i], Offset: time.Duration(offs[i]),
				Duration: time.Duration(durs[i]), Status: st, Detail: details[i]})
		}
	}
	stS := d.str(KeyStatus)
	st, ok := personalize.ParseStatusOrOK(stS)
	if !ok {
		d.fail(decErr(KeyStatus, "unknown status %q", stS))
	}
	im.Status = st
	return im
}
