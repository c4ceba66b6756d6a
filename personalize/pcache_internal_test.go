package personalize

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/rankscope/rankscope/privacy"
)

// TestPseudonymCache: a returning id hits with its own pseudonym, ids
// that share a slot replace each other and never answer for each other,
// and the table never grows past pseudonymSlots.
func TestPseudonymCache(t *testing.T) {
	var c pseudonymCache
	get := func(raw string) (Pseudonym, bool) {
		e, h := c.slot(raw)
		if e.hit(h, raw) {
			return e.p, true
		}
		*e = pseudonymEntry{h: h, raw: raw, p: Pseudonym{ID: "p" + raw}}
		return e.p, false
	}
	if _, ok := get("alice"); ok {
		t.Fatal("alice hit before she was put")
	}
	if p, ok := get("alice"); !ok || p.ID != "palice" {
		t.Fatalf("alice: got %+v, %v", p, ok)
	}
	// Find an id sharing alice's slot: it must miss, then evict alice.
	other := ""
	for i := 0; other == ""; i++ {
		if id := "u" + strconv.Itoa(i); slotOf(&c, id) == slotOf(&c, "alice") {
			other = id
		}
	}
	if _, ok := get(other); ok {
		t.Fatalf("%s hit alice's entry", other)
	}
	if p, ok := get(other); !ok || p.ID != "p"+other {
		t.Fatalf("%s: got %+v, %v", other, p, ok)
	}
	if _, ok := get("alice"); ok {
		t.Fatal("alice still cached after her slot was taken")
	}
	for i := range 3 * pseudonymSlots {
		get("user-" + strconv.Itoa(i))
	}
	if len(c.slots) != pseudonymSlots || cap(c.slots) != pseudonymSlots {
		t.Fatalf("table has %d slots (cap %d), bound %d", len(c.slots), cap(c.slots), pseudonymSlots)
	}
}

func slotOf(c *pseudonymCache, raw string) *pseudonymEntry {
	e, _ := c.slot(raw)
	return e
}

// BenchmarkPseudonymPath compares a shard's way to a user's pseudonym with
// a privacy.Keyring: through its direct-mapped cache, or the keyed hash
// on every event. hot cycles through 1,000 users (every lookup after the
// first cycle hits), wide through 100,000 (peerbench's pool) and huge
// through 1,000,000: the last two miss the cache on almost every lookup.
func BenchmarkPseudonymPath(b *testing.B) {
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("user-%07d", i)
		}
		// each runs pseudonym over the ids in cycles.
		each := func(b *testing.B, pseudonym func(raw string)) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				pseudonym(ids[i])
				if i++; i == n {
					i = 0
				}
			}
		}
		b.Run(fmt.Sprintf("users=%d/cache", n), func(b *testing.B) {
			var c pseudonymCache
			each(b, func(raw string) {
				if e, h := c.slot(raw); !e.hit(h, raw) {
					id, key := kr.Pseudonymize(privacy.DomainUser, raw)
					*e = pseudonymEntry{h: h, raw: raw, p: Pseudonym{ID: id, KeyID: key}}
				}
			})
		})
		b.Run(fmt.Sprintf("users=%d/hash", n), func(b *testing.B) {
			each(b, func(raw string) { kr.Pseudonymize(privacy.DomainUser, raw) })
		})
	}
}
