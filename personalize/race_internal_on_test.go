//go:build race

package personalize

// raceOn: sync.Pool drops items at random under the race detector.
const raceOn = true
