package dp_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/privacy/dp"
)

func newBudget(t *testing.T, eps, delta float64) *dp.Budget {
	t.Helper()
	b, err := dp.NewBudget("test", eps, delta)
	require.NoError(t, err)
	return b
}

// moments returns the sample mean and the unbiased sample variance.
func moments(xs []float64) (mean, variance float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(xs)-1)
}

// TestLaplaceNoiseVariance releases the same counts many times and checks
// the empirical variance of the noise against the Laplace mechanism's.
//
// The Laplace distribution of scale b has variance 2b² and fourth central
// moment 24b⁴ (Dwork and Roth, "The Algorithmic Foundations of
// Differential Privacy", 2014, §3.3; the moments are those of the Laplace
// distribution, e.g. NIST/SEMATECH e-Handbook §1.3.6.6.9, kurtosis 6). The
// sample variance s² of n draws then has variance (μ4 - σ⁴)/n = 20b⁴/n,
// i.e. a relative standard error of √(5/n) around 2b². The test allows 6
// standard errors (a false failure about once in 10⁹ runs by the normal
// approximation).
func TestLaplaceNoiseVariance(t *testing.T) {
	const n = 20000
	const eps = 1.0
	b := newBudget(t, n*eps, 0)
	a, err := dp.New(dp.Config{Budget: b, Epsilon: eps, MaxPartitions: 2, MaxContributions: 3,
		Segments: []string{"s"}})
	require.NoError(t, err)
	const users = 100
	for u := range users {
		require.NoError(t, a.Add(fmt.Sprint("u", u), "s", 0))
	}
	scale, sd := dp.NoiseScale(dp.NoiseLaplace, 2, 3, eps, 0)
	require.Equal(t, 6.0, scale) // b = L0·L∞/ε = 2·3/1
	xs := make([]float64, n)
	for i := range xs {
		tab, err := a.Release()
		require.NoError(t, err)
		require.Len(t, tab.Rows, 1)
		c := tab.Rows[0].Count
		require.Equal(t, scale, c.Scale)
		require.Equal(t, sd, c.StdDev)
		xs[i] = c.Value
	}
	mean, variance := moments(xs)
	want := 2 * scale * scale
	relSE := math.Sqrt(5.0 / n)
	assert.InDelta(t, want, variance, 6*relSE*want, "variance of %d Laplace releases", n)
	assert.InDelta(t, users, mean, 6*math.Sqrt(want/n), "counts are unbiased")
	// The budget was charged once per release and is now spent.
	_, err = a.Release()
	require.ErrorIs(t, err, dp.ErrBudgetSpent)
}

// TestGaussianNoiseVariance does the same for Gaussian noise on sums: the
// sample variance of n normal draws has relative standard error √(2/n)
// (the χ² distribution's variance, 2(n-1) for n-1 degrees of freedom).
// The sigma is the library's analytic calibration (Balle and Wang, ICML
// 2018), which must not exceed the classical bound
// σ = Δ₂·√(2 ln(1.25/δ))/ε (Dwork and Roth 2014, Theorem A.1, valid for
// ε < 1).
func TestGaussianNoiseVariance(t *testing.T) {
	const n = 20000
	const eps, delta = 0.5, 1e-6
	b := newBudget(t, n*eps, 0.5)
	a, err := dp.New(dp.Config{Budget: b, Epsilon: eps, Delta: delta, Noise: dp.NoiseGaussian,
		Metrics: []dp.Metric{dp.MetricSum}, MaxPartitions: 1, Lower: 0, Upper: 5, Segments: []string{"s"}})
	require.NoError(t, err)
	for u := range 50 {
		require.NoError(t, a.Add(fmt.Sprint("u", u), "s", 2))
	}
	sigma, sd := dp.NoiseScale(dp.NoiseGaussian, 1, 5, eps, delta)
	require.Equal(t, sigma, sd)
	classical := 5 * math.Sqrt(2*math.Log(1.25/delta)) / eps
	require.Less(t, sigma, classical)
	require.Greater(t, sigma, 0.5*classical, "analytic sigma is tighter, not that much tighter")
	xs := make([]float64, n)
	for i := range xs {
		tab, err := a.Release()
		require.NoError(t, err)
		xs[i] = tab.Rows[0].Sum.Value
	}
	mean, variance := moments(xs)
	want := sigma * sigma
	assert.InDelta(t, want, variance, 6*math.Sqrt(2.0/n)*want)
	assert.InDelta(t, 100, mean, 6*sigma/math.Sqrt(n))
}

