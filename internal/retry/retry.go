package retry

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy configures exponential backoff. The zero value means the defaults
// documented on each field.
type Policy struct {
	// InitialInterval is the delay before the first retry; default 100ms.
	InitialInterval time.Duration
	// MaxInterval caps a computed delay (not a server's Retry-After);
	// default 5s.
	MaxInterval time.Duration
	// Multiplier grows the delay per attempt; default 2. Must be >= 1.
	Multiplier float64
	// Jitter randomizes each delay by ±Jitter*delay; default 0.2, in [0,1].
	// A negative value disables jitter.
	Jitter float64
	// MaxElapsed bounds the total time spent on one operation, attempts and
	// waits together; default 30s. A negative value means no bound (then
	// MaxAttempts must be set).
	MaxElapsed time.Duration
	// MaxAttempts bounds the number of attempts including the first;
	// 0 means no bound other than MaxElapsed.
	MaxAttempts int
}

// Defaults of [Policy].
const (
	DefaultInitialInterval = 100 * time.Millisecond
	DefaultMaxInterval     = 5 * time.Second
	DefaultMultiplier      = 2
	DefaultJitter          = 0.2
	DefaultMaxElapsed      = 30 * time.Second
)

// Normalize returns p with defaults filled in, or an error naming the first
// bad field (prefixed with field, e.g. "webhook: Config.Retry").
func (p Policy) Normalize(field string) (Policy, error) {
	if p.InitialInterval < 0 {
		return p, fmt.Errorf("%s.InitialInterval: must be >= 0, got %v", field, p.InitialInterval)
	}
	if p.InitialInterval == 0 {
		p.InitialInterval = DefaultInitialInterval
	}
	if p.MaxInterval < 0 {
		return p, fmt.Errorf("%s.MaxInterval: must be >= 0, got %v", field, p.MaxInterval)
	}
	if p.MaxInterval == 0 {
		p.MaxInterval = DefaultMaxInterval
	}
	if p.MaxInterval < p.InitialInterval {
		return p, fmt.Errorf("%s.MaxInterval: must be >= InitialInterval (%v), got %v", field, p.InitialInterval, p.MaxInterval)
	}
	if math.IsNaN(p.Multiplier) || (p.Multiplier != 0 && p.Multiplier < 1) || math.IsInf(p.Multiplier, 0) {
		return p, fmt.Errorf("%s.Multiplier: must be >= 1, got %v", field, p.Multiplier)
	}
	if p.Multiplier == 0 {
		p.Multiplier = DefaultMultiplier
	}
	switch {
	case math.IsNaN(p.Jitter) || p.Jitter > 1:
		return p, fmt.Errorf("%s.Jitter: must be in [0,1], got %v", field, p.Jitter)
	case p.Jitter == 0:
		p.Jitter = DefaultJitter
	case p.Jitter < 0:
		p.Jitter = 0
	}
	if p.MaxAttempts < 0 {
		return p, fmt.Errorf("%s.MaxAttempts: must be >= 0, got %d", field, p.MaxAttempts)
	}
	if p.MaxElapsed == 0 {
		p.MaxElapsed = DefaultMaxElapsed
	}
	if p.MaxElapsed < 0 && p.MaxAttempts == 0 {
		return p, fmt.Errorf("%s.MaxElapsed: negative (unbounded) needs MaxAttempts > 0", field)
	}
	return p, nil
}

// Delay returns the jitter-free delay before retry number n (n >= 1) of a
// normalized policy.
func (p Policy) Delay(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	d := float64(p.InitialInterval) * math.Pow(p.Multiplier, float64(n-1))
	if d > float64(p.MaxInterval) || math.IsInf(d, 0) || math.IsNaN(d) {
		return p.MaxInterval
	}
	return time.Duration(d)
}

// Backoff tracks one retried operation under a normalized policy.
type Backoff struct {
	p       Policy
	start   time.Time
	attempt int // attempts made so far
	now     func() time.Time
	rnd     func() float64
}

// Start begins an operation at now. Pass nil for time.Now and a default
// random source.
func (p Policy) Start(now func() time.Time, rnd func() float64) *Backoff {
	if now == nil {
		now = time.Now
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	return &Backoff{p: p, start: now(), now: now, rnd: rnd}
}

// Attempts returns how many attempts were recorded with [Backoff.Next].
func (b *Backoff) Attempts() int { return b.attempt }

// Next records a failed attempt and returns how long to wait before the
// next one and whether to retry at all. serverDelay is the server's
// Retry-After (0 if none); when set it replaces the computed delay. Next
// gives up when the attempts are exhausted or the wait would end past
// MaxElapsed.
func (b *Backoff) Next(serverDelay time.Duration) (time.Duration, bool) {
	b.attempt++
	if b.p.MaxAttempts > 0 && b.attempt >= b.p.MaxAttempts {
		return 0, false
	}
	d := serverDelay
	if d <= 0 {
		d = b.p.Delay(b.attempt)
		if j := b.p.Jitter; j > 0 {
			d = time.Duration(float64(d) * (1 - j + 2*j*b.rnd()))
		}
	}
	if b.p.MaxElapsed > 0 && b.now().Add(d).Sub(b.start) > b.p.MaxElapsed {
		return 0, false
	}
	return d, true
}

// Sleep waits for d or until ctx is done, returning ctx's error in the
// latter case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// maxRetryAfter bounds a parsed Retry-After so a hostile or broken server
// cannot park a retry loop for years.
const maxRetryAfter = 24 * time.Hour

// ParseRetryAfter parses an HTTP Retry-After value (RFC 9110 §10.2.3):
// either delay-seconds or an HTTP-date, relative to now. It returns false
// for an empty or malformed value. Dates in the past give 0, true. The
// result is capped at 24h.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		for i := 0; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return 0, false
			}
		}
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > int64(maxRetryAfter/time.Second) { // overflow or huge
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		return 0, true
	case d > maxRetryAfter:
		return maxRetryAfter, true
	}
	return d, true
}
