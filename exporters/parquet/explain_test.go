package parquet_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/parquet"
	"github.com/rankscope/rankscope/personalize"
)

// TestExplanationsRoundTrip writes impressions whose explanations sit at
// the edges of the nested list's levels (on the first item only, the last
// only, every item, the bound of contributions, one item) and reads them
// back as the same JSON.
func TestExplanationsRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	full := make([]personalize.Contribution, personalize.MaxContributions)
	for j := range full {
		full[j] = personalize.Contribution{Feature: "f" + strconv.Itoa(j), Value: float64(j) - 3.5}
	}
	one := []personalize.Contribution{{Feature: "recency", Value: -0.25}}
	shapes := [][][]personalize.Contribution{
		{one, nil, nil},
		{nil, nil, one},
		{full, one, full},
		{full},
		{nil, full, nil, one},
	}
	var events []personalize.Event
	for k, shape := range shapes {
		im := &personalize.Impression{RequestID: personalize.RequestID("r" + strconv.Itoa(k)), Start: t0, End: t0.Add(time.Millisecond),
			UserID: personalize.Pseudonym{ID: "u"}}
		im.EventID[0], im.EventID[6], im.EventID[8] = byte(k+1), 0x70, 0x80
		for i, ex := range shape {
			im.Items = append(im.Items, personalize.Item{ID: "i" + strconv.Itoa(i), Position: i + 1, Score: 1, Explanation: ex})
		}
		events = append(events, personalize.Event{Type: personalize.EventImpression, Impression: im})
	}
	dir := t.TempDir()
	exp, err := parquet.New(parquet.Config{Dir: dir})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, exp.Export(ctx, events))
	require.NoError(t, exp.Shutdown(ctx))
	got, _ := readAll(t, dir)
	want, back := jsonLines(t, events), jsonLines(t, got)
	require.Len(t, back, len(want))
	for i := range want {
		require.Equal(t, string(want[i]), string(back[i]), "impression %d", i)
	}
}
