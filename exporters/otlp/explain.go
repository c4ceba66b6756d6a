package otlp

import (
	"math"

	"go.opentelemetry.io/otel/attribute"

	"github.com/rankscope/rankscope/personalize"
)

// Attribute keys of item explanations (docs/SCHEMA.md "OTLP mapping"),
// written only when some item of the impression has one. OTLP attributes
// cannot nest arrays, so the explanations are flattened: the counts are
// parallel to the items (item i has counts[i] contributions), and the
// features and values hold every item's contributions in item order, so
// item i's are elements sum(counts[:i]) .. sum(counts[:i+1])-1.
const (
	KeyItemExplanationCounts   = "rankscope.items.explanation.count"
	KeyItemExplanationFeatures = "rankscope.items.explanation.feature"
	KeyItemExplanationValues   = "rankscope.items.explanation.value"
)

// explained reports whether any item of im has an explanation.
func explained(im *personalize.Impression) bool {
	for i := range im.Items {
		if len(im.Items[i].Explanation) > 0 {
			return true
		}
	}
	return false
}

func (enc *encoder) explanation(im *personalize.Impression) {
	enc.intsBuf = enc.intsBuf[:0]
	enc.strsBuf = enc.strsBuf[:0]
	enc.fltsBuf = enc.fltsBuf[:0]
	for i := range im.Items {
		ex := im.Items[i].Explanation
		enc.intsBuf = append(enc.intsBuf, int64(len(ex)))
		for _, c := range ex {
			enc.strsBuf = append(enc.strsBuf, c.Feature)
			enc.fltsBuf = append(enc.fltsBuf, c.Value)
		}
	}
	enc.attrs = append(enc.attrs, attribute.Int64Slice(KeyItemExplanationCounts, enc.intsBuf),
		attribute.StringSlice(KeyItemExplanationFeatures, enc.strsBuf),
		attribute.Float64Slice(KeyItemExplanationValues, enc.fltsBuf))
}

func (w *wireSink) explanation(im *personalize.Impression) {
	counts, feats, n := 0, 0, 0
	for i := range im.Items {
		ex := im.Items[i].Explanation
		counts += sizeLen(sizeAnyInt(int64(len(ex))))
		for _, c := range ex {
			feats += sizeLen(sizeAnyString(c.Feature))
		}
		n += len(ex)
	}
	w.b = appendKVHeader(w.b, tagRecordAttr, KeyItemExplanationCounts, "", sizeLen(counts))
	w.b = append(w.b, tagAnyArray)
	w.b = appendVarint(w.b, uint64(counts))
	for i := range im.Items {
		v := int64(len(im.Items[i].Explanation))
		w.b = append(w.b, tagValues, byte(sizeAnyInt(v)), tagAnyInt)
		w.b = appendVarint(w.b, uint64(v))
	}
	w.b = appendKVHeader(w.b, tagRecordAttr, KeyItemExplanationFeatures, "", sizeLen(feats))
	w.b = append(w.b, tagAnyArray)
	w.b = appendVarint(w.b, uint64(feats))
	for i := range im.Items {
		for _, c := range im.Items[i].Explanation {
			w.b = append(w.b, tagValues)
			w.b = appendVarint(w.b, uint64(sizeAnyString(c.Feature)))
			w.b = appendLenField(w.b, tagAnyString, c.Feature)
		}
	}
	vals := n * sizeLen(sizeAnyDouble)
	w.b = appendKVHeader(w.b, tagRecordAttr, KeyItemExplanationValues, "", sizeLen(vals))
	w.b = append(w.b, tagAnyArray)
	w.b = appendVarint(w.b, uint64(vals))
	for i := range im.Items {
		for _, c := range im.Items[i].Explanation {
			w.b = append(w.b, tagValues, sizeAnyDouble, tagAnyDouble)
			w.b = appendFixed64(w.b, math.Float64bits(c.Value))
		}
	}
}

// explanations reads the flattened explanations back onto items: counts
// parallel to the items, non-negative, and summing to the length of the
// features and values.
func (d *decoder) explanations(items []personalize.Item) {
	if _, ok := d.m[KeyItemExplanationCounts]; !ok {
		return
	}
	counts := d.ints(KeyItemExplanationCounts, len(items))
	total := 0
	for _, c := range counts {
		if c < 0 || c > personalize.MaxContributions {
			d.fail(decErr(KeyItemExplanationCounts, "count %d outside 0..%d", c, personalize.MaxContributions))
			return
		}
		total += int(c)
	}
	feats := d.strs(KeyItemExplanationFeatures, total, false)
	vals := d.floats(KeyItemExplanationValues, total, false)
	if d.err != nil {
		return
	}
	block := make([]personalize.Contribution, total)
	for k := range block {
		block[k] = personalize.Contribution{Feature: feats[k], Value: vals[k]}
	}
	at := 0
	for i, c := range counts {
		if c > 0 {
			items[i].Explanation = block[at : at+int(c) : at+int(c)]
			at += int(c)
		}
	}
}
