package experiment

// The assignment hash, specified so that any language can reproduce it:
//
//	h = FNV-1a-64 over the bytes of salt, then one 0xFF byte, then the bytes of unit
//	h = fmix64(h)   (MurmurHash3's 64-bit finalizer)
//
// FNV-1a: start at 14695981039346656037; for each byte b: h ^= b; h *= 1099511628211.
// fmix64: h ^= h>>33; h *= 0xff51afd7ed558ccd; h ^= h>>33; h *= 0xc4ceb9fe1a85ec53; h ^= h>>33.
//
// The 0xFF separator cannot occur in a valid UTF-8 salt, so (salt, unit)
// pairs never collide by concatenation. FNV-1a alone mixes its low bits
// poorly for short, similar keys such as "user-000123"; the finalizer
// gives full avalanche, which the uniformity test checks over a million
// sequential ids. The high 32 bits decide traffic or holdout membership,
// the low 32 bits the variant, so the two decisions are independent and
// ramping traffic up never moves an already-enrolled unit to another arm.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// saltState returns the FNV-1a state after salt and the separator.
func saltState(salt string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(salt); i++ {
		h ^= uint64(salt[i])
		h *= fnvPrime
	}
	h ^= 0xFF
	h *= fnvPrime
	return h
}

func hashFrom(state uint64, unit string) uint64 {
	h := state
	for i := 0; i < len(unit); i++ {
		h ^= uint64(unit[i])
		h *= fnvPrime
	}
	return fmix64(h)
}

func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// Hash returns the documented assignment hash of (salt, unit). It is
// exported so other systems can verify assignments.
func Hash(salt, unit string) uint64 { return hashFrom(saltState(salt), unit) }

// fraction32 maps f in [0,1] to a threshold on 32-bit hash halves.
func fraction32(f float64) uint64 {
	if f >= 1 {
		return 1 << 32
	}
	return uint64(f * (1 << 32))
}
