//go:build linux

package file_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/internal/pagecache"
	"github.com/rankscope/rankscope/internal/pagecache/pagecachetest"
)

// residentPages reports how many of path's pages are in the page cache,
// and how many it has.
func residentPages(t *testing.T, path string) (resident, total int) {
	t.Helper()
	resident, total, err := pagecache.Resident(path)
	require.NoError(t, err)
	require.NotZero(t, total)
	return resident, total
}

// TestClosedFilesLeaveThePageCache checks Config.KeepPageCache: by
// default a file's pages leave the page cache once it is synced at
// rotation (checked before Shutdown, on a file whose rotation finished)
// and at Shutdown; with KeepPageCache they stay.
func TestClosedFilesLeaveThePageCache(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "KeepPageCache"}[keep], func(t *testing.T) {
			dir := pagecachetest.Dir(t)
			exp, err := file.New(file.Config{Dir: dir, MaxBytes: 256 << 10, KeepPageCache: keep})
			require.NoError(t, err)
			ctx := context.Background()
			for b := range slices.Chunk(impressions(2000), 100) {
				require.NoError(t, exp.Export(ctx, b))
			}
			// Each rotation waits for the file before it to finish, so with
			// three or more closed files the first one's sync is done.
			var closed []string
			for _, n := range names(t, dir) {
				if strings.HasSuffix(n, file.Ext) {
					closed = append(closed, n)
				}
			}
			require.GreaterOrEqual(t, len(closed), 3)
			check := func(name string) {
				res, total := residentPages(t, filepath.Join(dir, name))
				if keep {
					require.Equal(t, total, res, "%s: pages kept in the page cache", name)
				} else {
					require.Zero(t, res, "%s: %d of %d pages still in the page cache", name, res, total)
				}
			}
			check(closed[0])
			require.NoError(t, exp.Shutdown(ctx))
			all := names(t, dir)
			for _, n := range all {
				check(n)
			}
			// The lines are still all there, read back from the disk.
			events, _ := readAll(t, dir)
			require.Len(t, events, 2000)
		})
	}
}
