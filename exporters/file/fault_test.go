package file_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// TestNewRejectsUnwritableDir checks that New refuses a directory it
// cannot create a file in, naming Config.Dir. Tests run as root, where
// permission bits do not stop writes, so the directories are ones nothing
// can write to: a path under a regular file and a read-only mount.
func TestNewRejectsUnwritableDir(t *testing.T) {
	t.Run("under a regular file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "f")
		require.NoError(t, os.WriteFile(f, nil, 0o600))
		_, err := file.New(file.Config{Dir: filepath.Join(f, "sub")})
		require.ErrorContains(t, err, "file: Config.Dir: ")
		assert.ErrorIs(t, err, syscall.ENOTDIR)
	})
	t.Run("read-only mount", func(t *testing.T) {
		ro := mountTmpfs(t, 64<<10, true)
		for _, dir := range []string{ro, filepath.Join(ro, "missing")} {
			_, err := file.New(file.Config{Dir: dir})
			require.ErrorContains(t, err, "file: Config.Dir: ", dir)
			assert.ErrorIs(t, err, syscall.EROFS, dir)
		}
	})
	t.Run("no write permission", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes regardless of permission bits (the cases above run as root)")
		}
		dir := t.TempDir()
		require.NoError(t, os.Chmod(dir, 0o500))
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		_, err := file.New(file.Config{Dir: dir})
		require.ErrorContains(t, err, "file: Config.Dir: ")
		assert.ErrorIs(t, err, fs.ErrPermission)
	})
	t.Run("writable: the probe leaves nothing", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "new")
		_, err := file.New(file.Config{Dir: dir})
		require.NoError(t, err)
		assert.Empty(t, names(t, dir))
	})
}

// pageSize is the unit tmpfs allocates in.
const pageSize = 4096

// fillDisk writes a file named "filler" (not an event file: readers skip
// it) into dir until the filesystem is full, and returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	page := make([]byte, pageSize)
	for {
		if _, err := f.Write(page); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			return path
		}
	}
}

// freeSpace shortens the filler by n bytes, a multiple of pageSize.
func freeSpace(t *testing.T, filler string, n int64) {
	t.Helper()
	st, err := os.Stat(filler)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(filler, st.Size()-n))
}

// eventFiles returns the event files of dir (not the filler), failing t
// if one holds no whole line or does not end with one.
func eventFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, n := range names(t, dir) {
		if n == "filler" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		require.NoError(t, err)
		if assert.NotEmpty(t, b, "%s is empty", n) {
			assert.Equal(t, byte('\n'), b[len(b)-1], "%s ends with a whole line", n)
		}
		out = append(out, n)
	}
	return out
}

// TestFullDiskRemovesEmptyFiles exports to a full filesystem: the file
// each Export opens gets no whole line and must be removed, not left
// behind closed and empty.
func TestFullDiskRemovesEmptyFiles(t *testing.T) {
	huge := personalize.Event{Type: personalize.EventImpression, Impression: personalizetest.RandomImpression(seeded(30), 200)}
	line, err := personalize.AppendJSON(nil, huge)
	require.NoError(t, err)
	require.Greater(t, len(line), 2*pageSize)
	for _, tc := range []struct {
		name string
		free int64 // bytes freed after filling the disk
	}{
		{"no byte written", 0},
		{"part of a line written", pageSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := mountTmpfs(t, 256<<10, false)
			filler := fillDisk(t, dir)
			freeSpace(t, filler, tc.free)
			// A buffer shorter than the line: it is written inside Export.
			exp, err := file.New(file.Config{Dir: dir, Encoders: 1, BufferSize: pageSize})
			require.NoError(t, err)
			ctx := context.Background()
			t.Cleanup(func() { exp.Shutdown(ctx) }) // before the unmount
			for range 3 {
				err := exp.Export(ctx, []personalize.Event{huge})
				require.ErrorIs(t, err, syscall.ENOSPC)
				assert.Empty(t, eventFiles(t, dir), "no event file after a failed Export")
			}
			require.NoError(t, exp.Shutdown(ctx))
			assert.Equal(t, []string{"filler"}, names(t, dir))
		})
	}
}

