// Package privacy makes identifiers safe to export: keyed pseudonymization,
// consent, and attribute minimization.
//
// # Pseudonymization
//
// [NewHMAC] builds a [Keyring] that replaces a raw identifier by
// HMAC-SHA256(key, domain || 0x00 || id), truncated to its first 16 bytes
// (128 bits) and hex-encoded to 32 characters. The domain ("user",
// "session") keeps a user id and a session id with the same spelling from
// mapping to the same pseudonym. Every pseudonym carries the id of the key
// that produced it, so keys can rotate: the primary key makes new
// pseudonyms, older keys stay in the ring so [Keyring.All] and
// [Keyring.PseudonymsOf] can find records made under them (exporters/file's
// Erase and Access use the latter to find one person's records).
//
// Truncation to 128 bits: by the birthday bound, among n distinct
// identifiers the probability that any two share a pseudonym is about
// n²/2¹²⁹; for a billion identifiers that is about 1.5·10⁻²¹.
//
// Keys must be at least 32 bytes of secret randomness (the SHA-256 block
// security level); shorter keys are refused. Without the key a pseudonym
// cannot be reversed or recomputed from a guessed identifier, which is what
// separates this from plain hashing. Pseudonymized data is still personal
// data under GDPR (Recital 26): it is a safeguard, not anonymization.
//
// # Consent and minimization
//
// A [Consent] decides per raw user id whether that user's events may be
// exported; [OptOutSet] is a concurrent set of opted-out users. An
// [AllowList] keeps only listed attribute keys.
//
// # Concurrency
//
// All types in this package are safe for concurrent use once built.
package privacy
