package webhook

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The encode path reuses the exporter's buffers: after the first batch,
// encoding a batch allocates nothing.
func TestEncodeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	e, err := New(Config{URL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	defer e.Shutdown(context.Background())
	batch := events(60, 512)
	ctx := context.Background()
	e.encode(ctx, batch)
	assert.Zero(t, testing.AllocsPerRun(20, func() { e.encode(ctx, batch) }))
	assert.Len(t, e.ends, 512)

	// Framing without gzip reuses the pooled body buffer as well.
	lines := e.lines
	body := new(bytes.Buffer)
	e.frame(body, lines, 512)
	assert.LessOrEqual(t, testing.AllocsPerRun(20, func() { body.Reset(); e.frame(body, lines, 512) }), 0.0)
}
