package attribution

import (
	"fmt"
	"math"
	"time"

	"github.com/rankscope/rankscope/personalize"
)

// Conversion names an outcome that counts as a conversion: a kind, and for
// [personalize.OutcomeCustom] optionally a name ("" matches every custom
// outcome).
type Conversion struct {
	Kind personalize.OutcomeKind
	Name string
}

// Config configures an [Engine]. The zero value means the defaults given
// on each field.
type Config struct {
	// Conversions lists the outcomes that count as conversions. Default:
	// signups, purchases and every custom outcome.
	Conversions []Conversion
	// ClickWindow is how long before a conversion a click or engagement
	// is eligible for credit. Default 7 days.
	ClickWindow time.Duration
	// ViewWindow is how long before a conversion an impression is
	// eligible for credit. Default 1 day.
	ViewWindow time.Duration
	// Lateness is how far behind the latest event time an event may
	// arrive and still be used; older events are counted in Stats.Late
	// and dropped. Conversions wait this long for late touchpoints before
	// they are attributed. Default 0: an in-order stream.
	Lateness time.Duration

	// Channel maps a touchpoint to the channel the models credit. Its
	// argument has Channel set to the event's channel (the outcome's, or
	// the impression's). Default: Channel, or Surface when it is empty.
	Channel func(*Touchpoint) string
	// Experiment selects the experiment whose variant is a touchpoint's
	// arm. Default "": the first assignment, as "experiment:variant".
	Experiment string

	// Rules are the rule-based models to run. Default: [DefaultRules].
	Rules []Rule
	// NoMarkov and NoShapley turn the data-driven models off.
	NoMarkov, NoShapley bool
	// Bootstrap configures intervals on channel credit; off by default.
	Bootstrap Bootstrap
	// Level is the confidence level of every interval. Default 0.95.
	Level float64

	// Lift configures conversion lift per experiment arm.
	Lift LiftConfig

	// MaxPersons caps the persons (and session links) tracked at once.
	// When full, the least recently active person is finalized early and
	// counted in Stats.EvictedEarly. Default 1<<20.
	MaxPersons int
	// MaxTouchpoints caps the touchpoints kept per person; beyond it the
	// oldest is dropped and counted in Stats.TouchpointsDropped. It is
	// also the longest journey. Default 64.
	MaxTouchpoints int
	// MaxKeys caps the distinct values tracked per dimension (channel,
	// surface, item, arm); further values are grouped under [KeyOther]
	// and counted in Stats.KeysOverflowed. Default 10000.
	MaxKeys int
	// OnJourney, if set, is called with every journey (converting, with
	// or without touchpoints, and non-converting) as it completes, under
	// the engine's lock. The journey is reused after it returns.
	OnJourney func(*Journey)
}

// LiftConfig configures the lift report.
type LiftConfig struct {
	// Period buckets users into cohorts by the time they were first seen
	// in an arm. Default 24h; use 7*24h for weekly cohorts.
	Period time.Duration
	// Control is the variant every other variant is compared against.
	// Default "control", or the alphabetically first variant when an
	// experiment has no "control".
	Control string
}

func (c *Config) withDefaults() (Config, error) {
	d := *c
	if d.Conversions == nil {
		d.Conversions = []Conversion{{Kind: personalize.OutcomeSignup}, {Kind: personalize.OutcomePurchase}, {Kind: personalize.OutcomeCustom}}
	}
	for i, cv := range d.Conversions {
		if !cv.Kind.IsConversion() && cv.Kind != personalize.OutcomeClick && cv.Kind != personalize.OutcomeDwell && cv.Kind != personalize.OutcomeScroll {
			return d, fmt.Errorf("attribution: Config.Conversions[%d].Kind: unknown outcome kind %d", i, cv.Kind)
		}
		if !cv.Kind.IsConversion() {
			return d, fmt.Errorf("attribution: Config.Conversions[%d].Kind: %s is an engagement, not a conversion", i, cv.Kind)
		}
	}
	if d.ClickWindow == 0 {
		d.ClickWindow = 7 * 24 * time.Hour
	}
	if d.ViewWindow == 0 {
		d.ViewWindow = 24 * time.Hour
	}
	switch {
	case d.ClickWindow < 0:
		return d, fmt.Errorf("attribution: Config.ClickWindow: must be > 0, got %v", d.ClickWindow)
	case d.ViewWindow < 0:
		return d, fmt.Errorf("attribution: Config.ViewWindow: must be > 0, got %v", d.ViewWindow)
	case d.Lateness < 0:
		return d, fmt.Errorf("attribution: Config.Lateness: must be >= 0, got %v", d.Lateness)
	}
	if d.Rules == nil {
		d.Rules = DefaultRules()
	}
	seen := map[string]bool{"markov": true, "shapley": true}
	for i, r := range d.Rules {
		if r == nil {
			return d, fmt.Errorf("attribution: Config.Rules[%d]: nil", i)
		}
		if seen[r.Name()] {
			return d, fmt.Errorf("attribution: Config.Rules[%d]: duplicate or reserved model name %q", i, r.Name())
		}
		seen[r.Name()] = true
		switch r := r.(type) {
		case PositionBased:
			if err := r.validate(); err != nil {
				return d, fmt.Errorf("attribution: Config.Rules[%d]: %w", i, err)
			}
		case TimeDecay:
			if r.HalfLife < 0 {
				return d, fmt.Errorf("attribution: Config.Rules[%d]: TimeDecay.HalfLife: must be > 0, got %v", i, r.HalfLife)
			}
		}
	}
	if d.Bootstrap.Replicates < 0 || d.Bootstrap.Replicates > 10000 {
		return d, fmt.Errorf("attribution: Config.Bootstrap.Replicates: must be in [0,10000], got %d", d.Bootstrap.Replicates)
	}
	if d.Level == 0 {
		d.Level = 0.95
	}
	if !(d.Level > 0 && d.Level < 1) || math.IsNaN(d.Level) {
		return d, fmt.Errorf("attribution: Config.Level: must be in (0,1), got %v", d.Level)
	}
	if d.Lift.Period == 0 {
		d.Lift.Period = 24 * time.Hour
	}
	if d.Lift.Period < 0 {
		return d, fmt.Errorf("attribution: Config.Lift.Period: must be > 0, got %v", d.Lift.Period)
	}
	if d.MaxPersons == 0 {
		d.MaxPersons = 1 << 20
	}
	if d.MaxTouchpoints == 0 {
		d.MaxTouchpoints = 64
	}
	if d.MaxKeys == 0 {
		d.MaxKeys = 10000
	}
	switch {
	case d.MaxPersons < 1:
		return d, fmt.Errorf("attribution: Config.MaxPersons: must be > 0, got %d", d.MaxPersons)
	case d.MaxTouchpoints < 1:
		return d, fmt.Errorf("attribution: Config.MaxTouchpoints: must be > 0, got %d", d.MaxTouchpoints)
	case d.MaxKeys < 1:
		return d, fmt.Errorf("attribution: Config.MaxKeys: must be > 0, got %d", d.MaxKeys)
	}
	if d.Channel == nil {
		d.Channel = defaultChannel
	}
	return d, nil
}

func defaultChannel(tp *Touchpoint) string {
	if tp.Channel != "" {
		return tp.Channel
	}
	return tp.Surface
}

func (c *Config) isConversion(o *personalize.Outcome) bool {
	for _, cv := range c.Conversions {
		if cv.Kind == o.Kind && (cv.Kind != personalize.OutcomeCustom || cv.Name == "" || cv.Name == o.Name) {
			return true
		}
	}
	return false
}
