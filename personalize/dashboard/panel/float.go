package panel

import (
	"bytes"
	"math"
	"strconv"
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

// Rate is a proportion with its 95% Wilson score interval.
type Rate struct {
	Successes int64   `json:"successes"`
	Trials    int64   `json:"trials"`
	Rate      float64 `json:"rate"`
	Lo        float64 `json:"lo"`
	Hi        float64 `json:"hi"`
}
