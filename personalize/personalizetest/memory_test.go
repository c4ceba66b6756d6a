package personalizetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemoryExporterConformance(t *testing.T) {
	personalizetest.TestExporter(t, personalizetest.Harness{
		New: func(t *testing.T) personalizetest.Instance {
			m := personalizetest.NewMemoryExporter()
			return personalizetest.Instance{
				Exporter:  m,
				Delivered: func() ([]personalize.Event, error) { return m.Events(), nil },
			}
		},
	})
}

func TestMemoryExporter(t *testing.T) {
	ctx := context.Background()
	rng := seeded(1)

	t.Run("deep copies in and out", func(t *testing.T) {
		m := personalizetest.NewMemoryExporter()
		batch := personalizetest.RandomEvents(rng, 10)
		for batch[0].Impression == nil {
			batch = personalizetest.RandomEvents(rng, 10)
		}
		want := jsonOf(t, batch[0])
		require.NoError(t, m.Export(ctx, batch))
		batch[0].Impression.Items[0].ID = "changed-by-caller"
		got := m.Events()
		assert.Equal(t, want, jsonOf(t, got[0]))
		got[0].Impression.Items[0].ID = "changed-by-reader"
		assert.Equal(t, want, jsonOf(t, m.Events()[0]))
	})

	t.Run("injected error stores nothing", func(t *testing.T) {
		m := personalizetest.NewMemoryExporter()
		boom := errors.New("boom")
		m.SetError(boom)
		require.ErrorIs(t, m.Export(ctx, personalizetest.RandomEvents(rng, 3)), boom)
		m.SetError(nil)
		require.NoError(t, m.Export(ctx, personalizetest.RandomEvents(rng, 2)))
		assert.Equal(t, personalizetest.MemoryStats{Exports: 2, Failed: 1, Events: 2}, m.Stats())
	})

	t.Run("latency honors deadline", func(t *testing.T) {
		m := personalizetest.NewMemoryExporter()
		m.SetLatency(time.Hour)
		ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, m.Export(ctx, personalizetest.RandomEvents(rng, 1)), context.DeadlineExceeded)
		assert.Zero(t, m.Len())
	})

	t.Run("latency delays", func(t *testing.T) {
		m := personalizetest.NewMemoryExporter()
		m.SetLatency(5 * time.Millisecond)
		start := time.Now()
		require.NoError(t, m.Export(ctx, personalizetest.RandomEvents(rng, 1)))
		assert.GreaterOrEqual(t, time.Since(start), 5*time.Millisecond)
		assert.Equal(t, 1, m.Len())
	})

	t.Run("bound drops and counts", func(t *testing.T) {
		m := personalizetest.NewMemoryExporter()
		m.SetMaxEvents(5)
		require.NoError(t, m.Export(ctx, personalizetest.RandomEvents(rng, 3)))
		require.NoError(t, m.Export(ctx, personalizetest.RandomEvents(rng, 4)))
		st := m.Stats()
		assert.Equal(t, 5, st.Events)
		assert.Equal(t, 2, st.Dropped)
		assert.Equal(t, 5, m.Len())
	})

	t.Run("reset", func(t *testing.T) {
		m := personalizetest.NewMemoryExporter()
		require.NoError(t, m.Export(ctx, personalizetest.RandomEvents(rng, 3)))
		require.NoError(t, m.ForceFlush(ctx))
		m.Reset()
		assert.Zero(t, m.Len())
		assert.Equal(t, personalizetest.MemoryStats{}, m.Stats())
	})

	t.Run("shutdown", func(t *testing.T) {
		m := personalizetest.NewMemoryExporter()
		require.NoError(t, m.Shutdown(ctx))
		require.NoError(t, m.Shutdown(ctx))
		require.ErrorIs(t, m.Export(ctx, personalizetest.RandomEvents(rng, 1)), personalizetest.ErrShutdown)
		assert.Equal(t, 2, m.Stats().Shutdowns)
	})
}

// brokenExporters are deliberately non-conforming exporters the suite must
// reject: a suite that cannot fail checks nothing.
var brokenExporters = map[string]func() personalizetest.Instance{
	"drops the last event of each batch": func() personalizetest.Instance {
		m := personalizetest.NewMemoryExporter()
		exp := personalize.ExportFunc(func(ctx context.Context, b []personalize.Event) error {
			if len(b) == 0 {
				return nil
			}
			return m.Export(ctx, b[:len(b)-1])
		})
		return personalizetest.Instance{Exporter: exp, Delivered: func() ([]personalize.Event, error) { return m.Events(), nil }}
	},
	"retains the batch slice": func() personalizetest.Instance {
		var kept [][]personalize.Event
		exp := personalize.ExportFunc(func(ctx context.Context, b []personalize.Event) error {
			kept = append(kept, b)
			return ctx.Err()
		})
		return personalizetest.Instance{Exporter: exp, Delivered: func() ([]personalize.Event, error) {
			var out []personalize.Event
			for _, b := range kept {
				out = append(out, b...)
			}
			return out, nil
		}}
	},
	"writes raw ids": func() personalizetest.Instance {
		m := personalizetest.NewMemoryExporter()
		var written []byte
		exp := personalize.ExportFunc(func(ctx context.Context, b []personalize.Event) error {
			for _, e := range b {
				written = append(written, "{}"...)
				if e.Outcome != nil {
					written = append(written, e.Outcome.User...)
				}
			}
			return m.Export(ctx, b)
		})
		return personalizetest.Instance{Exporter: exp,
			Delivered: func() ([]personalize.Event, error) { return m.Events(), nil },
			Written:   func() ([]byte, error) { return written, nil }}
	},
	"accepts exports after shutdown": func() personalizetest.Instance {
		m := personalizetest.NewMemoryExporter()
		// ExportFunc's Shutdown does nothing, so Export keeps working.
		return personalizetest.Instance{Exporter: personalize.ExportFunc(m.Export),
			Delivered: func() ([]personalize.Event, error) { return m.Events(), nil }}
	},
}

const brokenEnv = "PERSONALIZETEST_BROKEN_EXPORTER"

// TestBrokenExporterChild runs the suite against the broken exporter named
// by $PERSONALIZETEST_BROKEN_EXPORTER; it is a child process of
// TestSuiteCatchesBrokenExporters and skips otherwise.
func TestBrokenExporterChild(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		t.Skip("run by TestSuiteCatchesBrokenExporters")
	}
	newBroken := brokenExporters[name]
	personalizetest.TestExporter(t, personalizetest.Harness{
		New: func(*testing.T) personalizetest.Instance { return newBroken() },
	})
}

// TestSuiteCatchesBrokenExporters runs the suite on each broken exporter in
// a child test process and requires it to fail, naming the expected
// subtest.
func TestSuiteCatchesBrokenExporters(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("child process")
	}
	wantFail := map[string]string{
		"drops the last event of each batch": "EveryEventOnce",
		"retains the batch slice":            "DoesNotRetainBatch",
		"writes raw ids":                     "NoRawIDs",
		"accepts exports after shutdown":     "ShutdownIdempotent",
	}
	for name := range brokenExporters {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenExporterChild$", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+name)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the suite passed a broken exporter:\n%s", out)
			assert.Contains(t, string(out), "--- FAIL: TestBrokenExporterChild/"+wantFail[name])
		})
	}
}
