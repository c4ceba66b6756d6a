//go:build race

package personalize_test

func init() { raceEnabled = true }
