package stats

import (
	"fmt"
	"math"
)

// Mixture is the normal-mixture sequential test of a difference in means
// (or proportions) that stays valid however often it is looked at.
//
// Let D be the estimated difference, V its variance and n the effective
// sample size (1/(1/n_c + 1/n_t) for two arms), so that sigma^2 = V*n is the
// per-unit variance. With the effect measured in units of sigma and a
// N(0, 1/Rho) mixing distribution over it, the mixture likelihood ratio
// against H0: difference = theta0 is
//
//	LR = sqrt(Rho/(n+Rho)) * exp(S^2 / (2(n+Rho))),   S = (D-theta0) n / sigma
//
// which is the mixture SPRT of Johari, Pekelis & Walsh (2017, "Always valid
// inference", eq. for the normal mixture, with tau^2 = sigma^2/Rho) and
// the two-sided normal-mixture boundary of Howard, Ramdas, McAuliffe &
// Sekhon (2021, "Time-uniform, nonparametric, nonasymptotic confidence
// sequences", Section 3.3), whose intrinsic time is n. The always-valid
// p-value is the running minimum of min(1, 1/LR) over looks; the
// confidence sequence is the set of theta0 with LR < 1/alpha:
//
//	D ± sigma/n * sqrt((n+Rho) log((n+Rho)/(Rho alpha^2)))
//
// Under H0 the probability that the p-value ever drops below alpha, or
// the sequence ever excludes the truth, is at most alpha (Ville's
// inequality), up to the normal approximation of D and the plug-in sigma.
type Mixture struct {
	// Rho is the mixing precision in units of effective sample size: the
	// boundary is tightest near n = Rho*(2 log(1/alpha) + log(1+2 log(1/alpha))).
	// Use [RhoFor] to tune it to a planned sample size before the data arrive.
	Rho float64
}

// RhoFor returns the Rho whose confidence sequence is narrowest at
// effective sample size n (Howard et al. 2021, Section 3.5: minimise the
// boundary over Rho; solved exactly by fixed-point iteration of
// x = 2 log(1/alpha) + log(1+x), x = n/Rho).
func RhoFor(n, alpha float64) (float64, error) {
	if !(n > 0) || math.IsInf(n, 0) {
		return 0, fmt.Errorf("stats: n: must be finite and > 0, got %v", n)
	}
	if err := checkAlpha(alpha); err != nil {
		return 0, err
	}
	l := 2 * math.Log(1/alpha)
	x := l
	for range 100 {
		nx := l + math.Log1p(x)
		if math.Abs(nx-x) < 1e-14*x {
			x = nx
			break
		}
		x = nx
	}
	return n / x, nil
}

func (m Mixture) check(v, n float64) error {
	if !(m.Rho > 0) || math.IsInf(m.Rho, 0) {
		return fmt.Errorf("stats: Mixture.Rho: must be finite and > 0, got %v", m.Rho)
	}
	if !(v > 0) || math.IsInf(v, 0) {
		return fmt.Errorf("stats: variance: must be finite and > 0, got %v", v)
	}
	if !(n > 0) || math.IsInf(n, 0) {
		return fmt.Errorf("stats: n: must be finite and > 0, got %v", n)
	}
	return nil
}

// LogLR returns log LR for H0: difference = theta0 given the estimate d,
// its variance v and the effective sample size n.
func (m Mixture) LogLR(d, theta0, v, n float64) (float64, error) {
	if err := m.check(v, n); err != nil {
		return 0, err
	}
	// S^2 = (d-theta0)^2 n^2 / sigma^2 = (d-theta0)^2 n / v.
	s2 := (d - theta0) * (d - theta0) * n / v
	return 0.5*math.Log(m.Rho/(n+m.Rho)) + s2/(2*(n+m.Rho)), nil
}

