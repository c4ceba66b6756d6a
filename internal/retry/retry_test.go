package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func norm(t *testing.T, p Policy) Policy {
	t.Helper()
	p, err := p.Normalize("test.Policy")
	require.NoError(t, err)
	return p
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name    string
		p       Policy
		wantErr string
	}{
		{"zero is defaults", Policy{}, ""},
		{"negative initial", Policy{InitialInterval: -1}, "test.Policy.InitialInterval: must be >= 0"},
		{"max below initial", Policy{InitialInterval: time.Second, MaxInterval: time.Millisecond}, "test.Policy.MaxInterval: must be >= InitialInterval"},
		{"multiplier below one", Policy{Multiplier: 0.5}, "test.Policy.Multiplier: must be >= 1"},
		{"jitter above one", Policy{Jitter: 1.5}, "test.Policy.Jitter: must be in [0,1]"},
		{"negative attempts", Policy{MaxAttempts: -2}, "test.Policy.MaxAttempts"},
		{"unbounded", Policy{MaxElapsed: -1}, "test.Policy.MaxElapsed"},
		{"unbounded elapsed with attempts", Policy{MaxElapsed: -1, MaxAttempts: 3}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.p.Normalize("test.Policy")
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Positive(t, p.InitialInterval)
			assert.GreaterOrEqual(t, p.MaxInterval, p.InitialInterval)
			assert.GreaterOrEqual(t, p.Multiplier, 1.0)
		})
	}
	p := norm(t, Policy{})
	assert.Equal(t, Policy{InitialInterval: DefaultInitialInterval, MaxInterval: DefaultMaxInterval,
		Multiplier: DefaultMultiplier, Jitter: DefaultJitter, MaxElapsed: DefaultMaxElapsed}, p)
	assert.Zero(t, norm(t, Policy{Jitter: -1}).Jitter)
}

func TestDelay(t *testing.T) {
	p := norm(t, Policy{InitialInterval: 10 * time.Millisecond, MaxInterval: 70 * time.Millisecond, Multiplier: 2})
	want := []time.Duration{10, 20, 40, 70, 70, 70} // ms, capped at MaxInterval
	for i, w := range want {
		assert.Equal(t, w*time.Millisecond, p.Delay(i+1), "retry %d", i+1)
	}
	assert.Equal(t, 70*time.Millisecond, p.Delay(10000), "huge exponent stays capped")
	assert.Equal(t, 10*time.Millisecond, p.Delay(0))
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestBackoffNext(t *testing.T) {
	t.Run("max attempts", func(t *testing.T) {
		p := norm(t, Policy{MaxAttempts: 3, Jitter: -1})
		b := p.Start(nil, nil)
		_, ok := b.Next(0)
		assert.True(t, ok)
		_, ok = b.Next(0)
		assert.True(t, ok)
		_, ok = b.Next(0)
		assert.False(t, ok, "third attempt was the last")
		assert.Equal(t, 3, b.Attempts())
	})
	t.Run("max elapsed", func(t *testing.T) {
		clk := &fakeClock{t: time.Unix(0, 0)}
		p := norm(t, Policy{InitialInterval: time.Second, MaxInterval: time.Second, MaxElapsed: 2500 * time.Millisecond, Jitter: -1})
		b := p.Start(clk.now, nil)
		d, ok := b.Next(0)
		require.True(t, ok)
		assert.Equal(t, time.Second, d)
		clk.t = clk.t.Add(d)
		d, ok = b.Next(0)
		require.True(t, ok)
		clk.t = clk.t.Add(d)
		_, ok = b.Next(0) // would end at 3s > 2.5s
		assert.False(t, ok)
	})
	t.Run("retry-after replaces computed delay", func(t *testing.T) {
		p := norm(t, Policy{InitialInterval: time.Millisecond, MaxInterval: time.Millisecond})
		b := p.Start(nil, nil)
		d, ok := b.Next(3 * time.Second)
		require.True(t, ok)
		assert.Equal(t, 3*time.Second, d, "server delay is not shortened or capped by MaxInterval")
	})
	t.Run("retry-after beyond budget gives up", func(t *testing.T) {
		p := norm(t, Policy{MaxElapsed: time.Second})
		_, ok := p.Start(nil, nil).Next(2 * time.Second)
		assert.False(t, ok)
	})
	t.Run("jitter bounds", func(t *testing.T) {
		p := norm(t, Policy{InitialInterval: 100 * time.Millisecond, MaxInterval: 100 * time.Millisecond, Jitter: 0.5, MaxElapsed: -1, MaxAttempts: 100})
		for _, r := range []float64{0, 0.25, 0.5, 0.999} {
			b := p.Start(nil, func() float64 { return r })
			d, ok := b.Next(0)
			require.True(t, ok)
			want := time.Duration(float64(100*time.Millisecond) * (0.5 + r))
			assert.Equal(t, want, d, "rnd=%v", r)
		}
	})
}

func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, Sleep(ctx, time.Hour), context.Canceled)
	assert.NoError(t, Sleep(context.Background(), time.Millisecond))
	assert.NoError(t, Sleep(context.Background(), 0))
	assert.True(t, errors.Is(Sleep(ctx, 0), context.Canceled))
}

func TestParseRetryAfter(t *testing.T) {
	// The two forms are the examples of RFC 9110 §10.2.3.
	now := time.Date(1999, 12, 31, 23, 57, 59, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 120 * time.Second, true},
		{" 0 ", 0, true},
		{"Fri, 31 Dec 1999 23:59:59 GMT", 2 * time.Minute, true},
		{"Fri, 31 Dec 1999 23:00:00 GMT", 0, true}, // in the past
		{"99999999999999999999999", 24 * time.Hour, true},
		{"100000", 24 * time.Hour, true},
		{"", 0, false},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"12abc", 0, false},
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, ok := ParseRetryAfter(tt.in, now)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, d)
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Fri, 31 Dec 1999 23:59:59 GMT", "", "-1", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "9999999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, now)
		if !ok && d != 0 {
			t.Fatalf("%q: not ok but delay %v", s, d)
		}
		if d < 0 || d > 24*time.Hour {
			t.Fatalf("%q: delay %v out of [0,24h]", s, d)
		}
	})
}
