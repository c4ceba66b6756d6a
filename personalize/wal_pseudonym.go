package personalize

import (
	"hash/maphash"
	"sync/atomic"

	"github.com/rankscope/rankscope/privacy"
)

// walPseudonyms caches pseudonyms for durable mode, where emitting
// goroutines pseudonymize concurrently and cannot use the batchers' maps.
// It is a direct-mapped table of atomic pointers: a hit costs a hash, a
// load and a comparison (no lock, no allocation); a miss costs the HMAC
// and one entry, which replaces whatever shared its slot. Memory is fixed:
// 128 KiB of slots plus at most one entry (about 100 bytes and the id) per
// slot.
type walPseudonyms struct {
	seed  maphash.Seed
	slots [walPseudonymSlots]atomic.Pointer[walPseudonym]
}

const walPseudonymSlots = 1 << 14

type walPseudonym struct {
	domain privacy.Domain
	raw    string
	p      Pseudonym
}

// get returns raw's pseudonym in domain d, made by pz on a miss.
func (c *walPseudonyms) get(pz privacy.Pseudonymizer, d privacy.Domain, raw string) Pseudonym {
	h := maphash.String(c.seed, raw)
	if d != privacy.DomainUser {
		h = ^h // sessions (and any other domain) apart from users of the same id
	}
	slot := &c.slots[h&(walPseudonymSlots-1)]
	if e := slot.Load(); e != nil && e.raw == raw && e.domain == d {
		return e.p
	}
	id, key := pz.Pseudonymize(d, raw)
	p := Pseudonym{ID: id, KeyID: key}
	slot.Store(&walPseudonym{domain: d, raw: raw, p: p})
	return p
}
