//go:build !linux

package pagecache

import (
	"errors"
	"os"
)

// Drop does nothing off Linux.
func Drop(*os.File) {}

// Allocate is not supported off Linux: it returns errors.ErrUnsupported.
func Allocate(*os.File, int64, int64) error { return errors.ErrUnsupported }

// Droppable reports false off Linux: nothing is dropped there.
func Droppable(string) (bool, error) { return false, nil }
