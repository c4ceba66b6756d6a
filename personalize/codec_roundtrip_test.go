package personalize_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
)

// TestRecordedImpressionRoundTrips runs real inferences (monotonic clock
// readings and all) through the codec: the written start_time, time and
// duration_ns must agree so the strict decoder accepts every line.
func TestRecordedImpressionRoundTrips(t *testing.T) {
	rec := &recorder{name: "rec"}
	in := newInst(t, nil, rec)
	ctx := context.Background()
	for i := 0; i < 200; i++ {
		_, inf := in.Start(ctx, personalize.Request{User: "user-1", Surface: "home_feed",
			Experiments: []personalize.Assignment{{Experiment: "e", Variant: "v"}},
			Context:     []personalize.Attr{{Key: "device", Value: "mobile"}, {Key: "region", Value: "eu"}}})
		st := inf.Stage("model_scoring")
		time.Sleep(time.Duration(i%3) * time.Microsecond)
		st.End(nil)
		inf.Impress(items(4))
		require.NoError(t, inf.End(nil))
	}
	require.NoError(t, in.Shutdown(ctx))
	lines, evs := rec.snapshot()
	require.Len(t, lines, 200)
	for i, l := range lines {
		back, err := personalize.UnmarshalEvent([]byte(l))
		require.NoError(t, err, l)
		again, err := personalize.AppendJSON(nil, back)
		require.NoError(t, err)
		assert.Equal(t, l, string(again), "decode then encode is the identity")
		assert.Equal(t, evs[i].Impression.Duration(), back.Impression.Duration())
		assert.Equal(t, evs[i].Impression.Items, back.Impression.Items)
		assert.Equal(t, evs[i].Impression.Context, back.Impression.Context)
	}
}
