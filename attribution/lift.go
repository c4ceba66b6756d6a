package attribution

import (
	"math"
	"sort"
	"time"

	"github.com/rankscope/rankscope/personalize/experiment/stats"
)

// maxArmsPerPerson caps the experiments remembered per person.
const maxArmsPerPerson = 8

// personLift is a person's lift counters while tracked.
type personLift struct {
	arms                             []armOf
	cohort                           int64 // first time seen in an arm
	impressions, clicks, conversions int32
	value                            float64
}

type armOf struct{ exp, variant string }

// assign records the person's arm in exp; the first variant seen wins.
func (l *personLift) assign(exp, variant string, tn int64) {
	if exp == "" || variant == "" {
		return
	}
	for _, a := range l.arms {
		if a.exp == exp {
			return
		}
	}
	if len(l.arms) >= maxArmsPerPerson {
		return
	}
	if len(l.arms) == 0 || tn < l.cohort {
		l.cohort = tn
	}
	l.arms = append(l.arms, armOf{exp, variant})
}

func (l *personLift) merge(o *personLift) {
	for _, a := range o.arms {
		l.assign(a.exp, a.variant, o.cohort)
	}
	if len(o.arms) > 0 && o.cohort < l.cohort {
		l.cohort = o.cohort
	}
	l.impressions += o.impressions
	l.clicks += o.clicks
	l.conversions += o.conversions
	l.value += o.value
}

type armKey struct {
	exp, variant string
	period       int64 // cohort bucket start (unix ns)
}

type armAcc struct {
	users, impressed, clicked, converted int64
	impressions, clicks, conversions     int64
	value, valueSq                       float64
}

func (a *armAcc) addPerson(l *personLift) {
	a.users++
	if l.impressions > 0 {
		a.impressed++
	}
	if l.clicks > 0 {
		a.clicked++
	}
	if l.conversions > 0 {
		a.converted++
	}
	a.impressions += int64(l.impressions)
	a.clicks += int64(l.clicks)
	a.conversions += int64(l.conversions)
	a.value += l.value
	a.valueSq += l.value * l.value
}

func (a *armAcc) merge(o *armAcc) {
	a.users += o.users
	a.impressed += o.impressed
	a.clicked += o.clicked
	a.converted += o.converted
	a.impressions += o.impressions
	a.clicks += o.clicks
	a.conversions += o.conversions
	a.value += o.value
	a.valueSq += o.valueSq
}

// liftTracker sums finalized persons per experiment arm and cohort. Its
// memory is one accumulator per (experiment, variant, period).
type liftTracker struct {
	cfg   LiftConfig
	level float64
	arms  map[armKey]*armAcc
}

func newLiftTracker(cfg LiftConfig, level float64) liftTracker {
	return liftTracker{cfg: cfg, level: level, arms: make(map[armKey]*armAcc)}
}

func (t *liftTracker) add(l *personLift) {
	if len(l.arms) == 0 {
		return
	}
	period := int64(t.cfg.Period)
	bucket := l.cohort - ((l.cohort%period)+period)%period
	for _, a := range l.arms {
		k := armKey{a.exp, a.variant, bucket}
		acc := t.arms[k]
		if acc == nil {
			acc = &armAcc{}
			t.arms[k] = acc
		}
		acc.addPerson(l)
	}
}

// ArmStats is the funnel and outcome of one experiment arm, for one
// cohort period or (Period zero) for all users.
//
// A user is a tracked person: one who returns after their state was
// evicted (window + lateness without activity) is counted again. The
// counting is the same in every arm, so comparisons stay fair, but rates
// are per tracked episode rather than per distinct user.
type ArmStats struct {
	Experiment, Variant string
	Period              time.Time // start of the cohort period; zero for the total
	Users               int64     // users seen in the arm
	// The funnel: users with at least one impression, click, conversion.
	Impressed, Clicked, Converted int64
	// Event counts.
	Impressions, Clicks, Conversions int64
	Value                            float64 // total conversion value
	ValueSq                          float64 // sum over users of squared per-user value
}

// ConversionRate is Converted / Users.
func (a ArmStats) ConversionRate() float64 { return ratio(float64(a.Converted), float64(a.Users)) }

// ValuePerUser is Value / Users.
func (a ArmStats) ValuePerUser() float64 { return ratio(a.Value, float64(a.Users)) }

// ClickThrough is Clicked / Impressed (users).
func (a ArmStats) ClickThrough() float64 { return ratio(float64(a.Clicked), float64(a.Impressed)) }

