package jsonschema

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// decimal is a JSON number in normal form: value = ±0.digits × 10^point,
// digits without leading or trailing zeros. Comparisons and the integer
// test work on this form, so they are exact for any JSON number and cost
// no big arithmetic for numbers with huge exponents.
type decimal struct {
	s      string // as written
	neg    bool
	digits string // "" for zero
	point  int
}

// parseDecimal parses a JSON number.
func parseDecimal(s string) (decimal, bool) {
	d := decimal{s: s}
	t := s
	if strings.HasPrefix(t, "-") {
		d.neg, t = true, t[1:]
	}
	mant, exp := t, 0
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		mant = t[:i]
		es := strings.TrimPrefix(t[i+1:], "+")
		digits := strings.TrimPrefix(es, "-")
		if digits == "" || strings.Trim(digits, "0123456789") != "" {
			return d, false
		}
		digits = strings.TrimLeft(digits, "0")
		if len(digits) > 9 { // clamp: far beyond maxExponent either way
			exp = 1 << 30
		} else if digits != "" {
			exp, _ = strconv.Atoi(digits)
		}
		if strings.HasPrefix(es, "-") {
			exp = -exp
		}
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" || strings.Trim(intPart, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return d, false
	}
	all := intPart + frac
	point := len(intPart) + exp
	trimmed := strings.TrimLeft(all, "0")
	point -= len(all) - len(trimmed)
	trimmed = strings.TrimRight(trimmed, "0")
	if trimmed == "" {
		return decimal{s: s}, true // zero, whatever its sign
	}
	d.digits, d.point = trimmed, point
	return d, true
}

// toDecimal converts a json.Number or a finite float64.
func toDecimal(v any) (decimal, bool) {
	switch x := v.(type) {
	case json.Number:
		return parseDecimal(x.String())
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return decimal{}, false
		}
		return parseDecimal(strconv.FormatFloat(x, 'g', -1, 64))
	}
	return decimal{}, false
}

func (d decimal) zero() bool { return d.digits == "" }

func (d decimal) sign() int {
	switch {
	case d.zero():
		return 0
	case d.neg:
		return -1
	}
	return 1
}

// huge reports a magnitude beyond 10^±maxExponent, too large or small to
// build exactly.
func (d decimal) huge() bool {
	return !d.zero() && (d.point > maxExponent || d.point < -maxExponent)
}

func (d decimal) isInteger() bool { return d.zero() || d.point >= len(d.digits) }

// rat returns d exactly; d must not be huge.
func (d decimal) rat() *big.Rat {
	if d.zero() {
		return new(big.Rat)
	}
	m, _ := new(big.Int).SetString(d.digits, 10)
	if d.neg {
		m.Neg(m)
	}
	r := new(big.Rat).SetInt(m)
	shift := d.point - len(d.digits)
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(shift))), nil)
	if shift >= 0 {
		return r.Mul(r, new(big.Rat).SetInt(p))
	}
	return r.Quo(r, new(big.Rat).SetInt(p))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// cmp compares d with a bound that is not huge (schema bounds never are).
func (d decimal) cmp(b *big.Rat) int {
	switch {
	case d.zero():
		return -b.Sign()
	case d.huge() && d.point > 0: // beyond any bound
		return d.sign()
	case d.huge(): // nonzero but closer to 0 than any nonzero bound
		if b.Sign() == 0 {
			return d.sign()
		}
		return -b.Sign()
	}
	return d.rat().Cmp(b)
}

func (d decimal) equal(e decimal) bool {
	if d.zero() || e.zero() {
		return d.zero() && e.zero()
	}
	return d.neg == e.neg && d.digits == e.digits && d.point == e.point
}
