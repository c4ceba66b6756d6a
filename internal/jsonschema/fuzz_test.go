package jsonschema

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzValidate validates arbitrary instances against the event schemas:
// it must never panic, and what validates must be a JSON object.
func FuzzValidate(f *testing.F) {
	files, _ := filepath.Glob("../../docs/schema/*.schema.json")
	var schemas []*Schema
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		schemas = append(schemas, MustCompile(b))
	}
	if len(schemas) == 0 {
		f.Fatal("no schemas found")
	}
	for _, seed := range []string{
		`{"schema_version":1,"type":"link","event_id":"0193a6f1-7c2e-7d4b-8a1f-0123456789ab","time":"2026-11-02T09:00:00Z","user_id":"ab","session_id":"cd"}`,
		`{"schema_version":1.0,"type":"outcome","kind":"click","value":1e-400}`,
		`{"items":[{"position":1e999999999,"score":-0}]}`,
		`[1,{"a":[null,true]}]`, `"x"`, `1e-99999999999`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, instance []byte) {
		for _, s := range schemas {
			if err := s.Validate(instance); err == nil {
				if v, derr := decode(instance); derr != nil {
					t.Fatalf("valid but does not decode: %v", derr)
				} else if _, ok := v.(map[string]any); !ok {
					t.Fatalf("a non-object validated: %q", instance)
				}
			}
		}
	})
}

// FuzzCompile compiles arbitrary schemas and validates a few instances
// with those that compile: neither may panic or hang.
func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		`{"type":"integer","minimum":1}`,
		`{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`,
		`{"properties":{"x":{"$ref":"#"}},"anyOf":[{"required":["x"]},true]}`,
		`{"if":{"const":1},"then":false,"else":{"not":{}}}`,
		`{"multipleOf":1e-3,"enum":[0.001,[1],{"a":null}]}`,
		`{"pattern":"^[a-z]+$","format":"date-time","minLength":2}`,
	} {
		f.Add([]byte(seed))
	}
	instances := [][]byte{
		[]byte(`1`), []byte(`1e-999999`), []byte(`"2026-11-02T09:00:00Z"`), []byte(`{"x":{"x":{}}}`),
		[]byte(`[0.001,{"a":null}]`), []byte(`null`),
	}
	f.Fuzz(func(t *testing.T, schema []byte) {
		s, err := Compile(schema)
		if err != nil {
			return
		}
		for _, in := range instances {
			_ = s.Validate(in)
		}
	})
}
