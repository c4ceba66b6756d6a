//go:build unix

package peerbench

import "syscall"

// syncDisks writes every dirty page back and waits for it (sync(2)).
func syncDisks() { syscall.Sync() }
