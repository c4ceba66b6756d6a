package latency

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSLOBreachAndRecovery(t *testing.T) {
	c := newFakeClock()
	var got []Breach
	tr := newTestTracker(t, c, Config{
		SLOs: []SLO{
			{Stage: "rank", P95: 10 * time.Millisecond, MinCount: 20},
			{Stage: EndToEnd, Window: WindowHour, Avg: 50 * time.Millisecond, P99: 200 * time.Millisecond},
		},
		OnBreach: func(b Breach) { got = append(got, b) },
	})
	observe := func(stage string, n int, d time.Duration) {
		for range n {
			tr.Observe(Observation{Stage: stage, Duration: d})
		}
	}
	byTarget := func(rs []SLOReport, stage string, tg Target) SLOReport {
		for _, r := range rs {
			if r.SLO.Stage == stage && r.Target == tg {
				return r
			}
		}
		t.Fatalf("no report for %s %v", stage, tg)
		return SLOReport{}
	}
	t0 := c.Now()

	// No traffic: nothing evaluated, everything OK, no callback.
	rs := tr.CheckSLOs(c.Now())
	require.Len(t, rs, 3, "rank p95, e2e avg, e2e p99")
	for _, r := range rs {
		assert.False(t, r.Evaluated)
		assert.True(t, r.OK)
		assert.Equal(t, t0, r.Since)
	}
	assert.Equal(t, TargetP95, rs[0].Target)
	assert.Equal(t, TargetAvg, rs[1].Target)
	assert.Equal(t, TargetP99, rs[2].Target)

	// Slow, but fewer than MinCount observations: held.
	observe("rank", 19, 50*time.Millisecond)
	r := byTarget(tr.CheckSLOs(c.Now()), "rank", TargetP95)
	assert.False(t, r.Evaluated)
	assert.True(t, r.OK)
	assert.Equal(t, uint64(19), r.Count)
	assert.Empty(t, got)

	// The 20th observation makes it count: breach, reported once.
	observe("rank", 1, 50*time.Millisecond)
	c.Add(time.Second)
	tBreach := c.Now()
	for range 5 {
		r = byTarget(tr.CheckSLOs(c.Now()), "rank", TargetP95)
		assert.True(t, r.Evaluated)
		assert.False(t, r.OK)
		assert.Equal(t, tBreach, r.Since)
		c.Add(time.Second)
	}
	require.Len(t, got, 1)
	assert.False(t, got[0].Recovered)
	assert.True(t, got[0].Changed)
	assert.Equal(t, "rank", got[0].SLO.Stage)
	assert.Equal(t, TargetP95, got[0].Target)
	assert.Equal(t, 10*time.Millisecond, got[0].Objective)
	assert.Equal(t, 50*time.Millisecond, got[0].Observed, "clamped to the exact max")
	assert.Equal(t, tBreach, got[0].Since)

	// Fast traffic after the slow data leaves the minute window: one
	// recovery.
	c.Add(70 * time.Second)
	observe("rank", 100, 2*time.Millisecond)
	tRecover := c.Now()
	for range 3 {
		r = byTarget(tr.CheckSLOs(c.Now()), "rank", TargetP95)
		assert.True(t, r.OK)
		assert.Equal(t, tRecover, r.Since)
		assert.InDelta(t, float64(2*time.Millisecond), float64(r.Observed), 0.01*2e6)
	}
	require.Len(t, got, 2)
	assert.True(t, got[1].Recovered)
	assert.True(t, got[1].OK)
	assert.Equal(t, tRecover, got[1].Since)

	// Once the minute window is empty the state is held: no new callback.
	c.Add(2 * time.Minute)
	r = byTarget(tr.CheckSLOs(c.Now()), "rank", TargetP95)
	assert.False(t, r.Evaluated)
	assert.True(t, r.OK)
	assert.Len(t, got, 2)

	// End to end over the hour: the mean breaches (exact), the p99 not.
	observe(EndToEnd, 90, 10*time.Millisecond)
	observe(EndToEnd, 10, 450*time.Millisecond) // mean 54 ms, p99 450 ms
	rs = tr.CheckSLOs(c.Now())
	avg, p99 := byTarget(rs, EndToEnd, TargetAvg), byTarget(rs, EndToEnd, TargetP99)
	assert.Equal(t, 54*time.Millisecond, avg.Observed)
	assert.False(t, avg.OK)
	assert.InDelta(t, float64(450*time.Millisecond), float64(p99.Observed), 0.01*450e6)
	assert.False(t, p99.OK)
	require.Len(t, got, 4)
	assert.Equal(t, TargetAvg, got[2].Target)
	assert.Equal(t, TargetP99, got[3].Target)

	// Equal to the objective is within it.
	c.Add(2 * time.Hour)
	observe(EndToEnd, 100, 50*time.Millisecond)
	rs = tr.CheckSLOs(c.Now())
	assert.True(t, byTarget(rs, EndToEnd, TargetAvg).OK)
	assert.True(t, byTarget(rs, EndToEnd, TargetP99).OK)
	require.Len(t, got, 6)
	assert.True(t, got[4].Recovered && got[5].Recovered)
}

func TestCheckSLOsWithoutSLOs(t *testing.T) {
	tr := newTestTracker(t, newFakeClock(), Config{})
	assert.Nil(t, tr.CheckSLOs(time.Now()))
}

func TestTargetString(t *testing.T) {
	assert.Equal(t, "avg", TargetAvg.String())
	assert.Equal(t, "p95", TargetP95.String())
	assert.Equal(t, "p99", TargetP99.String())
	assert.Equal(t, "Target(9)", Target(9).String())
}