// TestIntervalCoverage checks that the library's 90% intervals contain
// the true count about 90% of the time: the number of hits in n releases
// is binomial(n, 0.9), standard deviation √(n·0.9·0.1); 5 of them allowed.
func TestIntervalCoverage(t *testing.T) {
	const n = 3000
	b := newBudget(t, n, 0)
	a, err := dp.New(dp.Config{Budget: b, Epsilon: 1, MaxPartitions: 1, MaxContributions: 4,
		Segments: []string{"s"}, Alpha: 0.1})
	require.NoError(t, err)
	for u := range 30 {
		for range 2 {
			require.NoError(t, a.Add(fmt.Sprint("u", u), "s", 0))
		}
	}
	hits := 0
	for range n {
		tab, err := a.Release()
		require.NoError(t, err)
		c := tab.Rows[0].Count
		if c.Lower <= 60 && 60 <= c.Upper {
			hits++
		}
	}
	sd := math.Sqrt(n * 0.9 * 0.1)
	assert.InDelta(t, 0.9*n, float64(hits), 5*sd)
}

func TestBudgetConcurrentCharges(t *testing.T) {
	b := newBudget(t, 1, 1e-5)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for range 64 {
		wg.Go(func() {
			err := b.Charge(0.1, 1e-7)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
				return
			}
			var be *dp.BudgetError
			if assert.ErrorAs(t, err, &be) {
				assert.Equal(t, "test", be.Dataset)
				assert.Equal(t, "epsilon", be.Field)
			}
			refused++
		})
	}
	wg.Wait()
	assert.Equal(t, 10, ok, "ten charges of 0.1 fit in epsilon 1, whatever the float rounding")
	assert.Equal(t, 54, refused)
	eps, delta := b.Spent()
	assert.InDelta(t, 1, eps, 1e-12)
	assert.InDelta(t, 1e-6, delta, 1e-18)
	assert.Equal(t, 10, b.Releases())

	// Delta runs out on its own.
	b2 := newBudget(t, 10, 1e-6)
	require.NoError(t, b2.Charge(1, 1e-6))
	err := b2.Charge(1, 1e-7)
	var be *dp.BudgetError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "delta", be.Field)
	require.NoError(t, b2.Charge(1, 0), "a pure-epsilon charge still fits")
}

func TestReleaseRefusedChargesNothing(t *testing.T) {
	b, err := dp.NewBudgetSpent("clicks", 1, 0, 0.75, 0)
	require.NoError(t, err)
	a, err := dp.New(dp.Config{Budget: b, Epsilon: 0.5, MaxPartitions: 1, Segments: []string{"x"}})
	require.NoError(t, err)
	require.NoError(t, a.Add("u", "x", 0))
	tab, err := a.Release()
	require.Nil(t, tab)
	require.ErrorIs(t, err, dp.ErrBudgetSpent)
	require.ErrorContains(t, err, `dataset "clicks"`)
	eps, _ := b.Spent()
	assert.Equal(t, 0.75, eps)
	assert.Equal(t, 0, b.Releases())
}

// release returns the table of a nearly noiseless release (epsilon 1e6:
// Laplace scale about 1e-5 per unit of sensitivity), to observe what
// bounding let through.
func release(t *testing.T, add func(a *dp.Aggregator)) *dp.Table {
	t.Helper()
	b := newBudget(t, 1e7, 0)
	a, err := dp.New(dp.Config{Budget: b, Epsilon: 1e6, MaxPartitions: 2, MaxContributions: 3,
		Metrics: []dp.Metric{dp.MetricCount, dp.MetricSum, dp.MetricMean}, Lower: 0, Upper: 10,
		Segments: []string{"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"}})
	require.NoError(t, err)
	add(a)
	tab, err := a.Release()
	require.NoError(t, err)
	return tab
}

