package schema_test

import (
	"math"
	"testing"
	"unicode/utf8"

	"github.com/rankscope/rankscope/personalize/schema"
)

// FuzzExplanation checks explanations two ways. The bytes are first the
// explanation member of an item (the array after "explanation":): the
// hand-written decoder and the encoding/json reference must agree on it,
// as in FuzzDecode, and neither may panic. Then they are cut into
// contributions (a length byte, a name, 8 bytes of value) for Validate,
// which must never panic, must name a field on error, and must pass only
// explanations within their bounds.
func FuzzExplanation(f *testing.F) {
	for _, s := range []string{
		`[{"feature":"recency","value":0.25},{"feature":"price","value":-0.125}]`,
		`[{"feature":"r","value":1},{"feature":"r","value":2}]`,
		`[null,{"Feature":"caf\u00e9","VALUE":1e-3,"x":[{}]}]`,
		`[{"feature":"r","value":2}],"explanation":[{"feature":"q"}]`,
		`null`, `[]`, `[1]`, `{"feature":"r"}`, `[{"feature":"\ud800","value":1}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		agree(t, []byte(item0(string(data))))

		var ex []schema.Contribution
		for len(data) > 0 {
			n := int(data[0]) % 80
			data = data[1:]
			if len(data) < n+8 {
				break
			}
			var bits uint64
			for k := range 8 {
				bits |= uint64(data[n+k]) << (8 * k)
			}
			ex = append(ex, schema.Contribution{Feature: string(data[:n]), Value: math.Float64frombits(bits)})
			data = data[n+8:]
		}
		im := validImpression()
		im.Items[2].Explanation = ex
		if err := im.Validate(); err != nil {
			checkFieldErr(t, err)
			return
		}
		if len(ex) > schema.MaxContributions {
			t.Fatalf("%d contributions passed validation", len(ex))
		}
		seen := map[string]bool{}
		for _, c := range ex {
			if c.Feature == "" || len(c.Feature) > schema.MaxFeatureNameLen || !utf8.ValidString(c.Feature) ||
				seen[c.Feature] || math.IsNaN(c.Value) || math.IsInf(c.Value, 0) {
				t.Fatalf("invalid contribution passed validation: %+v", c)
			}
			seen[c.Feature] = true
		}
	})
}
