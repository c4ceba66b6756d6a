//go:build !linux

package pagecache

import "os"

// Drop does nothing off Linux.
func Drop(*os.File) {}

// Droppable reports false off Linux: nothing is dropped there.
func Droppable(string) (bool, error) { return false, nil }
