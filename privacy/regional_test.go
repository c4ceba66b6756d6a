package privacy_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/privacy"
)

// TestRegionalDefaults: each region's default. In an opt-in region (GDPR)
// a user with no recorded consent is not exported and one who consented
// is; in an opt-out region (CCPA) a user is exported until they opt out.
// Unknown regions take Default, or RegionOf's answer when set.
func TestRegionalDefaults(t *testing.T) {
	consented := &privacy.OptInSet{}
	consented.Consent("anna")
	optedOut := &privacy.OptOutSet{}
	optedOut.OptOut("carl")
	p, err := privacy.NewRegional(privacy.RegionalConfig{
		Regions:   map[string]privacy.Basis{"eu-west": privacy.BasisOptIn, "US-CA": privacy.BasisOptOut},
		Default:   privacy.BasisOptIn,
		Consented: consented,
		OptedOut:  optedOut,
		RegionOf:  func(u string) string { return map[string]string{"bob": "US-CA"}[u] },
	})
	require.NoError(t, err)
	for _, tt := range []struct {
		user, region string
		allowed      bool
		basis        privacy.Basis
	}{
		{"anna", "eu-west", true, privacy.BasisOptIn},   // consented
		{"bob", "eu-west", false, privacy.BasisOptIn},   // no consent recorded: not exported
		{"bob", "US-CA", true, privacy.BasisOptOut},     // exported until opting out
		{"carl", "US-CA", false, privacy.BasisOptOut},   // opted out
		{"bob", "", true, privacy.BasisOptOut},          // region from RegionOf
		{"dora", "", false, privacy.BasisOptIn},         // unknown region: Default (opt-in)
		{"dora", "ap-south", false, privacy.BasisOptIn}, // unlisted region: Default
	} {
		allowed, basis := p.Decide(tt.user, tt.region)
		assert.Equal(t, tt.allowed, allowed, "%s in %q", tt.user, tt.region)
		assert.Equal(t, tt.basis, basis, "%s in %q", tt.user, tt.region)
	}
	assert.True(t, p.Allowed("bob"), "Allowed is Decide without a region")
	assert.False(t, p.Allowed("dora"))
	consented.Withdraw("anna")
	allowed, _ := p.Decide("anna", "eu-west")
	assert.False(t, allowed, "withdrawn consent applies at once")
}

// TestRegionalFailsClosed: a misconfigured policy is an error at
// construction, naming the field.
func TestRegionalFailsClosed(t *testing.T) {
	for _, tt := range []struct {
		cfg  privacy.RegionalConfig
		want string
	}{
		{privacy.RegionalConfig{}, "RegionalConfig.Default"},
		{privacy.RegionalConfig{Default: 7}, "RegionalConfig.Default"},
		{privacy.RegionalConfig{Default: privacy.BasisOptOut, Regions: map[string]privacy.Basis{"x": 0}}, `Regions["x"]`},
		{privacy.RegionalConfig{Default: privacy.BasisOptOut, Regions: map[string]privacy.Basis{"": privacy.BasisOptIn}}, "empty region"},
		{privacy.RegionalConfig{Default: privacy.BasisOptIn}, "RegionalConfig.Consented"},
		{privacy.RegionalConfig{Default: privacy.BasisOptOut, Regions: map[string]privacy.Basis{"eu": privacy.BasisOptIn}}, "RegionalConfig.Consented"},
	} {
		_, err := privacy.NewRegional(tt.cfg)
		require.ErrorContains(t, err, tt.want)
	}
	_, err := privacy.NewRegional(privacy.RegionalConfig{Default: privacy.BasisOptOut})
	require.NoError(t, err, "opt-out everywhere needs no consent record")
}

func TestBasisNames(t *testing.T) {
	for _, b := range []privacy.Basis{privacy.BasisOptIn, privacy.BasisOptOut} {
		got, ok := privacy.ParseBasis(b.String())
		assert.True(t, ok)
		assert.Equal(t, b, got)
	}
	_, ok := privacy.ParseBasis("")
	assert.False(t, ok)
	assert.Equal(t, "Basis(9)", privacy.Basis(9).String())
}

func ExampleRegional() {
	consented := &privacy.OptInSet{}
	consented.Consent("u-1")
	policy, err := privacy.NewRegional(privacy.RegionalConfig{
		Regions:   map[string]privacy.Basis{"eu": privacy.BasisOptIn, "us-ca": privacy.BasisOptOut},
		Default:   privacy.BasisOptIn,
		Consented: consented,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// personalize.Config{Consent: policy} records the basis on each event.
	for _, c := range [][2]string{{"u-1", "eu"}, {"u-2", "eu"}, {"u-2", "us-ca"}} {
		ok, basis := policy.Decide(c[0], c[1])
		fmt.Println(c[0], c[1], ok, basis)
	}
	// Output:
	// u-1 eu true opt_in
	// u-2 eu false opt_in
	// u-2 us-ca true opt_out
}
