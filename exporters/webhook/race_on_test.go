//go:build race

package webhook

// raceEnabled: the race detector adds allocations and empties sync.Pools
// at random, so allocation pins are skipped under it.
const raceEnabled = true
