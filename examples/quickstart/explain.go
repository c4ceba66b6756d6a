package main

import (
	"math"

	"github.com/rankscope/rankscope/personalize"
)

// explainedPositions are the positions whose items carry an explanation:
// the ones a "why am I seeing this" link sits under. Lower items go
// without, which keeps the events small.
const explainedPositions = 3

// Features of the simulated model's explanations (examples/report has
// their user-facing labels).
const (
	featureTaste = "taste_match"
	featureOther = "other_signals"
)

// explanation is the simulated model's attribution of an item's score, as
// a linear model's SHAP values: score = mean score + the contributions.
// The score is 0.12 for an item of the user's favourite category and 0.02
// for the others, plus the model's noise; over the candidates a category
// matches with probability p = 1/len(category), so the mean score is
// 0.02 + 0.1p, the taste feature contributes 0.1(1-p) when it matches and
// -0.1p when it does not, and the noise is the other signals' part. Values
// are rounded to 1e-4 as the score is; larger magnitude first.
func explanation(match bool, noise float64) []personalize.Contribution {
	p := 1 / float64(len(category))
	taste := -0.1 * p
	if match {
		taste = 0.1 * (1 - p)
	}
	round := func(x float64) float64 { return math.Round(x*1e4)/1e4 + 0 } // + 0: no "-0"
	ex := []personalize.Contribution{
		{Feature: featureTaste, Value: round(taste)},
		{Feature: featureOther, Value: round(noise)},
	}
	if math.Abs(ex[1].Value) > math.Abs(ex[0].Value) {
		ex[0], ex[1] = ex[1], ex[0]
	}
	return ex
}