// PValue returns min(1, 1/LR) at this look for H0: difference = 0. It is
// always valid on its own; [Monitor] keeps the running minimum, which is
// smaller and still valid.
func (m Mixture) PValue(d, v, n float64) (float64, error) {
	l, err := m.LogLR(d, 0, v, n)
	if err != nil {
		return 0, err
	}
	return math.Min(1, math.Exp(-l)), nil
}

// Interval returns the confidence sequence at this look: an interval for
// the difference whose coverage holds simultaneously over all looks.
func (m Mixture) Interval(d, v, n, alpha float64) (Interval, error) {
	if err := m.check(v, n); err != nil {
		return Interval{}, err
	}
	if err := checkAlpha(alpha); err != nil {
		return Interval{}, err
	}
	sigma := math.Sqrt(v * n)
	h := sigma / n * math.Sqrt((n+m.Rho)*math.Log((n+m.Rho)/(m.Rho*alpha*alpha)))
	return Interval{d - h, d + h}, nil
}

// Monitor follows one comparison over successive looks. The zero value is
// not usable; build it with [NewMonitor].
type Monitor struct {
	mix   sequentialTest
	alpha float64
	p     float64
	cs    Interval
	looks int
}

// sequentialTest is what a [Monitor] follows: [Mixture] or [OneSidedMixture].
type sequentialTest interface {
	PValue(d, v, n float64) (float64, error)
	Interval(d, v, n, alpha float64) (Interval, error)
}

// NewMonitor returns a monitor with mixing m and level alpha.
func NewMonitor(m Mixture, alpha float64) (*Monitor, error) {
	if err := m.check(1, 1); err != nil {
		return nil, err
	}
	if err := checkAlpha(alpha); err != nil {
		return nil, err
	}
	return &Monitor{mix: m, alpha: alpha, p: 1, cs: Interval{math.Inf(-1), math.Inf(1)}}, nil
}

// NewOneSidedMonitor returns a monitor of the one-sided test m at level
// alpha: its p-value is for H0: difference <= 0 and its interval is a
// lower confidence sequence (Hi is +Inf).
func NewOneSidedMonitor(m OneSidedMixture, alpha float64) (*Monitor, error) {
	if err := m.check(1, 1); err != nil {
		return nil, err
	}
	if err := checkAlpha(alpha); err != nil {
		return nil, err
	}
	return &Monitor{mix: m, alpha: alpha, p: 1, cs: Interval{math.Inf(-1), math.Inf(1)}}, nil
}

// Look records the cumulative estimate d, its variance v and effective
// sample size n, and returns the always-valid p-value so far. The
// confidence sequence is intersected over looks (still valid, Howard et
// al. 2021, Section 1).
func (mo *Monitor) Look(d, v, n float64) (float64, error) {
	p, err := mo.mix.PValue(d, v, n)
	if err != nil {
		return mo.p, err
	}
	iv, err := mo.mix.Interval(d, v, n, mo.alpha)
	if err != nil {
		return mo.p, err
	}
	mo.looks++
	mo.p = math.Min(mo.p, p)
	mo.cs = Interval{math.Max(mo.cs.Lo, iv.Lo), math.Min(mo.cs.Hi, iv.Hi)}
	return mo.p, nil
}

// P returns the always-valid p-value (1 before the first look).
func (mo *Monitor) P() float64 { return mo.p }

// Interval returns the running intersection of the confidence sequence.
func (mo *Monitor) Interval() Interval { return mo.cs }

// Reject reports whether H0 (no difference; for a one-sided monitor, a
// difference <= 0) can be rejected now at alpha;
// stopping the experiment at that moment keeps the error rate <= alpha.
func (mo *Monitor) Reject() bool { return mo.p < mo.alpha }

