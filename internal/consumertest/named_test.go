// Package consumertest checks properties shared by every in-process
// consumer of the event pipeline.
package consumertest

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rankscope/rankscope/attribution"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/dashboard"
	"github.com/rankscope/rankscope/personalize/drift"
	"github.com/rankscope/rankscope/personalize/experiment"
	"github.com/rankscope/rankscope/personalize/fairness"
	"github.com/rankscope/rankscope/personalize/relevance"
	"github.com/rankscope/rankscope/personalize/replay"
)

// TestConsumersAreNamed: every in-process consumer names itself, so the
// pipeline's stats, metrics and the dashboard show "attribution" rather
// than "exporter3".
func TestConsumersAreNamed(t *testing.T) {
	consumers := map[string]personalize.Exporter{
		"attribution": (*attribution.Engine)(nil),
		"experiment":  (*experiment.Collector)(nil),
		"drift":       (*drift.EventMonitor)(nil),
		"relevance":   (*relevance.Analyzer)(nil),
		"replay":      (*replay.Evaluator)(nil),
		"fairness":    (*fairness.Tracker)(nil),
		"dashboard":   (*dashboard.Collector)(nil),
	}
	for want, c := range consumers {
		n, ok := c.(personalize.Named)
		if assert.True(t, ok, "%T does not implement personalize.Named", c) {
			assert.NotEmpty(t, n.Name(), "%T", c)
			if want != "drift" && want != "replay" && want != "dashboard" {
				assert.Equal(t, want, n.Name())
			}
		}
	}
}
