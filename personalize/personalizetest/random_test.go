package personalizetest_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 42)) }

func jsonOf(t *testing.T, e personalize.Event) string {
	t.Helper()
	b, err := personalize.AppendJSON(nil, e)
	require.NoError(t, err)
	return string(b)
}

func TestRandomEvents(t *testing.T) {
	events := personalizetest.RandomEvents(seeded(1), 5000)
	counts := map[personalize.EventType]int{}
	kinds := map[personalize.OutcomeKind]int{}
	ids := map[personalize.EventID]bool{}
	for i, e := range events {
		require.NoError(t, e.Validate(), "event %d", i)
		counts[e.Type]++
		if e.Outcome != nil {
			kinds[e.Outcome.Kind]++
		}
		require.False(t, ids[e.ID()], "duplicate event id at %d", i)
		ids[e.ID()] = true
		assert.Equal(t, byte(7), e.ID()[6]>>4, "UUID version")
		assert.Equal(t, byte(2), e.ID()[8]>>6, "UUID variant")
		if i > 0 {
			assert.False(t, e.Time().Before(events[i-1].Time()), "times must not decrease")
		}
		// Round trip: decoding the encoding gives the same event back.
		b, err := personalize.AppendJSON(nil, e)
		require.NoError(t, err)
		back, err := personalize.UnmarshalEvent(b)
		require.NoError(t, err, "%s", b)
		require.Equal(t, e, back)
	}
	// 70/20/5/5 mix, loosely (binomial sd of the impression share is ~0.65%).
	assert.InDelta(t, 0.70, float64(counts[personalize.EventImpression])/5000, 0.03)
	assert.InDelta(t, 0.20, float64(counts[personalize.EventOutcome])/5000, 0.03)
	assert.Positive(t, counts[personalize.EventExposure])
	assert.Positive(t, counts[personalize.EventLink])
	assert.Len(t, kinds, 6, "every outcome kind appears")

	again := personalizetest.RandomEvents(seeded(1), 5000)
	assert.Equal(t, events, again, "deterministic for a seed")
}

func TestRandomImpression(t *testing.T) {
	im := personalizetest.RandomImpression(seeded(2), 10)
	require.Len(t, im.Items, 10)
	for i, it := range im.Items {
		assert.Equal(t, i+1, it.Position)
	}
	require.NoError(t, im.Validate())
	assert.Len(t, im.Stages, 3)
}

func TestCloneEvent(t *testing.T) {
	for _, e := range personalizetest.RandomEvents(seeded(3), 200) {
		c := personalizetest.CloneEvent(e)
		require.Equal(t, e, c)
		if e.Impression != nil {
			require.NotSame(t, e.Impression, c.Impression)
			c.Impression.Items[0].Score = 99
			c.Impression.Stages[0].Name = "x"
			require.NotEqual(t, e.Impression.Items[0].Score, 99.0)
			require.NotEqual(t, "x", e.Impression.Stages[0].Name)
		}
	}
}

func TestRawIDEvents(t *testing.T) {
	events, raw := personalizetest.RawIDEvents(seeded(4), 90)
	require.NotEmpty(t, raw)
	var data []byte
	for _, e := range events {
		require.NoError(t, e.Validate())
		b, err := personalize.AppendJSON(nil, e)
		require.NoError(t, err)
		data = append(data, b...)
	}
	// AppendJSON writes only pseudonyms.
	require.NoError(t, personalizetest.ScanRawIDs(data, raw))
	// The scanner finds a raw id when there is one.
	err := personalizetest.ScanRawIDs(append(data, raw[3]...), raw)
	require.ErrorContains(t, err, raw[3])
}
