package parquet

import (
	pq "github.com/parquet-go/parquet-go"

	"github.com/rankscope/rankscope/personalize"
)

// Item explanations are a list nested in the items list:
// items.list.element.explanation.list.element.{feature,value}. Their
// levels extend the items': repetition 0 starts the row, 1 a new item, 2
// the next contribution of the same item; definition 2 is an item without
// explanation (NULL, as the JSON field is absent), 3 an empty explanation
// (never written), 4 a contribution.
const (
	repItem     = 1
	repContrib  = 2
	defExplElem = 4
)

// explanations appends the feature and value columns of non-empty items.
func (e *rowEncoder) explanations(items []personalize.Item) {
	for _, c := range []int{cItemExplFeature, cItemExplValue} {
		for i := range items {
			ex := items[i].Explanation
			first := min(i, repItem)
			if len(ex) == 0 {
				e.row = append(e.row, pq.NullValue().Level(first, defElem, c))
				continue
			}
			for j := range ex {
				r := first
				if j > 0 {
					r = repContrib
				}
				v := pq.DoubleValue(ex[j].Value)
				if c == cItemExplFeature {
					v = strValue(ex[j].Feature)
				}
				e.row = append(e.row, v.Level(r, defExplElem, c))
			}
		}
	}
}

// explanations reads the nested explanation columns onto items (the
// decoded items list). Both columns must have the same levels, one item
// slot per item; a file without the columns (written before explanations
// existed) has none.
func (d *decoder) explanations(items []personalize.Item) error {
	fs, vs := d.span[cItemExplFeature], d.span[cItemExplValue]
	if len(fs) == 0 && len(vs) == 0 {
		return nil
	}
	if len(fs) != len(vs) {
		return d.fail(cItemExplValue, "%d values, but %s has %d", len(vs), columnPaths[cItemExplFeature], len(fs))
	}
	if len(items) == 0 {
		for k, f := range fs {
			if f.DefinitionLevel() >= defElem {
				return d.fail(cItemExplFeature, "value %d belongs to no item", k)
			}
		}
		return nil
	}
	total, item := 0, -1
	for k := range fs {
		f, v := fs[k], vs[k]
		if f.RepetitionLevel() != v.RepetitionLevel() || f.DefinitionLevel() != v.DefinitionLevel() {
			return d.fail(cItemExplValue, "value %d: levels differ from %s's", k, columnPaths[cItemExplFeature])
		}
		rep, def := f.RepetitionLevel(), f.DefinitionLevel()
		switch {
		case rep < repContrib:
			item++
			if item >= len(items) {
				return d.fail(cItemExplFeature, "more item slots than the %d items", len(items))
			}
		case def < defExplElem || k == 0 || fs[k-1].DefinitionLevel() < defExplElem:
			return d.fail(cItemExplFeature, "value %d continues no explanation", k)
		}
		if def < defElem {
			return d.fail(cItemExplFeature, "value %d: item %d is missing", k, item)
		}
		if def == defExplElem {
			total++
		}
	}
	if item+1 != len(items) {
		return d.fail(cItemExplFeature, "%d item slots, want %d", item+1, len(items))
	}
	if total == 0 {
		return nil
	}
	block := make([]personalize.Contribution, 0, total)
	item = -1
	start := 0
	flush := func() {
		if item >= 0 && len(block) > start {
			items[item].Explanation = block[start:len(block):len(block)]
		}
		start = len(block)
	}
	for k := range fs {
		if fs[k].RepetitionLevel() < repContrib {
			flush()
			item++
		}
		if fs[k].DefinitionLevel() == defExplElem {
			block = append(block, personalize.Contribution{Feature: string(fs[k].ByteArray()), Value: vs[k].Double()})
		}
	}
	flush()
	return nil
}
