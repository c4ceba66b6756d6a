//go:build unix

package personalize

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// walLockName is the lock file of a WAL directory: one instrument at a
// time may write and replay its segments.
const walLockName = "LOCK"

// lockDir takes an exclusive flock on dir's lock file. The kernel drops it
// when the process dies, so a killed process never leaves it held.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, walLockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%q is not writable: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%q is in use by another instrument (its %s file is locked)", dir, walLockName)
		}
		return nil, fmt.Errorf("locking %q: %w", dir, err)
	}
	return f, nil
}

func unlockDir(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	_ = f.Close()
}
