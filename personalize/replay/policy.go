package replay

import (
	"cmp"
	"slices"

	"github.com/rankscope/rankscope/personalize"
)

// Context is what a policy and a reward model see of one logged request.
// It is valid only during the call; do not keep it or modify it.
type Context struct {
	// Impression is the logged event (pseudonymized, read only).
	Impression *personalize.Impression
	// Items are the impression's items ordered by position: the candidates
	// the policy can place. Slot k of the evaluation is Items[k], the
	// item the logging policy showed at the k-th position.
	Items []personalize.Item
}

// Policy is the candidate policy to evaluate on logged traffic.
//
// Distribution fills dist[k], for each evaluated slot k < len(dist), with
// the candidate's probabilities at slot k: dist[k][i] for showing
// c.Items[i], and dist[k][len(c.Items)], the last entry, for showing an
// item that is not in the log (the candidate may well prefer items the
// logger did not show). The rows arrive zeroed, with len(c.Items)+1
// entries; each must hold values in [0,1] summing to at most 1 (any mass
// left is "shows nothing at this slot"). Logged items given probability 0
// count as "no support" in the diagnostics. Distribution must be
// deterministic: the same context gives the same rows, so a replay is
// reproducible. It must not keep c or dist.
type Policy interface {
	Distribution(c *Context, dist [][]float64) error
}

// PolicyFunc adapts a function to a [Policy].
type PolicyFunc func(c *Context, dist [][]float64) error

// Distribution calls f.
func (f PolicyFunc) Distribution(c *Context, dist [][]float64) error { return f(c, dist) }

var _ Policy = PolicyFunc(nil)

// RankBy returns the deterministic policy that sorts the logged items by
// score, highest first (ties keep the logged order), and shows the k-th
// of them at slot k with probability 1: it re-ranks what was shown and
// never shows anything else. score must be deterministic.
func RankBy(score func(c *Context, i int) float64) Policy {
	return rankBy{score}
}

type rankBy struct {
	score func(c *Context, i int) float64
}

type scored struct {
	i int
	s float64
}

func (r rankBy) Distribution(c *Context, dist [][]float64) error {
	n := len(c.Items)
	var buf [64]scored
	order := buf[:0]
	if n > len(buf) {
		order = make([]scored, 0, n)
	}
	for i := 0; i < n; i++ {
		order = append(order, scored{i, r.score(c, i)})
	}
	if len(order) <= len(buf) {
		// Stable insertion sort, descending by score in cmp.Compare's
		// order (NaN last): for lists this short it beats the generic
		// sort's comparator calls several times over.
		for i := 1; i < len(order); i++ {
			for j := i; j > 0 && cmp.Less(order[j-1].s, order[j].s); j-- {
				order[j-1], order[j] = order[j], order[j-1]
			}
		}
	} else {
		slices.SortStableFunc(order, func(a, b scored) int { return cmp.Compare(b.s, a.s) })
	}
	for k := range dist {
		if k < n {
			dist[k][order[k].i] = 1
		}
	}
	return nil
}

// Logged is the policy that repeats the logging policy's ranking: slot k
// shows Items[k] with probability 1. Its IPS estimate should equal the
// logged reward only when the logging policy was deterministic; it is
// mostly a sanity check.
var Logged Policy = PolicyFunc(func(c *Context, dist [][]float64) error {
	for k := range dist {
		if k < len(c.Items) {
			dist[k][k] = 1
		}
	}
	return nil
})

// RewardModel predicts rewards for the direct method and doubly robust
// estimators.
//
// Predict fills q[k][i], the expected reward of showing c.Items[i] at
// slot k, for k < len(q), and q[k][len(c.Items)], the expected reward of
// an item that is not in the log shown at slot k. It must not keep c or
// q. A model that also implements [Learner] is taught each impression's
// observed rewards after the impression is scored, so its predictions
// only ever use earlier impressions.
type RewardModel interface {
	Predict(c *Context, q [][]float64)
}

// Learner is an optional interface of a [RewardModel] that learns from
// the replayed log as it goes (progressive validation).
type Learner interface {
	// Learn receives the observed reward of c.Items[slot] shown at slot.
	Learn(c *Context, slot int, reward float64)
}

// PositionMean is the default reward model: the mean reward observed at
// the slot over the impressions finalized so far (the overall mean for a
// slot not seen yet, 0 before any data). It ignores the item, which keeps
// it cheap and unbiased for the logging policy's average, and leaves the
// item-level correction to the doubly robust term. Not safe for
// concurrent use; an Evaluator calls it under its own lock.
type PositionMean struct {
	sum, n     []float64
	tsum, tcnt float64
}

var (
	_ RewardModel = (*PositionMean)(nil)
	_ Learner     = (*PositionMean)(nil)
)

// Predict implements RewardModel.
func (m *PositionMean) Predict(c *Context, q [][]float64) {
	for k := range q {
		v := 0.0
		switch {
		case k < len(m.n) && m.n[k] > 0:
			v = m.sum[k] / m.n[k]
		case m.tcnt > 0:
			v = m.tsum / m.tcnt
		}
		for i := range q[k] {
			q[k][i] = v
		}
	}
}

// Learn implements Learner.
func (m *PositionMean) Learn(c *Context, slot int, reward float64) {
	for len(m.n) <= slot {
		m.n = append(m.n, 0)
		m.sum = append(m.sum, 0)
	}
	m.n[slot]++
	m.sum[slot] += reward
	m.tcnt++
	m.tsum += reward
}
