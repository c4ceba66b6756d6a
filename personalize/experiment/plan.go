package experiment

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"
)

// Plan is an experiment's pre-registration: what will be tested and how,
// declared before the data are seen.
type Plan struct {
	Experiment string
	// Hypotheses in words, e.g. "ranker v42 raises purchase conversion".
	Hypotheses []string
	// PrimaryMetric decides the experiment; Guardrails must not degrade.
	// Both name metrics of the analysis (see [Metric].Name).
	PrimaryMetric string
	Guardrails    []string
	// Alpha is the two-sided significance level (default 0.05).
	Alpha float64
	// MDE is the minimum detectable effect on the primary metric, as an
	// absolute difference (0.01 = one percentage point for a rate).
	MDE float64
	// Power is the planned power (default 0.8).
	Power float64
	// SampleSize is the planned number of units per arm; the sequential
	// test is tuned to it.
	SampleSize int64
	// Control is the control variant (default "control").
	Control string
}

func (p Plan) validate() error {
	if p.Experiment == "" {
		return fmt.Errorf("experiment: Plan.Experiment: must be set")
	}
	if p.PrimaryMetric == "" {
		return fmt.Errorf("experiment: Plan.PrimaryMetric: must be set")
	}
	if !(p.Alpha > 0 && p.Alpha < 1) {
		return fmt.Errorf("experiment: Plan.Alpha: must be in (0,1), got %v", p.Alpha)
	}
	if !(p.Power > 0 && p.Power < 1) {
		return fmt.Errorf("experiment: Plan.Power: must be in (0,1), got %v", p.Power)
	}
	if p.MDE < 0 {
		return fmt.Errorf("experiment: Plan.MDE: must be >= 0, got %v", p.MDE)
	}
	if p.SampleSize < 0 {
		return fmt.Errorf("experiment: Plan.SampleSize: must be >= 0, got %d", p.SampleSize)
	}
	return nil
}

func (p Plan) withDefaults() Plan {
	if p.Alpha == 0 {
		p.Alpha = 0.05
	}
	if p.Power == 0 {
		p.Power = 0.8
	}
	if p.Control == "" {
		p.Control = "control"
	}
	p.Hypotheses = slices.Clone(p.Hypotheses)
	p.Guardrails = slices.Clone(p.Guardrails)
	return p
}

// Amendment is one recorded change to a registered plan.
type Amendment struct {
	Time   time.Time
	Field  string // Plan field name
	From   string // old value, formatted with %v
	To     string // new value
	Reason string
	// AfterExposure is true when the change was made after the first
	// exposure: the analysis flags such changes as a deviation from the
	// pre-registration.
	AfterExposure bool
}

// Registration holds a plan, the time exposure started, and every
// change made since registration. Nothing changes a plan silently: the
// only way to change it is [Registration.Amend], which records a field-by-
// field diff. It is safe for concurrent use.
type Registration struct {
	mu            sync.Mutex
	registered    time.Time
	original      Plan
	plan          Plan
	exposureStart time.Time
	log           []Amendment
}

// Register validates p (after defaults) and records it as registered at t.
func Register(p Plan, t time.Time) (*Registration, error) {
	p = p.withDefaults()
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &Registration{registered: t, original: p, plan: p}, nil
}

// MarkExposureStart records when exposure began (the first exposure);
// later calls keep the earliest time. The analysis calls it with the
// first exposure it sees.
func (r *Registration) MarkExposureStart(t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.exposureStart.IsZero() || t.Before(r.exposureStart) {
		r.exposureStart = t
	}
}

// Amend applies change to a copy of the current plan and records every
// field that differs, with reason, at time t. A reason is required. The
// experiment name cannot change.
func (r *Registration) Amend(t time.Time, reason string, change func(*Plan)) error {
	if reason == "" {
		return fmt.Errorf("experiment: Amend: reason: must be given")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	next := r.plan.withDefaults()
	change(&next)
	next = next.withDefaults()
	if next.Experiment != r.plan.Experiment {
		return fmt.Errorf("experiment: Amend: Plan.Experiment: cannot change (%q to %q)", r.plan.Experiment, next.Experiment)
	}
	if err := next.validate(); err != nil {
		return err
	}
	after := !r.exposureStart.IsZero() && !t.Before(r.exposureStart)
	ov, nv := reflect.ValueOf(r.plan), reflect.ValueOf(next)
	typ := ov.Type()
	for i := 0; i < typ.NumField(); i++ {
		a, b := ov.Field(i).Interface(), nv.Field(i).Interface()
		if !reflect.DeepEqual(a, b) {
			r.log = append(r.log, Amendment{Time: t, Field: typ.Field(i).Name, From: fmt.Sprintf("%v", a),
				To: fmt.Sprintf("%v", b), Reason: reason, AfterExposure: after})
		}
	}
	r.plan = next
	return nil
}

// PlanRecord is a snapshot of a registration, carried in analysis output.
type PlanRecord struct {
	Registered    time.Time
	ExposureStart time.Time // zero when no exposure was seen
	Original      Plan
	Current       Plan
	Amendments    []Amendment
	// AmendedAfterExposure is true when any amendment came after exposure
	// started: the results are no longer a pure pre-registered analysis.
	AmendedAfterExposure bool
}

// Record returns a snapshot.
func (r *Registration) Record() PlanRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := PlanRecord{Registered: r.registered, ExposureStart: r.exposureStart, Original: r.original.withDefaults(),
		Current: r.plan.withDefaults(), Amendments: slices.Clone(r.log)}
	for _, a := range r.log {
		rec.AmendedAfterExposure = rec.AmendedAfterExposure || a.AfterExposure
	}
	return rec
}
