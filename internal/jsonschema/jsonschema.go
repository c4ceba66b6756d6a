package jsonschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Schema is a compiled schema. It is immutable and safe for concurrent use.
type Schema struct {
	root *node
}

// node is one compiled (sub)schema.
type node struct {
	loc string // schema location, a JSON Pointer into the schema document

	always *bool // set for the boolean schemas true and false

	types      []string
	required   []string
	properties map[string]*node
	additional *node // nil: any additional property is allowed
	items      *node
	minItems   int
	maxItems   int // -1: no bound

	enum     []any
	hasEnum  bool
	constant any
	hasConst bool

	minimum, maximum, exclMinimum, exclMaximum *big.Rat
	multipleOf                                 *big.Rat

	minLength int
	maxLength int // -1: no bound
	pattern   *regexp.Regexp
	format    string

	allOf, anyOf, oneOf []*node
	not                 *node
	ifN, thenN, elseN   *node
	dependentRequired   map[string][]string

	ref    string
	target *node // resolved ref
}

// annotations are keywords that carry no assertion here.
var annotations = map[string]bool{
	"$schema": true, "$id": true, "$comment": true, "title": true, "description": true,
	"examples": true, "default": true, "deprecated": true, "readOnly": true, "writeOnly": true,
	"$defs": true,
}

// Compile parses a schema document. Keywords outside the supported subset
// (see the package documentation) are an error, so a schema never passes
// an instance because a keyword was silently ignored.
func Compile(data []byte) (*Schema, error) {
	v, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("jsonschema: schema: %w", err)
	}
	c := &compiler{defs: map[string]*node{}}
	if m, ok := v.(map[string]any); ok {
		if defs, ok := m["$defs"]; ok {
			dm, ok := defs.(map[string]any)
			if !ok {
				return nil, &SchemaError{Loc: "/$defs", Msg: "must be an object"}
			}
			for _, name := range sortedKeys(dm) {
				n, err := c.compile(dm[name], "/$defs/"+escapePointer(name))
				if err != nil {
					return nil, err
				}
				c.defs[name] = n
			}
		}
	}
	root, err := c.compile(v, "")
	if err != nil {
		return nil, err
	}
	for _, n := range c.refs {
		switch {
		case n.ref == "#":
			n.target = root
		case strings.HasPrefix(n.ref, "#/$defs/"):
			name := unescapePointer(strings.TrimPrefix(n.ref, "#/$defs/"))
			t, ok := c.defs[name]
			if !ok {
				return nil, &SchemaError{Loc: n.loc + "/$ref", Msg: fmt.Sprintf("unknown definition %q", n.ref)}
			}
			n.target = t
		default:
			return nil, &SchemaError{Loc: n.loc + "/$ref", Msg: fmt.Sprintf("only \"#\" and \"#/$defs/<name>\" are supported, got %q", n.ref)}
		}
	}
	return &Schema{root: root}, nil
}

// MustCompile is like [Compile] but panics on error; for schemas known at
// build time.
func MustCompile(data []byte) *Schema {
	s, err := Compile(data)
	if err != nil {
		panic(err)
	}
	return s
}