// TestBoundingLimitsOneUser: a user who floods every segment with huge
// values moves at most MaxPartitions segments, each count by at most
// MaxContributions and each sum by at most MaxContributions·Upper.
func TestBoundingLimitsOneUser(t *testing.T) {
	others := func(a *dp.Aggregator) {
		for u := range 40 {
			seg := fmt.Sprint("s", u%10)
			require.NoError(t, a.Add(fmt.Sprint("u", u), seg, 4))
		}
	}
	flood := func(a *dp.Aggregator) {
		for range 100 {
			for s := range 10 {
				require.NoError(t, a.Add("mallory", fmt.Sprint("s", s), 1e9))
			}
		}
	}
	without := release(t, others)
	with := release(t, func(a *dp.Aggregator) { others(a); flood(a) })
	changed := 0
	for i := range with.Rows {
		w, o := with.Rows[i], without.Rows[i]
		require.Equal(t, w.Segment, o.Segment)
		dc := w.Count.Value - o.Count.Value
		ds := w.Sum.Value - o.Sum.Value
		if math.Abs(dc) > 0.5 {
			changed++
			assert.InDelta(t, 3, dc, 0.01, "%s: three contributions kept", w.Segment)
			assert.InDelta(t, 30, ds, 0.01, "%s: each clamped to Upper", w.Segment)
			assert.LessOrEqual(t, w.Mean.Value, 10.0)
		} else {
			assert.InDelta(t, 0, ds, 0.01, w.Segment)
		}
		assert.InDelta(t, 4, o.Count.Value, 0.01)
		assert.InDelta(t, 16, o.Sum.Value, 0.01)
		assert.InDelta(t, 4, o.Mean.Value, 0.01)
	}
	assert.Equal(t, 2, changed, "MaxPartitions segments affected")
}

func TestDropped(t *testing.T) {
	b := newBudget(t, 1, 0)
	a, err := dp.New(dp.Config{Budget: b, Epsilon: 1, MaxPartitions: 1, MaxContributions: 2, Segments: []string{"a", "b"}})
	require.NoError(t, err)
	for range 5 {
		require.NoError(t, a.Add("u", "a", 0))
	}
	require.NoError(t, a.Add("u", "c", 0)) // not a public segment
	require.NoError(t, a.Add("u", "b", 0)) // a second segment: one of a, b goes
	// 3 beyond MaxContributions, 1 outside Segments, and either b (1) or
	// a's 2 kept values.
	assert.Contains(t, []int64{5, 6}, a.Dropped())
	assert.Equal(t, 1, a.Users())
}

func TestPrivatePartitionSelection(t *testing.T) {
	b := newBudget(t, 1, 1e-5)
	a, err := dp.New(dp.Config{Budget: b, Epsilon: 1, Delta: 1e-5, MaxPartitions: 1})
	require.NoError(t, err)
	for u := range 1000 {
		require.NoError(t, a.Add(fmt.Sprint("u", u), "big", 0))
	}
	require.NoError(t, a.Add("lonely", "rare", 0))
	tab, err := a.Release()
	require.NoError(t, err)
	require.Len(t, tab.Rows, 1)
	assert.Equal(t, "big", tab.Rows[0].Segment)
	assert.Equal(t, 1, tab.Suppressed, "a segment of one user is not published")
}

