package attribution

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func journeyAt(conv time.Time, ago ...time.Duration) *Journey {
	j := &Journey{Converted: true, Time: conv}
	for _, d := range ago {
		j.Touchpoints = append(j.Touchpoints, Touchpoint{Time: conv.Add(-d)})
	}
	return j
}

// Reference: Google Ads API, AttributionModelEnum.AttributionModel
// (developers.google.com/google-ads/api/reference/rpc/latest/AttributionModelEnum.AttributionModel):
// last click gets all credit; first click all credit; linear "equally
// across all of its clicks"; time decay "exponentially more credit ... to
// its more recent clicks (half-life is 1 week)"; position based "40% of
// the credit ... to its first and last clicks. Remaining 20% is evenly
// distributed across all other clicks". The expected weights below are
// those definitions applied to the journeys (half-life: a touch one week
// older has half the weight: 14d, 7d, 0d -> 1:2:4).
func TestRulesReference(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name string
		rule Rule
		j    *Journey
		want []float64
	}{
		{"last touch", LastTouch{}, journeyAt(now, 3*day, 2*day, day), []float64{0, 0, 1}},
		{"first touch", FirstTouch{}, journeyAt(now, 3*day, 2*day, day), []float64{1, 0, 0}},
		{"linear", Linear{}, journeyAt(now, 3*day, 2*day, day, 0), []float64{0.25, 0.25, 0.25, 0.25}},
		{"time decay 7d half-life", TimeDecay{}, journeyAt(now, 14*day, 7*day, 0), []float64{1.0 / 7, 2.0 / 7, 4.0 / 7}},
		{"time decay 1d half-life", TimeDecay{HalfLife: day}, journeyAt(now, day, 0), []float64{1.0 / 3, 2.0 / 3}},
		{"position based 4 touches", PositionBased{}, journeyAt(now, 3*day, 2*day, day, 0), []float64{0.4, 0.1, 0.1, 0.4}},
		{"position based 5 touches", PositionBased{}, journeyAt(now, 4*day, 3*day, 2*day, day, 0), []float64{0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4}},
		{"position based 2 touches", PositionBased{}, journeyAt(now, day, 0), []float64{0.5, 0.5}},
		{"position based 1 touch", PositionBased{}, journeyAt(now, day), []float64{1}},
		{"position based 30/50", PositionBased{First: 0.3, Last: 0.5}, journeyAt(now, 2*day, day, 0), []float64{0.3, 0.2, 0.5}},
		{"position based 30/50 two touches", PositionBased{First: 0.3, Last: 0.5}, journeyAt(now, day, 0), []float64{0.375, 0.625}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := make([]float64, len(tc.j.Touchpoints))
			tc.rule.Weights(tc.j, w)
			require.InDeltaSlice(t, tc.want, w, 1e-12)
		})
	}
}

func TestRulesSumToOne(t *testing.T) {
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range append(DefaultRules(), TimeDecay{HalfLife: time.Nanosecond}) {
		for n := 1; n <= 20; n++ {
			ago := make([]time.Duration, n)
			for i := range ago {
				ago[i] = time.Duration(n-i) * 1000 * time.Hour
			}
			j := journeyAt(now, ago...)
			w := make([]float64, n)
			r.Weights(j, w)
			var sum float64
			for _, x := range w {
				require.False(t, math.IsNaN(x) || x < 0, "%s n=%d: bad weight %v", r.Name(), n, x)
				sum += x
			}
			assert.InDelta(t, 1, sum, 1e-12, "%s n=%d", r.Name(), n)
		}
	}
}

