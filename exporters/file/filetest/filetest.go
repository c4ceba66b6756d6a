// Package filetest helps tests and benchmarks that read event files: it
// writes events to a fresh directory with the file exporter, exactly as a
// service would, so the reader and the analysis packages are exercised on
// real files.
//
// It is safe for concurrent use by parallel tests (each call makes its own
// directory).
package filetest

import (
	"context"
	"testing"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
)

// WriteDir writes events to a new temporary directory (removed when tb
// ends) through the file exporter with its default configuration, shuts
// the exporter down so every file is closed whole, and returns the
// directory. It fails tb on any error.
func WriteDir(tb testing.TB, events []personalize.Event) string {
	tb.Helper()
	dir := tb.TempDir()
	exp, err := file.New(file.Config{Dir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	if err := exp.Export(ctx, events); err != nil {
		tb.Fatal(err)
	}
	if err := exp.Shutdown(ctx); err != nil {
		tb.Fatal(err)
	}
	return dir
}
