//go:build !race

package personalize

const raceOn = false
