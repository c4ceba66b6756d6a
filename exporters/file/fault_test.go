package file_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
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