// Reference: S. Puzyrov, "Markov Chain Attribution – Simple Explanation Of
// Removal Effect" (serhiipuzyrov.com, 2019). Paths: google ads (2 conv),
// mailing (1 conv), google ads > mailing (1 conv), google ads (0 conv, one
// null). Its transition table: start>google 0.8, start>mailing 0.2,
// google>conv 0.5, google>mailing 0.25, google>null 0.25, mailing>conv 1.
// Derivation (exact, by hand):
//
//	P(conv)            = 0.8·(0.5 + 0.25·1) + 0.2·1 = 0.8
//	P(conv | −google)  = 0.2·1                       = 0.2  → RE = 1 − 0.2/0.8 = 0.75
//	P(conv | −mailing) = 0.8·0.5                     = 0.4  → RE = 1 − 0.4/0.8 = 0.5
//	shares 0.75/1.25 = 0.6 and 0.5/1.25 = 0.4; of 4 conversions: 2.4 and 1.6.
func TestMarkovReferencePuzyrov(t *testing.T) {
	var m Markov
	require.NoError(t, m.AddPath([]string{"google ads"}, 2, 1, 200))
	require.NoError(t, m.AddPath([]string{"mailing"}, 1, 0, 50))
	require.NoError(t, m.AddPath([]string{"google ads", "mailing"}, 1, 0, 150))
	sol, err := m.Solve()
	require.NoError(t, err)
	require.Equal(t, []string{"google ads", "mailing"}, sol.Channels)
	assert.InDelta(t, 0.8, sol.ConversionProbability, 1e-12)
	assert.InDeltaSlice(t, []float64{0.75, 0.5}, sol.RemovalEffects, 1e-12)
	assert.InDeltaSlice(t, []float64{0.6, 0.4}, sol.Shares, 1e-12)
	assert.InDelta(t, 2.4, sol.Credit[0].Conversions, 1e-12)
	assert.InDelta(t, 1.6, sol.Credit[1].Conversions, 1e-12)
	assert.InDelta(t, 240, sol.Credit[0].Value, 1e-9)
	assert.InDelta(t, 160, sol.Credit[1].Value, 1e-9)
}

// Reference: S. Bryl, "Marketing Multi-Channel Attribution model with R
// (part 1: Markov chain concept)", analyzecore.com 2016, the three-path
// example: C1 > C2 > C3 > conv, C1 > null, C2 > C3 > null. Removal
// effects 0.5 (C1), 1 (C2), 1 (C3), giving 0.2, 0.4, 0.4 of the one
// conversion, derived exactly by hand: start>C1 2/3, start>C2 1/3, C1>C2 1/2, C1>null
// 1/2, C2>C3 1, C3>conv 1/2, C3>null 1/2; P(conv) = 2/3·1/2·1/2 + 1/3·1/2
// = 1/3; without C1 only start>C2 survives: 1/6, RE = 1/2; C2 and C3 lie
// on every converting path, RE = 1.
func TestMarkovReferenceBryl(t *testing.T) {
	var m Markov
	require.NoError(t, m.AddPath([]string{"C1", "C2", "C3"}, 1, 0, 0))
	require.NoError(t, m.AddPath([]string{"C1"}, 0, 1, 0))
	require.NoError(t, m.AddPath([]string{"C2", "C3"}, 0, 1, 0))
	sol, err := m.Solve()
	require.NoError(t, err)
	assert.InDelta(t, 1.0/3, sol.ConversionProbability, 1e-12)
	assert.InDeltaSlice(t, []float64{0.5, 1, 1}, sol.RemovalEffects, 1e-12)
	assert.InDeltaSlice(t, []float64{0.2, 0.4, 0.4}, []float64{sol.Credit[0].Conversions, sol.Credit[1].Conversions, sol.Credit[2].Conversions}, 1e-12)
}

