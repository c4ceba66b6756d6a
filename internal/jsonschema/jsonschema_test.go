package jsonschema

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cases follow the semantics of JSON Schema draft 2020-12
// (json-schema.org/draft/2020-12/json-schema-validation): e.g. 1.0 is an
// integer (section 6.1.1), exclusiveMinimum is a number (6.2.5), string
// lengths count code points (6.3.1), patterns are not anchored (6.3.3).
func TestKeywords(t *testing.T) {
	for _, tc := range []struct {
		schema, instance string
		valid            bool
		keyword          string // expected failing keyword suffix when invalid
	}{
		{`{"type":"integer"}`, `1`, true, ""},
		{`{"type":"integer"}`, `1.0`, true, ""},
		{`{"type":"integer"}`, `1e2`, true, ""},
		{`{"type":"integer"}`, `1.5`, false, "/type"},
		{`{"type":"integer"}`, `12345678901234567890123`, true, ""},
		{`{"type":"integer"}`, `1e-400`, false, "/type"},
		{`{"type":"integer"}`, `"1"`, false, "/type"},
		{`{"type":"number"}`, `-0.5e-3`, true, ""},
		{`{"type":["string","null"]}`, `null`, true, ""},
		{`{"type":["string","null"]}`, `true`, false, "/type"},
		{`{"type":"object"}`, `[]`, false, "/type"},
		{`{"type":"array"}`, `[]`, true, ""},
		{`{"type":"boolean"}`, `false`, true, ""},
		{`{"required":["a","b"]}`, `{"a":1}`, false, "/required"},
		{`{"required":["a"]}`, `[1]`, true, ""}, // applies to objects only
		{`{"properties":{"a":{"type":"string"}}}`, `{"a":"x","b":1}`, true, ""},
		{`{"properties":{"a":{"type":"string"}}}`, `{"a":1}`, false, "/properties/a/type"},
		{`{"properties":{"a":true},"additionalProperties":false}`, `{"a":1,"b":2}`, false, "/additionalProperties"},
		{`{"additionalProperties":{"type":"string"}}`, `{"x":"1","y":"2"}`, true, ""},
		{`{"additionalProperties":{"type":"string"}}`, `{"x":"1","y":2}`, false, "/additionalProperties/type"},
		{`{"dependentRequired":{"k":["id"]}}`, `{"k":1}`, false, "/dependentRequired"},
		{`{"dependentRequired":{"k":["id"]}}`, `{"k":1,"id":2}`, true, ""},
		{`{"items":{"minimum":1}}`, `[1,2,0]`, false, "/items/minimum"},
		{`{"minItems":1,"maxItems":2}`, `[]`, false, "/minItems"},
		{`{"minItems":1,"maxItems":2}`, `[1,2,3]`, false, "/maxItems"},
		{`{"enum":["ok","error"]}`, `"error"`, true, ""},
		{`{"enum":["ok","error"]}`, `"unknown"`, false, "/enum"},
		{`{"enum":[1,{"a":[1]}]}`, `{"a":[1.0]}`, true, ""},
		{`{"const":1}`, `1.0`, true, ""},
		{`{"const":1}`, `10e-1`, true, ""},
		{`{"const":1}`, `2`, false, "/const"},
		{`{"const":"a"}`, `"b"`, false, "/const"},
		{`{"const":true}`, `1`, false, "/const"},
		{`{"minimum":1}`, `1`, true, ""},
		{`{"minimum":1}`, `0.99999999999999999999`, false, "/minimum"},
		{`{"exclusiveMinimum":0,"maximum":1}`, `0`, false, "/exclusiveMinimum"},
		{`{"exclusiveMinimum":0,"maximum":1}`, `1e-500`, true, ""},
		{`{"exclusiveMinimum":0,"maximum":1}`, `1`, true, ""},
		{`{"exclusiveMinimum":0,"maximum":1}`, `1.0000000000000000001`, false, "/maximum"},
		{`{"maximum":9223372036854775807}`, `9223372036854775808`, false, "/maximum"},
		{`{"maximum":9223372036854775807}`, `1e999999999999`, false, "/maximum"},
		{`{"minimum":0}`, `-1e999999999999`, false, "/minimum"},
		{`{"exclusiveMaximum":0}`, `-1e-99999`, true, ""},
		{`{"multipleOf":0.01}`, `19.99`, true, ""},
		{`{"multipleOf":0.01}`, `19.991`, false, "/multipleOf"},
		{`{"minLength":3,"maxLength":3}`, `"EUR"`, true, ""},
		{`{"minLength":3,"maxLength":3}`, `"€€€"`, true, ""}, // code points, not bytes
		{`{"minLength":3,"maxLength":3}`, `"EURO"`, false, "/maxLength"},
		{`{"minLength":1}`, `""`, false, "/minLength"},
		{`{"pattern":"b+"}`, `"abbc"`, true, ""},
		{`{"pattern":"^b+$"}`, `"abbc"`, false, "/pattern"},
		{`{"format":"uuid"}`, `"0193a6f1-7c2e-7d4b-8a1f-0123456789ab"`, true, ""},
		{`{"format":"uuid"}`, `"0193a6f17c2e7d4b8a1f0123456789ab"`, false, "/format"},
		{`{"format":"date-time"}`, `"2026-11-02T09:00:00.123456789Z"`, true, ""},
		{`{"format":"date-time"}`, `"1990-12-31T15:59:60-08:00"`, true, ""}, // RFC 3339 5.8 example, leap second
		{`{"format":"date-time"}`, `"2024-02-29T00:00:00z"`, true, ""},
		{`{"format":"date-time"}`, `"2026-02-29T00:00:00Z"`, false, "/format"},
		{`{"format":"date-time"}`, `"2026-11-02 09:00:00Z"`, false, "/format"},
		{`{"format":"date-time"}`, `"2026-11-02T24:00:00Z"`, false, "/format"},
		{`{"format":"date-time"}`, `"2026-11-02T09:00:00+24:00"`, false, "/format"},
		{`{"format":"date-time"}`, `"2026-11-02T09:00:00"`, false, "/format"},
		{`{"format":"date-time"}`, `12`, true, ""}, // formats apply to strings only
		{`{"anyOf":[{"required":["a"]},{"required":["b"]}]}`, `{"b":1}`, true, ""},
		{`{"anyOf":[{"required":["a"]},{"required":["b"]}]}`, `{"c":1}`, false, "/anyOf"},
		{`{"oneOf":[{"minimum":0},{"maximum":10}]}`, `5`, false, "/oneOf"},
		{`{"oneOf":[{"minimum":0},{"maximum":10}]}`, `11`, true, ""},
		{`{"allOf":[{"minimum":0},{"maximum":10}]}`, `11`, false, "/allOf/1/maximum"},
		{`{"not":{"type":"string"}}`, `"x"`, false, "/not"},
		{`{"if":{"properties":{"kind":{"const":"click"}},"required":["kind"]},"then":{"required":["item"]},"else":{"required":["name"]}}`, `{"kind":"click"}`, false, "/then/required"},
		{`{"if":{"properties":{"kind":{"const":"click"}},"required":["kind"]},"then":{"required":["item"]},"else":{"required":["name"]}}`, `{"kind":"custom"}`, false, "/else/required"},
		{`{"if":{"properties":{"kind":{"const":"click"}},"required":["kind"]},"then":{"required":["item"]}}`, `{"kind":"custom"}`, true, ""},
		{`{"$defs":{"pos":{"type":"integer","minimum":1}},"properties":{"p":{"$ref":"#/$defs/pos"}}}`, `{"p":0}`, false, "/$defs/pos/minimum"},
		{`{"properties":{"next":{"$ref":"#"}},"required":["v"]}`, `{"v":1,"next":{"v":2,"next":{}}}`, false, "/required"},
		{`true`, `{"anything":[1]}`, true, ""},
		{`false`, `1`, false, ""},
		{`{"title":"t","description":"d","$comment":"c","examples":[1]}`, `1`, true, ""},
	} {
		t.Run(tc.schema+" "+tc.instance, func(t *testing.T) {
			s, err := Compile([]byte(tc.schema))
			require.NoError(t, err)
			err = s.Validate([]byte(tc.instance))
			if tc.valid {
				require.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			found := false
			for _, f := range ve.Failures {
				found = found || strings.HasSuffix(f.Keyword, tc.keyword)
			}
			assert.True(t, found, "want a failure at %q, got %v", tc.keyword, ve)
		})
	}
}

func TestFailurePaths(t *testing.T) {
	s, err := Compile([]byte(`{"properties":{"items":{"items":{"properties":{"position":{"type":"integer","minimum":1}}}}}}`))
	require.NoError(t, err)
	err = s.Validate([]byte(`{"items":[{"position":1},{"position":0},{"position":"x"}]}`))
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Failures, 2, "every failure is listed")
	assert.Equal(t, "/items/1/position", ve.Failures[0].InstancePath)
	assert.Equal(t, "/properties/items/items/properties/position/minimum", ve.Failures[0].Keyword)
	assert.Equal(t, "/items/2/position", ve.Failures[1].InstancePath)
	assert.Contains(t, err.Error(), "/items/1/position: 0 must be >= 1")
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct{ schema, want string }{
		{`{"type":"decimal"}`, `/type: unknown type "decimal"`},
		{`{"propertyNames":{}}`, `/propertyNames: unsupported keyword`},
		{`{"properties":{"a":{"uniqueItems":true}}}`, `/properties/a/uniqueItems: unsupported keyword`},
		{`{"format":"email"}`, `unsupported format "email"`},
		{`{"$ref":"other.json#/x"}`, `only "#" and`},
		{`{"$ref":"#/$defs/missing"}`, `unknown definition`},
		{`{"pattern":"(?<=a)"}`, `/pattern`},
		{`{"minLength":-1}`, `/minLength: must be a non-negative integer`},
		{`{"minimum":"1"}`, `/minimum: must be a number`},
		{`{"minimum":1e5000}`, `out of the supported range`},
		{`{"required":[1]}`, `/required`},
		{`{"anyOf":[]}`, `/anyOf`},
		{`[]`, `a schema must be an object or a boolean`},
		{`{} {}`, `trailing data`},
		{`{`, `schema`},
	} {
		t.Run(tc.schema, func(t *testing.T) {
			_, err := Compile([]byte(tc.schema))
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestInstanceSyntaxError(t *testing.T) {
	s := MustCompile([]byte(`true`))
	require.ErrorContains(t, s.Validate([]byte(`{"a":`)), "instance")
	require.ErrorContains(t, s.Validate([]byte(`1 2`)), "trailing data")
}

func TestSelfReferenceIsBounded(t *testing.T) {
	s := MustCompile([]byte(`{"$ref":"#"}`))
	err := s.Validate([]byte(`1`))
	require.ErrorContains(t, err, "recursion deeper than 512")
}

func TestValidateValueFloat(t *testing.T) {
	s := MustCompile([]byte(`{"type":"integer","maximum":3}`))
	require.NoError(t, s.ValidateValue(float64(2)))
	require.Error(t, s.ValidateValue(2.5))
	var v any
	require.NoError(t, json.Unmarshal([]byte(`4`), &v)) // float64 from plain Unmarshal
	require.Error(t, s.ValidateValue(v))
}

// TestEventSchemasCompile compiles the repository's event schemas.
func TestEventSchemasCompile(t *testing.T) {
	files, err := filepath.Glob("../../docs/schema/*.schema.json")
	require.NoError(t, err)
	require.Len(t, files, 5) // impression, outcome, exposure, link, model
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		_, err = Compile(b)
		require.NoError(t, err, f)
	}
}
