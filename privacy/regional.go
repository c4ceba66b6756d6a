package privacy

import (
	"errors"
	"fmt"
	"sync"
)

// Basis is the legal basis a consent decision rests on. The pipeline
// records it on every exported event ("consent_basis") when the instrument
// decides with a [RegionalConsent].
type Basis uint8

// Consent bases.
const (
	// BasisUnset means no basis was recorded.
	BasisUnset Basis = iota
	// BasisOptIn ("opt_in"): events are exported only for users who gave
	// their consent (the GDPR's model in the EU and the UK).
	BasisOptIn
	// BasisOptOut ("opt_out"): events are exported unless the user opted
	// out (the CCPA/CPRA's model in California).
	BasisOptOut
)

var basisNames = [...]string{"", "opt_in", "opt_out"}

// String returns the basis' wire name ("opt_in", "opt_out"; "" unset).
func (b Basis) String() string {
	if int(b) < len(basisNames) {
		return basisNames[b]
	}
	return fmt.Sprintf("Basis(%d)", uint8(b))
}

// ParseBasis returns the basis named s.
func ParseBasis(s string) (Basis, bool) {
	for i, n := range basisNames {
		if n == s && i > 0 {
			return Basis(i), true
		}
	}
	return BasisUnset, false
}

// RegionalConsent is a [Consent] whose decision depends on the region of
// the event and which says which basis it applied. region is the event's
// "region" context attribute (impressions), or "" when the event has none.
type RegionalConsent interface {
	Consent
	Decide(rawUser, region string) (allowed bool, basis Basis)
}

// RegionalConfig configures a [Regional] consent policy.
type RegionalConfig struct {
	// Regions maps a region code, as the service writes the "region"
	// context attribute (for example "eu-west" or "US-CA"), to the basis
	// that applies there.
	Regions map[string]Basis
	// Default is the basis for regions not in Regions and for events whose
	// region is unknown. Required: choose BasisOptIn when unsure, the
	// stricter of the two.
	Default Basis
	// RegionOf, if set, gives a user's region when the event carries none
	// (outcomes, exposures and links have no context attributes), from the
	// service's own records; "" means unknown (Default applies).
	RegionOf func(rawUser string) string
	// Consented records the users who gave consent, for opt-in regions:
	// Allowed(u) reports that u consented. Required when any basis is
	// BasisOptIn (an opt-in policy without a consent record would export
	// nobody, which is a misconfiguration, not a policy). [OptInSet] is
	// an in-memory one.
	Consented Consent
	// OptedOut records the users who opted out, for opt-out regions:
	// Allowed(u) reports that u did not opt out ([OptOutSet]). Nil means
	// nobody opted out.
	OptedOut Consent
}

// Regional decides consent by region: in an opt-in region a user's events
// are exported only when Consented allows them, in an opt-out region unless
// OptedOut refuses them. It is safe for concurrent use.
type Regional struct {
	cfg RegionalConfig
}

// NewRegional validates cfg and returns the policy. Errors name the field.
func NewRegional(cfg RegionalConfig) (*Regional, error) {
	valid := func(b Basis) bool { return b == BasisOptIn || b == BasisOptOut }
	if !valid(cfg.Default) {
		return nil, fmt.Errorf("privacy: RegionalConfig.Default: must be BasisOptIn or BasisOptOut, got %v", cfg.Default)
	}
	optIn := cfg.Default == BasisOptIn
	regions := make(map[string]Basis, len(cfg.Regions))
	for r, b := range cfg.Regions {
		if r == "" {
			return nil, errors.New("privacy: RegionalConfig.Regions: empty region code (unknown regions take Default)")
		}
		if !valid(b) {
			return nil, fmt.Errorf("privacy: RegionalConfig.Regions[%q]: must be BasisOptIn or BasisOptOut, got %v", r, b)
		}
		optIn = optIn || b == BasisOptIn
		regions[r] = b
	}
	if optIn && cfg.Consented == nil {
		return nil, errors.New("privacy: RegionalConfig.Consented: required when a region (or Default) is opt-in")
	}
	cfg.Regions = regions
	return &Regional{cfg: cfg}, nil
}

// Decide reports whether rawUser's events in region may be exported and
// the basis that decided it.
func (p *Regional) Decide(rawUser, region string) (bool, Basis) {
	if region == "" && p.cfg.RegionOf != nil {
		region = p.cfg.RegionOf(rawUser)
	}
	basis, ok := p.cfg.Regions[region]
	if !ok {
		basis = p.cfg.Default
	}
	if basis == BasisOptIn {
		return p.cfg.Consented.Allowed(rawUser), basis
	}
	return p.cfg.OptedOut == nil || p.cfg.OptedOut.Allowed(rawUser), basis
}

// Allowed decides for an event of unknown region (RegionOf, else Default).
func (p *Regional) Allowed(rawUser string) bool {
	ok, _ := p.Decide(rawUser, "")
	return ok
}

// OptInSet is a [Consent] that allows only the users added to it: a record
// of given consent for opt-in regions. The zero value is an empty set
// ready to use. Its memory grows with the users added.
type OptInSet struct {
	m sync.Map
}

// Consent records that raw user ids gave their consent.
func (s *OptInSet) Consent(rawUsers ...string) {
	for _, u := range rawUsers {
		s.m.Store(u, struct{}{})
	}
}

// Withdraw removes users' consent.
func (s *OptInSet) Withdraw(rawUsers ...string) {
	for _, u := range rawUsers {
		s.m.Delete(u)
	}
}

// Allowed reports whether u gave consent.
func (s *OptInSet) Allowed(u string) bool {
	_, ok := s.m.Load(u)
	return ok
}

var _ RegionalConsent = (*Regional)(nil)
