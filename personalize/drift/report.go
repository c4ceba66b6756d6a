package drift

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/rankscope/rankscope/personalize/alert"
)

// Thresholds grade a feature's drift. A zero field means its default; a
// negative field disables that check.
type Thresholds struct {
	// PSIWarn and PSICritical: defaults 0.1 and 0.25, the conventional
	// "moderate" and "major" population shifts of credit scoring.
	PSIWarn, PSICritical float64
	// JSWarn and JSCritical bound the base-2 Jensen-Shannon distance of the
	// binned distributions (in [0,1]): defaults 0.1 and 0.2.
	JSWarn, JSCritical float64
	// WassersteinWarn and WassersteinCritical bound the normalized
	// Wasserstein distance (in reference standard deviations): defaults
	// 0.1 and 0.25.
	WassersteinWarn, WassersteinCritical float64
	// KSAlpha: a KS p-value below it is a warning (default 0.01). KS never
	// makes a feature critical on its own: with thousands of observations
	// it rejects shifts too small to matter.
	KSAlpha float64
	// MissingWarn and MissingCritical bound the increase of the missing
	// rate over the reference's (absolute): defaults 0.02 and 0.1.
	MissingWarn, MissingCritical float64
	// OutOfRangeWarn and OutOfRangeCritical bound the share of values
	// outside the reference range (numeric) or outside its categories
	// (categorical, above the reference's own "other" share): defaults 0.01
	// and 0.05.
	OutOfRangeWarn, OutOfRangeCritical float64
	// MinCount is the fewest non-missing observations graded at all
	// (default 100); below it a feature reports LevelOK with Sparse set.
	MinCount int
}

// DefaultThresholds returns the defaults documented on [Thresholds].
func DefaultThresholds() Thresholds {
	t, _ := Thresholds{}.withDefaults()
	return t
}

func (t Thresholds) withDefaults() (Thresholds, error) {
	set := func(p *float64, name string, def float64) error {
		if math.IsNaN(*p) || math.IsInf(*p, 0) {
			return fmt.Errorf("drift: Config.Thresholds.%s: must be finite, got %v", name, *p)
		}
		if *p == 0 {
			*p = def
		}
		return nil
	}
	for _, f := range []struct {
		p    *float64
		name string
		def  float64
	}{
		{&t.PSIWarn, "PSIWarn", 0.1}, {&t.PSICritical, "PSICritical", 0.25},
		{&t.JSWarn, "JSWarn", 0.1}, {&t.JSCritical, "JSCritical", 0.2},
		{&t.WassersteinWarn, "WassersteinWarn", 0.1}, {&t.WassersteinCritical, "WassersteinCritical", 0.25},
		{&t.KSAlpha, "KSAlpha", 0.01},
		{&t.MissingWarn, "MissingWarn", 0.02}, {&t.MissingCritical, "MissingCritical", 0.1},
		{&t.OutOfRangeWarn, "OutOfRangeWarn", 0.01}, {&t.OutOfRangeCritical, "OutOfRangeCritical", 0.05},
	} {
		if err := set(f.p, f.name, f.def); err != nil {
			return t, err
		}
	}
	if t.MinCount < 0 {
		return t, fmt.Errorf("drift: Config.Thresholds.MinCount: must be >= 0, got %d", t.MinCount)
	}
	if t.MinCount == 0 {
		t.MinCount = 100
	}
	return t, nil
}

// Level grades a feature.
type Level uint8

// Levels.
const (
	LevelOK Level = iota
	LevelWarn
	LevelCritical
)

// String returns "ok", "warn" or "critical".
func (l Level) String() string {
	switch l {
	case LevelOK:
		return "ok"
	case LevelWarn:
		return "warn"
	case LevelCritical:
		return "critical"
	}
	return "unknown"
}

// FeatureReport compares one feature's window with its reference. Metrics
// that do not apply (KS for a categorical feature, everything for an id
// feature but Cardinality and MissingRate) are NaN.
type FeatureReport struct {
	Feature string
	Kind    Kind // 0 for an id feature
	// Count is the observations in the window, missing included.
	Count       uint64
	MissingRate float64
	// ReferenceMissingRate is the reference's missing rate; the missing
	// checks grade MissingRate - ReferenceMissingRate.
	ReferenceMissingRate float64
	// OutOfRangeRate is the share of non-missing values outside
	// [Reference.Min, Reference.Max] (numeric) or outside the reference
	// categories (categorical).
	OutOfRangeRate float64
	PSI            float64
	JS             float64 // base 2, on the reference bins
	// KS compares the live reservoir sample with the reference sample.
	KS KSResult
	// Wasserstein is the distance between the live reservoir and the
	// reference sample, NormalizedWasserstein the same in reference
	// standard deviations.
	Wasserstein, NormalizedWasserstein float64
	// Cardinality is the HyperLogLog estimate of distinct values.
	Cardinality uint64
	// Sparse is set when fewer than Thresholds.MinCount values were seen.
	Sparse bool
	Level  Level
	// Reasons names the checks that set Level, e.g. "psi 0.31 >= 0.25".
	Reasons []string
}

