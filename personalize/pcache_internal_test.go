package personalize

import (
	"context"
	"fmt"
	"hash/maphash"
	"strconv"
	"testing"

	"github.com/rankscope/rankscope/privacy"
)

// TestPseudonymCache: a returning id hits with its own pseudonym, ids
// that share a slot replace each other and never answer for each other,
// and the table never grows past pseudonymSlots.
func TestPseudonymCache(t *testing.T) {
	c := pseudonymCache{seed: maphash.MakeSeed()}
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
			c := pseudonymCache{seed: maphash.MakeSeed()}
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

// TestUserHashFindsTheSlot: the hash an emitting goroutine puts in the
// envelope (shard.userHash) is the one the batcher's cache looks the id up
// by, for impressions built by Start and for outcomes; events without a
// raw user id carry none. A hash that is not the id's never yields
// another id's pseudonym: the id misses, gets its own, and is found by
// its own hash afterwards.
func TestUserHashFindsTheSlot(t *testing.T) {
	in := discardInstrument(t)
	sh := &shard{in: in}
	sh.pcache[0].seed, sh.pcache[1].seed = maphash.MakeSeed(), maphash.MakeSeed()
	c := &sh.pcache[0]
	_, h := c.slot("alice")
	if got := sh.userHash(&Event{Type: EventImpression}, &impBlock{rawUser: "alice"}); got != h {
		t.Errorf("impression: userHash %x, cache hash %x", got, h)
	}
	if got := sh.userHash(&Event{Type: EventOutcome, Outcome: &Outcome{User: "alice"}}, nil); got != h {
		t.Errorf("outcome: userHash %x, cache hash %x", got, h)
	}
	if got := sh.userHash(&Event{Type: EventOutcome, Outcome: &Outcome{Session: "s"}}, nil); got != 0 {
		t.Errorf("outcome without a user: userHash %x, want 0", got)
	}
	if got := sh.userHash(&Event{Type: EventImpression}, &impBlock{}); got != 0 {
		t.Errorf("impression without a user: userHash %x, want 0", got)
	}

	want := func(raw string) Pseudonym {
		id, key := in.cfg.Pseudonymize.Pseudonymize(privacy.DomainUser, raw)
		return Pseudonym{ID: id, KeyID: key}
	}
	// bob is cached under his own hash; alice arrives with bob's hash.
	sh.uh = sh.userHash(&Event{}, &impBlock{rawUser: "bob"})
	if p := sh.pseudonym(privacy.DomainUser, "bob", false); p != want("bob") {
		t.Fatalf("bob: %+v", p)
	}
	sh.uh = sh.userHash(&Event{}, &impBlock{rawUser: "bob"})
	if p := sh.pseudonym(privacy.DomainUser, "alice", false); p != want("alice") {
		t.Fatalf("alice under bob's hash got %+v, want her own", p)
	}
	if sh.uh != 0 {
		t.Fatal("the envelope's hash was not used up")
	}
	// Under her own hash alice is now a miss that fills her slot, then a hit.
	for range 2 {
		sh.uh = sh.userHash(&Event{}, &impBlock{rawUser: "alice"})
		if p := sh.pseudonym(privacy.DomainUser, "alice", false); p != want("alice") {
			t.Fatalf("alice: %+v", p)
		}
	}
	if e, h := c.slot("alice"); !e.hit(h, "alice") {
		t.Fatal("alice is not cached under her own hash")
	}
}

// discardInstrument returns an Instrument with a discarding exporter, shut
// down when the test ends.
func discardInstrument(tb testing.TB) *Instrument {
	tb.Helper()
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		tb.Fatal(err)
	}
	in, err := New(Config{Service: "svc", Pseudonymize: kr, Exporters: []Exporter{discard{}}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = in.Shutdown(context.Background()) })
	return in
}
