package schema

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
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

// An item whose propensity equals the previous item's has its digits
// copied (appendImpression): each must still read as its own value, and
// the line must be the one written digit by digit.
func TestRepeatedPropensities(t *testing.T) {
	for _, props := range [][]float64{
		{0.3, 0.3, 0.3, 0.3},
		{0.3, 0.3, 0.5, 0.5, 0.3, 0.3},
		{1e-5, 1e-5, 0.1 + 0.2, 0.1 + 0.2, 0.45570121850207634, 0.45570121850207634}, // strconv's path
		{0, 0.3, 0, 0.3, 0.3, 0}, // 0 is left out
		{1, 1, 1, 0.25, 1},
		{5e-324, 5e-324, math.Nextafter(1, 0), math.Nextafter(1, 0)},
	} {
		im := &Impression{
			EventID: NewEventID(), RequestID: "r1", Start: time.Unix(1e9, 0), End: time.Unix(1e9, 5),
			Service: "svc", Surface: "home", Model: "m", ModelVersion: "v1",
			UserID: Pseudonym{ID: "u", KeyID: "k"},
		}
		var want bytes.Buffer
		for i, p := range props {
			im.Items = append(im.Items, Item{ID: strconv.Itoa(i), Position: i + 1, Score: 0.5, Propensity: p})
			if p != 0 {
				want.WriteString(`"propensity":` + strconv.FormatFloat(p, 'g', -1, 64) + "}")
			}
		}
		line, err := AppendJSON(nil, Event{Type: EventImpression, Impression: im})
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		for rest := line; ; {
			i := bytes.Index(rest, []byte(`"propensity":`))
			if i < 0 {
				break
			}
			end := bytes.IndexByte(rest[i:], '}')
			got.Write(rest[i : i+end+1])
			rest = rest[i+end+1:]
		}
		if got.String() != want.String() {
			t.Errorf("propensities %v: wrote %s, want %s", props, got.String(), want.String())
		}
		back, err := UnmarshalEvent(line)
		if err != nil {
			t.Fatalf("propensities %v: %v", props, err)
		}
		for i, it := range back.Impression.Items {
			if it.Propensity != props[i] {
				t.Errorf("propensities %v: item %d read back %v", props, i, it.Propensity)
			}
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
