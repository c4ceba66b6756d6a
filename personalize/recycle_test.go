package personalize_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
)

// TestRecycledImpressionsAreNotCorrupted: with a Transient exporter the
// pipeline reuses impression memory. Many goroutines emit impressions
// whose every field is derived from the request id, with item counts and
// stage counts that vary (so reused item and stage storage shrinks and
// grows); every line read back must be internally consistent, and every
// request delivered once.
func TestRecycledImpressionsAreNotCorrupted(t *testing.T) {
	dir := t.TempDir()
	fe, err := file.New(file.Config{Dir: dir})
	require.NoError(t, err)
	require.True(t, fe.Transient(), "the file exporter keeps nothing after Export")
	in := newInst(t, func(c *personalize.Config) {
		c.BatchSize = 7
		c.QueueSize = 1 << 14
		c.Shards = 2
	}, fe)
	ctx := context.Background()
	const goroutines, per = 8, 1500
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent := map[string]bool{}
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				id := fmt.Sprintf("g%d-r%d", g, i)
				_, inf := in.Start(ctx, personalize.Request{ID: personalize.RequestID(id), User: "user-" + id, Surface: id})
				for s := range i % 6 {
					st := inf.Stage(fmt.Sprintf("%s-stage%d", id, s))
					st.End(nil)
				}
				items := make([]personalize.Item, 1+i%13)
				for k := range items {
					items[k] = personalize.Item{ID: fmt.Sprintf("%s-item%d", id, k), Position: k + 1, Score: float64(k)}
				}
				if i%7 != 3 { // some never impress: no items from a block's last use
					inf.Impress(items)
				}
				if i%5 == 0 {
					inf.Impress(items[:len(items)/2+1]) // replaced: the copy shrinks
				}
				if i%4 == 1 {
					inf.Fallback("fb-" + id)
				}
				if inf.End(nil) == nil {
					mu.Lock()
					sent[id] = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, in.Shutdown(ctx))
	got := 0
	_, err = file.ReadDir(dir, func(e personalize.Event) error {
		im := e.Impression
		id := string(im.RequestID)
		assert.Equal(t, id, im.Surface, "surface of %s", id)
		assert.True(t, sent[id], "%s delivered once, and sent", id)
		delete(sent, id)
		var g, i int
		_, err := fmt.Sscanf(id, "g%d-r%d", &g, &i)
		require.NoError(t, err)
		wantItems := 1 + i%13
		switch {
		case i%5 == 0:
			wantItems = wantItems/2 + 1
		case i%7 == 3:
			wantItems = 0
		}
		assert.Len(t, im.Items, wantItems, "items of %s", id)
		for k, it := range im.Items {
			assert.Equal(t, fmt.Sprintf("%s-item%d", id, k), it.ID)
		}
		assert.Len(t, im.Stages, i%6, "stages of %s", id)
		for _, s := range im.Stages {
			assert.True(t, strings.HasPrefix(s.Name, id+"-stage"), "stage %s of %s", s.Name, id)
		}
		if i%4 == 1 {
			assert.Equal(t, personalize.StageFallback, im.Status, "status of %s", id)
			assert.Equal(t, "fb-"+id, im.ErrorType)
		} else {
			assert.Equal(t, personalize.StageOK, im.Status, "status of %s: a block's last use must not leak", id)
			assert.Empty(t, im.ErrorType)
		}
		got++
		return nil
	})
	require.NoError(t, err)
	assert.Empty(t, sent, "every accepted impression was delivered")
	assert.Greater(t, got, goroutines*per/2)
}

// TestBatchSliceReusedOnlyWhenSettled: batch slices are recycled once
// every exporter has returned from the batch. A slow exporter snapshots
// its batch on entry and checks it on exit, while a fast one lets the
// batchers race ahead and reuse every slice they can; a slice reused too
// early would change under the slow exporter.
func TestBatchSliceReusedOnlyWhenSettled(t *testing.T) {
	var bad, seen atomic.Int64
	slow := personalize.ExportFunc(func(_ context.Context, batch []personalize.Event) error {
		ids := make([]personalize.EventID, len(batch))
		for i, ev := range batch {
			ids[i] = ev.ID()
		}
		time.Sleep(200 * time.Microsecond)
		for i, ev := range batch {
			if ev.ID() != ids[i] {
				bad.Add(1)
			}
		}
		seen.Add(int64(len(batch)))
		return nil
	})
	in := newInst(t, func(c *personalize.Config) {
		c.BatchSize = 8
		c.BlockTimeout = time.Minute // nothing refused: every event reaches both
	}, personalize.DiscardExporter, slow)
	const n = 4000
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range n / 4 {
				require.NoError(t, in.Outcome(context.Background(), personalize.Outcome{
					RequestID: personalize.RequestID(fmt.Sprintf("r%d-%d", g, i)), User: fmt.Sprintf("u%d", i%50),
					Item: "sku-1", Kind: personalize.OutcomeClick,
				}))
			}
		})
	}
	wg.Wait()
	require.NoError(t, in.Shutdown(context.Background()))
	require.EqualValues(t, n, seen.Load(), "events the slow exporter saw")
	require.Zero(t, bad.Load(), "events changed under the slow exporter")
}

// An Inference is the one allocation of a recorded inference
// (BenchmarkInference reports it); it must stay in the 80-byte size class.
// Request.Time and the trace span live in the pooled block.
func TestInferenceFitsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(personalize.Inference{}); n > 80 {
		t.Fatalf("unsafe.Sizeof(Inference{}) = %d bytes, want <= 80", n)
	}
}
