package latency

import (
	"fmt"
	"time"
)

// SLO is a latency objective for one stage over one window: the mean, p95
// and p99 must not exceed their targets. A zero target is not evaluated;
// at least one must be set.
type SLO struct {
	Stage  string // EndToEnd for whole inferences
	Window Window // zero: WindowMinute
	Avg    time.Duration
	P95    time.Duration
	P99    time.Duration
	// MinCount is the number of observations the window needs before the
	// objective is evaluated (at least 1); below it the previous state is
	// held, so a trickle of traffic neither breaches nor recovers.
	MinCount int
}

// validate checks o; name is how errors call it ("latency: Config.SLOs[0]").
func (o SLO) validate(name string) error {
	switch {
	case o.Stage == "":
		return fmt.Errorf("%s.Stage: must not be empty", name)
	case !o.Window.valid():
		return fmt.Errorf("%s.Window: unknown window %d", name, uint8(o.Window))
	case o.Avg < 0:
		return fmt.Errorf("%s.Avg: must be >= 0, got %v", name, o.Avg)
	case o.P95 < 0:
		return fmt.Errorf("%s.P95: must be >= 0, got %v", name, o.P95)
	case o.P99 < 0:
		return fmt.Errorf("%s.P99: must be >= 0, got %v", name, o.P99)
	case o.Avg == 0 && o.P95 == 0 && o.P99 == 0:
		return fmt.Errorf("%s.Avg, P95, P99: at least one target must be set", name)
	case o.MinCount < 0:
		return fmt.Errorf("%s.MinCount: must be >= 0, got %d", name, o.MinCount)
	}
	return nil
}

func (o SLO) objective(t Target) time.Duration {
	switch t {
	case TargetAvg:
		return o.Avg
	case TargetP95:
		return o.P95
	}
	return o.P99
}

// Target is the statistic an [SLO] bounds.
type Target uint8

// Targets.
const (
	TargetAvg Target = iota // mean
	TargetP95               // 95th percentile
	TargetP99               // 99th percentile
	numTargets
)

var targetNames = [...]string{"avg", "p95", "p99"}

// String returns "avg", "p95" or "p99".
func (t Target) String() string {
	if t < numTargets {
		return targetNames[t]
	}
	return fmt.Sprintf("Target(%d)", uint8(t))
}

// SLOReport is the state of one target of one [SLO] at a check.
type SLOReport struct {
	SLO       SLO
	Target    Target
	Objective time.Duration // the target value
	Observed  time.Duration // mean or quantile over the window (within the sketch accuracy)
	Count     uint64        // observations in the window
	// Evaluated is false when Count < max(1, MinCount): Observed is not
	// compared and OK holds the previous state.
	Evaluated bool
	// OK is false while the target is in breach (Observed > Objective at
	// the last evaluation).
	OK bool
	// Changed reports a transition at this check: into breach, or back.
	Changed bool
	// Since is when the current state began (the first check for a target
	// never breached).
	Since time.Time
}

// Breach is passed to Config.OnBreach on each transition: into breach
// (Recovered false) and back (Recovered true).
type Breach struct {
	SLOReport
	Recovered bool
}

type targetState struct {
	breached bool
	since    time.Time
}

type sloState [numTargets]targetState

// CheckSLOs evaluates every SLO of the Config at now and returns one report
// per target set, in Config order (Avg, P95, P99 within an SLO). On each
// transition it calls Config.OnBreach exactly once, after evaluating all
// objectives, on the calling goroutine: call CheckSLOs periodically (say
// every second) from one goroutine. Concurrent calls are safe; each
// transition is still reported once. OnBreach must not call CheckSLOs.
//
// Windows are evaluated at now, which should follow the tracker's clock
// (Config.Now); a now earlier than the latest observation sees the data
// the tracker holds at that point.
func (t *Tracker) CheckSLOs(now time.Time) []SLOReport {
	if len(t.slos) == 0 {
		return nil
	}
	ns := now.UnixNano()
	type key struct {
		stage string
		w     Window
	}
	type win struct {
		sk *Sketch
		n  uint64
	}
	cache := make(map[key]win, len(t.slos))
	reports := make([]SLOReport, 0, len(t.slos))
	var fire []Breach

	t.sloMu.Lock()
	for i, o := range t.slos {
		k := key{o.Stage, o.Window}
		wv, ok := cache[k]
		if !ok {
			sk, _, _ := t.window(o.Stage, o.Window, ns)
			wv = win{sk, sk.Count()}
			cache[k] = wv
		}
		for tg := TargetAvg; tg < numTargets; tg++ {
			obj := o.objective(tg)
			if obj == 0 {
				continue
			}
			r := SLOReport{SLO: o, Target: tg, Objective: obj, Count: wv.n}
			switch tg {
			case TargetAvg:
				r.Observed = wv.sk.Mean()
			case TargetP95:
				r.Observed = wv.sk.quantile(0.95)
			default:
				r.Observed = wv.sk.quantile(0.99)
			}
			s := &t.sloState[i][tg]
			if s.since.IsZero() {
				s.since = now
			}
			r.Evaluated = wv.n > 0 && wv.n >= uint64(o.MinCount)
			if breached := r.Observed > obj; r.Evaluated && breached != s.breached {
				s.breached, s.since, r.Changed = breached, now, true
			}
			r.OK, r.Since = !s.breached, s.since
			if r.Changed {
				fire = append(fire, Breach{SLOReport: r, Recovered: r.OK})
			}
			reports = append(reports, r)
		}
	}
	t.sloMu.Unlock()

	if t.onBreach != nil {
		for _, b := range fire {
			t.onBreach(b)
		}
	}
	return reports
}
