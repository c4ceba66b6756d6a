package personalize_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
)

// explained returns n items whose explanations are derived from tag, one
// to three contributions each.
func explained(tag string, n int) []personalize.Item {
	out := items(n)
	for i := range out {
		ex := make([]personalize.Contribution, 1+i%3)
		for j := range ex {
			ex[j] = personalize.Contribution{Feature: tag + "-f" + strconv.Itoa(j), Value: float64(i*10+j) / 8}
		}
		out[i].Explanation = ex
	}
	return out
}

// TestImpressCopiesExplanations: the exported impression carries the
// explanations given to Impress, in a copy: rewriting the caller's slices
// after Impress changes nothing.
func TestImpressCopiesExplanations(t *testing.T) {
	rec := &recorder{name: "rec"}
	in := newInst(t, nil, rec)
	ctx := context.Background()
	_, inf := in.Start(ctx, personalize.Request{ID: "r1", User: "user-1"})
	its := explained("a", 4)
	its[2].Explanation = nil
	inf.Impress(its)
	for i := range its {
		for j := range its[i].Explanation {
			its[i].Explanation[j] = personalize.Contribution{Feature: "overwritten", Value: -1}
		}
	}
	require.NoError(t, inf.End(nil))
	require.NoError(t, in.Shutdown(ctx))
	_, evs := rec.snapshot()
	require.Len(t, evs, 1)
	want := explained("a", 4)
	want[2].Explanation = nil
	got := evs[0].Impression.Items
	require.Len(t, got, 4)
	for i := range want {
		assert.Equal(t, want[i].Explanation, got[i].Explanation, "item %d", i)
	}
}

// TestExplanationValidationNamesTheField: an impression with a bad
// explanation is refused at End with the field of the bad contribution.
func TestExplanationValidationNamesTheField(t *testing.T) {
	rec := &recorder{name: "rec"}
	in := newInst(t, nil, rec)
	defer in.Shutdown(context.Background())
	ctx := context.Background()
	tooMany := make([]personalize.Contribution, personalize.MaxContributions+1)
	for j := range tooMany {
		tooMany[j] = personalize.Contribution{Feature: "f" + strconv.Itoa(j), Value: 1}
	}
	bad := []struct {
		name  string
		ex    []personalize.Contribution
		field string
	}{
		{"too many", tooMany, "items[3].explanation"},
		{"empty feature", []personalize.Contribution{{Feature: "a", Value: 1}, {Value: 1}}, "items[3].explanation[1].feature"},
		{"duplicate feature", []personalize.Contribution{{Feature: "a", Value: 1}, {Feature: "a", Value: 2}}, "items[3].explanation[1].feature"},
		{"NaN value", []personalize.Contribution{{Feature: "a", Value: nan()}}, "items[3].explanation[0].value"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			its := items(5)
			its[3].Explanation = tc.ex
			_, inf := in.Start(ctx, personalize.Request{User: "user-1"})
			inf.Impress(its)
			err := inf.End(nil)
			var ve *personalize.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
		})
	}
}

// TestRecycledExplanationsAreNotCorrupted: with a Transient exporter the
// explanations live in the pooled block; many goroutines emit impressions
// whose explanations are derived from the request id, with counts that
// grow and shrink, and the caller reuses its slices at once. Every line
// read back carries its own request's explanations.
func TestRecycledExplanationsAreNotCorrupted(t *testing.T) {
	dir := t.TempDir()
	fe, err := file.New(file.Config{Dir: dir})
	require.NoError(t, err)
	in := newInst(t, func(c *personalize.Config) {
		c.BatchSize = 5
		c.QueueSize = 1 << 13
		c.Shards = 2
	}, fe)
	ctx := context.Background()
	const goroutines, per = 4, 600
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent := map[string]int{}
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scratch []personalize.Item
			for i := range per {
				id := fmt.Sprintf("g%d-r%d", g, i)
				_, inf := in.Start(ctx, personalize.Request{ID: personalize.RequestID(id), User: "user-" + id})
				n := 1 + i%9
				scratch = append(scratch[:0], explained(id, n)...)
				if i%4 == 0 {
					scratch[n/2].Explanation = nil
				}
				inf.Impress(scratch)
				for k := range scratch { // the caller reuses its memory at once
					for j := range scratch[k].Explanation {
						scratch[k].Explanation[j].Feature = "reused"
					}
				}
				if inf.End(nil) == nil {
					mu.Lock()
					sent[id] = n
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
		n, ok := sent[id]
		require.True(t, ok, "%s sent once", id)
		delete(sent, id)
		i, err := strconv.Atoi(id[strings.Index(id, "-r")+2:])
		require.NoError(t, err)
		want := explained(id, n)
		if i%4 == 0 {
			want[n/2].Explanation = nil
		}
		require.Len(t, im.Items, n)
		for k := range want {
			require.Equal(t, want[k].Explanation, im.Items[k].Explanation, "%s item %d", id, k)
		}
		got++
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, goroutines*per, got)
	assert.Empty(t, sent)
}