// TestFullDisk exports batches to a small tmpfs that fills up part way
// through a batch, then frees the space. Every failed Export returns a
// *WriteError whose counts, with the batches that succeeded, match the
// whole lines on disk (read back with ReadDir), as do the exporter's
// Stats; no empty or torn file remains; Export succeeds again once there
// is room.
func TestFullDisk(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxBytes int64
	}{
		// One file takes all the free space: the write that fills the disk
		// stops in the middle of a line, after whole ones, and the file is
		// cut back to them.
		{"one file", 1 << 20},
		// The disk fills across rotations: the write that fails is the
		// first of a new file, which is removed.
		{"16 KiB files", 16 << 10},
	} {
		for _, enc := range []int{1, 2} { // inline and parallel encoding
			t.Run(fmt.Sprintf("%s/Encoders=%d", tc.name, enc), func(t *testing.T) {
				testFullDisk(t, file.Config{MaxBytes: tc.maxBytes, Encoders: enc})
			})
		}
	}
}

func testFullDisk(t *testing.T, cfg file.Config) {
	dir := mountTmpfs(t, 256<<10, false)
	filler := fillDisk(t, dir)
	freeSpace(t, filler, 12*pageSize)
	cfg.Dir = dir
	exp, err := file.New(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	t.Cleanup(func() { exp.Shutdown(ctx) }) // before the unmount

	rng := seeded(uint64(40 + cfg.Encoders))
	var want []personalize.Event // the events that should be on disk, in order
	var passed, failed int
	var partial, none int // failed Exports that wrote part of their batch, none of it
	for i := 0; none < 2; i++ {
		require.Less(t, i, 50, "the disk never filled")
		batch := personalizetest.RandomEvents(rng, 100)
		passed += len(batch)
		err := exp.Export(ctx, batch)
		if err == nil {
			want = append(want, batch...)
			continue
		}
		var we *file.WriteError
		require.ErrorAs(t, err, &we)
		require.ErrorIs(t, err, syscall.ENOSPC)
		assert.Equal(t, len(batch), we.Written+we.Failed, "%v", err)
		var d interface{ Delivered() int } // what the pipeline looks for
		require.ErrorAs(t, err, &d)
		assert.Equal(t, we.Written, d.Delivered())
		// Export stops at the failed write: the lines written are the
		// start of the batch.
		want = append(want, batch[:we.Written]...)
		failed += we.Failed
		if we.Written == 0 {
			none++
		} else {
			partial++
		}
		t.Logf("Export %d: %v", i, err)

		// The files hold exactly the lines counted so far, all closed.
		files := eventFiles(t, dir)
		for _, n := range files {
			assert.True(t, strings.HasSuffix(n, file.Ext), "%s is closed", n)
		}
		if cfg.MaxBytes > 256<<10 {
			assert.Len(t, files, 1, "one file, cut back to its last whole line")
		}
		got, st := readAll(t, dir)
		require.Equal(t, len(want), len(got))
		assert.Empty(t, st.Torn)
		assert.Equal(t, file.Stats{Exported: uint64(len(want)), Failed: uint64(failed)}, exp.Stats())
	}
	require.Positive(t, partial, "an Export wrote part of its batch")
	got, _ := readAll(t, dir)
	require.Equal(t, want, got)

	// Room again (the filler held about 200 KiB; an event takes about
	// 1.7 KB): Export succeeds and writes whole batches.
	require.NoError(t, os.Remove(filler))
	for range 3 {
		batch := personalizetest.RandomEvents(rng, 20)
		passed += len(batch)
		require.NoError(t, exp.Export(ctx, batch))
		want = append(want, batch...)
	}
	require.NoError(t, exp.Shutdown(ctx))
	got, st := readAll(t, dir)
	require.Equal(t, want, got)
	assert.Empty(t, st.Torn)
	for _, n := range eventFiles(t, dir) {
		assert.True(t, strings.HasSuffix(n, file.Ext), "%s is closed", n)
	}
	stats := exp.Stats()
	assert.Equal(t, file.Stats{Exported: uint64(len(want)), Failed: uint64(failed)}, stats)
	assert.EqualValues(t, passed, stats.Exported+stats.Failed, "every event passed to Export counted once")
}
