package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"sync"
)

// MinKeyLen is the shortest HMAC key accepted, in bytes.
const MinKeyLen = 32

// PseudonymLen is the length of a pseudonym in hex characters (128 bits).
const PseudonymLen = 32

// Domain separates identifier spaces so equal raw strings of different kinds
// map to different pseudonyms.
type Domain string

// Identifier domains used by the core.
const (
	DomainUser    Domain = "user"
	DomainSession Domain = "session"
)

// Pseudonymizer turns raw identifiers into pseudonyms. Implementations must
// be deterministic for a given key and safe for concurrent use.
type Pseudonymizer interface {
	// Pseudonymize returns the pseudonym of raw in domain and the id of the
	// key used. An empty raw id yields empty results.
	Pseudonymize(domain Domain, raw string) (pseudonym, keyID string)
}

// Key is one HMAC key with its id. The id is exported with every pseudonym
// the key makes, so it must not be secret; the secret must be.
type Key struct {
	ID     string
	Secret []byte
}

// Keyring pseudonymizes with HMAC-SHA256 under a primary key and keeps
// older keys for lookups. Build it with [NewHMAC].
type Keyring struct {
	keys  []keyState // keys[0] is the primary
	byID  map[string]int
	pools []sync.Pool
}

type keyState struct {
	id     string
	secret []byte
}

var _ Pseudonymizer = (*Keyring)(nil)

// NewHMAC returns a keyring whose first key is the primary. It copies the
// secrets. It refuses keys shorter than [MinKeyLen], empty or duplicate key
// ids, and an empty list, naming the offending key.
func NewHMAC(primary Key, older ...Key) (*Keyring, error) {
	all := append([]Key{primary}, older...)
	kr := &Keyring{byID: make(map[string]int, len(all)), pools: make([]sync.Pool, len(all))}
	for i, k := range all {
		switch {
		case k.ID == "":
			return nil, fmt.Errorf("privacy: key %d: ID is empty", i)
		case len(k.Secret) < MinKeyLen:
			return nil, fmt.Errorf("privacy: key %q: Secret is %d bytes, need at least %d", k.ID, len(k.Secret), MinKeyLen)
		}
		if _, dup := kr.byID[k.ID]; dup {
			return nil, fmt.Errorf("privacy: key %q: duplicate ID", k.ID)
		}
		secret := append([]byte(nil), k.Secret...)
		kr.byID[k.ID] = i
		kr.keys = append(kr.keys, keyState{id: k.ID, secret: secret})
		kr.pools[i].New = func() any {
			return &hmacState{h: hmac.New(sha256.New, secret), buf: make([]byte, 0, 128), sum: make([]byte, 0, sha256.Size)}
		}
	}
	return kr, nil
}

// PrimaryKeyID returns the id of the key new pseudonyms are made with.
func (kr *Keyring) PrimaryKeyID() string { return kr.keys[0].id }

// Pseudonymize implements [Pseudonymizer] with the primary key.
func (kr *Keyring) Pseudonymize(domain Domain, raw string) (string, string) {
	if raw == "" {
		return "", ""
	}
	return kr.with(0, domain, raw), kr.keys[0].id
}

// PseudonymizeWith pseudonymizes under the key with the given id.
func (kr *Keyring) PseudonymizeWith(keyID string, domain Domain, raw string) (string, error) {
	i, ok := kr.byID[keyID]
	if !ok {
		return "", fmt.Errorf("privacy: unknown key id %q", keyID)
	}
	return kr.with(i, domain, raw), nil
}

// All returns raw's pseudonym under every key, primary first, keyed by key
// id, so records made before a rotation can be found.
func (kr *Keyring) All(domain Domain, raw string) map[string]string {
	out := make(map[string]string, len(kr.keys))
	for i, k := range kr.keys {
		out[k.id] = kr.with(i, domain, raw)
	}
	return out
}

// PseudonymsOf returns raw's pseudonym under every key of the ring, in
// key order (the primary first), without duplicates: the set of ids one
// person's records carry across key rotations, as used to find them for
// erasure or a data-subject export (exporters/file, Erase and Access).
// An empty raw id yields nil, as [Keyring.Pseudonymize] yields "".
func (kr *Keyring) PseudonymsOf(domain Domain, raw string) []string {
	if raw == "" {
		return nil
	}
	out := make([]string, 0, len(kr.keys))
	for i := range kr.keys {
		p := kr.with(i, domain, raw)
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// hmacState is a keyed HMAC with scratch buffers, pooled per key so a
// pseudonym costs one allocation (the returned string).
type hmacState struct {
	h        hash.Hash
	buf, sum []byte
}

func (kr *Keyring) with(i int, domain Domain, raw string) string {
	st := kr.pools[i].Get().(*hmacState)
	st.h.Reset()
	st.buf = append(append(append(st.buf[:0], domain...), 0), raw...)
	st.h.Write(st.buf)
	st.sum = st.h.Sum(st.sum[:0])
	var dst [PseudonymLen]byte
	hex.Encode(dst[:], st.sum[:PseudonymLen/2])
	if cap(st.buf) <= 4096 { // do not keep huge ids' buffers alive
		kr.pools[i].Put(st)
	}
	return string(dst[:])
}

// Consent decides whether a user's events may be exported. It receives the
// raw user id, in process, and must be fast and safe for concurrent use.
type Consent interface {
	Allowed(rawUser string) bool
}

// ConsentFunc adapts a function to [Consent].
type ConsentFunc func(rawUser string) bool

// Allowed calls f.
func (f ConsentFunc) Allowed(u string) bool { return f(u) }

// OptOutSet is a [Consent] that refuses the users added to it. The zero
// value is an empty set ready to use. Its memory grows with the users added.
type OptOutSet struct {
	m sync.Map
}

// OptOut records that raw user ids do not consent.
func (s *OptOutSet) OptOut(rawUsers ...string) {
	for _, u := range rawUsers {
		s.m.Store(u, struct{}{})
	}
}

// OptIn removes users from the set.
func (s *OptOutSet) OptIn(rawUsers ...string) {
	for _, u := range rawUsers {
		s.m.Delete(u)
	}
}

// Allowed reports whether u has not opted out.
func (s *OptOutSet) Allowed(u string) bool {
	_, out := s.m.Load(u)
	return !out
}

// AllowList is a set of attribute keys that may be exported.
type AllowList struct {
	keys map[string]struct{}
}

// NewAllowList returns an allow-list of keys. Empty keys are an error.
func NewAllowList(keys ...string) (AllowList, error) {
	m := make(map[string]struct{}, len(keys))
	for i, k := range keys {
		if k == "" {
			return AllowList{}, fmt.Errorf("privacy: allow-list key %d is empty", i)
		}
		m[k] = struct{}{}
	}
	return AllowList{keys: m}, nil
}

// Allows reports whether key may be exported.
func (a AllowList) Allows(key string) bool {
	_, ok := a.keys[key]
	return ok
}

// Len returns the number of keys allowed.
func (a AllowList) Len() int { return len(a.keys) }

// ErrNoPseudonymizer is returned where a pseudonymizer is required and none
// was given.
var ErrNoPseudonymizer = errors.New("privacy: no pseudonymizer configured")
