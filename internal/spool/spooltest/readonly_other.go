//go:build !linux

package spooltest

import (
	"os"
	"runtime"
	"testing"
)

// ReadOnlyDir returns an existing directory that the test process cannot
// create files in (see readonly_linux.go). Permission bits do not
// stop root, and read-only bind mounts are Linux's: root skips, saying
// why.
func ReadOnlyDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() == 0 || runtime.GOOS == "windows" {
		t.Skipf("on %s as uid %d, permission bits do not make %s read-only "+
			"(other cases cover paths that cannot be created)", runtime.GOOS, os.Geteuid(), dir)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	return dir
}
