//go:build !unix

package personalize

import (
	"fmt"
	"os"
	"path/filepath"
)

const walLockName = "LOCK"

// lockDir creates dir's lock file but cannot lock it off Unix: two
// instruments must not share a WAL directory there.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, walLockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%q is not writable: %w", dir, err)
	}
	return f, nil
}

func unlockDir(f *os.File) { _ = f.Close() }
