package fairness

import (
	"fmt"
	"math"
	"slices"

	"github.com/axiomhq/hyperloglog"
	"github.com/cespare/xxhash/v2"
)

// hllRelErr is the relative standard error of the HyperLogLog distinct
// count at precision 14: 1.04/sqrt(2^14) (Flajolet et al. 2007).
const hllRelErr = 0.008125

// Catalog accumulates the exposure of items across all users, for the
// Gini coefficient of exposure and catalog coverage.
//
// Memory is bounded: exact per-item exposure is kept for the first
// maxItems distinct items (about 50 bytes plus the id each); later items
// add to an overflow total, and a HyperLogLog sketch (precision 14, dense,
// 16 KiB, about 0.8% standard error) counts all distinct items. While
// nothing overflowed the report is exact; after, the overflow items are
// assumed to share the overflow exposure equally (Report says Exact=false).
//
// Not safe for concurrent use.
type Catalog struct {
	max      int
	counts   map[string]int32 // item -> index in vals
	vals     []float64        // exposure per tracked item
	hll      *hyperloglog.Sketch
	overflow float64
	overN    int64
}

// NewCatalog returns a catalog tracking at most maxItems items exactly.
func NewCatalog(maxItems int) (*Catalog, error) {
	if maxItems < 1 {
		return nil, fmt.Errorf("fairness: NewCatalog: maxItems: must be >= 1, got %d", maxItems)
	}
	return &Catalog{max: maxItems, counts: make(map[string]int32), hll: hyperloglog.NewNoSparse()}, nil
}

// Observe adds exposure (a position weight, or 1 to count impressions) to
// item.
func (c *Catalog) Observe(item string, exposure float64) {
	if i, ok := c.counts[item]; ok {
		c.vals[i] += exposure // already in the sketch
		return
	}
	c.hll.InsertHash(xxhash.Sum64String(item))
	if len(c.counts) < c.max {
		c.counts[item] = int32(len(c.vals))
		c.vals = append(c.vals, exposure)
		return
	}
	c.overflow += exposure
	c.overN++
}

// Merge adds o (its exact items up to c's bound).
func (c *Catalog) Merge(o *Catalog) {
	for item, j := range o.counts {
		v := o.vals[j]
		if i, ok := c.counts[item]; ok {
			c.vals[i] += v
		} else if len(c.counts) < c.max {
			c.counts[item] = int32(len(c.vals))
			c.vals = append(c.vals, v)
		} else {
			c.overflow += v
			c.overN++
		}
	}
	c.overflow += o.overflow
	c.overN += o.overN
	_ = c.hll.Merge(o.hll) // same precision by construction
}

// CatalogReport summarizes item exposure across users.
type CatalogReport struct {
	// Distinct is the number of distinct items exposed: exact when Exact,
	// else the HyperLogLog estimate.
	Distinct int64
	Exact    bool
	// Coverage is Distinct/CatalogSize (NaN when the catalog size is
	// unknown). It is above 1 when Exceeded.
	Coverage float64
	// Exceeded is set when more distinct items were exposed than the
	// catalog size given: that size is wrong (a stale or different
	// catalog) or item ids are not canonical, and neither Coverage nor
	// the never-exposed items in Gini can be trusted. With an approximate
	// count (Exact false) it is set only beyond three standard errors of
	// the HyperLogLog estimate (2.5%).
	Exceeded bool
	// Gini of exposure over exposed items, plus the never-exposed items of
	// the catalog when its size is known (they have exposure 0).
	Gini float64
	// TopShare is the share of all exposure that went to the most exposed
	// 1% of the tracked items.
	TopShare float64
}

// Report summarizes the catalog; catalogSize is the number of items that
// could be recommended (0 if unknown).
func (c *Catalog) Report(catalogSize int) CatalogReport {
	r := CatalogReport{Exact: c.overN == 0, Coverage: math.NaN()}
	vals := slices.Clone(c.vals)
	var total float64
	for _, v := range vals {
		total += v
	}
	slices.Sort(vals)
	var m, v float64
	r.Distinct = int64(len(c.counts))
	if !r.Exact {
		est := int64(c.hll.Estimate())
		r.Distinct = max(est, int64(len(c.counts))+1)
		m = float64(r.Distinct - int64(len(c.counts)))
		v = c.overflow / m
	}
	var zeros float64
	if catalogSize > 0 {
		r.Coverage = float64(r.Distinct) / float64(catalogSize)
		tol := 1.0
		if !r.Exact {
			tol = 1 + 3*hllRelErr
		}
		r.Exceeded = float64(r.Distinct) > tol*float64(catalogSize)
		zeros = math.Max(0, float64(catalogSize)-float64(r.Distinct))
	}
	r.Gini = giniSorted(vals, zeros, m, v)
	if top := len(vals) / 100; total+c.overflow > 0 {
		if top < 1 {
			top = 1
		}
		var s float64
		for _, x := range vals[max(0, len(vals)-top):] {
			s += x
		}
		r.TopShare = s / (total + c.overflow)
	}
	return r
}
