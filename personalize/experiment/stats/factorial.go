package stats

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"
)

// Cell is one cell of a 2^k factorial design: Levels[j] is 0 (off/control)
// or 1 (on/treatment) for factor j.
type Cell struct {
	Levels  []uint8
	Summary Summary
}

// Effect is one estimated effect of a factorial design.
type Effect struct {
	// Name is the factor name for a main effect and names joined by "×"
	// for an interaction.
	Name string
	// Order is 1 for a main effect, 2 for a two-way interaction, ...
	Order int
	// Estimate is the order-th difference averaged over the other factors:
	// for a main effect the mean over the other factors' cells of
	// (level 1 - level 0); for A×B the difference of differences
	// (y11 - y01) - (y10 - y00), averaged over the remaining factors.
	Estimate float64
	SE       float64
	T, DF, P float64 // Welch-Satterthwaite t test of Estimate = 0
	CI       Interval
}

// Factorial estimates and tests all main effects and interactions of a
// full 2^k design (k = len(factors), 2 <= k <= 8) from per-cell summaries,
// allowing a different variance in each cell. Each effect is the contrast
// sum_c coef_c mean_c with coef_c = prod_{j in S}(±1) / 2^(k-|S|), its
// variance sum_c coef_c^2 var_c/n_c, and its degrees of freedom the
// Welch-Satterthwaite approximation.
func Factorial(factors []string, cells []Cell, alpha float64) ([]Effect, error) {
	k := len(factors)
	if k < 2 || k > 8 {
		return nil, fmt.Errorf("stats: factors: need 2..8, got %d", k)
	}
	if err := checkAlpha(alpha); err != nil {
		return nil, err
	}
	if len(cells) != 1<<k {
		return nil, fmt.Errorf("stats: cells: a 2^%d design needs %d cells, got %d", k, 1<<k, len(cells))
	}
	byIdx := make([]*Summary, 1<<k)
	for i := range cells {
		c := &cells[i]
		if len(c.Levels) != k {
			return nil, fmt.Errorf("stats: cells[%d].Levels: need %d levels, got %d", i, k, len(c.Levels))
		}
		idx := 0
		for j, l := range c.Levels {
			if l > 1 {
				return nil, fmt.Errorf("stats: cells[%d].Levels[%d]: must be 0 or 1, got %d", i, j, l)
			}
			idx |= int(l) << j
		}
		if byIdx[idx] != nil {
			return nil, fmt.Errorf("stats: cells[%d]: duplicate cell %v", i, c.Levels)
		}
		if err := c.Summary.check(fmt.Sprintf("cells[%d].Summary", i)); err != nil {
			return nil, err
		}
		byIdx[idx] = &c.Summary
	}
	var out []Effect
	for order := 1; order <= k; order++ {
		for s := 1; s < 1<<k; s++ {
			if popcount(s) != order {
				continue
			}
			scale := 1 / float64(int(1)<<(k-order))
			var est, v, dfDen float64
			for c := 0; c < 1<<k; c++ {
				coef := scale
				if popcount(s&^c)%2 == 1 { // factors of S at level 0 flip the sign
					coef = -coef
				}
				sm := byIdx[c]
				est += coef * sm.Mean
				term := coef * coef * sm.Var / float64(sm.N)
				v += term
				dfDen += term * term / float64(sm.N-1)
			}
			e := Effect{Name: effectName(factors, s), Order: order, Estimate: est, SE: math.Sqrt(v)}
			if v > 0 {
				e.T = est / e.SE
				e.DF = v * v / dfDen
				t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: e.DF}
				e.P = 2 * t.Survival(math.Abs(e.T))
				q := t.Quantile(1 - alpha/2)
				e.CI = Interval{est - q*e.SE, est + q*e.SE}
			} else {
				e.P, e.CI = 1, Interval{est, est}
				if est != 0 {
					e.P = 0
				}
			}
			out = append(out, e)
		}
	}
	return out, nil
}

func popcount(x int) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

func effectName(factors []string, s int) string {
	var parts []string
	for j := range factors {
		if s&(1<<j) != 0 {
			parts = append(parts, factors[j])
		}
	}
	return strings.Join(parts, "×")
}
