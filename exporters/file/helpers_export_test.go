package file

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Helpers shared by the package's internal and external tests.

// TestClock is an injectable clock for rotation by age.
type TestClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewTestClock returns a clock at 2026-11-02 09:00 UTC.
func NewTestClock() *TestClock {
	return &TestClock{now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *TestClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *TestClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// DirNames returns the file names of dir in directory order (sorted by
// name).
func DirNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}
