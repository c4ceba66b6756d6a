//go:build linux

package file_test

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

// requireMountEnv, when set to a non-empty value, turns the skip of a test
// that cannot mount a tmpfs into a failure. CI sets it, so that the
// full-disk tests cannot pass there by skipping.
const requireMountEnv = "RANKSCOPE_REQUIRE_MOUNT"

// mountTmpfs mounts a fresh tmpfs of size bytes, read-only if asked, on a
// new temporary directory, unmounts it when the test ends and returns the
// directory. Mounting needs root (or
// CAP_SYS_ADMIN); without it the test is skipped, saying why, unless
// RANKSCOPE_REQUIRE_MOUNT is set.
func mountTmpfs(t *testing.T, size int, readOnly bool) string {
	t.Helper()
	dir := t.TempDir()
	var flags uintptr
	if readOnly {
		flags = syscall.MS_RDONLY
	}
	err := syscall.Mount("tmpfs", dir, "tmpfs", flags, fmt.Sprintf("size=%d,mode=0700", size))
	if err != nil {
		msg := fmt.Sprintf("cannot mount a %d-byte tmpfs on %s (needs root or CAP_SYS_ADMIN; euid %d): %v",
			size, dir, os.Geteuid(), err)
		if os.Getenv(requireMountEnv) != "" {
			t.Fatalf("%s, and %s is set", msg, requireMountEnv)
		}
		t.Skip(msg)
	}
	// Registered after t.TempDir's removal, so it runs before it.
	t.Cleanup(func() {
		err := syscall.Unmount(dir, 0)
		if errors.Is(err, syscall.EBUSY) {
			t.Errorf("unmount %s: busy (a file left open?); detaching", dir)
			err = syscall.Unmount(dir, syscall.MNT_DETACH)
		}
		if err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}
