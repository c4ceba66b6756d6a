package personalize

import (
	"strconv"
	"testing"
)

// TestPseudonymCacheGenerations: a cycle of ids longer than one
// generation still hits (a single map emptied when full would miss every
// id of such a cycle), and the cache never holds more than two
// generations.
func TestPseudonymCacheGenerations(t *testing.T) {
	var c pseudonymCache
	n := pseudonymCacheSize * 3 / 2
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "user-" + strconv.Itoa(i)
	}
	for _, id := range ids { // first cycle: all misses
		if _, ok := c.get(id); ok {
			t.Fatalf("%s hit before it was put", id)
		}
		c.put(id, Pseudonym{ID: "p" + id})
	}
	hits := 0
	for _, id := range ids {
		p, ok := c.get(id)
		if ok {
			hits++
			if p.ID != "p"+id {
				t.Fatalf("%s: got %q", id, p.ID)
			}
			continue
		}
		c.put(id, Pseudonym{ID: "p" + id})
	}
	if hits < n/2 {
		t.Fatalf("second cycle of %d ids: %d hits, want at least half", n, hits)
	}
	if got := len(c.cur) + len(c.old); got > 2*pseudonymCacheSize {
		t.Fatalf("cache holds %d entries, bound %d", got, 2*pseudonymCacheSize)
	}
}
