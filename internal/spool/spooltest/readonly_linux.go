package spooltest

import (
	"os"
	"syscall"
	"testing"
)

// ReadOnlyDir returns an existing directory that the test process cannot
// create files in. Permission bits do not stop root, so as root the
// directory is a read-only bind mount of itself (undone at cleanup); a
// root without the right to mount skips, saying why.
func ReadOnlyDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
		return dir
	}
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("running as root, where permission bits do not stop writes, and cannot bind-mount %s read-only: %v "+
			"(other cases cover paths that cannot be created)", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	if err := syscall.Mount("", dir, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("running as root and cannot remount %s read-only: %v", dir, err)
	}
	return dir
}
