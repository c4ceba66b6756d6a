package file_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

// TestRawIDsNeverReachTheFiles runs events carrying raw user and session
// ids through the real pipeline into a file exporter, an in-memory
// exporter and a file dead-letter exporter, then scans every byte written
// and every field delivered for the raw ids. Raw ids are also planted
// where they must be dropped: in a context attribute outside the
// allow-list and in stage and inference error messages.
func TestRawIDsNeverReachTheFiles(t *testing.T) {
	dir, deadDir := t.TempDir(), t.TempDir()
	fileExp, err := file.New(file.Config{Dir: dir, MaxBytes: 256 << 10})
	require.NoError(t, err)
	deadExp, err := file.New(file.Config{Dir: deadDir, Prefix: "dead"})
	require.NoError(t, err)
	mem := personalizetest.NewMemoryExporter()
	keys, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)})
	require.NoError(t, err)
	inst, err := personalize.New(personalize.Config{
		Service:       "feed-ranker",
		Pseudonymize:  keys,
		Exporters:     []personalize.Exporter{fileExp, mem},
		DeadLetter:    deadExp,
		MeterProvider: noop.NewMeterProvider(),
		BlockTimeout:  10 * time.Second, // count every event, drop none
		ErrorHandler:  func(err error) { t.Errorf("pipeline error: %v", err) },
	})
	require.NoError(t, err)
	ctx := context.Background()

	var raw []string
	const users = 300
	for u := range users {
		user, session := personalizetest.RawUserID(u), personalizetest.RawSessionID(u, u%3)
		raw = append(raw, user, session)
		for r := range 4 {
			rctx, inf := inst.Start(ctx, personalize.Request{
				User: user, Session: session, Surface: "home_feed", Model: "ranker", ModelVersion: "v42",
				Experiments: []personalize.Assignment{{Experiment: "ranker-v42", Variant: "treatment"}},
				Context: []personalize.Attr{{Key: personalize.AttrDevice, Value: "ios"},
					{Key: "email", Value: user + "@example.com"}},
			})
			_ = rctx
			st := inf.Stage("feature_retrieval")
			st.End(fmt.Errorf("feature store: no row for %s", user))
			inf.Impress([]personalize.Item{{ID: "sku-1", Position: 1, Score: 0.9}, {ID: "sku-2", Position: 2, Score: 0.5}})
			var endErr error
			if r == 3 {
				endErr = errors.New("ranker failed for " + user)
			}
			_ = inf.End(endErr)
			id := inf.RequestID()
			require.NoError(t, inst.Outcome(ctx, personalize.Outcome{RequestID: id, User: user, Session: session,
				Item: "sku-1", Kind: personalize.OutcomeClick}))
		}
		require.NoError(t, inst.Expose(ctx, personalize.Exposure{User: user, Experiment: "ranker-v42", Variant: "treatment"}))
		require.NoError(t, inst.Link(ctx, personalize.Link{User: user, Session: session}))
		// Rejected by validation: goes to the dead-letter exporter.
		_ = inst.Outcome(ctx, personalize.Outcome{User: user, Session: session, Kind: personalize.OutcomePurchase, Value: math.NaN()})
	}
	require.NoError(t, inst.Shutdown(ctx))
	require.NoError(t, fileExp.Shutdown(ctx))
	require.NoError(t, deadExp.Shutdown(ctx))

	for _, d := range []string{dir, deadDir} {
		data, err := written(d)
		require.NoError(t, err)
		require.NotEmpty(t, data, d)
		require.NoError(t, personalizetest.ScanRawIDs(data, raw), d)
		assert.NotContains(t, string(data), "@example.com", "a context attribute outside the allow-list")
	}
	got, st := readAll(t, dir)
	assert.Empty(t, st.Torn)
	assert.Len(t, got, users*(4+4+2), "4 impressions, 4 clicks, an exposure and a link per user")
	dead, _ := written(deadDir)
	assert.Equal(t, users, bytes.Count(dead, []byte{'\n'}), "one rejected purchase per user")

	// The in-process exporter sees no raw ids either.
	var all []byte
	for _, e := range mem.Events() {
		switch {
		case e.Outcome != nil:
			assert.Empty(t, e.Outcome.User+e.Outcome.Session)
		case e.Exposure != nil:
			assert.Empty(t, e.Exposure.User)
		case e.Link != nil:
			assert.Empty(t, e.Link.User+e.Link.Session)
		}
		all = fmt.Appendf(all, "%+v", e.Impression)
		all = fmt.Appendf(all, "%+v%+v%+v", e.Outcome, e.Exposure, e.Link)
	}
	require.NoError(t, personalizetest.ScanRawIDs(all, raw), "in-memory events, every field printed")
}
