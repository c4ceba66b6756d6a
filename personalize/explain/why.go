package explain

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rankscope/rankscope/personalize/schema"
)

// Options configure [Why] and [Reasons]. The zero value shows up to three
// reasons that raised the item, by their raw feature names, without
// numbers.
type Options struct {
	// Labels maps feature names to the words users see ("same_category"
	// → "items like ones you bought"). When Labels is non-nil, features
	// without a label are left out, so internal feature names never reach
	// a user; when it is nil, the feature names are shown as they are.
	Labels map[string]string
	// Max is the most reasons shown of each sign. Default 3.
	Max int
	// Negative also lists the contributions that lowered the item, after
	// the ones that raised it.
	Negative bool
	// Values appends each contribution, signed, in parentheses: "recency
	// (+0.42)". Off by default: users see reasons, not numbers.
	Values bool
	// Because and Against begin the sentence of positive and of negative
	// reasons. Defaults "Recommended because of" and "ranked lower
	// because of".
	Because, Against string
}

// Reason is one contribution as shown to a user.
type Reason struct {
	Feature string
	// Label is the display label (the feature name without Labels).
	Label string
	Value float64
}

// Reasons returns the reasons of item in the order [Why] shows them:
// contributions that raised the item, largest first, then (with
// opts.Negative) those that lowered it, most negative first; ties by
// feature name. Zero contributions, and unlabeled features when
// opts.Labels is set, are left out; each sign keeps at most opts.Max.
func Reasons(item schema.Item, opts Options) []Reason {
	max := opts.Max
	if max <= 0 {
		max = 3
	}
	var pos, neg []Reason
	for _, c := range item.Explanation {
		label := c.Feature
		if opts.Labels != nil {
			l, ok := opts.Labels[c.Feature]
			if !ok || l == "" {
				continue
			}
			label = l
		}
		r := Reason{Feature: c.Feature, Label: label, Value: c.Value}
		switch {
		case c.Value > 0:
			pos = append(pos, r)
		case c.Value < 0 && opts.Negative:
			neg = append(neg, r)
		}
	}
	byMagnitude := func(a, b Reason) int {
		if c := cmp.Compare(abs(b.Value), abs(a.Value)); c != 0 {
			return c
		}
		return strings.Compare(a.Feature, b.Feature)
	}
	slices.SortFunc(pos, byMagnitude)
	slices.SortFunc(neg, byMagnitude)
	pos, neg = pos[:min(len(pos), max)], neg[:min(len(neg), max)]
	return append(pos, neg...)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// Why renders the reasons of item as one sentence for a "why am I seeing
// this" panel, for example
//
//	Recommended because of items like ones you bought, new arrivals and popular near you.
//
// or, with opts.Negative, "...; ranked lower because of price." It
// returns "" when the item has no reason to show. The output depends only
// on item and opts.
func Why(item schema.Item, opts Options) string {
	rs := Reasons(item, opts)
	var pos, neg []string
	for _, r := range rs {
		s := r.Label
		if opts.Values {
			v := strconv.FormatFloat(r.Value, 'f', -1, 64)
			if r.Value > 0 {
				v = "+" + v
			}
			s += " (" + v + ")"
		}
		if r.Value > 0 {
			pos = append(pos, s)
		} else {
			neg = append(neg, s)
		}
	}
	because, against := opts.Because, opts.Against
	if because == "" {
		because = "Recommended because of"
	}
	if against == "" {
		against = "ranked lower because of"
	}
	var parts []string
	if len(pos) > 0 {
		parts = append(parts, because+" "+list(pos))
	}
	if len(neg) > 0 {
		if len(parts) == 0 {
			r, n := utf8.DecodeRuneInString(against)
			against = string(unicode.ToUpper(r)) + against[n:]
		}
		parts = append(parts, against+" "+list(neg))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + "."
}

// list joins "a", "a and b", "a, b and c".
func list(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
