package panel

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFloatJSON(t *testing.T) {
	for _, tc := range []struct {
		in   Float
		want string
	}{{1.5, "1.5"}, {Float(math.NaN()), "null"}, {Float(math.Inf(1)), "null"}, {0, "0"}, {-2e-7, "-2e-07"}} {
		b, err := json.Marshal(tc.in)
		require.NoError(t, err)
		assert.Equal(t, tc.want, string(b))
		var back Float
		require.NoError(t, json.Unmarshal(b, &back))
		if tc.in.Defined() {
			assert.Equal(t, tc.in, back)
		} else {
			assert.False(t, back.Defined())
		}
	}
}
