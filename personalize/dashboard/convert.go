package dashboard

import (
	"time"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize/dashboard/internal/page"
	"github.com/rankscope/rankscope/personalize/dashboard/panel"
)

// summaryOf converts a latency summary.
func summaryOf(window string, s latency.Summary) panel.Quantiles {
	return panel.Quantiles{Window: window, Count: s.Count, MeanMs: page.Millis(s.Mean), P50Ms: page.Millis(s.P50), P95Ms: page.Millis(s.P95), P99Ms: page.Millis(s.P99),
		Degraded: s.Errors + s.Timeouts + s.Fallbacks}
}

func windowName(w latency.Window) string {
	switch w {
	case latency.WindowHour:
		return WindowHour
	case latency.WindowDay:
		return WindowDay
	}
	return WindowMinute
}

func stageName(s string) string {
	if s == latency.EndToEnd {
		return panel.TotalStage
	}
	return s
}

func objectiveOf(r latency.SLOReport) panel.Objective {
	return panel.Objective{Window: windowName(r.SLO.Window), Target: r.Target.String(), ObjectiveMs: page.Millis(r.Objective), ObservedMs: page.Millis(r.Observed),
		Count: r.Count, Evaluated: r.Evaluated, OK: r.OK, Since: r.Since.UTC().Truncate(time.Millisecond)}
}
