package personalize

import "github.com/rankscope/rankscope/personalize/schema"

// The event types, their codec and their validation live in package
// schema (the wire format, apart from the pipeline, as zapcore sits apart
// from zap). The names below keep them reachable from personalize, where
// services meet them first; both spellings denote the same types.

// Event types and payloads; see the schema package for their documentation.
type (
	Event           = schema.Event
	EventType       = schema.EventType
	EventID         = schema.EventID
	RequestID       = schema.RequestID
	Pseudonym       = schema.Pseudonym
	Assignment      = schema.Assignment
	Flag            = schema.Flag
	Attr            = schema.Attr
	Item            = schema.Item
	Contribution    = schema.Contribution
	StageStatus     = schema.StageStatus
	StageTiming     = schema.StageTiming
	Impression      = schema.Impression
	OutcomeKind     = schema.OutcomeKind
	Outcome         = schema.Outcome
	Exposure        = schema.Exposure
	Link            = schema.Link
	ModelMetadata   = schema.ModelMetadata
	ValidationError = schema.ValidationError
	DecodeError     = schema.DecodeError
	Decoder         = schema.Decoder
)

// SchemaVersion is the major version of the event schema written by this
// module (docs/SCHEMA.md).
const SchemaVersion = schema.SchemaVersion

// MaxEventBytes is the largest event the pipeline accepts, measured as its
// JSON line: 4 MiB (see schema.MaxEventBytes). Emits refuse a larger event
// with a *ValidationError on field "size" (reason "too_large"), and readers
// of event files accept lines up to this size by default.
const MaxEventBytes = schema.MaxEventBytes

// Bounds of an item's explanation: contributions per item, and bytes per
// feature name (see schema.MaxContributions).
const (
	MaxContributions  = schema.MaxContributions
	MaxFeatureNameLen = schema.MaxFeatureNameLen
)

// Event types.
const (
	EventImpression = schema.EventImpression
	EventOutcome    = schema.EventOutcome
	EventExposure   = schema.EventExposure
	EventLink       = schema.EventLink
	EventModel      = schema.EventModel
)

// Outcome kinds.
const (
	OutcomeClick    = schema.OutcomeClick
	OutcomeDwell    = schema.OutcomeDwell
	OutcomeScroll   = schema.OutcomeScroll
	OutcomeSignup   = schema.OutcomeSignup
	OutcomePurchase = schema.OutcomePurchase
	OutcomeCustom   = schema.OutcomeCustom
)

// Stage statuses. Anything but StageOK is a degradation.
const (
	StageOK       = schema.StageOK
	StageError    = schema.StageError
	StageTimeout  = schema.StageTimeout
	StageFallback = schema.StageFallback
)

// Well-known context attribute keys (see schema.AttrDevice).
const (
	AttrDevice   = schema.AttrDevice
	AttrRegion   = schema.AttrRegion
	AttrLocale   = schema.AttrLocale
	AttrPlatform = schema.AttrPlatform
)

// Intern table bounds of a Decoder (see schema.MaxInternStrings).
const (
	MaxInternStrings = schema.MaxInternStrings
	MaxInternLen     = schema.MaxInternLen
)

// AppendJSON appends e as one JSON line without the newline; see
// schema.AppendJSON.
func AppendJSON(b []byte, e Event) ([]byte, error) { return schema.AppendJSON(b, e) }

// UnmarshalEvent decodes and validates one JSON line; see
// schema.UnmarshalEvent.
func UnmarshalEvent(line []byte) (Event, error) { return schema.UnmarshalEvent(line) }

// NewDecoder returns a reusable decoder; see schema.NewDecoder.
func NewDecoder() *Decoder { return schema.NewDecoder() }

// NewEventID returns a fresh UUIDv7; see schema.NewEventID.
func NewEventID() EventID { return schema.NewEventID() }

// FeatureHash returns the canonical SHA-256 digest of feature definitions
// by name, for ModelMetadata.FeatureHash; see schema.FeatureHash.
func FeatureHash(defs map[string]string) string { return schema.FeatureHash(defs) }

// ParseEventID parses the canonical form of an event id.
func ParseEventID(s string) (EventID, error) { return schema.ParseEventID(s) }

// ParseEventType returns the event type named s.
func ParseEventType(s string) (EventType, bool) { return schema.ParseEventType(s) }

// ParseOutcomeKind returns the outcome kind named s.
func ParseOutcomeKind(s string) (OutcomeKind, bool) { return schema.ParseOutcomeKind(s) }

// ParseStatusOrOK parses a stage status, the empty string meaning ok.
func ParseStatusOrOK(s string) (StageStatus, bool) { return schema.ParseStatusOrOK(s) }
