package schema

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// appendFloat's short-decimal path must write exactly what
// strconv.AppendFloat(f, 'g', -1, 64) writes.
func TestAppendFloatMatchesStrconv(t *testing.T) {
	cases := []float64{0, 1, -1, 0.3, 0.85, 0.9 - 0.05*3, 0.1 + 0.2, 1e-4, 1e-5, 0.00012, 999999.9, 1e6, 123456.7,
		0.2571, 0.0289, 19.99, -0.5, 2.5e-4, 0.45570121850207634, 1.0000001, 0.1234567, 0.12345678, 5e-324, math.MaxFloat64}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		k := r.IntN(9)
		n := r.Int64N(10_000_000)
		cases = append(cases, float64(n)/math.Pow(10, float64(k)), r.Float64(), r.NormFloat64()*1000)
	}
	for _, f := range cases {
		if got, want := string(appendFloat(nil, f)), strconv.FormatFloat(f, 'g', -1, 64); got != want {
			t.Fatalf("appendFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

func FuzzAppendFloat(f *testing.F) {
	f.Add(0.85)
	f.Add(0.3)
	f.Add(123456.7)
	f.Fuzz(func(t *testing.T, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		if got, want := string(appendFloat(nil, v)), strconv.FormatFloat(v, 'g', -1, 64); got != want {
			t.Fatalf("appendFloat(%v) = %s, want %s", v, got, want)
		}
	})
}

// Scores come as short decimals (rounded or test data), as float32 model
// outputs widened to float64, and as full float64 sigmoid outputs.
func BenchmarkAppendFloat(b *testing.B) {
	cases := []struct {
		name string
		v    [4]float64
	}{
		{"short", [4]float64{0.85, 0.3, 0.45, 19.99}},
		{"float32", [4]float64{float64(float32(0.4557)), float64(float32(0.0289)), float64(float32(0.91)), float64(float32(0.3))}},
		{"float64", [4]float64{0.45570121850207634, 1 / (1 + math.Exp(-0.7)), 0.028912345678, 0.1 + 0.2}},
	}
	buf := make([]byte, 0, 128)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				buf = buf[:0]
				for _, v := range c.v {
					buf = appendFloat(buf, v)
				}
			}
		})
	}
}
