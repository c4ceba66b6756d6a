//go:build !unix

package file

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockErase creates dir's erasure lock file but cannot lock it off Unix:
// two erasures of one directory must not overlap there.
func lockErase(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, eraseLockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	return f, nil
}

func unlockErase(f *os.File) { _ = f.Close() }