// OneSidedMixture is the one-sided mixture SPRT: it tests H0: difference
// <= theta0 against H1: difference > theta0 (treatment better), with the
// notation of [Mixture]. The mixing distribution is the half of N(0, 1/Rho)
// on positive effects (density 2 N(0, 1/Rho) on lambda >= 0), so
//
//	LR+ = integral_0^inf exp(lambda S - lambda^2 n/2) 2 sqrt(Rho/2pi) exp(-Rho lambda^2/2) dlambda
//	    = 2 sqrt(Rho/(n+Rho)) exp(S^2/(2(n+Rho))) Phi(S/sqrt(n+Rho)),   S = (D-theta0) n / sigma
//
// the one-sided normal mixture of Howard et al. (2021), beside the
// two-sided one [Mixture] uses, with the same Rho. Every lambda >= 0
// makes exp(lambda S - lambda^2 n/2) a supermartingale whenever the true
// difference is <= theta0, so Ville's inequality bounds the error over
// the whole composite null. The always-valid p-value is min(1, 1/LR+) at
// theta0 = 0 and the lower confidence sequence is the set of theta0 with
// LR+ < 1/alpha:
//
//	[D - s* sigma/n, +inf),   s* the root of LR+(s*) = 1/alpha
//
// (LR+ increases with S, s* > 0, found by bisection). Once the evidence
// is clear Phi is near 1 and LR+ is twice the two-sided LR: the one-sided
// test at alpha rejects about where the two-sided one at 2 alpha does,
// so it stops sooner for a real improvement and never rejects for a harm.
// For a metric where lower is better, pass -D.
type OneSidedMixture struct {
	// Rho is the mixing precision, as in [Mixture]; [RhoFor] is a fair
	// choice for it too.
	Rho float64
}

func (m OneSidedMixture) check(v, n float64) error {
	if !(m.Rho > 0) || math.IsInf(m.Rho, 0) {
		return fmt.Errorf("stats: OneSidedMixture.Rho: must be finite and > 0, got %v", m.Rho)
	}
	return Mixture(m).check(v, n)
}

// logLRS is log LR+ as a function of S.
func (m OneSidedMixture) logLRS(s, n float64) float64 {
	z := s / math.Sqrt(n+m.Rho)
	// Phi(z) = erfc(-z/sqrt 2)/2, accurate in the lower tail.
	return math.Ln2 + 0.5*math.Log(m.Rho/(n+m.Rho)) + s*s/(2*(n+m.Rho)) + math.Log(0.5*math.Erfc(-z/math.Sqrt2))
}

// LogLR returns log LR+ for H0: difference <= theta0 given the estimate
// d, its variance v and the effective sample size n.
func (m OneSidedMixture) LogLR(d, theta0, v, n float64) (float64, error) {
	if err := m.check(v, n); err != nil {
		return 0, err
	}
	return m.logLRS((d-theta0)*math.Sqrt(n/v), n), nil
}

// PValue returns min(1, 1/LR+) at this look for H0: difference <= 0.
func (m OneSidedMixture) PValue(d, v, n float64) (float64, error) {
	l, err := m.LogLR(d, 0, v, n)
	if err != nil {
		return 0, err
	}
	return math.Min(1, math.Exp(-l)), nil
}

// Interval returns the lower confidence sequence at this look,
// [d - s* sigma/n, +Inf): its coverage holds simultaneously over all looks.
func (m OneSidedMixture) Interval(d, v, n, alpha float64) (Interval, error) {
	if err := m.check(v, n); err != nil {
		return Interval{}, err
	}
	if err := checkAlpha(alpha); err != nil {
		return Interval{}, err
	}
	target := math.Log(1 / alpha)
	// LR+(0) = sqrt(Rho/(n+Rho)) < 1 < 1/alpha, and at the two-sided
	// boundary LR+ = 2 Phi(.)/alpha >= 1/alpha: the root is in between.
	lo, hi := 0.0, math.Sqrt((n+m.Rho)*math.Log((n+m.Rho)/(m.Rho*alpha*alpha)))
	for range 200 {
		mid := 0.5 * (lo + hi)
		if mid == lo || mid == hi {
			break
		}
		if m.logLRS(mid, n) < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	sigma := math.Sqrt(v * n)
	return Interval{d - hi*sigma/n, math.Inf(1)}, nil
}
