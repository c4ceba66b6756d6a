//go:build race

package schema_test

// raceEnabled: sync.Pool drops items at random under the race detector,
// so allocation counts are not pinned there.
const raceEnabled = true
