package attribution

import (
	"time"

	"github.com/rankscope/rankscope/personalize"
)

// TouchKind says what kind of contact a touchpoint records.
type TouchKind uint8

// Touchpoint kinds. Impressions are "views" and use [Config.ViewWindow];
// clicks and other engagements use [Config.ClickWindow].
const (
	TouchImpression TouchKind = iota + 1 // a ranking was shown
	TouchClick                           // an item was opened
	TouchEngagement                      // dwell or scroll on an item
)

var touchKindNames = [...]string{"", "impression", "click", "engagement"}

// String returns "impression", "click" or "engagement".
func (k TouchKind) String() string {
	if int(k) < len(touchKindNames) && k != 0 {
		return touchKindNames[k]
	}
	return "unknown"
}

// Touchpoint is one contact of a person with a personalized surface.
type Touchpoint struct {
	EventID personalize.EventID
	Time    time.Time
	Kind    TouchKind
	// Channel is the key the data-driven models treat as a channel; it is
	// set by [Config.Channel] (by default Channel, else Surface).
	Channel string
	Surface string
	// Item is the item clicked, or for an impression the converting item
	// when the conversion names one that the ranking showed; "" otherwise.
	Item string
	// Position is the 1-based rank of Item, 0 when unknown.
	Position int
	// Arm is the experiment arm the touchpoint was served under
	// ("experiment:variant", or the variant of [Config.Experiment]); ""
	// when none.
	Arm       string
	RequestID personalize.RequestID

	imp               *personalize.Impression // read-only, for item lookup
	items             uint64                  // itemBloom(imp), 0 for engagements
	at                int64                   // Time in unix ns
	rawChannel        string                  // an engagement's own channel and surface
	rawSurface        string
	inherited         bool  // an engagement got its impression's fields
	ch, surf, arm, it int32 // interned keys
}

// Journey is the touchpoints that preceded one conversion (eligible under
// the conversion windows, oldest first), or for a non-converting journey
// the touchpoints after the person's last conversion. Journeys handed to
// [Config.OnJourney] are reused after the callback returns.
type Journey struct {
	Person      string // the resolved person key (a pseudonym)
	Touchpoints []Touchpoint
	Converted   bool
	Time        time.Time // conversion time; last touch for a null journey
	Kind        personalize.OutcomeKind
	Name        string  // custom conversion name
	Value       float64 // conversion value
	EventID     personalize.EventID
}

// Credit is an amount of conversions and conversion value.
type Credit struct {
	Conversions float64
	Value       float64
}

func (c *Credit) add(conv, value float64) {
	c.Conversions += conv
	c.Value += value
}

// Interval is a two-sided confidence interval.
type Interval struct {
	Lo, Hi float64
}

// Result is the output of one attribution model over the stream.
//
// Attributed is the sum of every map: Channels, Surfaces, Items and Arms
// each partition it (touchpoints without an item are grouped under
// [KeyNone]). Unattributed counts conversions with no eligible touchpoint.
type Result struct {
	Model        string
	Attributed   Credit
	Unattributed Credit
	Channels     map[string]Credit
	Surfaces     map[string]Credit
	Items        map[string]Credit
	Arms         map[string]Credit
	// Intervals holds bootstrap percentile intervals of each channel's
	// conversion credit; nil when [Config.Bootstrap] is off.
	Intervals map[string]Interval
	// Details carries model-specific output: *MarkovSolution or
	// *ShapleySolution for the data-driven models, nil otherwise.
	Details any
}

// Group keys used when a touchpoint has no value for a dimension or a
// dimension's key cap is reached.
const (
	KeyNone  = "(none)"
	KeyOther = "(other)"
)
