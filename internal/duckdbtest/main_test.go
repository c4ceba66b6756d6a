package duckdbtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if quickstartDir != "" {
		_ = os.RemoveAll(quickstartDir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// The quickstart's events, written once per test binary: the quickstart
// itself (go run ../../examples/quickstart) with -parquet, so one run
// writes the same events through exporters/file (JSON lines) and
// exporters/parquet. -concurrency 1 makes each user's events reach the
// files in the order of their event times, the assumption the SQL's
// event-time semantics rest on (warehouse.ExperimentQuery.SQL); more
// concurrent simulated requests let two requests of one user race.
var (
	quickstartOnce sync.Once
	quickstartDir  string
	quickstartErr  error
)

const (
	quickstartRequests = "1500"
	quickstartSeed     = "7"
)

// quickstart returns the directories of the JSON lines and the Parquet
// files.
func quickstart(t *testing.T) (jsonDir, parquetDir string) {
	t.Helper()
	quickstartOnce.Do(func() {
		dir, err := os.MkdirTemp("", "duckdbtest-")
		if err != nil {
			quickstartErr = err
			return
		}
		quickstartDir = dir
		cmd := exec.CommandContext(context.Background(), "go", "run", "./examples/quickstart",
			"-out", filepath.Join(dir, "json"), "-parquet", filepath.Join(dir, "parquet"),
			"-requests", quickstartRequests, "-concurrency", "1", "-days", "2", "-seed", quickstartSeed)
		cmd.Dir = "../.."
		out, err := cmd.CombinedOutput()
		if err != nil {
			quickstartErr = fmt.Errorf("quickstart: %v\n%s", err, out)
		}
	})
	if quickstartErr != nil {
		t.Fatal(quickstartErr)
	}
	return filepath.Join(quickstartDir, "json"), filepath.Join(quickstartDir, "parquet")
}
