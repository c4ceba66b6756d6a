package prefetch

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize/schema"
)

// Lines and LinesForWrite read nothing into Go's view and write nothing:
// every start and length over a few lines, aligned or not, leaves the
// memory as it was (an assembly loop that stored, or ran past its end
// into a fault, would show here), and nil or empty ranges are accepted.
func TestLinesChangesNothing(t *testing.T) {
	for name, hint := range map[string]func(unsafe.Pointer, uintptr){"Lines": Lines, "LinesForWrite": LinesForWrite} {
		t.Run(name, func(t *testing.T) {
			buf := make([]byte, 4*lineSize+3)
			for i := range buf {
				buf[i] = byte(i*7 + 1)
			}
			want := bytes.Clone(buf)
			for off := 0; off < len(buf); off++ {
				for n := 0; off+n <= len(buf); n++ {
					hint(unsafe.Pointer(&buf[off]), uintptr(n))
				}
			}
			require.Equal(t, want, buf)
			hint(nil, 128)
			hint(unsafe.Pointer(&buf[0]), 0)
		})
	}
}

// Ahead takes any batch and index an encoder passes: events that are not
// impressions, impressions without stages or items, the last indexes of
// the batch and an empty batch; it changes none of them.
func TestAheadAnyBatch(t *testing.T) {
	items := []schema.Item{{ID: "sku-1", Position: 1, Score: 0.5}, {ID: "sku-2", Position: 2, Score: 0.25}}
	stages := []schema.StageTiming{{Name: "model_scoring", Duration: 3}}
	batch := []schema.Event{
		{Type: schema.EventImpression, Impression: &schema.Impression{RequestID: "r1", Items: items, Stages: stages}},
		{Type: schema.EventOutcome, Outcome: &schema.Outcome{RequestID: "r1"}},
		{Type: schema.EventImpression, Impression: &schema.Impression{RequestID: "r2"}},
		{Type: schema.EventImpression, Impression: &schema.Impression{RequestID: "r3", Items: items}},
		{Type: schema.EventImpression, Impression: &schema.Impression{RequestID: "r4", Stages: stages}},
	}
	want := make([]schema.Event, len(batch))
	copy(want, batch)
	wantItems := append([]schema.Item(nil), items...)
	for i := -1; i <= len(batch)+1; i++ {
		Ahead(batch, i)
	}
	Ahead(nil, 0)
	require.Equal(t, want, batch)
	require.Equal(t, wantItems, items)
}

// BenchmarkAhead is the cost of the hints for a 10-item, 3-stage
// impression whose memory is in cache: what an encoder pays when the
// prefetch finds nothing to fetch.
func BenchmarkAhead(b *testing.B) {
	items := make([]schema.Item, 10)
	batch := make([]schema.Event, 64)
	for i := range batch {
		batch[i] = schema.Event{Type: schema.EventImpression, Impression: &schema.Impression{Items: items, Stages: make([]schema.StageTiming, 3)}}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Ahead(batch, i%62)
	}
}
