package otlp

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/rankscope/rankscope/personalize"
)

// Event names of the log records (the LogRecord.event_name field).
const (
	EventNameImpression = "rankscope.impression"
	EventNameOutcome    = "rankscope.outcome"
	EventNameExposure   = "rankscope.exposure"
	EventNameLink       = "rankscope.link"
)

// Attribute keys. Semantic-convention names are used where one fits;
// everything else lives under rankscope.*. docs/SCHEMA.md ("OTLP mapping")
// lists them with their types.
const (
	KeyEventID       = "log.record.uid" // semconv: unique id of the record; the event id
	KeySchemaVersion = "rankscope.schema_version"
	KeyService       = "rankscope.service"
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
	}
	return ""
}

// encoder appends the attributes of events, reusing its scratch slices.
// Not safe for concurrent use.
type encoder struct {
	strs  []string
	ints  []int64
	flts  []float64
	attrs []attribute.KeyValue
}

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

func (enc *encoder) str(k, v string) {
	if v != "" {
		enc.attrs = append(enc.attrs, attribute.String(k, v))
	}
}

func (enc *encoder) pseudonym(idKey, keyKey string, p personalize.Pseudonym) {
	enc.str(idKey, p.ID)
	enc.str(keyKey, p.KeyID)
}

func (enc *encoder) header(e personalize.Event, service string) {
	id := e.ID()
	var b [36]byte
	s, _ := id.AppendText(b[:0])
	enc.attrs = append(enc.attrs,
		attribute.String(KeyEventID, string(s)),
		attribute.Int64(KeySchemaVersion, personalize.SchemaVersion))
	enc.str(KeyService, service)
}

// strings appends a string array when any element is non-empty (or
// always, when always is set). The slice is copied by the attribute.
func (enc *encoder) strSlice(k string, n int, always bool, get func(i int) string) {
	enc.strs = enc.strs[:0]
	nonEmpty := false
	for i := range n {
		v := get(i)
		nonEmpty = nonEmpty || v != ""
		enc.strs = append(enc.strs, v)
	}
	if nonEmpty || always {
		enc.attrs = append(enc.attrs, attribute.StringSlice(k, enc.strs))
	}
}

func (enc *encoder) intSlice(k string, n int, get func(i int) int64) {
	enc.ints = enc.ints[:0]
	for i := range n {
		enc.ints = append(enc.ints, get(i))
	}
	enc.attrs = append(enc.attrs, attribute.Int64Slice(k, enc.ints))
}

func (enc *encoder) encode(e personalize.Event) error {
	switch {
	case e.Impression != nil:
		enc.impression(e, e.Impression)
	case e.Outcome != nil:
		o := e.Outcome
		enc.header(e, o.Service)
		enc.str(KeyRequestID, o.RequestID)
		enc.pseudonym(KeyUserID, KeyUserKeyID, o.UserID)
		enc.pseudonym(KeySessionID, KeySessionKeyID, o.SessionID)
		enc.str(KeyItem, o.Item)
		enc.attrs = append(enc.attrs, attribute.String(KeyOutcomeKind, o.Kind.String()))
		enc.str(KeyOutcomeName, o.Name)
		if o.Value != 0 {
			enc.attrs = append(enc.attrs, attribute.Float64(KeyOutcomeValue, o.Value))
		}
		enc.str(KeyOutcomeCurrency, o.Currency)
		if o.Dwell != 0 {
			enc.attrs = append(enc.attrs, attribute.Int64(KeyOutcomeDwellNS, int64(o.Dwell)))
		}
		if o.ScrollDepth != 0 {
			enc.attrs = append(enc.attrs, attribute.Float64(KeyOutcomeScrollDepth, o.ScrollDepth))
		}
		enc.str(KeyChannel, o.Channel)
		enc.str(KeySurface, o.Surface)
	case e.Exposure != nil:
		x := e.Exposure
		enc.header(e, x.Service)
		enc.pseudonym(KeyUserID, KeyUserKeyID, x.UserID)
		enc.str(KeyFlagKey, x.Experiment)
		enc.str(KeyFlagVariant, x.Variant)
		enc.str(KeySurface, x.Surface)
	case e.Link != nil:
		l := e.Link
		enc.header(e, l.Service)
		enc.pseudonym(KeyUserID, KeyUserKeyID, l.UserID)
		enc.pseudonym(KeySessionID, KeySessionKeyID, l.SessionID)
	default:
		return errors.New("otlp: event has no payload")
	}
	return nil
}

