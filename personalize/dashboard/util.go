package dashboard

import (
	"math"
	"time"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize/dashboard/panel"
	"github.com/rankscope/rankscope/personalize/experiment/stats"
)

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// fl rounds v to six significant digits (so golden files do not depend on
// the last bits of floating point) and keeps NaN for undefined values.
func fl(v float64) panel.Float {
	if !finite(v) {
		return panel.Float(math.NaN())
	}
	return panel.Float(round6(v))
}

func round6(v float64) float64 {
	if !finite(v) || v == 0 {
		return 0
	}
	p := math.Pow(10, 6-math.Ceil(math.Log10(math.Abs(v))))
	if math.IsInf(p, 0) || p == 0 {
		return v
	}
	return math.Round(v*p) / p
}

func round3(v float64) float64 {
	if !finite(v) {
		return 0
	}
	if a := math.Abs(v); a >= 1e-3 && a < 1e12 {
		p := math.Pow(10, 3-math.Ceil(math.Log10(a)))
		return math.Round(v*p) / p
	}
	return v
}

func msOf(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

// coarsen merges sketch buckets into at most n bars with the same number
// of sketch buckets each.
func coarsen(bs []latency.Bucket, n int) []panel.Bucket {
	if len(bs) == 0 {
		return nil
	}
	per := int(math.Ceil(float64(len(bs)) / float64(n)))
	var out []panel.Bucket
	for i := 0; i < len(bs); i += per {
		j := min(i+per, len(bs)) - 1
		b := panel.Bucket{LoMs: msOf(bs[i].Lower), HiMs: msOf(bs[j].Upper)}
		for k := i; k <= j; k++ {
			b.Count += bs[k].Count
		}
		out = append(out, b)
	}
	return out
}

// rate is a proportion with its 95% Wilson score interval, computed by
// package experiment/stats.
func rate(k, n int64) panel.Rate {
	r := panel.Rate{Successes: k, Trials: n}
	if n > 0 {
		lo, hi := stats.Wilson(stats.Proportion{Successes: k, Trials: n}, 0.05)
		r.Rate, r.Lo, r.Hi = round6(float64(k)/float64(n)), round6(lo), round6(hi)
	}
	return r
}
