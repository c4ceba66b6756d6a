//go:build race

package personalize

// RaceEnabled reports a build with the race detector, under which
// sync.Pool drops items at random; the package's external tests read it
// too.
const RaceEnabled = true
