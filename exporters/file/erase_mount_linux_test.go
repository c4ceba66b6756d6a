//go:build linux

package file_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
)

// TestEraseOnFullOrReadOnlyDisk erases on a real full disk (the temporary
// copy cannot be written: ENOSPC) and on a read-only mount (not even the
// lock file can be made: EROFS). Either way every file stays as it was and
// no temporary file is left; with space freed, the erasure goes through.
func TestEraseOnFullOrReadOnlyDisk(t *testing.T) {
	c := newCorpus(t, 12, 600)
	t.Run("full", func(t *testing.T) {
		dir := mountTmpfs(t, 1<<20, false)
		c.write(t, dir, file.Config{MaxBytes: 64 << 10})
		filler := fillDisk(t, dir)
		before := snapshot(t, dir)
		delete(before, "filler")
		cfg := file.EraseConfig{Subject: c.subjectOf(t)}
		_, err := file.Erase(context.Background(), dir, cfg)
		require.ErrorIs(t, err, syscall.ENOSPC)
		assert.ErrorContains(t, err, "rewrite ", "the temporary copy is what fails")
		after := snapshot(t, dir)
		delete(after, "filler")
		assert.Equal(t, before, after, "every file as it was, no temporary file")

		require.NoError(t, os.Remove(filler))
		st, err := file.Erase(context.Background(), dir, cfg)
		require.NoError(t, err)
		assert.EqualValues(t, c.subjectCount(), st.Removed)
		assert.Equal(t, c.ids(func(i int) bool { return !c.subject[i] }), eventIDs(t, dir))
	})
	t.Run("read-only", func(t *testing.T) {
		dir := mountTmpfs(t, 1<<20, false)
		c.write(t, dir, file.Config{MaxBytes: 64 << 10})
		before := snapshot(t, dir)
		require.NoError(t, syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""))
		_, err := file.Erase(context.Background(), dir, file.EraseConfig{Subject: c.subjectOf(t)})
		require.ErrorIs(t, err, syscall.EROFS)
		assert.ErrorContains(t, err, "file: Erase: lock")
		assert.Equal(t, before, snapshot(t, dir))
		_, err = os.Stat(filepath.Join(dir, ".erase.lock"))
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
}
