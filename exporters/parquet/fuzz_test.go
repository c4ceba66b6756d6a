package parquet_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rankscope/rankscope/exporters/parquet"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// validFile returns the bytes of one Parquet file of n random events.
func validFile(f *testing.F, seed uint64, n int) []byte {
	dir := f.TempDir()
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	exp, err := parquet.New(parquet.Config{Dir: dir, RowGroupRows: 7, Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	ev := oneHour(personalizetest.RandomEvents(seeded(seed), n))
	if err := exp.Export(context.Background(), ev); err != nil {
		f.Fatal(err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		f.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*.parquet"))
	if len(files) != 1 {
		f.Fatalf("want one file, got %v", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzReadFile reads corrupted Parquet files: the reader must not panic
// (a panic of the Parquet library is an error), and every event it
// delivers must be valid.
func FuzzReadFile(f *testing.F) {
	good := validFile(f, 1, 20)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[len(good)/3:])
	f.Add([]byte("PAR1PAR1"))
	f.Add([]byte{})
	for _, at := range []int{4, 100, len(good) / 2, len(good) - 12, len(good) - 6} {
		b := bytes.Clone(good)
		b[at] ^= 0xff
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.parquet")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_ = parquet.ReadFile(path, func(e personalize.Event) error {
			if err := e.Validate(); err != nil {
				t.Fatalf("delivered an invalid event: %v", err)
			}
			return nil
		})
	})
}
