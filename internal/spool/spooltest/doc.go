// Package spooltest helps test code that opens a spool directory.
//
// # Concurrency
//
// [ReadOnlyDir] may be called from parallel tests; each call makes its own
// directory.
package spooltest
