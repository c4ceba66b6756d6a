package file_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
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
