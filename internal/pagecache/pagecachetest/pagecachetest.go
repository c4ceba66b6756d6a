// Package pagecachetest has the test helpers of package pagecache's
// users.
package pagecachetest

import (
	"testing"

	"github.com/rankscope/rankscope/internal/pagecache"
)

// Dir returns a new temporary directory whose files have page-cache pages
// that pagecache.Drop can drop, or skips the test (tmpfs, ramfs, and
// every system but Linux).
func Dir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if ok, err := pagecache.Droppable(dir); !ok {
		t.Skipf("%s has no page cache apart from its files, or pages are not dropped here (%v)", dir, err)
	}
	return dir
}
