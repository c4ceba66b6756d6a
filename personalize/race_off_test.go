//go:build !race

package personalize

// RaceEnabled: see race_on_test.go.
const RaceEnabled = false
