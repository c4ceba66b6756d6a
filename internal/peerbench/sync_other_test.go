//go:build !unix

package peerbench

func syncDisks() {}
