package join_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize/join"
	"github.com/rankscope/rankscope/personalize/schema"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func imp(req string, end time.Time, items ...string) *schema.Impression {
	im := &schema.Impression{RequestID: req, Start: end.Add(-time.Millisecond), End: end}
	for i, id := range items {
		// Positions in reverse of the list order, to exercise Order.
		im.Items = append(im.Items, schema.Item{ID: id, Position: len(items) - i})
	}
	return im
}

func out(req, item string, at time.Time) *schema.Outcome {
	return &schema.Outcome{RequestID: req, Item: item, Time: at, Kind: schema.OutcomeClick}
}

// record collects finalized entries: request id and outcomes joined.
type record struct {
	req      string
	outcomes int
	value    int
}

func newJoiner(t *testing.T, cfg join.Config) (*join.Joiner[int], *[]record) {
	t.Helper()
	var done []record
	j, err := join.New(cfg, func(e *join.Entry[int]) error {
		done = append(done, record{e.Impression.RequestID, e.Outcomes, e.Value})
		return nil
	})
	require.NoError(t, err)
	return j, &done
}

func TestWindowFinalizesInEventTime(t *testing.T) {
	j, done := newJoiner(t, join.Config{Window: 10 * time.Minute})
	e, err := j.Impression(imp("a", t0, "x", "y"))
	require.NoError(t, err)
	e.Value = 7
	_, err = j.Impression(imp("b", t0.Add(time.Minute), "x"))
	require.NoError(t, err)

	got, err := j.Outcome(out("a", "y", t0.Add(5*time.Minute)))
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, 0, got.Slot("y"), "y has position 1: slot 0")
	assert.Equal(t, 1, got.Slot("x"))
	assert.Equal(t, -1, got.Slot("z"))
	assert.Equal(t, -1, got.Slot(""))
	assert.Empty(t, *done)

	// Event time 10m01s: a (ended at t0) is past its window, b is not.
	require.NoError(t, j.Advance(t0.Add(10*time.Minute+time.Second)))
	assert.Equal(t, []record{{"a", 1, 7}}, *done)

	// An outcome of a finalized impression joins nothing.
	got, err = j.Outcome(out("a", "x", t0.Add(10*time.Minute+2*time.Second)))
	require.NoError(t, err)
	assert.Nil(t, got)
	require.NoError(t, j.Flush())
	assert.Equal(t, []record{{"a", 1, 7}, {"b", 0, 0}}, *done)
	s := j.Stats()
	assert.Equal(t, join.Stats{Impressions: 2, Outcomes: 1, Unjoined: 1}, s)
}

// TestLateOutcomeOfOutOfOrderImpression: an impression that arrived after
// newer ones waits behind them; an outcome beyond its window must not
// join just because it is still pending.
func TestLateOutcomeOfOutOfOrderImpression(t *testing.T) {
	j, _ := newJoiner(t, join.Config{Window: 10 * time.Minute})
	_, _ = j.Impression(imp("new", t0.Add(20*time.Minute), "x"))
	_, _ = j.Impression(imp("old", t0, "x"))
	got, err := j.Outcome(out("old", "x", t0.Add(15*time.Minute)))
	require.NoError(t, err)
	assert.Nil(t, got)
	s := j.Stats()
	assert.EqualValues(t, 1, s.Late)
	assert.EqualValues(t, 1, s.Unjoined)
	assert.Equal(t, 2, s.Pending)
}

func TestDuplicatesAndMissingRequestID(t *testing.T) {
	j, _ := newJoiner(t, join.Config{})
	e, err := j.Impression(imp("a", t0, "x"))
	require.NoError(t, err)
	require.NotNil(t, e)
	e, err = j.Impression(imp("a", t0, "x"))
	require.NoError(t, err)
	assert.Nil(t, e)
	got, _ := j.Outcome(out("", "x", t0))
	assert.Nil(t, got)
	s := j.Stats()
	assert.EqualValues(t, 1, s.Duplicates)
	assert.EqualValues(t, 1, s.Unjoined)
	assert.Equal(t, join.DefaultWindow, j.Window())
}

func TestMaxPendingEvictsOldest(t *testing.T) {
	j, done := newJoiner(t, join.Config{MaxPending: 3})
	for i := range 5 {
		_, err := j.Impression(imp(fmt.Sprint("r", i), t0.Add(time.Duration(i)*time.Second), "x"))
		require.NoError(t, err)
	}
	assert.Equal(t, []record{{"r0", 0, 0}, {"r1", 0, 0}}, *done)
	s := j.Stats()
	assert.EqualValues(t, 2, s.Evicted)
	assert.Equal(t, 3, s.Pending)
}

// TestEntriesAreReusedWithTheirValue: finalized entries come back with the
// caller's Value (for reuse) and no event.
func TestEntriesAreReusedWithTheirValue(t *testing.T) {
	j, err := join.New(join.Config{Window: time.Second}, func(e *join.Entry[[]float64]) error { return nil })
	require.NoError(t, err)
	e, _ := j.Impression(imp("a", t0, "x"))
	e.Value = append(e.Value, 1, 2, 3)
	// b's arrival finalizes a first, then b takes a's entry.
	e2, _ := j.Impression(imp("b", t0.Add(time.Hour), "x", "y"))
	require.NotNil(t, e2)
	assert.Equal(t, "b", e2.Impression.RequestID)
	assert.Equal(t, []int{1, 0}, e2.Order)
	assert.Equal(t, 0, e2.Outcomes)
	assert.Equal(t, []float64{1, 2, 3}, e2.Value, "Value is kept for reuse")
}

func TestDoneErrorsAreReturnedOnce(t *testing.T) {
	boom := errors.New("boom")
	j, err := join.New(join.Config{Window: time.Second}, func(e *join.Entry[int]) error {
		if e.Impression.RequestID == "bad" {
			return boom
		}
		return nil
	})
	require.NoError(t, err)
	_, err = j.Impression(imp("bad", t0, "x"))
	require.NoError(t, err)
	_, err = j.Impression(imp("ok", t0.Add(time.Minute), "x"))
	require.ErrorIs(t, err, boom, "finalizing bad while accepting ok")
	_, err = j.Outcome(out("ok", "x", t0.Add(time.Minute)))
	require.NoError(t, err, "the Joiner stays usable")
}

func TestConfigErrorsNameTheField(t *testing.T) {
	_, err := join.New(join.Config{Window: -1}, func(*join.Entry[int]) error { return nil })
	require.ErrorContains(t, err, "join: Config.Window")
	_, err = join.New(join.Config{MaxPending: -1}, func(*join.Entry[int]) error { return nil })
	require.ErrorContains(t, err, "join: Config.MaxPending")
	_, err = join.New[int](join.Config{}, nil)
	require.ErrorContains(t, err, "done")
}

func ExampleJoiner() {
	j, _ := join.New(join.Config{Window: 30 * time.Minute}, func(e *join.Entry[int]) error {
		fmt.Printf("%s: %d outcome(s), first slot clicked %d\n", e.Impression.RequestID, e.Outcomes, e.Value)
		return nil
	})
	e, _ := j.Impression(imp("req-1", t0, "sku-9", "sku-4"))
	e.Value = -1
	if e, _ := j.Outcome(out("req-1", "sku-4", t0.Add(time.Minute))); e != nil && e.Value < 0 {
		e.Value = e.Slot("sku-4")
	}
	_ = j.Flush()
	// Output: req-1: 1 outcome(s), first slot clicked 0
}
