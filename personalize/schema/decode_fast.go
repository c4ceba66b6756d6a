package schema

// Fast paths for the array elements that make up most of an impression:
// items and stages exactly as AppendJSON writes them (its key order, no
// whitespace, strings of printable ASCII without escapes). Anything else,
// including every malformed element, makes the fast path give up; the
// element is then decoded again from its start by the general path, which
// also produces the errors. On the strict subset the fast path accepts,
// the two agree: each field appears once, in order, with a value of its
// type.

// lit consumes s if the line continues with it.
func (d *Decoder) lit(s string) bool {
	if len(d.data)-d.pos >= len(s) && string(d.data[d.pos:d.pos+len(s)]) == s {
		d.pos += len(s)
		return true
	}
	return false
}

// plainString consumes the rest of a string whose opening quote was
// consumed, if it needs no unescaping, appending it to *arena.
func (d *Decoder) plainString(arena *[]byte) (span, bool) {
	start := d.pos
	i := scanSafe(d.data, start)
	if i >= len(d.data) || d.data[i] != '"' {
		return span{}, false
	}
	off := len(*arena)
	*arena = append(*arena, d.data[start:i]...)
	d.pos = i + 1
	return span{uint32(off), uint32(i - start)}, true
}

// plainInt consumes an integer of at most 18 digits without a leading
// zero (or a lone 0), followed by ',' or '}'.
func (d *Decoder) plainInt() (int64, bool) {
	data := d.data
	i := d.pos
	neg := i < len(data) && data[i] == '-'
	if neg {
		i++
	}
	start := i
	var n int64
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		n = n*10 + int64(data[i]-'0')
		i++
	}
	if digits := i - start; digits == 0 || digits > 18 || digits > 1 && data[start] == '0' ||
		i >= len(data) || data[i] != ',' && data[i] != '}' {
		return 0, false
	}
	d.pos = i
	if neg {
		n = -n
	}
	return n, true
}

// plainNumber consumes any number literal as a float64.
func (d *Decoder) plainNumber() (float64, bool) {
	if c := d.peek(); c != '-' && (c < '0' || c > '9') {
		return 0, false
	}
	b, err := d.number()
	if err != nil {
		return 0, false
	}
	return parseFloat(b)
}

// plainFloat consumes a number followed by ',' or '}'. A decimal of at
// most 15 significant digits without exponent is parsed in the same pass
// as it is scanned (parseFloat's fast path); others by plainNumber.
func (d *Decoder) plainFloat() (float64, bool) {
	data := d.data
	i := d.pos
	neg := i < len(data) && data[i] == '-'
	if neg {
		i++
	}
	start := i
	var m uint64
	digits := 0
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		if m != 0 || data[i] != '0' {
			digits++
		}
		m = m*10 + uint64(data[i]-'0')
		i++
	}
	if i == start || i-start > 1 && data[start] == '0' {
		return 0, false
	}
	frac := 0
	if i < len(data) && data[i] == '.' {
		i++
		fstart := i
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			if m != 0 || data[i] != '0' {
				digits++
			}
			m = m*10 + uint64(data[i]-'0')
			i++
		}
		frac = i - fstart
		if frac == 0 {
			return 0, false
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') || digits > 15 || frac >= len(pow10) {
		return d.plainNumber()
	}
	if i >= len(data) || data[i] != ',' && data[i] != '}' {
		return 0, false
	}
	f := float64(m)
	if frac > 0 {
		f /= pow10[frac]
	}
	if neg {
		f = -f
	}
	d.pos = i
	return f, true
}

// fastItem decodes an item object written by AppendJSON.
func (d *Decoder) fastItem(it *wireItemSpans) bool {
	var ok bool
	if !d.lit(`{"id":"`) {
		return false
	}
	if it.id, ok = d.plainString(&d.ids); !ok || !d.lit(`,"position":`) {
		return false
	}
	if it.position, ok = d.plainInt(); !ok || !d.lit(`,"score":`) {
		return false
	}
	if it.score, ok = d.plainFloat(); !ok {
		return false
	}
	it.hasPos, it.hasScore = true, true
	if d.lit(`,"propensity":`) {
		if it.propensity, ok = d.plainFloat(); !ok {
			return false
		}
	}
	if d.lit(`,"category":"`) {
		if it.category, ok = d.plainString(&d.tmp); !ok {
			return false
		}
	}
	if d.lit(`,"provider":"`) {
		if it.provider, ok = d.plainString(&d.tmp); !ok {
			return false
		}
	}
	it.exOff = uint32(len(d.contribs))
	if d.lit(`,"explanation":[`) {
		for {
			c := wireContribSpans{hasValue: true}
			if !d.lit(`{"feature":"`) {
				return false
			}
			if c.feature, ok = d.plainString(&d.tmp); !ok || !d.lit(`,"value":`) {
				return false
			}
			if c.value, ok = d.plainFloat(); !ok || !d.lit("}") {
				return false
			}
			d.contribs = append(d.contribs, c)
			it.exN++
			if d.lit("]") {
				break
			}
			if !d.lit(",") {
				return false
			}
		}
		it.exState = sliceFull
	}
	return d.lit("}")
}

// fastStage decodes a stage object written by AppendJSON.
func (d *Decoder) fastStage(s *wireStageSpans) bool {
	var ok bool
	if !d.lit(`{"name":"`) {
		return false
	}
	if s.name, ok = d.plainString(&d.tmp); !ok || !d.lit(`,"offset_ns":`) {
		return false
	}
	if s.offsetNS, ok = d.plainInt(); !ok || !d.lit(`,"duration_ns":`) {
		return false
	}
	if s.durationNS, ok = d.plainInt(); !ok || !d.lit(`,"status":"`) {
		return false
	}
	if s.status, ok = d.plainString(&d.tmp); !ok {
		return false
	}
	if d.lit(`,"detail":"`) {
		if s.detail, ok = d.plainString(&d.tmp); !ok {
			return false
		}
	}
	return d.lit("}")
}

// mark is a point to rewind to when a fast path gives up.
type mark struct{ pos, ids, tmp int }

func (d *Decoder) mark() mark { return mark{d.pos, len(d.ids), len(d.tmp)} }

func (d *Decoder) rewind(m mark) {
	d.pos, d.ids, d.tmp = m.pos, d.ids[:m.ids], d.tmp[:m.tmp]
}
