package pagecache_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rankscope/rankscope/internal/benchcpu"
	"github.com/rankscope/rankscope/internal/pagecache"
)

// BenchmarkAppend is the CPU per byte (cpu-ns/op for one byte, so read
// "cpu-ns/op" as ns per byte) of appending 256 KiB writes to 64 MiB files,
// each synced when full, as the file exporter rotates: keeping the pages
// cached (file.Config.KeepPageCache), dropping each file after its sync,
// and also allocating each file's blocks 8 MiB ahead of its writes (the
// exporter's default: "drop+allocate"). The sub-benchmarks run in one
// invocation, so their ratio holds on a noisy machine; on a host where
// fresh page-cache pages are cheap they are close, on a VM whose memory
// the host backs lazily they are not (docs/design/file.md, "The page
// cache" and "Allocating ahead"). "keep" is cheap when it runs right
// after other files were deleted, whose freed pages it then reuses, and
// dear otherwise; read several counts:
//
//	go test ./internal/pagecache -run '^$' -bench Append -benchtime 512000000x -count 3
func BenchmarkAppend(b *testing.B) {
	for _, mode := range []string{"keep", "drop", "drop+allocate"} {
		b.Run(mode, func(b *testing.B) { benchAppend(b, mode) })
	}
}

func benchAppend(b *testing.B, mode string) {
	const fileBytes = 64 << 20
	chunk := make([]byte, 256<<10)
	for i := range chunk {
		chunk[i] = byte('a' + i%26)
	}
	dir := b.TempDir()
	var f *os.File
	var size, allocated int64
	part := 0
	open := func() {
		var err error
		f, err = os.Create(filepath.Join(dir, fmt.Sprintf("f%04d", part)))
		if err != nil {
			b.Fatal(err)
		}
		part++
		size, allocated = 0, 0
	}
	finish := func() {
		if allocated > size {
			if err := f.Truncate(size); err != nil {
				b.Fatal(err)
			}
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		if mode != "keep" {
			pagecache.Drop(f)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(1)
	b.ResetTimer()
	m := benchcpu.Start()
	open()
	for left := b.N; left > 0; {
		n := min(left, len(chunk))
		if mode == "drop+allocate" && size+int64(n) > allocated {
			if err := pagecache.Allocate(f, allocated, 8<<20); err != nil {
				b.Fatal(err)
			}
			allocated += 8 << 20
		}
		if _, err := f.Write(chunk[:n]); err != nil {
			b.Fatal(err)
		}
		left -= n
		size += int64(n)
		if size >= fileBytes {
			finish()
			open()
		}
	}
	finish()
	m.Report(b)
}
