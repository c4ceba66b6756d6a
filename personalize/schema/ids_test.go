package schema_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize/schema"
)

func TestEventIDIsUUIDv7(t *testing.T) {
	seen := map[schema.EventID]bool{}
	prev := schema.NewEventID()
	for i := 0; i < 10000; i++ {
		id := schema.NewEventID()
		require.False(t, seen[id], "duplicate id")
		seen[id] = true
		u, err := uuid.Parse(id.String())
		require.NoError(t, err)
		assert.EqualValues(t, 7, u.Version())
		assert.Equal(t, uuid.RFC4122, u.Variant())
		// Time-ordered to the millisecond: the 48-bit prefix never decreases.
		assert.LessOrEqual(t, prefix48(prev), prefix48(id))
		prev = id
		back, err := schema.ParseEventID(id.String())
		require.NoError(t, err)
		assert.Equal(t, id, back)
	}
	_, err := schema.ParseEventID("not-a-uuid")
	assert.Error(t, err)
}

func prefix48(id schema.EventID) uint64 {
	var v uint64
	for _, b := range id[:6] {
		v = v<<8 | uint64(b)
	}
	return v
}
