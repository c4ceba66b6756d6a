package attribution

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
)

// Reference: R. G. Newcombe, "Interval estimation for the difference
// between independent proportions: comparison of eleven methods",
// Statistics in Medicine 17 (1998) 873-890, Table II, example (a)
// 56/70 - 48/80, method 1 (asymptotic Wald): 0.0575 to 0.3425.
func TestDiffProportionsNewcombe(t *testing.T) {
	got := diffProportions(56, 70, 48, 80, 0.95)
	assert.InDelta(t, 0.2, got.Value, 1e-12)
	assert.InDelta(t, 0.0575, got.CI.Lo, 5e-5)
	assert.InDelta(t, 0.3425, got.CI.Hi, 5e-5)
	// Same interval to 9 digits, from the formula evaluated by hand with
	// z = 1.959963984540054.
	assert.InDelta(t, 0.0575048991, got.CI.Lo, 1e-9)
	assert.InDelta(t, 0.3424951009, got.CI.Hi, 1e-9)
}

// The Katz log interval for the risk ratio (Katz, Baptista, Azen & Pike,
// Biometrics 34 (1978) 469-474) on the same data, derived by hand:
// r = 0.8/0.6 = 4/3, se(log r) = sqrt(1/56 - 1/70 + 1/48 - 1/80)
// = 0.1091089451, interval 4/3·exp(∓1.959963985·se) = 1.076626423 to
// 1.651248511.
func TestRatioProportionsKatz(t *testing.T) {
	got := ratioProportions(56, 70, 48, 80, 0.95)
	assert.InDelta(t, 4.0/3, got.Value, 1e-12)
	assert.InDelta(t, 1.076626423, got.CI.Lo, 1e-8)
	assert.InDelta(t, 1.651248511, got.CI.Hi, 1e-8)
	assert.True(t, ratioProportions(0, 10, 3, 10, 0.95).CI.Lo != ratioProportions(0, 10, 3, 10, 0.95).CI.Lo, "NaN without conversions")
}

func TestLiftFromStream(t *testing.T) {
	var g gen
	var evs []personalize.Event
	// control: 10 users, 2 convert (value 10 each); treatment: 10 users,
	// 5 convert (value 20 each). Day 2 cohort: one more treatment user.
	for u := range 20 {
		arm, user := "control", "c"
		if u >= 10 {
			arm, user = "treatment", "t"
		}
		user += string(rune('a' + u))
		at := time.Duration(u) * time.Minute
		im := g.imp(at, user, "", "web", "home", arm, "x")
		evs = append(evs, im)
		if u%2 == 0 {
			evs = append(evs, g.click(at+time.Second, user, "", im, "x"))
		}
		if (arm == "control" && u < 2) || (arm == "treatment" && u < 15) {
			v := 10.0
			if arm == "treatment" {
				v = 20
			}
			evs = append(evs, g.conv(at+2*time.Second, user, "", v))
		}
	}
	evs = append(evs, g.imp(day+time.Hour, "late", "", "web", "home", "treatment"))
	rep, _ := run(t, Config{}, evs)
	l := rep.Lift
	var total []ArmStats
	for _, a := range l.Arms {
		if a.Period.IsZero() {
			total = append(total, a)
		}
	}
	require.Len(t, total, 2)
	c, x := total[0], total[1]
	assert.Equal(t, ArmStats{Experiment: "exp", Variant: "control", Users: 10, Impressed: 10, Clicked: 5, Converted: 2,
		Impressions: 10, Clicks: 5, Conversions: 2, Value: 20, ValueSq: 200}, c)
	assert.Equal(t, int64(11), x.Users)
	assert.Equal(t, int64(5), x.Converted)
	assert.InDelta(t, 100.0/11, x.ValuePerUser(), 1e-12)
	var overall *Comparison
	for i := range l.Comparisons {
		if l.Comparisons[i].Period.IsZero() {
			overall = &l.Comparisons[i]
		}
	}
	require.NotNil(t, overall)
	assert.Equal(t, "control", overall.Control)
	assert.Equal(t, "treatment", overall.Treatment)
	want := diffProportions(5, 11, 2, 10, 0.95)
	assert.Equal(t, want, overall.RateDiff)
	assert.InDelta(t, (5.0/11)/(2.0/10), overall.RateRatio.Value, 1e-12)
	assert.InDelta(t, 100.0/11-2, overall.ValueDiff.Value, 1e-12)
	assert.Less(t, overall.ValueDiff.CI.Lo, overall.ValueDiff.Value)
	// Per-day cohorts: day 1 has both arms, day 2 only treatment.
	days := map[time.Time]int{}
	for _, a := range l.Arms {
		if !a.Period.IsZero() {
			days[a.Period]++
		}
	}
	assert.Equal(t, map[time.Time]int{t0: 2, t0.Add(day): 1}, days)
}
