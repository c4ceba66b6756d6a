//go:build linux

package parquet_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/parquet"
	"github.com/rankscope/rankscope/internal/pagecache"
	"github.com/rankscope/rankscope/internal/pagecache/pagecachetest"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// TestFinishedFilesLeaveThePageCache checks Config.KeepPageCache: by
// default a finished file's pages are not in the page cache; with the
// option they are.
func TestFinishedFilesLeaveThePageCache(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "KeepPageCache"}[keep], func(t *testing.T) {
			dir := pagecachetest.Dir(t)
			exp, err := parquet.New(parquet.Config{Dir: dir, KeepPageCache: keep})
			require.NoError(t, err)
			ctx := context.Background()
			require.NoError(t, exp.Export(ctx, personalizetest.RandomEvents(seeded(3), 2000)))
			require.NoError(t, exp.Shutdown(ctx))
			files := 0
			require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
					return err
				}
				files++
				res, total, err := pagecache.Resident(path)
				require.NoError(t, err)
				require.NotZero(t, total)
				if keep {
					require.Equal(t, total, res, "%s: pages kept in the page cache", path)
				} else {
					require.Zero(t, res, "%s: %d of %d pages still in the page cache", path, res, total)
				}
				return nil
			}))
			require.NotZero(t, files)
			events, _ := readAll(t, dir)
			require.Len(t, events, 2000, "every row reads back from the disk")
		})
	}
}