// FreshnessReport summarizes ages observed for one source. Quantiles are
// upper bounds of power-of-two millisecond buckets (at most 2x high).
type FreshnessReport struct {
	Source        string
	Count         uint64
	Mean          time.Duration
	P50, P99, Max time.Duration
}

// Report is a monitor's state at one moment.
type Report struct {
	Start, End time.Time
	Features   []FeatureReport
	Sources    []FreshnessReport
	// Unknown counts observations for names the monitor was not
	// configured with.
	Unknown uint64
}

// Level is the highest level of any feature.
func (r Report) Level() Level {
	var l Level
	for _, f := range r.Features {
		l = max(l, f.Level)
	}
	return l
}

// Report computes the current window's report. It reads the counters
// without stopping observers, so concurrent observations may or may not be
// included.
func (m *Monitor) Report() Report {
	rep := Report{Start: time.Unix(0, m.started.Load()), End: time.Now(), Unknown: m.unknown.Load()}
	th := m.cfg.Thresholds
	for _, name := range m.features {
		var fr FeatureReport
		if f := m.numeric[name]; f != nil {
			fr = f.report(th)
		} else {
			fr = m.cat[name].report(name, th)
		}
		rep.Features = append(rep.Features, fr)
	}
	for _, name := range m.srcNames {
		h := m.sources[name]
		var counts [64]uint64
		var n uint64
		for i := range h.buckets {
			counts[i] = h.buckets[i].Load()
			n += counts[i]
		}
		fr := FreshnessReport{Source: name, Count: n, Max: time.Duration(h.maxNS.Load())}
		if n > 0 {
			fr.Mean = time.Duration(float64(h.sumMS.Load()) / float64(n) * float64(time.Millisecond))
			fr.P50 = min(h.quantile(&counts, n, 0.5), max(fr.Max, time.Millisecond))
			fr.P99 = min(h.quantile(&counts, n, 0.99), max(fr.Max, time.Millisecond))
		}
		rep.Sources = append(rep.Sources, fr)
	}
	return rep
}

func nan() float64 { return math.NaN() }

func (f *numericFeature) report(th Thresholds) FeatureReport {
	r := f.ref
	fr := FeatureReport{Feature: r.Feature, Kind: KindNumeric, PSI: nan(), JS: nan(), Wasserstein: nan(), NormalizedWasserstein: nan(), KS: KSResult{Statistic: nan(), PValue: nan()}}
	counts := make([]float64, len(f.counts))
	var seen float64
	for i := range f.counts {
		counts[i] = float64(f.counts[i].Load())
		seen += counts[i]
	}
	missing := float64(f.missing.Load())
	fr.Count = uint64(seen + missing)
	if fr.Count > 0 {
		fr.MissingRate = missing / float64(fr.Count)
	}
	if seen > 0 {
		fr.OutOfRangeRate = float64(f.outOfRange.Load()) / seen
		fr.PSI, _ = PSI(r.Proportions, counts, 0)
		fr.JS, _ = JensenShannon(r.Proportions, counts, 2)
		n := min(f.seen.Load(), uint64(len(f.sample)))
		live := make([]float64, 0, n)
		for i := uint64(0); i < n; i++ {
			live = append(live, math.Float64frombits(f.sample[i].Load()))
		}
		if len(live) > 0 && len(r.Sample) > 0 {
			if ks, err := KS(r.Sample, live); err == nil {
				fr.KS = ks
			}
			if w, err := Wasserstein(r.Sample, live, nil, nil); err == nil {
				fr.Wasserstein = w
				fr.NormalizedWasserstein = normalize(w, r.Std)
			}
		}
	}
	fr.ReferenceMissingRate = r.MissingRate
	grade(&fr, th, seen)
	return fr
}

func (f *catFeature) report(name string, th Thresholds) FeatureReport {
	fr := FeatureReport{Feature: name, PSI: nan(), JS: nan(), Wasserstein: nan(), NormalizedWasserstein: nan(), KS: KSResult{Statistic: nan(), PValue: nan()}, OutOfRangeRate: nan()}
	seen := float64(f.seen.Load())
	missing := float64(f.missing.Load())
	fr.Count = uint64(seen + missing)
	if fr.Count > 0 {
		fr.MissingRate = missing / float64(fr.Count)
	}
	f.mu.Lock()
	fr.Cardinality = f.hll.Estimate()
	f.mu.Unlock()
	refMissing := 0.0
	if f.ref != nil {
		fr.Kind = KindCategorical
		refMissing = f.ref.MissingRate
		counts := make([]float64, len(f.counts))
		for i := range f.counts {
			counts[i] = float64(f.counts[i].Load())
		}
		if seen > 0 {
			fr.PSI, _ = PSI(f.ref.Proportions, counts, 0)
			fr.JS, _ = JensenShannon(f.ref.Proportions, counts, 2)
			other := counts[len(counts)-1] / seen
			fr.OutOfRangeRate = max(0, other-f.ref.Proportions[len(counts)-1])
		}
	}
	fr.ReferenceMissingRate = refMissing
	grade(&fr, th, seen)
	return fr
}

