package schema

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Bounds of an item's explanation (docs/SCHEMA.md "Explanations"): at most
// MaxContributions contributions per item, each feature name at most
// MaxFeatureNameLen bytes of valid UTF-8. With the value's at most 24
// bytes and the JSON punctuation, one item's explanation adds at most
// about 8 × (64 + 48) ≈ 900 bytes to a line, far under [MaxEventBytes]
// for any ranking of ordinary length.
const (
	MaxContributions  = 8
	MaxFeatureNameLen = 64
)

// Contribution is one feature's signed contribution to an item's score,
// as the model's own attribution method reports it (SHAP values, the terms
// of a linear model, gradient × input ...): positive values pushed the
// item up, negative values down. It is the model's account of its score,
// not a causal claim about the user.
type Contribution struct {
	// Feature is the model's feature name ("recency", "same_category");
	// non-empty, unique within the item, at most MaxFeatureNameLen bytes.
	// Display names are the reader's concern (personalize/explain).
	Feature string
	// Value is the signed contribution in the units of the score; finite.
	Value float64
}

func explanationField(i, j int, name string) string {
	f := "items[" + strconv.Itoa(i) + "].explanation"
	if j < 0 {
		return f
	}
	f += "[" + strconv.Itoa(j) + "]"
	if name != "" {
		f += "." + name
	}
	return f
}

// validateExplanation checks item i's explanation: at most
// MaxContributions, feature names present, short, valid UTF-8 and unique,
// values finite.
func validateExplanation(t EventType, i int, ex []Contribution) error {
	if len(ex) > MaxContributions {
		return invalid(t, explanationField(i, -1, ""), "out_of_range",
			"at most "+strconv.Itoa(MaxContributions)+" contributions per item, got "+strconv.Itoa(len(ex)))
	}
	for j := range ex {
		c := &ex[j]
		switch {
		case c.Feature == "":
			return invalid(t, explanationField(i, j, "feature"), "missing", "")
		case len(c.Feature) > MaxFeatureNameLen:
			return invalid(t, explanationField(i, j, "feature"), "out_of_range",
				"at most "+strconv.Itoa(MaxFeatureNameLen)+" bytes, got "+strconv.Itoa(len(c.Feature)))
		case !utf8.ValidString(c.Feature):
			return invalid(t, explanationField(i, j, "feature"), "out_of_range", "not valid UTF-8")
		case math.IsNaN(c.Value) || math.IsInf(c.Value, 0):
			return invalid(t, explanationField(i, j, "value"), "not_finite", fmt.Sprint(c.Value))
		}
		for k := range j {
			if ex[k].Feature == c.Feature {
				return invalid(t, explanationField(i, j, "feature"), "duplicate",
					"same as items["+strconv.Itoa(i)+"].explanation["+strconv.Itoa(k)+"]: "+strconv.Quote(c.Feature))
			}
		}
	}
	return nil
}

// appendExplanation writes ,"explanation":[...] for a non-empty ex.
func appendExplanation(b []byte, ex []Contribution) []byte {
	b = append(b, `,"explanation":[`...)
	for j := range ex {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"feature":`...)
		b = appendString(b, ex[j].Feature)
		b = append(b, `,"value":`...)
		b = appendFloat(b, ex[j].Value)
		b = append(b, '}')
	}
	return append(b, ']')
}
