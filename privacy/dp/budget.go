package dp

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// ErrBudgetSpent is wrapped by every [*BudgetError]: a release was refused
// because it would take a dataset past its privacy budget.
var ErrBudgetSpent = errors.New("dp: privacy budget spent")

// BudgetError is the error of a release refused by its [Budget]: nothing
// was computed or released and nothing was charged. errors.Is(err,
// [ErrBudgetSpent]) holds for it.
type BudgetError struct {
	Dataset string
	// Field is "epsilon" or "delta": the part of the budget that would be
	// exceeded (epsilon when both would).
	Field string
	// Requested is what the release asked for, Remaining what was left.
	RequestedEpsilon, RequestedDelta float64
	RemainingEpsilon, RemainingDelta float64
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("dp: dataset %q: %s: release needs epsilon=%g delta=%g, remaining epsilon=%g delta=%g: budget spent",
		e.Dataset, e.Field, e.RequestedEpsilon, e.RequestedDelta, e.RemainingEpsilon, e.RemainingDelta)
}

// Unwrap returns [ErrBudgetSpent].
func (e *BudgetError) Unwrap() error { return ErrBudgetSpent }

// Budget is the total privacy loss (epsilon, delta) a dataset may incur
// over all its releases. Every release charges its own (epsilon, delta)
// against it under basic sequential composition (Dwork and Roth, "The
// Algorithmic Foundations of Differential Privacy", 2014, Theorem 3.16:
// the epsilons and the deltas add up). A charge that would exceed either
// total is refused with a [*BudgetError] and charges nothing.
//
// A Budget is safe for concurrent use: two releases racing for the last of
// a budget cannot both pass.
//
// The budget lives in memory. A process that restarts starts from a fresh
// Budget unless the caller records [Budget.Spent] and passes it back with
// [NewBudgetSpent]; a budget reset by a restart is no budget at all.
type Budget struct {
	dataset        string
	epsilon, delta float64

	mu                   sync.Mutex
	spentEps, spentDelta float64
	releases             int
}

// budgetSlack absorbs floating-point rounding when charges add up to
// exactly the total (ten charges of 0.1 against 1.0 sum to
// 0.9999999999999999 or 1.0000000000000002 depending on order).
const budgetSlack = 1e-9

// NewBudget returns the budget of a dataset: epsilon > 0, delta in [0, 1).
// dataset names the data in errors and in released tables.
func NewBudget(dataset string, epsilon, delta float64) (*Budget, error) {
	return NewBudgetSpent(dataset, epsilon, delta, 0, 0)
}

// NewBudgetSpent is [NewBudget] for a dataset that already spent
// (spentEpsilon, spentDelta) in earlier runs, as reported by [Budget.Spent].
func NewBudgetSpent(dataset string, epsilon, delta, spentEpsilon, spentDelta float64) (*Budget, error) {
	switch {
	case dataset == "":
		return nil, errors.New("dp: Budget dataset: required")
	case !(epsilon > 0) || math.IsInf(epsilon, 0):
		return nil, fmt.Errorf("dp: Budget epsilon: must be finite and > 0, got %g", epsilon)
	case !(delta >= 0 && delta < 1):
		return nil, fmt.Errorf("dp: Budget delta: must be in [0, 1), got %g", delta)
	case !(spentEpsilon >= 0) || math.IsInf(spentEpsilon, 0):
		return nil, fmt.Errorf("dp: Budget spent epsilon: must be finite and >= 0, got %g", spentEpsilon)
	case !(spentDelta >= 0 && spentDelta <= 1):
		return nil, fmt.Errorf("dp: Budget spent delta: must be in [0, 1], got %g", spentDelta)
	}
	return &Budget{dataset: dataset, epsilon: epsilon, delta: delta, spentEps: spentEpsilon, spentDelta: spentDelta}, nil
}

// Dataset returns the dataset's name.
func (b *Budget) Dataset() string { return b.dataset }

// Total returns the whole budget.
func (b *Budget) Total() (epsilon, delta float64) { return b.epsilon, b.delta }

// Spent returns what releases have charged so far.
func (b *Budget) Spent() (epsilon, delta float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spentEps, b.spentDelta
}

// Remaining returns what is left, never negative.
func (b *Budget) Remaining() (epsilon, delta float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.remaining()
}

func (b *Budget) remaining() (float64, float64) {
	return max(b.epsilon-b.spentEps, 0), max(b.delta-b.spentDelta, 0)
}

// Releases returns the number of charges accepted.
func (b *Budget) Releases() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.releases
}

// Charge takes (epsilon, delta) from the budget, or refuses with a
// [*BudgetError] and takes nothing. [Aggregator.Release] calls it before it
// computes anything; call it directly to account for a release made by
// other means.
func (b *Budget) Charge(epsilon, delta float64) error {
	if !(epsilon >= 0) || math.IsInf(epsilon, 0) {
		return fmt.Errorf("dp: Charge epsilon: must be finite and >= 0, got %g", epsilon)
	}
	if !(delta >= 0 && delta < 1) {
		return fmt.Errorf("dp: Charge delta: must be in [0, 1), got %g", delta)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	field := ""
	switch {
	case b.spentEps+epsilon > b.epsilon*(1+budgetSlack):
		field = "epsilon"
	case delta > 0 && b.spentDelta+delta > b.delta*(1+budgetSlack):
		field = "delta"
	}
	if field != "" {
		re, rd := b.remaining()
		return &BudgetError{Dataset: b.dataset, Field: field, RequestedEpsilon: epsilon, RequestedDelta: delta,
			RemainingEpsilon: re, RemainingDelta: rd}
	}
	b.spentEps += epsilon
	b.spentDelta += delta
	b.releases++
	return nil
}
