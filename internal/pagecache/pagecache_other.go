//go:build !linux

package pagecache

import "os"

// Drop does nothing off Linux.
func Drop(*os.File) {}

func wrote(*os.File, int64, int64, int64) {}

// Droppable reports false off Linux: nothing is dropped there.
func Droppable(string) (bool, error) { return false, nil }
