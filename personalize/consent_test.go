package personalize_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

// TestRegionalConsentRecordsTheBasis: under a regional policy an
// impression is decided by its "region" attribute, even when the
// allow-list drops that attribute before export; an EU user without
// recorded consent is not exported, one with consent is, and a Californian
// is exported until opting out; every exported event carries the basis.
// Outcomes have no region: RegionOf supplies it.
func TestRegionalConsentRecordsTheBasis(t *testing.T) {
	consented := &privacy.OptInSet{}
	consented.Consent("eu-yes")
	optedOut := &privacy.OptOutSet{}
	optedOut.OptOut("ca-no")
	home := map[string]string{"eu-yes": "eu", "eu-no": "eu", "ca-yes": "us-ca", "ca-no": "us-ca"}
	policy, err := privacy.NewRegional(privacy.RegionalConfig{
		Regions:   map[string]privacy.Basis{"eu": privacy.BasisOptIn, "us-ca": privacy.BasisOptOut},
		Default:   privacy.BasisOptIn,
		Consented: consented,
		OptedOut:  optedOut,
		RegionOf:  func(u string) string { return home[u] },
	})
	require.NoError(t, err)
	mem := personalizetest.NewMemoryExporter()
	in := newInst(t, func(c *personalize.Config) {
		c.Consent = policy
		c.ContextAllowList = []string{personalize.AttrDevice} // region is not exported
	}, mem)
	ctx := context.Background()
	for _, u := range []string{"eu-yes", "eu-no", "ca-yes", "ca-no"} {
		_, inf := in.Start(ctx, personalize.Request{User: u, Surface: "home",
			Context: []personalize.Attr{{Key: personalize.AttrRegion, Value: home[u]}, {Key: personalize.AttrDevice, Value: "ios"}}})
		inf.Impress(items(2))
		require.NoError(t, inf.End(nil))
		require.NoError(t, in.Outcome(ctx, personalize.Outcome{RequestID: inf.RequestID(), User: u, Item: "i0", Kind: personalize.OutcomeClick}))
	}
	require.NoError(t, in.Shutdown(ctx))

	got := map[personalize.EventType]map[string]int{}
	for _, e := range mem.Events() {
		if got[e.Type] == nil {
			got[e.Type] = map[string]int{}
		}
		got[e.Type][e.ConsentBasis()]++
		if e.Impression != nil {
			assert.Empty(t, e.Impression.Attr(personalize.AttrRegion), "the allow-list still applies")
		}
	}
	// eu-yes (opt_in) and ca-yes (opt_out), each an impression and a click.
	want := map[string]int{"opt_in": 1, "opt_out": 1}
	assert.Equal(t, want, got[personalize.EventImpression])
	assert.Equal(t, want, got[personalize.EventOutcome])
	assert.EqualValues(t, 4, in.Stats().OptedOut, "eu-no and ca-no, impression and outcome each")
}