func TestMarkovProperties(t *testing.T) {
	paths := []struct {
		p          []string
		conv, null float64
	}{
		{[]string{"a", "b", "a", "c"}, 3, 5},
		{[]string{"b"}, 1, 4},
		{[]string{"c", "c", "a"}, 2, 1},
		{[]string{"a"}, 0, 7},
	}
	solve := func(extra bool, selfLoops bool) *MarkovSolution {
		var m Markov
		if extra { // a channel that only appears in a registered but empty path
			require.NoError(t, m.AddPath([]string{"never"}, 0, 0, 0))
		}
		for _, p := range paths {
			path := p.p
			if selfLoops {
				var dup []string
				for _, ch := range path {
					dup = append(dup, ch, ch)
				}
				path = dup
			}
			require.NoError(t, m.AddPath(path, p.conv, p.null, p.conv*10))
		}
		sol, err := m.Solve()
		require.NoError(t, err)
		return sol
	}
	base := solve(false, false)
	t.Run("credit sums to conversions", func(t *testing.T) {
		var sum, val float64
		for _, c := range base.Credit {
			sum += c.Conversions
			val += c.Value
		}
		assert.InDelta(t, 6, sum, 1e-12)
		assert.InDelta(t, 60, val, 1e-9)
	})
	t.Run("absent channel changes nothing", func(t *testing.T) {
		got := solve(true, false)
		require.Equal(t, "never", got.Channels[0])
		assert.Zero(t, got.Credit[0].Conversions)
		assert.InDeltaSlice(t, base.Shares, got.Shares[1:], 1e-12)
	})
	t.Run("self loops do not change removal effects", func(t *testing.T) {
		got := solve(false, true)
		assert.InDeltaSlice(t, base.RemovalEffects, got.RemovalEffects, 1e-12)
	})
	t.Run("bad input", func(t *testing.T) {
		var m Markov
		require.ErrorContains(t, m.AddPath([]string{"a"}, -1, 0, 0), "must be >= 0")
	})
	t.Run("per-journey weights", func(t *testing.T) {
		j := &Journey{Touchpoints: []Touchpoint{{Channel: "a"}, {Channel: "b"}, {Channel: "a"}}}
		w := make([]float64, 3)
		base.Weights(j, w)
		ra, rb := base.RemovalEffects[0], base.RemovalEffects[1]
		assert.InDeltaSlice(t, []float64{ra / (ra + rb) / 2, rb / (ra + rb), ra / (ra + rb) / 2}, w, 1e-12)
	})
}

// Reference: the glove game of Wikipedia's "Shapley value" article:
// players 1 and 2 hold left gloves, player 3 a right glove, v(S) = 1 when
// S holds a pair. Shapley values: 1/6, 1/6, 2/3.
func TestShapleyValuesGloveGame(t *testing.T) {
	phi, err := ShapleyValues(3, func(s uint32) float64 {
		if s&4 != 0 && s&3 != 0 {
			return 1
		}
		return 0
	})
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{1.0 / 6, 1.0 / 6, 2.0 / 3}, phi, 1e-12)
	_, err = ShapleyValues(MaxShapleyChannels+1, func(uint32) float64 { return 0 })
	require.ErrorContains(t, err, "n must be in")
}

// Reference: the notebook "Data Driven Attribution.ipynb" of the public
// GitHub repository tomgorb/misc, after the Towards Data Science article
// "Data-driven marketing attribution" (towardsdatascience.com/data-driven-marketing-attribution-1a28d2e613a0):
// 100 converting journeys whose channel sets are F
// (20), O (10), L (17), F+O (17), F+L (30), L+O (0), F+L+O (6), worth
// v(S) = conversions of journeys within S. Published output: F 0.455,
// O 0.205, L 0.34 of the conversion share.
func TestShapleyReferenceTDS(t *testing.T) {
	var s Shapley
	for _, p := range []struct {
		path []string
		n    float64
	}{
		{[]string{"F"}, 20}, {[]string{"O"}, 10}, {[]string{"L"}, 17}, {[]string{"F", "O"}, 17},
		{[]string{"F", "L"}, 30}, {[]string{"L", "O"}, 0}, {[]string{"F", "L", "O"}, 6},
	} {
		require.NoError(t, s.AddPath(p.path, p.n, p.n*2))
	}
	sol, err := s.Solve()
	require.NoError(t, err)
	got := map[string]float64{}
	for i, ch := range sol.Channels {
		got[ch] = sol.Values[i] / 100
		assert.InDelta(t, 2*sol.Values[i], sol.Credit[i].Value, 1e-9)
	}
	assert.InDelta(t, 0.455, got["F"], 1e-12)
	assert.InDelta(t, 0.205, got["O"], 1e-12)
	assert.InDelta(t, 0.34, got["L"], 1e-12)
}

func TestShapleyLimit(t *testing.T) {
	var s Shapley
	var path []string
	for i := range MaxShapleyChannels + 1 {
		path = append(path, string(rune('a'+i)))
	}
	require.NoError(t, s.AddPath(path, 1, 0))
	_, err := s.Solve()
	require.ErrorContains(t, err, "at most 16")
}
