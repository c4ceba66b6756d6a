//go:build !linux

package file_test

import (
	"os"
	"runtime"
	"testing"
)

const requireMountEnv = "RANKSCOPE_REQUIRE_MOUNT"

// mountTmpfs skips the test: mounting a tmpfs is done on Linux only.
func mountTmpfs(t *testing.T, size int, readOnly bool) string {
	t.Helper()
	if os.Getenv(requireMountEnv) != "" {
		t.Fatalf("cannot mount a tmpfs on %s, and %s is set", runtime.GOOS, requireMountEnv)
	}
	t.Skipf("cannot mount a tmpfs on %s (Linux only)", runtime.GOOS)
	return ""
}
