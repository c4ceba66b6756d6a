package schema

import (
	"bytes"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// Fields is a projection of one event line: the top-level fields most
// analyses group and count by, as raw bytes into the line (valid until the
// line is reused), read without a full decode. Strings are unescaped only
// in the sense that a line containing an escape in a projected field is not
// projected at all (see [Project]).
type Fields struct {
	Version int64
	// Type is the event type name ("impression", "outcome" ...).
	Type, Time, UserID, RequestID, Item []byte
	Experiment, Variant                 []byte // an exposure's
	Kind, Name                          []byte // an outcome's
	Value, ScrollDepth                  float64
	DwellNS                             int64
	// Experiments are an impression's (experiment, variant) pairs.
	Experiments [][2][]byte
}

func (l *Fields) reset() {
	exps := l.Experiments[:0]
	*l = Fields{Experiments: exps}
}

// Project fills f from a line in the plain shape [AppendJSON] writes
// (no escapes in the projected strings, plain numbers), reading only the
// fields of [Fields] and skipping the rest (items and stages are skipped,
// not parsed). It reports false for anything else: the caller then decodes
// the line with [UnmarshalEvent], which either reads it or says precisely
// what is wrong. Project does not validate: a line it accepts may still be
// one UnmarshalEvent rejects, so a reader that must not count invalid
// events decodes instead. It never panics and keeps no reference to line.
// On event files it is several times faster than a full decode.
func Project(line []byte, f *Fields) bool { return scanLine(line, f) }

func scanLine(b []byte, l *Fields) bool {
	l.reset()
	seenExps := false
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i++
	for {
		i = skipWS(b, i)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			return skipWS(b, i+1) == len(b) && l.Version > 0
		}
		if b[i] != '"' {
			return false
		}
		key, j, ok := plainString(b, i)
		if !ok {
			return false
		}
		i = skipWS(b, j)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return false
		}
		var dst *[]byte
		switch string(key) {
		case "type":
			dst = &l.Type
		case "time":
			dst = &l.Time
		case "user_id":
			dst = &l.UserID
		case "experiment":
			dst = &l.Experiment
		case "variant":
			dst = &l.Variant
		case "kind":
			dst = &l.Kind
		case "name":
			dst = &l.Name
		case "request_id":
			dst = &l.RequestID
		case "item":
			dst = &l.Item
		case "schema_version", "dwell_ns":
			n, j, ok := number(b, i)
			if !ok {
				return false
			}
			v, err := strconv.ParseInt(bstr(n), 10, 64)
			if err != nil {
				return false
			}
			if key[0] == 's' {
				l.Version = v
			} else {
				l.DwellNS = v
			}
			i = j
		case "value", "scroll_depth":
			n, j, ok := number(b, i)
			if !ok {
				return false
			}
			v, err := strconv.ParseFloat(bstr(n), 64)
			if err != nil {
				return false
			}
			if key[0] == 'v' {
				l.Value = v
			} else {
				l.ScrollDepth = v
			}
			i = j
		case "experiments":
			if seenExps {
				return false // a repeated array merges in the decoder
			}
			seenExps = true
			j, ok := l.scanExperiments(b, i)
			if !ok {
				return false
			}
			i = j
		default:
			if !plainKey(key) {
				// The decoder matches keys case-insensitively ("USER_ID",
				// "ſervice"); a key AppendJSON would not write goes to it.
				return false
			}
			j, ok := skipValue(b, i, 0)
			if !ok {
				return false
			}
			i = j
		}
		if dst != nil {
			s, j, ok := plainString(b, i)
			if !ok {
				return false
			}
			*dst, i = s, j
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i++
		case '}':
		default:
			return false
		}
	}
}

func (l *Fields) scanExperiments(b []byte, i int) (int, bool) {
	if b[i] != '[' {
		return 0, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '{' {
			return 0, false
		}
		var pair [2][]byte
		i++
		for {
			i = skipWS(b, i)
			key, j, ok := plainString(b, i)
			if !ok {
				return 0, false
			}
			i = skipWS(b, j)
			if i >= len(b) || b[i] != ':' {
				return 0, false
			}
			i = skipWS(b, i+1)
			val, j, ok := plainString(b, i)
			if !ok {
				return 0, false
			}
			switch string(key) {
			case "experiment":
				pair[0] = val
			case "variant":
				pair[1] = val
			}
			i = skipWS(b, j)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == ',' {
				i++
				continue
			}
			if b[i] != '}' {
				return 0, false
			}
			i++
			break
		}
		l.Experiments = append(l.Experiments, pair)
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, false
		}
		if b[i] == ']' {
			return i + 1, true
		}
		if b[i] != ',' {
			return 0, false
		}
		i = skipWS(b, i+1)
	}
}

func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string at b[i] without escapes; it returns the
// contents and the index after the closing quote. Raw control characters
// (invalid JSON, never written by AppendJSON) are not checked for.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	// One pass finds the closing quote and rejects escapes and control
	// bytes (they are rare and left to the full decoder, which owns their
	// rules); short strings dominate event lines. Bytes of 0x80 and above
	// pass only as valid UTF-8: the decoder turns an invalid sequence into
	// U+FFFD, and the projection must return what the decoder would.
	high := false
	for j := i + 1; j < len(b); j++ {
		c := b[j]
		switch {
		case c == '"':
			s := b[i+1 : j]
			if high && !utf8.Valid(s) {
				return nil, 0, false
			}
			return s, j + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		case c >= 0x80:
			high = true
		}
	}
	return nil, 0, false
}

func number(b []byte, i int) ([]byte, int, bool) {
	j := i
	for j < len(b) {
		c := b[j]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			j++
			continue
		}
		break
	}
	if j == i {
		return nil, 0, false
	}
	return b[i:j], j, true
}

// skipValue skips any JSON value; depth bounds nesting.
func skipValue(b []byte, i, depth int) (int, bool) {
	if depth > 32 || i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, true
			}
		}
		return 0, false
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == end {
			return i + 1, true
		}
		for {
			if c == '{' {
				if _, j, ok := skipKey(b, i); ok {
					i = skipWS(b, j)
					if i >= len(b) || b[i] != ':' {
						return 0, false
					}
					i = skipWS(b, i+1)
				} else {
					return 0, false
				}
			}
			j, ok := skipValue(b, i, depth+1)
			if !ok {
				return 0, false
			}
			i = skipWS(b, j)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == end {
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = skipWS(b, i+1)
		}
	case c == 't' && bytes.HasPrefix(b[i:], []byte("true")):
		return i + 4, true
	case c == 'f' && bytes.HasPrefix(b[i:], []byte("false")):
		return i + 5, true
	case c == 'n' && bytes.HasPrefix(b[i:], []byte("null")):
		return i + 4, true
	default:
		_, j, ok := number(b, i)
		return j, ok
	}
}

func skipKey(b []byte, i int) (struct{}, int, bool) {
	j, ok := skipValue(b, i, 32)
	if !ok || b[i] != '"' {
		return struct{}{}, 0, false
	}
	return struct{}{}, j, true
}

// plainKey reports whether k has only the bytes AppendJSON's keys have.
func plainKey(k []byte) bool {
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
