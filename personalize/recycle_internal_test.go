package personalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A block that carried an oversized ranking or explanation copy goes back
// to the pool without it; an ordinary block keeps its room.
func TestPutBlockLetsOversizedRoomGo(t *testing.T) {
	in := &Instrument{recycle: true}
	big := &impBlock{items: make([]Item, maxPooledItems+1), contribs: make([]Contribution, maxPooledContribs+1)}
	in.putBlock(big)
	assert.Nil(t, big.items, "items over maxPooledItems")
	assert.Nil(t, big.contribs, "explanations over maxPooledContribs")

	small := &impBlock{items: make([]Item, 10), contribs: make([]Contribution, 3)}
	in.putBlock(small)
	assert.Equal(t, 10, cap(small.items))
	assert.Equal(t, 3, cap(small.contribs))
}

// reclaim leaves no trace of the block's last use in its stage room or
// its items, and keeps the items' capacity for the next copy.
func TestReclaimClearsLastUse(t *testing.T) {
	b := &impBlock{items: []Item{{ID: "sku-1", Score: 0.5, Explanation: []Contribution{{Feature: "f"}}}, {ID: "sku-2"}}}
	for i := range b.stages {
		b.stages[i] = StageTiming{Name: "stage", Duration: 1, Detail: "d"}
	}
	b.reclaim()
	assert.Equal(t, [len(b.stages)]StageTiming{}, b.stages)
	assert.Equal(t, []Item{{}, {}}, b.items)
	assert.Equal(t, 2, cap(b.items))
}

// warmBlock hands the block it requested back to the pool as it was, for
// the next Get on this processor, and does nothing with an empty pool.
// (Under the race detector the pool drops blocks at random, so there
// only what it returns is checked.)
func TestWarmBlockChangesNothing(t *testing.T) {
	in := &Instrument{recycle: true, warm: true}
	in.warmBlock() // empty pool
	b := &impBlock{items: []Item{{ID: "sku-1", Position: 1, Score: 0.5}}}
	b.imp.RequestID = "r1"
	in.putBlock(b)
	in.warmBlock()
	got, ok := in.blocks.Get().(*impBlock)
	if !RaceEnabled {
		require.True(t, ok, "the block is back in the pool")
	}
	if ok {
		assert.Same(t, b, got)
		assert.Equal(t, "r1", got.imp.RequestID)
		assert.Equal(t, []Item{{ID: "sku-1", Position: 1, Score: 0.5}}, got.items)
	}
}