func TestConfigErrors(t *testing.T) {
	b := newBudget(t, 1, 1e-5)
	for _, tt := range []struct {
		name  string
		cfg   dp.Config
		field string
	}{
		{"no budget", dp.Config{Epsilon: 1, MaxPartitions: 1}, "Config.Budget"},
		{"no epsilon", dp.Config{Budget: b, MaxPartitions: 1, Segments: []string{}}, "Config.Epsilon"},
		{"inf epsilon", dp.Config{Budget: b, Epsilon: math.Inf(1), MaxPartitions: 1}, "Config.Epsilon"},
		{"no partitions", dp.Config{Budget: b, Epsilon: 1, Segments: []string{}}, "Config.MaxPartitions"},
		{"negative contributions", dp.Config{Budget: b, Epsilon: 1, MaxPartitions: 1, MaxContributions: -1}, "Config.MaxContributions"},
		{"sum without bounds", dp.Config{Budget: b, Epsilon: 1, MaxPartitions: 1, Metrics: []dp.Metric{dp.MetricSum}, Segments: []string{}}, "Config.Lower"},
		{"inverted bounds", dp.Config{Budget: b, Epsilon: 1, MaxPartitions: 1, Metrics: []dp.Metric{dp.MetricMean}, Lower: 2, Upper: 1, Segments: []string{}}, "Config.Lower"},
		{"metric twice", dp.Config{Budget: b, Epsilon: 1, MaxPartitions: 1, Metrics: []dp.Metric{dp.MetricCount, dp.MetricCount}}, "Config.Metrics[1]"},
		{"unknown noise", dp.Config{Budget: b, Epsilon: 1, MaxPartitions: 1, Noise: 7}, "Config.Noise"},
		{"gaussian without delta", dp.Config{Budget: b, Epsilon: 1, MaxPartitions: 1, Noise: dp.NoiseGaussian, Segments: []string{}}, "Config.Delta"},
		{"laplace public with delta", dp.Config{Budget: b, Epsilon: 1, Delta: 1e-6, MaxPartitions: 1, Segments: []string{"a"}}, "Config.Delta"},
		{"private segments without delta", dp.Config{Budget: b, Epsilon: 1, MaxPartitions: 1}, "Config.Delta"},
		{"segment twice", dp.Config{Budget: b, Epsilon: 1, MaxPartitions: 1, Segments: []string{"a", "a"}}, "Config.Segments[1]"},
		{"alpha", dp.Config{Budget: b, Epsilon: 1, MaxPartitions: 1, Segments: []string{}, Alpha: 1.5}, "Config.Alpha"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dp.New(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
	for _, tt := range []struct {
		name           string
		eps, delta     float64
		wantInMessages string
	}{
		{"zero epsilon", 0, 0, "epsilon"},
		{"NaN epsilon", math.NaN(), 0, "epsilon"},
		{"delta one", 1, 1, "delta"},
	} {
		_, err := dp.NewBudget("d", tt.eps, tt.delta)
		require.Error(t, err, tt.name)
		assert.Contains(t, err.Error(), tt.wantInMessages)
	}
	_, err := dp.NewBudget("", 1, 0)
	require.ErrorContains(t, err, "dataset")
}

func TestAddRefusesBadInput(t *testing.T) {
	b := newBudget(t, 1, 0)
	a, err := dp.New(dp.Config{Budget: b, Epsilon: 1, MaxPartitions: 1, Segments: []string{"s"}, MaxUsers: 1})
	require.NoError(t, err)
	require.ErrorContains(t, a.Add("", "s", 0), "user")
	require.ErrorContains(t, a.Add("u", "s", math.NaN()), "value")
	require.NoError(t, a.Add("u", "s", 0))
	require.ErrorIs(t, a.Add("v", "s", 0), dp.ErrTooManyUsers)
}

func TestConcurrentAddAndRelease(t *testing.T) {
	b := newBudget(t, 100, 0)
	a, err := dp.New(dp.Config{Budget: b, Epsilon: 1, MaxPartitions: 2, Segments: []string{"a", "b"}})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				_ = a.Add(fmt.Sprint(g, "-", i%50), []string{"a", "b"}[i%2], 1)
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			_, err := a.Release()
			assert.NoError(t, err)
		}
	})
	wg.Wait()
	assert.Equal(t, 20, b.Releases())
}

func TestBudgetErrorMessage(t *testing.T) {
	err := error(&dp.BudgetError{Dataset: "d", Field: "epsilon", RequestedEpsilon: 1, RemainingEpsilon: 0.5})
	assert.True(t, errors.Is(err, dp.ErrBudgetSpent))
	assert.Contains(t, err.Error(), "epsilon=1")
}

func TestWriteTextMarksEveryFigure(t *testing.T) {
	tab := release(t, func(a *dp.Aggregator) {
		require.NoError(t, a.Add("u1", "s1", 3))
	})
	var sb strings.Builder
	require.NoError(t, tab.WriteText(&sb))
	out := sb.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 12) // header, column names, 10 segments
	assert.Contains(t, lines[0], "differentially private (laplace noise, epsilon=1e+06, delta=0)")
	assert.Contains(t, lines[0], "values clamped to [0, 10]")
	assert.Equal(t, []string{"segment", "count", "sum", "mean"}, strings.Fields(lines[1]))
	for _, l := range lines[2:] {
		f := strings.Fields(l)
		require.Len(t, f, 7, l) // segment, then value and ± per metric
		for i := 1; i < 7; i += 2 {
			assert.True(t, strings.HasPrefix(f[i], "~"), "figure %q marked", f[i])
			assert.True(t, strings.HasPrefix(f[i+1], "±"), l)
		}
	}
}
