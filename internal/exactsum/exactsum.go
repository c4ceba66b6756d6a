// Package exactsum adds float64 values without rounding, so a sum does not
// depend on the order of its terms and two partial sums merge exactly.
//
// A [Sum] is a fixed-point integer in units of 2^-1074 (the smallest
// subnormal float64) wide enough for every finite float64 and 2^40 times
// the largest: 67 signed 64-bit words of 32 significant bits each (536
// bytes). Adding a float64 adds its 53-bit significand into at most three
// words; carries are propagated once every 2^30 additions and before any
// read, which keeps each word far from overflow. The result is rounded
// once, to nearest even, when it is read with [Sum.Float64]; [Sum.Big]
// gives the exact value.
//
// The mergeable analysis states (experiment sufficient statistics,
// calibration bins) keep their floating-point sums in a Sum so that the
// merge of any split of the data, in any order, is bit for bit the sum of
// one pass. Infinities and NaN are tracked apart: a sum with a NaN, or with
// both infinities, is NaN; otherwise an infinity wins.
//
// A Sum is a value; it is not safe for concurrent use.
package exactsum

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
)

const (
	wordBits = 32
	words    = 67 // bit positions 0 .. 67*32-1 = 2143 above 2^-1074
	mask     = 1<<wordBits - 1
	// carryEvery additions at most may pass between normalizations: each
	// adds less than 2^32 in magnitude to a word, so |word| stays below
	// 2^32 + 2^30*2^32 < 2^63.
	carryEvery = 1 << 30
)

// Special values seen.
const (
	flagNeg    = 1 << iota // the finite part is negative (encoding only)
	flagNaN                // a NaN was added
	flagPosInf             // +Inf was added
	flagNegInf             // -Inf was added
)

// Sum is an exact sum of float64 values. The zero value is 0.
type Sum struct {
	w       [words]int64
	pending uint32 // additions since the last normalization
	special uint8  // flagNaN | flagPosInf | flagNegInf
}

// Add adds x exactly.
func (s *Sum) Add(x float64) {
	b := math.Float64bits(x)
	e := int(b >> 52 & 0x7ff)
	m := b & (1<<52 - 1)
	switch {
	case e == 0x7ff:
		switch {
		case m != 0:
			s.special |= flagNaN
		case b>>63 != 0:
			s.special |= flagNegInf
		default:
			s.special |= flagPosInf
		}
		return
	case e == 0:
		if m == 0 {
			return // ±0
		}
		e = 1 // subnormal: m * 2^(1-1075)
	default:
		m |= 1 << 52
	}
	// x = ±m * 2^(e-1075): the significand's lowest bit is at position e-1
	// above 2^-1074.
	pos := e - 1
	i, sh := pos/wordBits, uint(pos%wordBits)
	lo := m << sh
	hi := m >> (64 - sh) // 0 when sh == 0
	p0, p1, p2 := int64(lo&mask), int64(lo>>wordBits), int64(hi)
	if b>>63 != 0 {
		s.w[i] -= p0
		s.w[i+1] -= p1
		s.w[i+2] -= p2
	} else {
		s.w[i] += p0
		s.w[i+1] += p1
		s.w[i+2] += p2
	}
	s.pending++
	if s.pending >= carryEvery {
		s.normalize()
	}
}

// AddProduct adds a*b exactly: the rounded product and its rounding error
// (math.FMA(a, b, -a*b)) are both added. The error term is exact unless
// the product underflows below about 2^-969, where it may lose bits.
func (s *Sum) AddProduct(a, b float64) {
	p := a * b
	s.Add(p)
	if p != 0 && !math.IsInf(p, 0) && !math.IsNaN(p) {
		s.Add(math.FMA(a, b, -p))
	}
}

// Merge adds o to s exactly.
func (s *Sum) Merge(o *Sum) {
	s.normalize()
	oc := *o
	oc.normalize()
	for i := range s.w {
		s.w[i] += oc.w[i]
	}
	s.pending = 2
	s.special |= o.special
}

// normalize propagates carries: afterwards every word but the top one is
// in [0, 2^32) and the top word carries the sign, so each value has one
// representation.
func (s *Sum) normalize() {
	for i := 0; i < words-1; i++ {
		c := s.w[i] >> wordBits // arithmetic shift: floor division
		s.w[i] -= c << wordBits
		s.w[i+1] += c
	}
	s.pending = 0
}

// IsZero reports whether the sum is exactly 0 with no special values.
func (s *Sum) IsZero() bool {
	if s.special != 0 {
		return false
	}
	s.normalize()
	return s.w == [words]int64{}
}

func (s *Sum) specialValue() (float64, bool) {
	switch {
	case s.special&flagNaN != 0, s.special&(flagPosInf|flagNegInf) == flagPosInf|flagNegInf:
		return math.NaN(), true
	case s.special&flagPosInf != 0:
		return math.Inf(1), true
	case s.special&flagNegInf != 0:
		return math.Inf(-1), true
	}
	return 0, false
}

