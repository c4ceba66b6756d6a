package schema

import (
	"time"

	"github.com/rankscope/rankscope/latency"
)

// SchemaVersion is the major version of the event schema written by this
// package (docs/SCHEMA.md). Additive changes (new optional fields) keep the
// version; a change in meaning or a removal bumps it.
const SchemaVersion = 1

// EventType says which payload an [Event] carries.
type EventType uint8

// Event types.
const (
	EventImpression EventType = iota + 1 // a served ranking
	EventOutcome                         // a click, dwell, conversion ... tied to a request
	EventExposure                        // a unit was exposed to an experiment arm
	EventLink                            // two identifiers belong to one person
	EventModel                           // a model version's lineage record (no personal data)
)

var eventTypeNames = [...]string{"", "impression", "outcome", "exposure", "link", "model"}

// String returns the wire name of t ("impression", "outcome", ...).
func (t EventType) String() string {
	if int(t) < len(eventTypeNames) && t != 0 {
		return eventTypeNames[t]
	}
	return "unknown"
}

// ParseEventType is the inverse of [EventType.String].
func ParseEventType(s string) (EventType, bool) {
	for i := 1; i < len(eventTypeNames); i++ {
		if eventTypeNames[i] == s {
			return EventType(i), true
		}
	}
	return 0, false
}

// Event is one record of the schema: exactly one of the payload pointers
// matching Type is set.
//
// Events handed to an [Exporter] are shared, read-only values: several
// exporters receive the same pointers concurrently, so an exporter must
// never modify them. Identifiers in an exported event are already
// pseudonymized.
type Event struct {
	Type       EventType
	Impression *Impression
	Outcome    *Outcome
	Exposure   *Exposure
	Link       *Link
	Model      *ModelMetadata

	// Invalid is set only on events handed to the dead-letter exporter: the
	// validation error that rejected the event.
	Invalid *ValidationError
}

// ID returns the event id of whichever payload is set.
func (e Event) ID() EventID {
	switch {
	case e.Impression != nil:
		return e.Impression.EventID
	case e.Outcome != nil:
		return e.Outcome.EventID
	case e.Exposure != nil:
		return e.Exposure.EventID
	case e.Link != nil:
		return e.Link.EventID
	case e.Model != nil:
		return e.Model.EventID
	}
	return EventID{}
}

// Time returns the time the event describes (the end of the inference for an
// impression).
func (e Event) Time() time.Time {
	switch {
	case e.Impression != nil:
		return e.Impression.End
	case e.Outcome != nil:
		return e.Outcome.Time
	case e.Exposure != nil:
		return e.Exposure.Time
	case e.Link != nil:
		return e.Link.Time
	case e.Model != nil:
		return e.Model.Time
	}
	return time.Time{}
}

// Pseudonym is an identifier after keyed hashing: the hash and the id of the
// key that produced it. The zero value means "absent".
type Pseudonym struct {
	ID    string `json:"id"`
	KeyID string `json:"key_id,omitempty"`
}

// IsZero reports whether p is absent.
func (p Pseudonym) IsZero() bool { return p.ID == "" }

// Assignment is a unit's arm in one experiment.
type Assignment struct {
	Experiment string
	Variant    string
}

// Flag is a feature flag evaluated for the request (OpenTelemetry
// feature_flag.key and feature_flag.result.variant).
type Flag struct {
	Key     string
	Variant string
}

// Attr is a context attribute of a request (device, region, locale ...).
// Only attributes whose key is on the instrument's allow-list are exported.
type Attr struct {
	Key   string
	Value string
}

// Well-known context attribute keys. They are on the default allow-list and
// the measurement packages segment by them.
const (
	AttrDevice   = "device"
	AttrRegion   = "region"
	AttrLocale   = "locale"
	AttrPlatform = "platform"
)

// Item is one ranked item as served.
type Item struct {
	ID       string
	Position int     // 1-based rank as shown; unique within a ranking
	Score    float64 // model score; must be finite
	// Propensity is the probability with which the logging policy placed
	// this item at this position, in (0,1]; 0 means unknown.
	Propensity float64
	// Category and Provider are optional grouping keys used by diversity
	// and exposure-fairness measures.
	Category string
	Provider string
	// Explanation is the item's optional top contributions to its score
	// (at most MaxContributions; see [Contribution]). Empty for most
	// items; not written to the wire when empty.
	Explanation []Contribution
}

