package dashboard

import (
	"bytes"
	"math"
	"strconv"
	"time"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize/experiment/stats"
)

// Float is a statistic that may be undefined (a ratio with fewer than two
// groups to compare, a lift over a zero control rate). It marshals to JSON
// null when it is NaN or infinite, and a null reads back as NaN.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if !finite(v) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*f = Float(math.NaN())
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	*f = Float(v)
	return err
}

// Defined reports whether f is a finite number.
func (f Float) Defined() bool { return finite(float64(f)) }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// fl rounds v to six significant digits (so golden files do not depend on
// the last bits of floating point) and keeps NaN for undefined values.
func fl(v float64) Float {
	if !finite(v) {
		return Float(math.NaN())
	}
	return Float(round6(v))
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
func coarsen(bs []latency.Bucket, n int) []Bucket {
	if len(bs) == 0 {
		return nil
	}
	per := int(math.Ceil(float64(len(bs)) / float64(n)))
	var out []Bucket
	for i := 0; i < len(bs); i += per {
		j := min(i+per, len(bs)) - 1
		b := Bucket{LoMs: msOf(bs[i].Lower), HiMs: msOf(bs[j].Upper)}
		for k := i; k <= j; k++ {
			b.Count += bs[k].Count
		}
		out = append(out, b)
	}
	return out
}

// rate is a proportion with its 95% Wilson score interval, computed by
// package experiment/stats.
func rate(k, n int64) Rate {
	r := Rate{Successes: k, Trials: n}
	if n > 0 {
		lo, hi := stats.Wilson(stats.Proportion{Successes: k, Trials: n}, 0.05)
		r.Rate, r.Lo, r.Hi = round6(float64(k)/float64(n)), round6(lo), round6(hi)
	}
	return r
}

// Rate is a proportion with its 95% Wilson score interval.
type Rate struct {
	Successes int64   `json:"successes"`
	Trials    int64   `json:"trials"`
	Rate      float64 `json:"rate"`
	Lo        float64 `json:"lo"`
	Hi        float64 `json:"hi"`
}
