package schema

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// ValidationError says which field of an event is invalid and why.
type ValidationError struct {
	Event EventType
	// Field is the schema path of the bad field, e.g. "items[3].propensity".
	Field string
	// Reason is a short classification used as the rejected{field} metric's
	// companion: "missing", "duplicate", "out_of_range", "not_finite",
	// "negative", "unknown".
	Reason string
	Detail string
}

func (e *ValidationError) Error() string {
	msg := "personalize: invalid " + e.Event.String() + ": " + e.Field + " " + e.Reason
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// MetricField is the field name without indexes ("items.propensity"), a
// bounded set suitable as a metric attribute.
func (e *ValidationError) MetricField() string {
	b := make([]byte, 0, len(e.Field))
	skip := false
	for i := 0; i < len(e.Field); i++ {
		c := e.Field[i]
		switch {
		case c == '[':
			skip = true
		case c == ']':
			skip = false
		case !skip:
			b = append(b, c)
		}
	}
	return string(b)
}

func invalid(t EventType, field, reason, detail string) *ValidationError {
	return &ValidationError{Event: t, Field: field, Reason: reason, Detail: detail}
}

func itemField(i int, name string) string {
	return "items[" + strconv.Itoa(i) + "]." + name
}

// Validate checks an impression against the schema rules: ids present,
// positions positive and unique, scores finite, propensities in (0,1] or
// unknown (0), explanations within their bounds, durations non-negative.
func (im *Impression) Validate() error { return im.validate(true) }

// ValidateUnidentified checks im like Validate except that it does not
// require a user or session pseudonym: for an impression whose identifiers
// are attached later, as the pipeline does when it pseudonymizes the raw
// ids given to Start.
func (im *Impression) ValidateUnidentified() error { return im.validate(false) }

func (im *Impression) validate(identified bool) error {
	const t = EventImpression
	if im.RequestID == "" {
		return invalid(t, "request_id", "missing", "")
	}
	if im.Start.IsZero() {
		return invalid(t, "start_time", "missing", "")
	}
	if im.End.Before(im.Start) {
		return invalid(t, "duration_ns", "negative", im.End.Sub(im.Start).String())
	}
	if im.End.Sub(im.Start) == math.MaxInt64 {
		return invalid(t, "duration_ns", "out_of_range", "longer than time.Duration holds (~292 years)")
	}
	if err := checkTime(t, "time", im.End); err != nil {
		return err
	}
	if err := checkTime(t, "start_time", im.Start); err != nil {
		return err
	}
	if identified && im.UserID.IsZero() && im.SessionID.IsZero() {
		return invalid(t, "user_id", "missing", "a user or session id is required")
	}
	if err := checkPseudonyms(t, im.UserID, im.SessionID); err != nil {
		return err
	}
	for i := range im.Items {
		it := &im.Items[i]
		if it.ID == "" {
			return invalid(t, itemField(i, "id"), "missing", "")
		}
		if it.Position <= 0 {
			return invalid(t, itemField(i, "position"), "out_of_range", "must be >= 1, got "+strconv.Itoa(it.Position))
		}
		if math.IsNaN(it.Score) || math.IsInf(it.Score, 0) {
			return invalid(t, itemField(i, "score"), "not_finite", fmt.Sprint(it.Score))
		}
		if p := it.Propensity; math.IsNaN(p) || p < 0 || p > 1 {
			return invalid(t, itemField(i, "propensity"), "out_of_range", "must be in (0,1] or 0 for unknown, got "+fmt.Sprint(p))
		}
		if len(it.Explanation) > 0 {
			if err := validateExplanation(t, i, it.Explanation); err != nil {
				return err
			}
		}
	}
	if j, i := duplicatePosition(im.Items); j >= 0 {
		return invalid(t, itemField(j, "position"), "duplicate", "same as items["+strconv.Itoa(i)+"]: "+strconv.Itoa(im.Items[j].Position))
	}
	for i := range im.Stages {
		s := &im.Stages[i]
		f := func(name string) string { return "stages[" + strconv.Itoa(i) + "]." + name }
		if s.Name == "" {
			return invalid(t, f("name"), "missing", "")
		}
		if s.Duration < 0 {
			return invalid(t, f("duration_ns"), "negative", s.Duration.String())
		}
		if s.Offset < 0 {
			return invalid(t, f("offset_ns"), "negative", s.Offset.String())
		}
		if s.Status > StageFallback {
			return invalid(t, f("status"), "unknown", strconv.Itoa(int(s.Status)))
		}
	}
	for i, a := range im.Experiments {
		if a.Experiment == "" {
			return invalid(t, "experiments["+strconv.Itoa(i)+"].experiment", "missing", "")
		}
		if a.Variant == "" {
			return invalid(t, "experiments["+strconv.Itoa(i)+"].variant", "missing", "")
		}
	}
	for i, f := range im.Flags {
		if f.Key == "" {
			return invalid(t, "flags["+strconv.Itoa(i)+"].key", "missing", "")
		}
	}
	if im.Status > StageFallback {
		return invalid(t, "status", "unknown", strconv.Itoa(int(im.Status)))
	}
	return nil
}

// duplicatePosition returns the index of an item repeating the position of
// an earlier item i, or -1. Small rankings use a bitmap; larger ones a map.
func duplicatePosition(items []Item) (j, i int) {
	if len(items) <= 256 {
		// A bit per position; the earlier item of a duplicate is looked
		// up only when one is found, so the common case zeroes 32 bytes.
		var seen [4]uint64
		for k := range items {
			p := items[k].Position
			if p > 256 {
				return duplicatePositionMap(items)
			}
			w, bit := (p-1)/64, uint64(1)<<((p-1)%64)
			if seen[w]&bit != 0 {
				for i := range k {
					if items[i].Position == p {
						return k, i
					}
				}
			}
			seen[w] |= bit
		}
		return -1, -1
	}
	return duplicatePositionMap(items)
}

func duplicatePositionMap(items []Item) (int, int) {
	m := make(map[int]int, len(items))
	for k := range items {
		if i, ok := m[items[k].Position]; ok {
			return k, i
		}
		m[items[k].Position] = k
	}
	return -1, -1
}

// Validate checks an outcome: a known kind, a user or session, a request
// id and item for engagement kinds, a name for custom kinds, finite
// non-negative value, dwell and scroll depth in [0,1].
func (o *Outcome) Validate() error {
	const t = EventOutcome
	if o.Kind == 0 || o.Kind > OutcomeCustom {
		return invalid(t, "kind", "unknown", strconv.Itoa(int(o.Kind)))
	}
	if o.User == "" && o.Session == "" && o.UserID.IsZero() && o.SessionID.IsZero() {
		return invalid(t, "user_id", "missing", "a user or session id is required")
	}
	if !o.Kind.IsConversion() {
		if o.RequestID == "" {
			return invalid(t, "request_id", "missing", o.Kind.String()+" outcomes must name the request they follow")
		}
		if o.Item == "" {
			return invalid(t, "item", "missing", o.Kind.String()+" outcomes must name the item")
		}
	}
	if o.Kind == OutcomeCustom && o.Name == "" {
		return invalid(t, "name", "missing", "custom outcomes need a name")
	}
	if math.IsNaN(o.Value) || math.IsInf(o.Value, 0) {
		return invalid(t, "value", "not_finite", fmt.Sprint(o.Value))
	}
	if o.Value < 0 {
		return invalid(t, "value", "negative", fmt.Sprint(o.Value))
	}
	if o.Dwell < 0 {
		return invalid(t, "dwell_ns", "negative", o.Dwell.String())
	}
	if d := o.ScrollDepth; math.IsNaN(d) || d < 0 || d > 1 {
		return invalid(t, "scroll_depth", "out_of_range", "must be in [0,1], got "+fmt.Sprint(d))
	}
	if o.Currency != "" && !isCurrencyCode(o.Currency) {
		return invalid(t, "currency", "out_of_range", "must be a 3-letter ISO 4217 code such as EUR, got "+strconv.Quote(o.Currency))
	}
	if err := checkPseudonyms(t, o.UserID, o.SessionID); err != nil {
		return err
	}
	return checkTime(t, "time", o.Time)
}

// isCurrencyCode reports whether s has the shape of an ISO 4217 code:
// three upper-case ASCII letters.
func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// checkTime refuses times whose UTC form RFC 3339 cannot write (years
// outside 0000..9999): they could be emitted but never read back.
func checkTime(t EventType, field string, at time.Time) error {
	if at.IsZero() {
		return nil
	}
	// Compare Unix seconds first: the calendar is needed only to name the
	// year of a time out of range.
	if s := at.Unix(); s < unixYear0 || s >= unixYear10000 {
		y := at.UTC().Year()
		return invalid(t, field, "out_of_range", "UTC year "+strconv.Itoa(y)+" is outside 0000..9999")
	}
	return nil
}

// The Unix seconds of 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z.
const (
	unixYear0     = -62167219200
	unixYear10000 = 253402300800
)

// checkPseudonyms refuses a key id without its pseudonym: the encoder
// would drop it, so the event would not read back as written.
func checkPseudonyms(t EventType, user, session Pseudonym) error {
	if user.ID == "" && user.KeyID != "" {
		return invalid(t, "user_key_id", "unexpected", "a key id without user_id")
	}
	if session.ID == "" && session.KeyID != "" {
		return invalid(t, "session_key_id", "unexpected", "a key id without session_id")
	}
	return nil
}

// Validate checks an exposure: unit, experiment and variant present.
func (x *Exposure) Validate() error {
	const t = EventExposure
	switch {
	case x.User == "" && x.UserID.IsZero():
		return invalid(t, "user_id", "missing", "")
	case x.Experiment == "":
		return invalid(t, "experiment", "missing", "")
	case x.Variant == "":
		return invalid(t, "variant", "missing", "")
	}
	if err := checkPseudonyms(t, x.UserID, Pseudonym{}); err != nil {
		return err
	}
	return checkTime(t, "time", x.Time)
}

// Validate checks a link: both identifiers present.
func (l *Link) Validate() error {
	const t = EventLink
	switch {
	case l.User == "" && l.UserID.IsZero():
		return invalid(t, "user_id", "missing", "")
	case l.Session == "" && l.SessionID.IsZero():
		return invalid(t, "session_id", "missing", "")
	}
	if err := checkPseudonyms(t, l.UserID, l.SessionID); err != nil {
		return err
	}
	return checkTime(t, "time", l.Time)
}

// Validate checks whichever payload e carries.
func (e Event) Validate() error {
	if err := e.validatePayload(); err != nil {
		return err
	}
	switch b := e.ConsentBasis(); b {
	case "", "opt_in", "opt_out":
		return nil
	default:
		return invalid(e.Type, "consent_basis", "unknown", "must be opt_in or opt_out, got "+strconv.Quote(b))
	}
}

func (e Event) validatePayload() error {
	switch {
	case e.Type == EventImpression && e.Impression != nil:
		return e.Impression.Validate()
	case e.Type == EventOutcome && e.Outcome != nil:
		return e.Outcome.Validate()
	case e.Type == EventExposure && e.Exposure != nil:
		return e.Exposure.Validate()
	case e.Type == EventLink && e.Link != nil:
		return e.Link.Validate()
	case e.Type == EventModel && e.Model != nil:
		return e.Model.Validate()
	}
	return invalid(e.Type, "type", "unknown", "payload does not match type "+e.Type.String())
}