func (enc *encoder) impression(e personalize.Event, im *personalize.Impression) {
	enc.header(e, im.Service)
	enc.str(KeyRequestID, im.RequestID)
	enc.attrs = append(enc.attrs, attribute.Int64(KeyDurationNS, int64(im.Duration())))
	enc.str(KeySurface, im.Surface)
	enc.str(KeyChannel, im.Channel)
	enc.pseudonym(KeyUserID, KeyUserKeyID, im.User)
	enc.pseudonym(KeySessionID, KeySessionKeyID, im.Session)
	enc.str(KeyModel, im.Model)
	enc.str(KeyModelVersion, im.ModelVersion)
	enc.str(KeyFeatureSet, im.FeatureSet)
	if n := len(im.Experiments); n > 0 {
		enc.strSlice(KeyExperimentNames, n, true, func(i int) string { return im.Experiments[i].Experiment })
		enc.strSlice(KeyExperimentVariants, n, true, func(i int) string { return im.Experiments[i].Variant })
	}
	if n := len(im.Flags); n > 0 {
		enc.strSlice(KeyFlagKeys, n, true, func(i int) string { return im.Flags[i].Key })
		enc.strSlice(KeyFlagVariants, n, true, func(i int) string { return im.Flags[i].Variant })
	}
	for i, a := range im.Context {
		if !firstKey(im.Context, i) {
			continue // keys must be unique in a record; the first wins
		}
		enc.attrs = append(enc.attrs, attribute.String(KeyContextPrefix+a.Key, a.Value))
	}
	items := im.Items
	n := len(items)
	enc.strSlice(KeyItemIDs, n, true, func(i int) string { return items[i].ID })
	enc.intSlice(KeyItemPositions, n, func(i int) int64 { return int64(items[i].Position) })
	enc.flts = enc.flts[:0]
	anyProp := false
	for i := range items {
		enc.flts = append(enc.flts, items[i].Score)
		anyProp = anyProp || items[i].Propensity != 0
	}
	enc.attrs = append(enc.attrs, attribute.Float64Slice(KeyItemScores, enc.flts))
	if anyProp {
		enc.flts = enc.flts[:0]
		for i := range items {
			enc.flts = append(enc.flts, items[i].Propensity)
		}
		enc.attrs = append(enc.attrs, attribute.Float64Slice(KeyItemPropensities, enc.flts))
	}
	enc.strSlice(KeyItemCategories, n, false, func(i int) string { return items[i].Category })
	enc.strSlice(KeyItemProviders, n, false, func(i int) string { return items[i].Provider })
	if n := len(im.Stages); n > 0 {
		st := im.Stages
		enc.strSlice(KeyStageNames, n, true, func(i int) string { return st[i].Name })
		enc.intSlice(KeyStageOffsetsNS, n, func(i int) int64 { return int64(st[i].Offset) })
		enc.intSlice(KeyStageDurationsNS, n, func(i int) int64 { return int64(st[i].Duration) })
		enc.strSlice(KeyStageStatuses, n, true, func(i int) string { return st[i].Status.String() })
		enc.strSlice(KeyStageDetails, n, false, func(i int) string { return st[i].Detail })
	}
	enc.attrs = append(enc.attrs, attribute.String(KeyStatus, im.Status.String()))
	enc.str(KeyErrorType, im.ErrorType)
	enc.attrs = append(enc.attrs, attribute.Bool(KeyDegraded, im.Degraded()))
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

// Decode rebuilds an event from a log record's event name, timestamp and
// attributes, the inverse of the exporter's mapping, and validates it. It
// is meant for receivers and tests; unknown attributes are ignored.
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
	default:
		return e, decErr("event_name", "unknown event name %q", name)
	}
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
		Channel: d.str(KeyChannel), User: d.pseudonym(KeyUserID, KeyUserKeyID),
		Session: d.pseudonym(KeySessionID, KeySessionKeyID), Model: d.str(KeyModel),
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
