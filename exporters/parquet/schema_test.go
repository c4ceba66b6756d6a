package parquet_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/parquet"
)

// jsonFields returns the field paths of one JSON Schema file: top-level
// properties as "name", members of arrays of objects as "name[].member"
// (of an array of objects in one: "name[].member[].sub") and a string map (context) as "name{}".
func jsonFields(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	type prop struct {
		Type                 any             `json:"type"`
		Items                *prop           `json:"items"`
		Properties           map[string]prop `json:"properties"`
		AdditionalProperties json.RawMessage `json:"additionalProperties"`
	}
	var s prop
	require.NoError(t, json.Unmarshal(b, &s))
	require.NotEmpty(t, s.Properties, path)
	var out []string
	for name, p := range s.Properties {
		switch {
		case p.Items != nil && len(p.Items.Properties) > 0:
			for m, mp := range p.Items.Properties {
				if mp.Items != nil && len(mp.Items.Properties) > 0 { // a list in the list (items[].explanation)
					for sub := range mp.Items.Properties {
						out = append(out, name+"[]."+m+"[]."+sub)
					}
					continue
				}
				out = append(out, name+"[]."+m)
			}
		case p.Type == "object" && len(p.Properties) == 0 && strings.HasPrefix(string(p.AdditionalProperties), "{"):
			out = append(out, name+"{}")
		case p.Type == "array" || p.Type == "object":
			t.Fatalf("%s: field %s: a nesting this test does not know; map it in the Parquet schema and here", path, name)
		default:
			out = append(out, name)
		}
	}
	return out
}

// columnFor maps a JSON field path to the Parquet columns that hold it.
func columnFor(field string) []string {
	if name, ok := strings.CutSuffix(field, "{}"); ok {
		return []string{name + ".key_value.key", name + ".key_value.value"}
	}
	if strings.Contains(field, "[].") {
		return []string{strings.ReplaceAll(field, "[].", ".list.element.")}
	}
	return []string{field}
}

// parquetOnly are the columns without a JSON field of their own.
var parquetOnly = []string{"time_nanos"}

// TestSchemaCoversJSONSchema keeps the Parquet schema and the JSON
// Schema files of docs/schema from drifting apart: every JSON field of
// every event type has its column, and every column is a JSON field of
// some event type (or one of the documented Parquet-only columns).
func TestSchemaCoversJSONSchema(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "schema", "*.schema.json"))
	require.NoError(t, err)
	require.Len(t, files, 5, "one JSON Schema per event type")
	cols := parquet.Columns()
	used := map[string]bool{}
	for _, f := range files {
		for _, field := range jsonFields(t, f) {
			for _, c := range columnFor(field) {
				assert.Contains(t, cols, c, "%s: JSON field %s has no Parquet column", filepath.Base(f), field)
				used[c] = true
			}
		}
	}
	for _, c := range cols {
		if !used[c] && !slices.Contains(parquetOnly, c) {
			t.Errorf("Parquet column %s is no JSON field of docs/schema", c)
		}
	}
}

// TestSchemaDocumented checks that the Parquet section of docs/SCHEMA.md
// names every column, and only columns that exist.
func TestSchemaDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "SCHEMA.md"))
	require.NoError(t, err)
	doc := string(b)
	start := strings.Index(doc, "\n## Parquet")
	require.GreaterOrEqual(t, start, 0, "docs/SCHEMA.md has no \"## Parquet\" section")
	section := doc[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	// The column table: | `column` | type | JSON field |
	rows := regexp.MustCompile("(?m)^\\| `([a-z_.]+)` \\|").FindAllStringSubmatch(section, -1)
	var documented []string
	for _, r := range rows {
		documented = append(documented, r[1])
	}
	for _, c := range parquet.Columns() {
		assert.Contains(t, documented, c, "column %s is not in the table of docs/SCHEMA.md's Parquet section", c)
	}
	for _, c := range documented {
		assert.Contains(t, parquet.Columns(), c, "docs/SCHEMA.md documents a column %s that does not exist", c)
	}
}
