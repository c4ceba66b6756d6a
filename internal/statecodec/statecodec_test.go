package statecodec

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/internal/exactsum"
)

func TestRoundTrip(t *testing.T) {
	var w Writer
	w.Header("TEST", 3)
	w.Uint(300)
	w.Int(-5)
	w.Float(2.5)
	w.String("arm")
	w.Bool(true)
	s := exactsum.FromFloat64(-1.25)
	w.Sum(&s)
	r, err := NewReader(w.B, "T", "TEST", 3)
	require.NoError(t, err)
	assert.Equal(t, uint64(300), r.Uint("a"))
	assert.Equal(t, int64(-5), r.Int("b"))
	assert.Equal(t, 2.5, r.Float("c"))
	assert.Equal(t, "arm", r.String("d", 10))
	assert.True(t, r.Bool("e"))
	got := r.Sum("f")
	assert.Equal(t, -1.25, got.Float64())
	require.NoError(t, r.End())
}

func TestErrorsNameTheField(t *testing.T) {
	_, err := NewReader([]byte("TESX\x03"), "T", "TEST", 3)
	assert.ErrorContains(t, err, "magic")
	_, err = NewReader([]byte("TEST\x04"), "T", "TEST", 3)
	assert.ErrorContains(t, err, "version")

	r, err := NewReader([]byte("TEST\x03\x05ab"), "T", "TEST", 3)
	require.NoError(t, err)
	r.String("arms[0].variant", 100)
	assert.ErrorContains(t, r.Err(), "T: arms[0].variant")
	r.Uint("later") // after an error, reads are no-ops
	assert.ErrorContains(t, r.Err(), "arms[0].variant")

	r, _ = NewReader([]byte("TEST\x03\x80\x00"), "T", "TEST", 3)
	r.Uint("n")
	assert.ErrorContains(t, r.Err(), "n: not a minimal uvarint")

	r, _ = NewReader([]byte("TEST\x03\x02"), "T", "TEST", 3)
	r.Bool("flag")
	assert.ErrorContains(t, r.Err(), "flag: want 0 or 1")

	r, _ = NewReader([]byte("TEST\x03\x7f"), "T", "TEST", 3)
	r.Count("bins", 8, 1000)
	assert.ErrorContains(t, r.Err(), "bins: unexpected end")

	r, _ = NewReader([]byte("TEST\x03\x01\x01"), "T", "TEST", 3)
	r.Uint("x")
	assert.ErrorContains(t, r.End(), "1 bytes after the end")
}