// Float64 returns the sum rounded once to the nearest float64 (ties to
// even); ±Inf when it is beyond the float64 range.
func (s *Sum) Float64() float64 {
	if v, ok := s.specialValue(); ok {
		return v
	}
	f, _ := s.Big().Float64()
	return f
}

// Big returns the exact finite part of the sum (0 when only special
// values were added; check with [Sum.Float64] first).
func (s *Sum) Big() *big.Float {
	s.normalize()
	var v big.Int
	var t big.Int
	for i := words - 1; i >= 0; i-- {
		v.Lsh(&v, wordBits)
		v.Add(&v, t.SetInt64(s.w[i]))
	}
	f := new(big.Float).SetPrec(words*wordBits + 64).SetInt(&v)
	return f.SetMantExp(f, -1074)
}

// Int64 returns the sum as an integer when it is a whole number in the
// int64 range with no special values.
func (s *Sum) Int64() (int64, bool) {
	if s.special != 0 {
		return 0, false
	}
	i, acc := s.Big().Int64()
	return i, acc == big.Exact
}

// Equal reports whether s and o hold the same value.
func (s *Sum) Equal(o *Sum) bool {
	a, b := *s, *o
	a.normalize()
	b.normalize()
	return a.w == b.w && a.special == b.special
}

// AppendBinary appends the canonical encoding of s: a flags byte, then the
// index of the lowest non-zero word and the number of words as uvarints,
// then the words of the magnitude as uvarints. Equal sums encode to equal
// bytes.
func (s *Sum) AppendBinary(b []byte) []byte {
	s.normalize()
	m := s.w
	flags := s.special
	if m[words-1] < 0 {
		flags |= flagNeg
		for i := range m {
			m[i] = -m[i]
		}
		t := Sum{w: m}
		t.normalize()
		m = t.w
	}
	lo, hi := 0, -1
	for i := range m {
		if m[i] != 0 {
			if hi < 0 {
				lo = i
			}
			hi = i
		}
	}
	b = append(b, flags)
	if hi < 0 {
		return binary.AppendUvarint(binary.AppendUvarint(b, 0), 0)
	}
	b = binary.AppendUvarint(b, uint64(lo))
	b = binary.AppendUvarint(b, uint64(hi-lo+1))
	for _, w := range m[lo : hi+1] {
		b = binary.AppendUvarint(b, uint64(w))
	}
	return b
}

// ErrShort is returned when an encoding ends early.
var ErrShort = errors.New("unexpected end of data")

// Decode reads one encoding written by [Sum.AppendBinary] from the front
// of b and returns the rest. It rejects non-canonical encodings, so a
// decoded Sum re-encodes to the same bytes.
func Decode(b []byte) (Sum, []byte, error) {
	var s Sum
	if len(b) == 0 {
		return s, nil, fmt.Errorf("flags: %w", ErrShort)
	}
	flags := b[0]
	b = b[1:]
	if flags&^(flagNeg|flagNaN|flagPosInf|flagNegInf) != 0 {
		return s, nil, fmt.Errorf("flags: unknown bits %#x", flags)
	}
	lo, b, err := uvarint(b, "low word")
	if err != nil {
		return s, nil, err
	}
	cnt, b, err := uvarint(b, "word count")
	if err != nil {
		return s, nil, err
	}
	if cnt == 0 {
		if lo != 0 || flags&flagNeg != 0 {
			return s, nil, errors.New("words: a zero sum must be encoded with low word 0 and no sign")
		}
		s.special = flags
		return s, b, nil
	}
	if lo >= words || cnt > words-lo {
		return s, nil, fmt.Errorf("words: %d from %d do not fit in %d", cnt, lo, words)
	}
	for i := range int(cnt) {
		var w uint64
		w, b, err = uvarint(b, fmt.Sprintf("word %d", i))
		if err != nil {
			return s, nil, err
		}
		top := int(lo)+i == words-1
		if (!top && w > mask) || (top && w > math.MaxInt64/2) {
			return s, nil, fmt.Errorf("word %d: %d out of range", i, w)
		}
		if (i == 0 || i == int(cnt)-1) && w == 0 {
			return s, nil, fmt.Errorf("word %d: zero at the edge (not canonical)", i)
		}
		s.w[int(lo)+i] = int64(w)
	}
	if flags&flagNeg != 0 {
		for i := range s.w {
			s.w[i] = -s.w[i]
		}
		s.normalize()
	}
	s.special = flags &^ flagNeg
	return s, b, nil
}

// uvarint reads one minimal uvarint (a padded one would make two
// encodings of one value) and names the field in its error.
func uvarint(b []byte, field string) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, fmt.Errorf("%s: %w", field, ErrShort)
	}
	if n != len(binary.AppendUvarint(nil, v)) {
		return 0, nil, fmt.Errorf("%s: not a minimal uvarint", field)
	}
	return v, b[n:], nil
}

// FromFloat64 returns a Sum holding x.
func FromFloat64(x float64) Sum {
	var s Sum
	s.Add(x)
	return s
}
