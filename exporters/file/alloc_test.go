package file_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
)

// TestExportAllocations pins the allocations of Export: none on the
// inline path once the pool is warm, and a small constant per batch (not
// per event) on the parallel path.
func TestExportAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	ctx := context.Background()
	events := impressions(512)
	for _, tc := range []struct {
		name     string
		encoders int
		batch    int
		max      float64
	}{
		{"inline, 32 events", 1, 32, 0},
		{"inline, 512 events", 1, 512, 0},
		// Per batch (41 measured): 16 chunk channels, the slot slice, two
		// control channels, the worker goroutines and their closures;
		// under 0.1 per event.
		{"parallel, 512 events", 2, 512, 48},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, err := file.New(file.Config{Dir: t.TempDir(), Encoders: tc.encoders})
			require.NoError(t, err)
			defer exp.Shutdown(ctx)
			batch := events[:tc.batch]
			require.NoError(t, exp.Export(ctx, batch)) // open the file, warm the pool
			allocs := testing.AllocsPerRun(50, func() {
				if err := exp.Export(ctx, batch); err != nil {
					t.Fatal(err)
				}
			})
			assert.LessOrEqual(t, allocs, tc.max)
			t.Logf("%.1f allocations per Export of %d events", allocs, tc.batch)
		})
	}
}