func grade(fr *FeatureReport, th Thresholds, seen float64) {
	if seen < float64(th.MinCount) {
		fr.Sparse = true
		return
	}
	check := func(name string, v, warn, crit float64) {
		if math.IsNaN(v) {
			return
		}
		if crit >= 0 && v >= crit {
			fr.Level = LevelCritical
			fr.Reasons = append(fr.Reasons, fmt.Sprintf("%s %.4g >= %g", name, v, crit))
		} else if warn >= 0 && v >= warn {
			fr.Level = max(fr.Level, LevelWarn)
			fr.Reasons = append(fr.Reasons, fmt.Sprintf("%s %.4g >= %g", name, v, warn))
		}
	}
	check("psi", fr.PSI, th.PSIWarn, th.PSICritical)
	check("js", fr.JS, th.JSWarn, th.JSCritical)
	check("wasserstein", fr.NormalizedWasserstein, th.WassersteinWarn, th.WassersteinCritical)
	check("missing_rate_increase", fr.MissingRate-fr.ReferenceMissingRate, th.MissingWarn, th.MissingCritical)
	check("out_of_range", fr.OutOfRangeRate, th.OutOfRangeWarn, th.OutOfRangeCritical)
	if th.KSAlpha >= 0 && !math.IsNaN(fr.KS.PValue) && fr.KS.PValue < th.KSAlpha {
		fr.Level = max(fr.Level, LevelWarn)
		fr.Reasons = append(fr.Reasons, fmt.Sprintf("ks p-value %.3g < %g", fr.KS.PValue, th.KSAlpha))
	}
}

// Alert rule names fed by [Report.Alert].
const (
	RulePSI          = "drift.psi"             // per feature
	RuleJS           = "drift.js"              // per feature
	RuleWasserstein  = "drift.wasserstein"     // normalized, per feature
	RuleMissing      = "drift.missing_rate"    // per feature
	RuleOutOfRange   = "drift.out_of_range"    // per feature
	RuleFreshnessP99 = "freshness.p99_seconds" // per source
)

// DefaultRules returns alert rules for the drift signals built from th:
// for each signal a routine rule (named as above) entering at the warn
// threshold and a critical rule (name + ".critical") entering at the
// critical one, both exiting at 80% of their entry so a value hovering at
// the threshold does not flap. Freshness rules take the lag thresholds
// given here (routine, critical) in seconds.
func DefaultRules(th Thresholds, lagRoutine, lagCritical time.Duration) []alert.Rule {
	th, _ = th.withDefaults()
	var out []alert.Rule
	add := func(name string, warn, crit float64) {
		if warn >= 0 {
			out = append(out, alert.Rule{Name: name, Severity: alert.SeverityRoutine, Enter: warn, Exit: 0.8 * warn})
		}
		if crit >= 0 {
			out = append(out, alert.Rule{Name: name + ".critical", Severity: alert.SeverityCritical, Enter: crit, Exit: 0.8 * crit})
		}
	}
	add(RulePSI, th.PSIWarn, th.PSICritical)
	add(RuleJS, th.JSWarn, th.JSCritical)
	add(RuleWasserstein, th.WassersteinWarn, th.WassersteinCritical)
	add(RuleMissing, th.MissingWarn, th.MissingCritical)
	add(RuleOutOfRange, th.OutOfRangeWarn, th.OutOfRangeCritical)
	if lagRoutine > 0 {
		add(RuleFreshnessP99, lagRoutine.Seconds(), -1)
	}
	if lagCritical > 0 {
		out = append(out, alert.Rule{Name: RuleFreshnessP99 + ".critical", Severity: alert.SeverityCritical, Enter: lagCritical.Seconds(), Exit: 0.8 * lagCritical.Seconds()})
	}
	return out
}

// Alert feeds the report's signals to every rule of ev named as in
// [DefaultRules] (rules the evaluator lacks are skipped), keyed by
// prefix+feature or prefix+source, observed at r.End. Sparse features are
// skipped. It returns the first error.
func (r Report) Alert(ctx context.Context, ev *alert.Evaluator, prefix string) error {
	var first error
	obs := func(rule, key string, v float64) {
		if math.IsNaN(v) {
			return
		}
		for _, name := range [2]string{rule, rule + ".critical"} {
			if ev.Has(name) {
				if err := ev.Observe(ctx, r.End, name, prefix+key, v); err != nil && first == nil {
					first = err
				}
			}
		}
	}
	for _, f := range r.Features {
		if f.Sparse {
			continue
		}
		obs(RulePSI, f.Feature, f.PSI)
		obs(RuleJS, f.Feature, f.JS)
		obs(RuleWasserstein, f.Feature, f.NormalizedWasserstein)
		obs(RuleMissing, f.Feature, f.MissingRate-f.ReferenceMissingRate)
		obs(RuleOutOfRange, f.Feature, f.OutOfRangeRate)
	}
	for _, s := range r.Sources {
		if s.Count > 0 {
			obs(RuleFreshnessP99, s.Source, s.P99.Seconds())
		}
	}
	return first
}
