package filetest_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/exporters/file/filetest"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func TestWriteDirRoundTrips(t *testing.T) {
	evs := personalizetest.RandomEvents(rand.New(rand.NewPCG(1, 2)), 500)
	dir := filetest.WriteDir(t, evs)
	var got []personalize.Event
	stats, err := file.ReadDir(dir, func(e personalize.Event) error { got = append(got, e); return nil })
	require.NoError(t, err)
	assert.Empty(t, stats.Torn, "every file closed whole")
	require.Len(t, got, len(evs))
	for i := range evs {
		want, _ := personalize.AppendJSON(nil, evs[i])
		have, _ := personalize.AppendJSON(nil, got[i])
		assert.Equal(t, string(want), string(have))
	}
}