// StageStatus is how a stage of an inference ended; it is the latency
// package's status so stage timings flow between the two without copying.
type StageStatus = latency.Status

// Stage statuses. Anything but StageOK is a degradation.
const (
	StageOK       = latency.StatusOK       // completed normally
	StageError    = latency.StatusError    // failed with an error
	StageTimeout  = latency.StatusTimeout  // gave up on a deadline
	StageFallback = latency.StatusFallback // a fallback result was used
)

// StageTiming is one timed stage of an inference.
type StageTiming struct {
	Name   string
	Offset time.Duration // start relative to the inference start
	// Duration is how long the stage took.
	Duration time.Duration
	Status   StageStatus
	// Detail is the error type or fallback reason; never an error message
	// (messages can carry identifiers).
	Detail string
}

// Impression is the event for one served ranking.
type Impression struct {
	EventID   EventID
	RequestID RequestID
	// TraceID and SpanID are the W3C trace context of the request that
	// made the inference (the span active in Start's context), zero when
	// there was none; they link the impression to its trace.
	TraceID TraceID
	SpanID  SpanID
	Start   time.Time // inference start
	End     time.Time // inference end; the event time

	Service string
	Surface string
	Channel string
	// ConsentBasis is the legal basis the export decision rested on
	// ("opt_in" or "opt_out"), set by the pipeline when it decides with a
	// regional consent policy (privacy.RegionalConsent); "" otherwise.
	ConsentBasis string

	UserID       Pseudonym
	SessionID    Pseudonym
	Model        string
	ModelVersion string
	FeatureSet   string
	Experiments  []Assignment
	Flags        []Flag
	Context      []Attr
	Items        []Item
	Stages       []StageTiming
	// Status is StageOK when the inference ended without error, StageError
	// or StageTimeout otherwise, and StageFallback when the whole response
	// was a fallback.
	Status StageStatus
	// ErrorType is a short classification of the inference error, if any.
	ErrorType string
}

// Duration is the end-to-end latency of the inference.
func (im *Impression) Duration() time.Duration { return im.End.Sub(im.Start) }

// Degraded reports whether any stage or the whole inference did not end OK.
func (im *Impression) Degraded() bool {
	if im.Status != StageOK {
		return true
	}
	for i := range im.Stages {
		if im.Stages[i].Status != StageOK {
			return true
		}
	}
	return false
}