type compiler struct {
	defs map[string]*node
	refs []*node // nodes with a $ref, resolved once everything is compiled
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (c *compiler) compile(v any, loc string) (*node, error) {
	n := &node{loc: loc, maxItems: -1, maxLength: -1}
	switch s := v.(type) {
	case bool:
		n.always = &s
		return n, nil
	case map[string]any:
		for _, k := range sortedKeys(s) {
			if err := c.keyword(n, k, s[k], loc+"/"+escapePointer(k)); err != nil {
				return nil, err
			}
		}
		return n, nil
	}
	return nil, &SchemaError{Loc: loc, Msg: "a schema must be an object or a boolean"}
}

func locOrRoot(loc string) string {
	if loc == "" {
		return "(root)"
	}
	return loc
}

func (c *compiler) keyword(n *node, k string, v any, loc string) error {
	bad := func(format string, args ...any) error {
		return &SchemaError{Loc: loc, Msg: fmt.Sprintf(format, args...)}
	}
	var err error
	switch k {
	case "type":
		switch t := v.(type) {
		case string:
			n.types = []string{t}
		case []any:
			for _, x := range t {
				s, ok := x.(string)
				if !ok {
					return bad("must be a string or an array of strings")
				}
				n.types = append(n.types, s)
			}
		default:
			return bad("must be a string or an array of strings")
		}
		for _, t := range n.types {
			switch t {
			case "null", "boolean", "object", "array", "number", "integer", "string":
			default:
				return bad("unknown type %q", t)
			}
		}
	case "required":
		if n.required, err = stringList(v); err != nil {
			return bad("%v", err)
		}
	case "properties":
		m, ok := v.(map[string]any)
		if !ok {
			return bad("must be an object")
		}
		n.properties = map[string]*node{}
		for _, name := range sortedKeys(m) {
			if n.properties[name], err = c.compile(m[name], loc+"/"+escapePointer(name)); err != nil {
				return err
			}
		}
	case "additionalProperties":
		n.additional, err = c.compile(v, loc)
	case "items":
		n.items, err = c.compile(v, loc)
	case "minItems":
		n.minItems, err = count(v)
	case "maxItems":
		n.maxItems, err = count(v)
	case "enum":
		a, ok := v.([]any)
		if !ok {
			return bad("must be an array")
		}
		n.enum, n.hasEnum = a, true
	case "const":
		n.constant, n.hasConst = v, true
	case "minimum":
		n.minimum, err = bound(v)
	case "maximum":
		n.maximum, err = bound(v)
	case "exclusiveMinimum":
		n.exclMinimum, err = bound(v)
	case "exclusiveMaximum":
		n.exclMaximum, err = bound(v)
	case "multipleOf":
		if n.multipleOf, err = bound(v); err == nil && n.multipleOf.Sign() <= 0 {
			err = errors.New("must be > 0")
		}
	case "minLength":
		n.minLength, err = count(v)
	case "maxLength":
		n.maxLength, err = count(v)
	case "pattern":
		s, ok := v.(string)
		if !ok {
			return bad("must be a string")
		}
		if n.pattern, err = regexp.Compile(s); err != nil {
			return bad("%v (Go RE2 syntax)", err)
		}
	case "format":
		s, ok := v.(string)
		if !ok {
			return bad("must be a string")
		}
		if _, known := formats[s]; !known {
			return bad("unsupported format %q", s)
		}
		n.format = s
	case "allOf", "anyOf", "oneOf":
		a, ok := v.([]any)
		if !ok || len(a) == 0 {
			return bad("must be a non-empty array of schemas")
		}
		list := make([]*node, len(a))
		for i, x := range a {
			if list[i], err = c.compile(x, loc+"/"+strconv.Itoa(i)); err != nil {
				return err
			}
		}
		switch k {
		case "allOf":
			n.allOf = list
		case "anyOf":
			n.anyOf = list
		default:
			n.oneOf = list
		}
	case "not":
		n.not, err = c.compile(v, loc)
	case "if":
		n.ifN, err = c.compile(v, loc)
	case "then":
		n.thenN, err = c.compile(v, loc)
	case "else":
		n.elseN, err = c.compile(v, loc)
	case "dependentRequired":
		m, ok := v.(map[string]any)
		if !ok {
			return bad("must be an object of string arrays")
		}
		n.dependentRequired = map[string][]string{}
		for name, x := range m {
			if n.dependentRequired[name], err = stringList(x); err != nil {
				return bad("%s: %v", name, err)
			}
		}
	case "$ref":
		s, ok := v.(string)
		if !ok {
			return bad("must be a string")
		}
		n.ref = s
		c.refs = append(c.refs, n)
	default:
		if annotations[k] {
			return nil
		}
		return bad("unsupported keyword")
	}
	if err != nil {
		if _, nested := err.(*SchemaError); nested {
			return err
		}
		return bad("%v", err)
	}
	return nil
}

// SchemaError is a schema that does not compile, at schema location Loc.
type SchemaError struct {
	Loc string // JSON Pointer into the schema document
	Msg string
}

func (e *SchemaError) Error() string { return "jsonschema: " + locOrRoot(e.Loc) + ": " + e.Msg }

func stringList(v any) ([]string, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, errors.New("must be an array of strings")
	}
	out := make([]string, len(a))
	for i, x := range a {
		s, ok := x.(string)
		if !ok {
			return nil, errors.New("must be an array of strings")
		}
		out[i] = s
	}
	return out, nil
}

func count(v any) (int, error) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, errors.New("must be a non-negative integer")
	}
	i, err := strconv.ParseInt(num.String(), 10, 32)
	if err != nil || i < 0 {
		return 0, errors.New("must be a non-negative integer")
	}
	return int(i), nil
}

// maxExponent bounds the decimal exponent of numbers compared exactly;
// beyond it a number is compared by sign and magnitude class only.
const maxExponent = 1000

