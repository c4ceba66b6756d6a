//go:build !linux

package spool

import (
	"os"
	"runtime"
	"testing"
)

// readOnlyDir returns an existing directory that the test process cannot
// create files in (see readonly_linux_test.go). Permission bits do not
// stop root, and read-only bind mounts are Linux's: root skips, saying
// why.
func readOnlyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() == 0 || runtime.GOOS == "windows" {
		t.Skipf("on %s as uid %d, permission bits do not make %s read-only "+
			"(the other cases of this test still cover paths that cannot be created)", runtime.GOOS, os.Geteuid(), dir)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	return dir
}