// Attr returns the value of the context attribute key, or "".
func (im *Impression) Attr(key string) string {
	for _, a := range im.Context {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

// Variant returns the impression's variant in experiment, or "".
func (im *Impression) Variant(experiment string) string {
	for _, a := range im.Experiments {
		if a.Experiment == experiment {
			return a.Variant
		}
	}
	return ""
}

// Stage returns the first stage named name, and whether there is one.
func (im *Impression) Stage(name string) (StageTiming, bool) {
	for _, s := range im.Stages {
		if s.Name == name {
			return s, true
		}
	}
	return StageTiming{}, false
}

// OutcomeKind says what a user did.
type OutcomeKind uint8

// Outcome kinds.
const (
	OutcomeClick    OutcomeKind = iota + 1 // opened an item
	OutcomeDwell                           // spent Dwell on an item
	OutcomeScroll                          // scrolled to ScrollDepth
	OutcomeSignup                          // signed up (a conversion)
	OutcomePurchase                        // bought (a conversion with Value)
	OutcomeCustom                          // named by Outcome.Name
)

var outcomeKindNames = [...]string{"", "click", "dwell", "scroll", "signup", "purchase", "custom"}

// String returns the wire name of k.
func (k OutcomeKind) String() string {
	if int(k) < len(outcomeKindNames) && k != 0 {
		return outcomeKindNames[k]
	}
	return "unknown"
}

// ParseOutcomeKind is the inverse of [OutcomeKind.String].
func ParseOutcomeKind(s string) (OutcomeKind, bool) {
	for i := 1; i < len(outcomeKindNames); i++ {
		if outcomeKindNames[i] == s {
			return OutcomeKind(i), true
		}
	}
	return 0, false
}

// Outcome is something a user did after (and, through RequestID, because
// of) an impression. User and Session hold the raw identifiers given when
// recording; UserID and SessionID the pseudonyms the pipeline sets. They
// follow the naming rule of every payload (docs/SCHEMA.md, "Pseudonyms").
type Outcome struct {
	EventID EventID
	// RequestID links the outcome to the impression; required for
	// engagement kinds (click, dwell, scroll), optional for conversions,
	// which attribution links through the user's journey.
	RequestID RequestID
	// TraceID and SpanID are the trace context of the request that
	// recorded the outcome (a click handler's span), zero when none.
	TraceID TraceID
	SpanID  SpanID
	// User and Session are the raw identifiers when recording; at least one
	// is required. They never leave the process.
	User    string
	Session string
	Item    string
	Kind    OutcomeKind
	Name    string // required for OutcomeCustom
	Value   float64
	// Currency is an ISO 4217 code when Value is money.
	Currency    string
	Dwell       time.Duration
	ScrollDepth float64 // fraction of the list seen, in [0,1]
	Channel     string  // where the outcome happened: web, app, email ...
	Surface     string
	Time        time.Time // defaults to now

	// Set by the pipeline before export.
	UserID    Pseudonym
	SessionID Pseudonym
	Service   string
	// ConsentBasis is the legal basis the export decision rested on
	// ("opt_in" or "opt_out"), set by the pipeline when it decides with a
	// regional consent policy (privacy.RegionalConsent); "" otherwise.
	ConsentBasis string
}

// IsConversion reports whether k is a conversion rather than engagement.
func (k OutcomeKind) IsConversion() bool {
	return k == OutcomeSignup || k == OutcomePurchase || k == OutcomeCustom
}

// Exposure records that a unit was exposed to an arm of an experiment.
type Exposure struct {
	EventID    EventID
	User       string // raw unit id when recording
	Experiment string
	Variant    string
	Time       time.Time
	Surface    string

	UserID  Pseudonym // set by the pipeline
	Service string
	// ConsentBasis is the legal basis the export decision rested on
	// ("opt_in" or "opt_out"), set by the pipeline when it decides with a
	// regional consent policy (privacy.RegionalConsent); "" otherwise.
	ConsentBasis string
}

// Link records that a session (an anonymous or device identifier) belongs to
// a user, for identity resolution across sessions and devices.
type Link struct {
	EventID EventID
	User    string // raw, when recording
	Session string // raw, when recording
	Time    time.Time

	UserID    Pseudonym // set by the pipeline
	SessionID Pseudonym
	Service   string
	// ConsentBasis is the legal basis the export decision rested on
	// ("opt_in" or "opt_out"), set by the pipeline when it decides with a
	// regional consent policy (privacy.RegionalConsent); "" otherwise.
	ConsentBasis string
}

// setConsentBasis sets the consent basis of whichever payload is set.
func (e *Event) setConsentBasis(b string) {
	switch {
	case e.Impression != nil:
		e.Impression.ConsentBasis = b
	case e.Outcome != nil:
		e.Outcome.ConsentBasis = b
	case e.Exposure != nil:
		e.Exposure.ConsentBasis = b
	case e.Link != nil:
		e.Link.ConsentBasis = b
	}
}

// ConsentBasis returns the consent basis of whichever payload is set.
func (e Event) ConsentBasis() string {
	switch {
	case e.Impression != nil:
		return e.Impression.ConsentBasis
	case e.Outcome != nil:
		return e.Outcome.ConsentBasis
	case e.Exposure != nil:
		return e.Exposure.ConsentBasis
	case e.Link != nil:
		return e.Link.ConsentBasis
	}
	return ""
}

// SetConsentBasis sets the consent basis of whichever payload is set (the
// pipeline records the basis of its export decision with it).
func (e Event) SetConsentBasis(b string) { e.setConsentBasis(b) }
