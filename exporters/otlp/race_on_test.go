//go:build race

package otlp

// raceEnabled: the race detector adds allocations and empties sync.Pools
// at random, so allocation pins are skipped under it.
const raceEnabled = true