func bound(v any) (*big.Rat, error) {
	num, ok := v.(json.Number)
	if !ok {
		return nil, errors.New("must be a number")
	}
	d, ok := parseDecimal(num.String())
	if !ok || d.huge() {
		return nil, fmt.Errorf("number %s out of the supported range", num)
	}
	return d.rat(), nil
}

// decode parses one JSON value with numbers kept as json.Number.
func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

// Failure is one way an instance violates a schema.
type Failure struct {
	// InstancePath is a JSON Pointer to the offending value ("" for the
	// whole document).
	InstancePath string
	// Keyword is the schema location of the failed keyword, e.g.
	// "/properties/items/items/properties/position/minimum".
	Keyword string
	Message string
}

func (f Failure) String() string {
	return fmt.Sprintf("%s: %s (%s)", locOrRoot(f.InstancePath), f.Message, f.Keyword)
}

// ValidationError lists every failure of an instance.
type ValidationError struct {
	Failures []Failure
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("jsonschema: ")
	for i, f := range e.Failures {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.String())
	}
	return b.String()
}

// Validate parses instance as one JSON document and validates it. It
// returns a *[ValidationError] listing the failures, or a syntax error.
func (s *Schema) Validate(instance []byte) error {
	v, err := decode(instance)
	if err != nil {
		return fmt.Errorf("jsonschema: instance: %w", err)
	}
	return s.ValidateValue(v)
}

// ValidateValue validates a decoded value: nil, bool, json.Number (or
// float64), string, []any or map[string]any, as decoding with
// json.Decoder.UseNumber yields.
func (s *Schema) ValidateValue(v any) error {
	vs := &validator{}
	vs.validate(s.root, v, "")
	if len(vs.failures) > 0 {
		return &ValidationError{Failures: vs.failures}
	}
	return nil
}

// maxDepth bounds recursion (through $ref, nested instances), so a
// self-referencing schema fails instead of recursing forever.
const maxDepth = 512

type validator struct {
	failures []Failure
	depth    int
}

func (vs *validator) fail(n *node, kw, path, format string, args ...any) {
	vs.failures = append(vs.failures, Failure{InstancePath: path, Keyword: n.loc + "/" + kw, Message: fmt.Sprintf(format, args...)})
}

// ok reports whether v validates against n, without recording failures.
func (vs *validator) ok(n *node, v any, path string) bool {
	sub := &validator{depth: vs.depth}
	sub.validate(n, v, path)
	return len(sub.failures) == 0
}

func (vs *validator) validate(n *node, v any, path string) {
	vs.depth++
	defer func() { vs.depth-- }()
	if vs.depth > maxDepth {
		vs.fail(n, "", path, "schema recursion deeper than %d", maxDepth)
		return
	}
	if n.always != nil {
		if !*n.always {
			vs.fail(n, "", path, "no value is allowed here")
		}
		return
	}
	if n.target != nil {
		vs.validate(n.target, v, path)
	}
	if len(n.types) > 0 && !slices.ContainsFunc(n.types, func(t string) bool { return hasType(v, t) }) {
		vs.fail(n, "type", path, "got %s, want %s", typeName(v), strings.Join(n.types, " or "))
		return // the other keywords would only repeat the mismatch
	}
	if n.hasConst && !equal(v, n.constant) {
		vs.fail(n, "const", path, "must be %s", show(n.constant))
	}
	if n.hasEnum && !slices.ContainsFunc(n.enum, func(e any) bool { return equal(v, e) }) {
		vs.fail(n, "enum", path, "got %s, want one of %s", show(v), show(n.enum))
	}
	switch x := v.(type) {
	case map[string]any:
		vs.object(n, x, path)
	case []any:
		if len(x) < n.minItems {
			vs.fail(n, "minItems", path, "%d items, want at least %d", len(x), n.minItems)
		}
		if n.maxItems >= 0 && len(x) > n.maxItems {
			vs.fail(n, "maxItems", path, "%d items, want at most %d", len(x), n.maxItems)
		}
		if n.items != nil {
			for i, e := range x {
				vs.validate(n.items, e, path+"/"+strconv.Itoa(i))
			}
		}
	case string:
		if n.minLength > 0 || n.maxLength >= 0 {
			l := utf8.RuneCountInString(x)
			if l < n.minLength {
				vs.fail(n, "minLength", path, "length %d, want at least %d", l, n.minLength)
			}
			if n.maxLength >= 0 && l > n.maxLength {
				vs.fail(n, "maxLength", path, "length %d, want at most %d", l, n.maxLength)
			}
		}
		if n.pattern != nil && !n.pattern.MatchString(x) {
			vs.fail(n, "pattern", path, "%q does not match %s", x, n.pattern)
		}
		if n.format != "" && !formats[n.format](x) {
			vs.fail(n, "format", path, "%q is not a valid %s", x, n.format)
		}
	case json.Number, float64:
		vs.number(n, x, path)
	}
	for _, s := range n.allOf {
		vs.validate(s, v, path)
	}
	if len(n.anyOf) > 0 && !slices.ContainsFunc(n.anyOf, func(s *node) bool { return vs.ok(s, v, path) }) {
		vs.fail(n, "anyOf", path, "matches none of %d alternatives", len(n.anyOf))
	}
	if len(n.oneOf) > 0 {
		matched := 0
		for _, s := range n.oneOf {
			if vs.ok(s, v, path) {
				matched++
			}
		}
		if matched != 1 {
			vs.fail(n, "oneOf", path, "matches %d of %d alternatives, want exactly 1", matched, len(n.oneOf))
		}
	}
	if n.not != nil && vs.ok(n.not, v, path) {
		vs.fail(n, "not", path, "must not match the schema at %s", n.not.loc)
	}
	if n.ifN != nil {
		if vs.ok(n.ifN, v, path) {
			if n.thenN != nil {
				vs.validate(n.thenN, v, path)
			}
		} else if n.elseN != nil {
			vs.validate(n.elseN, v, path)
		}
	}
}

