package fairness

import (
	"fmt"
	"math"
	"slices"

	"github.com/rankscope/rankscope/personalize"
)

// Distance is a dissimilarity between two items, in [0, 1] by convention
// (for example 1 - cosine similarity of their embeddings). It must be
// symmetric and safe for concurrent use.
type Distance func(a, b *personalize.Item) float64

// IntraListDiversity returns the mean pairwise distance of the items
// (Ziegler et al. 2005): 2/(n(n-1)) * sum_{i<j} dist(i, j). Lists of fewer
// than two items have no pairs and return 0.
func IntraListDiversity(items []personalize.Item, dist Distance) (float64, error) {
	if dist == nil {
		return 0, fmt.Errorf("fairness: IntraListDiversity: dist: must not be nil")
	}
	n := len(items)
	if n < 2 {
		return 0, nil
	}
	var s float64
	for i := range n {
		for j := i + 1; j < n; j++ {
			d := dist(&items[i], &items[j])
			if math.IsNaN(d) || math.IsInf(d, 0) {
				return 0, fmt.Errorf("fairness: IntraListDiversity: dist(items[%d], items[%d]) = %v, must be finite", i, j, d)
			}
			s += d
		}
	}
	return 2 * s / float64(n*(n-1)), nil
}

// CategoryCoverage returns the number of distinct non-empty
// Item.Category values in items and, when catalogCategories > 0, that
// number divided by catalogCategories.
func CategoryCoverage(items []personalize.Item, catalogCategories int) (distinct int, share float64) {
	seen := make([]string, 0, len(items))
	for i := range items {
		c := items[i].Category
		if c != "" && !slices.Contains(seen, c) {
			seen = append(seen, c)
		}
	}
	if catalogCategories > 0 {
		share = float64(len(seen)) / float64(catalogCategories)
	}
	return len(seen), share
}

// CategoryEntropy returns the Shannon entropy, in bits, of the categories
// of items (items without a category count as one category ""). 0 means a
// single category; log2(n) is n equally represented categories.
// Lists of up to 32 items are counted without allocating.
func CategoryEntropy(items []personalize.Item) float64 {
	n := len(items)
	var h float64
	if n <= 32 {
		var cats [32]string
		var counts [32]int
		k := 0
	next:
		for i := range items {
			c := items[i].Category
			for j := 0; j < k; j++ {
				if cats[j] == c {
					counts[j]++
					continue next
				}
			}
			cats[k], counts[k] = c, 1
			k++
		}
		for _, c := range counts[:k] {
			p := float64(c) / float64(n)
			h -= p * math.Log2(p)
		}
		return h + 0 // no -0
	}
	m := make(map[string]int, n)
	for i := range items {
		m[items[i].Category]++
	}
	for _, c := range m {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h + 0
}

// categoryStats returns CategoryCoverage's distinct count and
// CategoryEntropy in one pass over the items.
func categoryStats(items []personalize.Item) (distinct int, entropy float64) {
	n := len(items)
	if n > 32 {
		distinct, _ = CategoryCoverage(items, 0)
		return distinct, CategoryEntropy(items)
	}
	var cats [32]string
	var counts [32]int
	k := 0
next:
	for i := range items {
		c := items[i].Category
		for j := 0; j < k; j++ {
			if cats[j] == c {
				counts[j]++
				continue next
			}
		}
		cats[k], counts[k] = c, 1
		if c != "" {
			distinct++
		}
		k++
	}
	for _, c := range counts[:k] {
		p := float64(c) / float64(n)
		entropy -= p * math.Log2(p)
	}
	return distinct, entropy + 0 // no -0
}

// Gini returns the Gini coefficient of non-negative values:
//
//	G = sum_i (2i - n - 1) x_(i) / (n * sum x),  x sorted ascending, i = 1..n
//
// (the definition of R's ineq::Gini without small-sample correction). 0 is
// perfect equality, (n-1)/n the most unequal. It returns 0 when all values
// are 0.
func Gini(values []float64) (float64, error) {
	x := slices.Clone(values)
	for i, v := range x {
		if !(v >= 0) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("fairness: Gini: values[%d]: must be finite and >= 0, got %v", i, v)
		}
	}
	if len(x) == 0 {
		return 0, fmt.Errorf("fairness: Gini: values: empty")
	}
	slices.Sort(x)
	return giniSorted(x, 0, 0, 0), nil
}

// giniSorted is the Gini coefficient of the multiset made of the sorted
// values x, zeros values 0 and m values all equal to v, from the mean
// absolute difference: G = sum_{a,b} |x_a - x_b| / (2 n^2 mean).
func giniSorted(x []float64, zeros, m, v float64) float64 {
	k := float64(len(x))
	n := zeros + k + m
	var sumX, pairs, toBlock float64
	for i, xi := range x {
		sumX += xi
		pairs += (2*float64(i+1) - k - 1) * xi
		toBlock += math.Abs(xi - v)
	}
	total := sumX + m*v
	if total == 0 || n == 0 {
		return 0
	}
	s := 2*pairs + 2*m*toBlock + 2*zeros*sumX + 2*zeros*m*v
	return s / (2 * n * total)
}
