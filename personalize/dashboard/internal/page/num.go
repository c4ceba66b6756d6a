package page

import (
	"math"
	"time"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize/dashboard/panel"
	"github.com/rankscope/rankscope/personalize/experiment/stats"
)

// Finite reports whether v is neither NaN nor infinite.
func Finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Float rounds v to six significant digits (so golden files do not depend on
// the last bits of floating point) and keeps NaN for undefined values.
func Float(v float64) panel.Float {
	if !Finite(v) {
		return panel.Float(math.NaN())
	}
	return panel.Float(Round6(v))
}

// Round6 rounds v to six significant digits; NaN and infinities become 0
// (encoding/json refuses them in a plain float64).
func Round6(v float64) float64 {
	if !Finite(v) || v == 0 {
		return 0
	}
	p := math.Pow(10, 6-math.Ceil(math.Log10(math.Abs(v))))
	if math.IsInf(p, 0) || p == 0 {
		return v
	}
	return math.Round(v*p) / p
}

// Round3 rounds v to three significant digits when |v| is in [1e-3, 1e12);
// NaN and infinities become 0.
func Round3(v float64) float64 {
	if !Finite(v) {
		return 0
	}
	if a := math.Abs(v); a >= 1e-3 && a < 1e12 {
		p := math.Pow(10, 3-math.Ceil(math.Log10(a)))
		return math.Round(v*p) / p
	}
	return v
}

// Millis is d in milliseconds to three significant digits.
func Millis(d time.Duration) float64 { return Round3(float64(d) / float64(time.Millisecond)) }

// Histogram merges sketch buckets into at most n bars with the same number
// of sketch buckets each.
func Histogram(bs []latency.Bucket, n int) []panel.Bucket {
	if len(bs) == 0 {
		return nil
	}
	per := int(math.Ceil(float64(len(bs)) / float64(n)))
	var out []panel.Bucket
	for i := 0; i < len(bs); i += per {
		j := min(i+per, len(bs)) - 1
		b := panel.Bucket{LoMs: Millis(bs[i].Lower), HiMs: Millis(bs[j].Upper)}
		for k := i; k <= j; k++ {
			b.Count += bs[k].Count
		}
		out = append(out, b)
	}
	return out
}

// Rate is k successes in n trials with the 95% Wilson score interval,
// computed by package experiment/stats.
func Rate(k, n int64) panel.Rate {
	r := panel.Rate{Successes: k, Trials: n}
	if n > 0 {
		lo, hi := stats.Wilson(stats.Proportion{Successes: k, Trials: n}, 0.05)
		r.Rate, r.Lo, r.Hi = Round6(float64(k)/float64(n)), Round6(lo), Round6(hi)
	}
	return r
}
