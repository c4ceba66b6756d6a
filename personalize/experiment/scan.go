package experiment

import (
	"bytes"
	"strconv"
	"unsafe"
)

// line holds the fields the analysis needs from one JSON event line.
type line struct {
	typ        []byte
	time       []byte
	user       []byte
	experiment []byte
	variant    []byte
	kind       []byte
	name       []byte
	value      float64
	dwellNS    int64
	scroll     float64
	version    int64
	exps       [][2][]byte
}

func (l *line) reset() {
	exps := l.exps[:0]
	*l = line{exps: exps}
}

// scanLine extracts the fields of a line written by personalize.AppendJSON
// without a full decode. It returns false when the line uses anything it
// does not handle (escaped strings in a needed field, unexpected tokens);
// the caller then falls back to personalize.UnmarshalEvent, which either
// decodes the line or reports precisely what is wrong with it. It never
// panics and never retains b beyond the next call.
func scanLine(b []byte, l *line) bool {
	l.reset()
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
			return skipWS(b, i+1) == len(b) && l.version > 0
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
			dst = &l.typ
		case "time":
			dst = &l.time
		case "user_id":
			dst = &l.user
		case "experiment":
			dst = &l.experiment
		case "variant":
			dst = &l.variant
		case "kind":
			dst = &l.kind
		case "name":
			dst = &l.name
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
				l.version = v
			} else {
				l.dwellNS = v
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
				l.value = v
			} else {
				l.scroll = v
			}
			i = j
		case "experiments":
			j, ok := l.scanExperiments(b, i)
			if !ok {
				return false
			}
			i = j
		default:
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

func (l *line) scanExperiments(b []byte, i int) (int, bool) {
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
		l.exps = append(l.exps, pair)
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
	// One pass finds the closing quote and rejects escapes (they are rare
	// and left to the full decoder); short strings dominate event lines.
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '"':
			return b[i+1 : j], j + 1, true
		case '\\':
			return nil, 0, false
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