func (a ArmStats) valueVar() float64 {
	n := float64(a.Users)
	if n < 2 {
		return math.NaN()
	}
	m := a.Value / n
	return max(0, (a.ValueSq-n*m*m)/(n-1))
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// Estimate is a point estimate with its confidence interval.
type Estimate struct {
	Value float64
	CI    Interval
}

// Comparison compares a treatment arm with the control arm of one
// experiment, for one cohort period or (Period zero) overall.
type Comparison struct {
	Experiment, Control, Treatment string
	Period                         time.Time
	// RateDiff is the difference of conversion rates (treatment -
	// control) with the Wald interval; RateRatio their ratio with the
	// log (Katz) interval.
	RateDiff, RateRatio Estimate
	// ValueDiff is the difference of value per user with the
	// normal-approximation (Welch) interval; ValueRatio their ratio with
	// a delta-method interval on the log scale.
	ValueDiff, ValueRatio Estimate
}

// Lift is the lift report: arms (totals first, then per period) and
// comparisons of every arm with its experiment's control.
type Lift struct {
	Arms        []ArmStats
	Comparisons []Comparison
}

func (t *liftTracker) report(extra []*personLift) Lift {
	arms := make(map[armKey]*armAcc, len(t.arms))
	for k, a := range t.arms {
		c := *a
		arms[k] = &c
	}
	tmp := liftTracker{cfg: t.cfg, arms: arms}
	for _, l := range extra {
		tmp.add(l)
	}
	const total = math.MinInt64
	totals := make(map[armKey]*armAcc)
	for k, a := range arms {
		tk := armKey{k.exp, k.variant, total}
		acc := totals[tk]
		if acc == nil {
			acc = &armAcc{}
			totals[tk] = acc
		}
		acc.merge(a)
	}
	for k, a := range totals {
		arms[k] = a
	}
	keys := make([]armKey, 0, len(arms))
	for k := range arms {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.exp != b.exp {
			return a.exp < b.exp
		}
		if a.period != b.period {
			return a.period < b.period
		}
		return a.variant < b.variant
	})
	var out Lift
	for _, k := range keys {
		a := arms[k]
		s := ArmStats{Experiment: k.exp, Variant: k.variant, Users: a.users, Impressed: a.impressed,
			Clicked: a.clicked, Converted: a.converted, Impressions: a.impressions, Clicks: a.clicks,
			Conversions: a.conversions, Value: a.value, ValueSq: a.valueSq}
		if k.period != total {
			s.Period = time.Unix(0, k.period).UTC()
		}
		out.Arms = append(out.Arms, s)
	}
	// Compare within (experiment, period).
	for i := 0; i < len(out.Arms); {
		j := i
		for j < len(out.Arms) && out.Arms[j].Experiment == out.Arms[i].Experiment && out.Arms[j].Period.Equal(out.Arms[i].Period) {
			j++
		}
		group := out.Arms[i:j]
		ctl := -1
		for g := range group {
			if group[g].Variant == t.controlName() {
				ctl = g
			}
		}
		if ctl < 0 {
			ctl = 0
		}
		for g := range group {
			if g != ctl {
				out.Comparisons = append(out.Comparisons, compare(group[ctl], group[g], t.level))
			}
		}
		i = j
	}
	return out
}

func (t *liftTracker) controlName() string {
	if t.cfg.Control == "" {
		return "control"
	}
	return t.cfg.Control
}

func compare(c, x ArmStats, level float64) Comparison {
	cmp := Comparison{Experiment: c.Experiment, Control: c.Variant, Treatment: x.Variant, Period: c.Period}
	cmp.RateDiff = diffProportions(x.Converted, x.Users, c.Converted, c.Users, level)
	cmp.RateRatio = ratioProportions(x.Converted, x.Users, c.Converted, c.Users, level)
	cmp.ValueDiff = diffMeans(x.ValuePerUser(), x.valueVar(), x.Users, c.ValuePerUser(), c.valueVar(), c.Users, level)
	cmp.ValueRatio = ratioMeans(x.ValuePerUser(), x.valueVar(), x.Users, c.ValuePerUser(), c.valueVar(), c.Users, level)
	return cmp
}

var nan = Estimate{math.NaN(), Interval{math.NaN(), math.NaN()}}

// The intervals come from personalize/experiment/stats; the functions
// below adapt them: arms are treatment (1) and control (0), level is
// 1-alpha, and an estimate the arms do not define is NaN, not an error.

func estimate(v float64, ci stats.Interval, err error) Estimate {
	if err != nil {
		return nan
	}
	return Estimate{v, Interval{ci.Lo, ci.Hi}}
}

// diffProportions is p1 - p0 with the Wald interval
// (Newcombe 1998, method 1).
func diffProportions(x1, n1, x0, n0 int64, level float64) Estimate {
	r, err := stats.TwoProportions(stats.Proportion{Successes: x0, Trials: n0},
		stats.Proportion{Successes: x1, Trials: n1}, 1-level)
	return estimate(r.Diff, r.Wald, err)
}

// ratioProportions is p1 / p0 with the log interval of Katz et al. (1978).
// Undefined (NaN) when either arm has no conversion.
func ratioProportions(x1, n1, x0, n0 int64, level float64) Estimate {
	return estimate(stats.RiskRatio(stats.Proportion{Successes: x0, Trials: n0},
		stats.Proportion{Successes: x1, Trials: n1}, 1-level))
}

// diffMeans is m1 - m0 with the large-sample interval
// ± z·sqrt(v1/n1 + v0/n0) (v are sample variances).
func diffMeans(m1, v1 float64, n1 int64, m0, v0 float64, n0 int64, level float64) Estimate {
	return estimate(stats.MeanDiff(stats.Summary{N: n0, Mean: m0, Var: v0},
		stats.Summary{N: n1, Mean: m1, Var: v1}, 1-level))
}

// ratioMeans is m1 / m0 with a delta-method interval on the log scale.
// Undefined (NaN) unless both means are positive.
func ratioMeans(m1, v1 float64, n1 int64, m0, v0 float64, n0 int64, level float64) Estimate {
	return estimate(stats.MeanRatio(stats.Summary{N: n0, Mean: m0, Var: v0},
		stats.Summary{N: n1, Mean: m1, Var: v1}, 1-level))
}