func (vs *validator) object(n *node, x map[string]any, path string) {
	for _, r := range n.required {
		if _, ok := x[r]; !ok {
			vs.fail(n, "required", path, "missing property %q", r)
		}
	}
	for _, k := range sortedKeys(x) {
		p := path + "/" + escapePointer(k)
		if s, ok := n.properties[k]; ok {
			vs.validate(s, x[k], p)
		} else if n.additional != nil {
			if n.additional.always != nil && !*n.additional.always {
				vs.fail(n, "additionalProperties", p, "property %q is not allowed", k)
			} else {
				vs.validate(n.additional, x[k], p)
			}
		}
		for _, dep := range n.dependentRequired[k] {
			if _, ok := x[dep]; !ok {
				vs.fail(n, "dependentRequired", path, "property %q requires %q", k, dep)
			}
		}
	}
}

func (vs *validator) number(n *node, v any, path string) {
	d, ok := toDecimal(v)
	if !ok {
		vs.fail(n, "type", path, "unparsable number %v", v)
		return
	}
	check := func(b *big.Rat, kw string, okCmp func(int) bool, rel string) {
		if b != nil && !okCmp(d.cmp(b)) {
			vs.fail(n, kw, path, "%s must be %s %s", d.s, rel, b.RatString())
		}
	}
	check(n.minimum, "minimum", func(c int) bool { return c >= 0 }, ">=")
	check(n.maximum, "maximum", func(c int) bool { return c <= 0 }, "<=")
	check(n.exclMinimum, "exclusiveMinimum", func(c int) bool { return c > 0 }, ">")
	check(n.exclMaximum, "exclusiveMaximum", func(c int) bool { return c < 0 }, "<")
	if n.multipleOf != nil {
		if d.huge() || !new(big.Rat).Quo(d.rat(), n.multipleOf).IsInt() {
			vs.fail(n, "multipleOf", path, "%s is not a multiple of %s", d.s, n.multipleOf.RatString())
		}
	}
}

func hasType(v any, t string) bool {
	switch x := v.(type) {
	case nil:
		return t == "null"
	case bool:
		return t == "boolean"
	case string:
		return t == "string"
	case []any:
		return t == "array"
	case map[string]any:
		return t == "object"
	case json.Number, float64:
		if t == "number" {
			return true
		}
		if t == "integer" {
			d, ok := toDecimal(x)
			return ok && d.isInteger()
		}
	}
	return false
}

func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number, float64:
		if d, ok := toDecimal(x); ok && d.isInteger() {
			return "integer"
		}
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

// equal is JSON equality: numbers by value, objects by members, arrays
// element-wise.
func equal(a, b any) bool {
	switch x := a.(type) {
	case json.Number, float64:
		da, ok1 := toDecimal(x)
		db, ok2 := toDecimal(b)
		return ok1 && ok2 && da.equal(db)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equal(xv, yv) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}
