// Package segment names the slices of traffic that rankscope's measurement
// packages split their results by: device, region, surface, session-length
// bucket and experiment arm.
//
// # Keys
//
// A [Key] is a small comparable struct of strings, so it can be used directly
// as a map key. The zero Key means "all traffic". [Key.String] renders a key
// as "device=mobile,region=eu,surface=home,session=2-3,arm=exp/b" (empty
// dimensions are left out; the zero key renders as "all") and [Parse] reads
// that form back.
//
// Measurement packages (personalize/relevance, personalize/fairness, and
// any other consumer) keep one accumulator per full key and merge at read
// time: [Key.Project] drops the dimensions a report does not ask for, so a
// report "by device" merges every accumulator whose projected key is equal.
//
// # Deriving keys from events
//
// A [Keyer] derives the key of an impression:
//
//   - device and region come from the context attributes
//     personalize.AttrDevice and personalize.AttrRegion;
//   - surface is Impression.Surface;
//   - arm is "experiment/variant" of Config.Experiment, or of the first
//     assignment when Config.Experiment is empty;
//   - session-length bucket counts the impressions seen so far in the
//     impression's session (the session pseudonym, or the user pseudonym
//     when there is no session), including this one, and names the bucket
//     of Config.SessionBounds it falls in: with the default bounds
//     {1, 3, 10} the buckets are "1", "2-3", "4-10" and "11+".
//
// Values longer than [MaxValueLen] bytes are truncated, and a value can be
// mapped to a bounded vocabulary by Config.Normalize, so that a key set
// stays small.
//
// # Memory
//
// The session counter is bounded: it keeps at most Config.MaxSessions
// sessions (default 100,000) in two generations; when the current generation
// is half full, the previous one is dropped and the current one becomes the
// previous one. A session idle for a whole generation therefore restarts at
// length 1. This is the only state a Keyer holds.
//
// # Concurrency
//
// Key values are immutable. A Keyer is safe for concurrent use (one mutex
// around the session counter; it is not taken when DimSessionLength is not
// selected).
package segment
