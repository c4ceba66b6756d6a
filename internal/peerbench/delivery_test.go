package peerbench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
)

// TestDelivery runs every contender for about a thousand inferences,
// sequentially and from 64 goroutines, and checks the harness: every
// event reached the file (rankscope/default: every event it did not
// report dropped), the lines are JSON carrying the pseudonymized user and
// never a raw id. It asserts nothing about time.
func TestDelivery(t *testing.T) {
	const perMode = 1024
	for _, c := range Contenders {
		for _, mode := range []string{"sequential", "parallel"} {
			t.Run(c.Name+"/"+mode, func(t *testing.T) {
				dir := t.TempDir()
				s, err := c.Open(dir)
				require.NoError(t, err)
				var sent, dropped atomic.Int64
				var firstErr errOnce
				run := func(cl *Caller, n int) {
					for range n {
						err := s.Infer(cl)
						sent.Add(1)
						switch {
						case errors.Is(err, personalize.ErrQueueFull):
							dropped.Add(1)
						case err != nil:
							firstErr.set(err)
						}
					}
				}
				firstUser := Users[NewCaller(0).user]
				if mode == "sequential" {
					run(NewCaller(0), perMode)
				} else {
					var wg sync.WaitGroup
					for g := range Goroutines {
						wg.Go(func() { run(NewCaller(g), perMode/Goroutines) })
					}
					wg.Wait()
				}
				require.NoError(t, s.Close())
				require.NoError(t, firstErr.get())
				require.EqualValues(t, perMode, sent.Load())

				got, _, err := s.Delivered()
				require.NoError(t, err)
				if rs, ok := s.(*rankscope); ok {
					st := rs.Stats()
					require.Len(t, st.Exporters, 1)
					require.Equal(t, got, st.Exporters[0].Exported, "lines on disk = exporter's books")
					if c.Name == "rankscope/default" {
						// Drops are allowed under overload, but none is
						// silent: each was refused to its caller or is in
						// the exporter's books.
						require.Equal(t, sent.Load(), got+dropped.Load()+st.Exporters[0].Dropped(),
							"sent = delivered + refused at emit + dropped by the exporter")
					}
					checkRankscopeFiles(t, dir, got)
				}
				if c.Name == "floor/file" {
					checkRankscopeFiles(t, dir, got)
				}
				if c.Name != "rankscope/default" {
					require.Zero(t, dropped.Load())
					require.Equal(t, sent.Load(), got, "every event on disk")
				}
				if sc, ok := s.(SpanCounter); ok {
					spans, err := sc.Spans()
					require.NoError(t, err)
					require.LessOrEqual(t, spans, 4*sent.Load())
					if c.Name == "otel/naive" {
						require.Positive(t, spans)
					}
				}
				if c.Name != "floor" {
					checkLines(t, dir, firstUser)
				}
			})
		}
	}
}

// checkLines checks that every line under dir is a JSON object, that the
// first caller's first user appears pseudonymized, and that no raw user id
// does.
func checkLines(t *testing.T, dir, firstUser string) {
	t.Helper()
	sawUser := false
	pseudo := []byte(Pseudonym(firstUser))
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if filepath.Base(filepath.Dir(path)) == "traces" {
			return nil // span attributes are checked with the log lines' user
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			var obj map[string]any
			require.NoError(t, json.Unmarshal(line, &obj), "%s: %s", path, line)
			require.NotContains(t, string(line), "user-", "raw user id in %s", path)
			sawUser = sawUser || bytes.Contains(line, pseudo)
		}
		return sc.Err()
	})
	require.NoError(t, err)
	require.True(t, sawUser, "pseudonym of %s not found", firstUser)
}

// checkRankscopeFiles reads rankscope's files back with the file package's
// reader: n impressions, each with the unit of work's shape.
func checkRankscopeFiles(t *testing.T, dir string, n int64) {
	t.Helper()
	var got int64
	_, err := file.ReadDir(dir, func(ev personalize.Event) error {
		got++
		im := ev.Impression
		require.NotNil(t, im)
		require.Len(t, im.Items, len(Items))
		require.Len(t, im.Stages, len(Stages))
		for i, s := range im.Stages {
			require.Equal(t, Stages[i], s.Name)
		}
		require.Len(t, im.UserID.ID, 32)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, n, got)
}
