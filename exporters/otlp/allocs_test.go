package otlp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// AppendAttributes allocates only what the attribute values themselves
// need: the event id string, the context keys, and attribute's copies of
// arrays (into comparable arrays); scalars cost nothing.
func TestAppendAttributesAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	rng := newRand(70)
	im := personalizetest.RandomImpression(rng, 10)
	imp := personalize.Event{Type: personalize.EventImpression, Impression: im}
	out := personalizetest.RandomEvent(rng, personalize.EventOutcome)
	kvs := make([]attribute.KeyValue, 0, 128)
	var enc encoder
	enc.attrs = kvs
	run := func(e personalize.Event) float64 {
		return testing.AllocsPerRun(50, func() {
			enc.attrs = enc.attrs[:0]
			_ = enc.encode(e)
		})
	}
	assert.Equal(t, 1.0, run(out), "scalars only: just the event id string")
	arrays := 0
	_ = enc.encode(imp)
	for _, kv := range enc.attrs {
		switch kv.Value.Type() {
		case attribute.STRINGSLICE, attribute.INT64SLICE, attribute.FLOAT64SLICE:
			arrays++
		}
	}
	// The event id string, the context keys, and at most two
	// allocations per array (attribute's copy and its reflect-built array).
	got := run(imp)
	t.Logf("impression of 10 items: %v allocations, %d arrays", got, arrays)
	assert.LessOrEqual(t, got, float64(1+len(im.Context)+2*arrays))
}

// TestExportDirectAllocsPerBatch: on the direct path an Export costs a
// fixed number of allocations per request (HTTP client and loopback
// server included), none per event.
func TestExportDirectAllocsPerBatch(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(srv.Close)
	e := newExporter(t, Config{Transport: Transport{Endpoint: srv.URL}})
	run := func(batch []personalize.Event) float64 {
		require.NoError(t, e.Export(ctx(t), batch)) // warm the pools and the connection
		return testing.AllocsPerRun(20, func() { _ = e.Export(context.Background(), batch) })
	}
	small, large := run(events(80, 16)), run(events(81, 1024))
	t.Logf("allocations per Export: %v (16 events), %v (1024 events)", small, large)
	assert.Less(t, large, 150.0)
	assert.Less(t, large-small, 16.0, "nothing per event")
}
