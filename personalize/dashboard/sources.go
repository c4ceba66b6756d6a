package dashboard

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/alert"
	"github.com/rankscope/rankscope/personalize/dashboard/internal/page"
	"github.com/rankscope/rankscope/personalize/dashboard/panel"
	"github.com/rankscope/rankscope/personalize/drift"
	"github.com/rankscope/rankscope/personalize/experiment"
	"github.com/rankscope/rankscope/personalize/fairness"
	"github.com/rankscope/rankscope/personalize/relevance"
	"github.com/rankscope/rankscope/personalize/segment"
)

// StatsSource fills the Pipeline panel from an instrument's books, usually
// inst.Stats. An exporter is shown unhealthy when its last export failed
// or it has dropped events and has not exported for unhealthyAfter
// (default 1 minute when zero).
func StatsSource(stats func() personalize.Stats, unhealthyAfter time.Duration) Source {
	if unhealthyAfter <= 0 {
		unhealthyAfter = time.Minute
	}
	return SourceFunc(func(_ context.Context, s *Snapshot) error {
		st := stats()
		p := &Pipeline{Accepted: st.Accepted, Queued: st.Queued, QueueCapacity: st.QueueCapacity, OptedOut: st.OptedOut}
		add := func(key string, n int64) {
			if n > 0 {
				p.Dropped = append(p.Dropped, Count{Key: key, Count: n})
			}
		}
		add("queue_full", st.QueueFull)
		add("closed", st.Closed)
		exps := st.Exporters
		if st.DeadLetter != nil {
			d := *st.DeadLetter
			d.Name = "dead-letter:" + d.Name
			exps = append(exps[:len(exps):len(exps)], d)
		}
		for _, e := range exps {
			add("backlog/"+e.Name, e.Backlog)
			add("failed/"+e.Name, e.Failed)
			add("shutdown/"+e.Name, e.Shutdown)
			h := ExporterHealth{Name: e.Name, Exported: e.Exported, Dropped: e.Dropped(), InFlight: e.InFlight, LastExportAgeSeconds: -1, LastError: e.LastError}
			if !e.LastExport.IsZero() {
				h.LastExportAgeSeconds = page.Round3(s.Time.Sub(e.LastExport).Seconds())
			}
			stale := e.Exported+e.Failed > 0 && (h.LastExportAgeSeconds < 0 || h.LastExportAgeSeconds > unhealthyAfter.Seconds())
			h.Healthy = e.LastError == "" && !(stale && e.Dropped() > 0)
			p.Exporters = append(p.Exporters, h)
		}
		for k, n := range st.Rejected {
			p.Rejected = append(p.Rejected, Count{Key: k, Count: n})
		}
		sortCounts(p.Dropped)
		sortCounts(p.Rejected)
		s.Pipeline = p
		return nil
	})
}

func sortCounts(cs []Count) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Count != cs[j].Count {
			return cs[i].Count > cs[j].Count
		}
		return cs[i].Key < cs[j].Key
	})
}

// AlertSource fills the Alerts panel with the alerts firing now, critical
// first, usually from (*alert.Evaluator).Active.
func AlertSource(active func() []alert.Alert) Source {
	return SourceFunc(func(_ context.Context, s *Snapshot) error {
		for _, a := range active() {
			if !a.Firing() {
				continue
			}
			s.Alerts = append(s.Alerts, Alert{Rule: a.Rule, Key: a.Key, Severity: a.Severity.String(), Value: a.Value, Limit: a.Threshold, Since: a.Since.UTC()})
		}
		sort.SliceStable(s.Alerts, func(i, j int) bool {
			ci, cj := s.Alerts[i].Severity == "critical", s.Alerts[j].Severity == "critical"
			if ci != cj {
				return ci
			}
			return s.Alerts[i].Since.Before(s.Alerts[j].Since)
		})
		return nil
	})
}

// LatencySource fills the Latency panel from the latency tracker the
// instrument records to (inst.Latency()), replacing what an earlier source
// put there: per stage the tracker's summaries over the last minute, hour
// and day, its sketch as a histogram, and for every SLO of the tracker's
// Config its own verdict from CheckSLOs (latency.EndToEnd is shown as
// [panel.TotalStage]).
//
// CheckSLOs runs at most once per snapshot; a transition it finds calls
// the tracker's OnBreach on the handler's goroutine, which latency
// documents as safe for concurrent checkers.
func LatencySource(t *latency.Tracker) Source {
	windows := []latency.Window{latency.WindowMinute, latency.WindowHour, latency.WindowDay}
	return SourceFunc(func(_ context.Context, s *Snapshot) error {
		objectives := map[string][]panel.Objective{}
		targets := map[string]panel.SLO{}
		for _, r := range t.CheckSLOs(s.Time) {
			name := stageName(r.SLO.Stage)
			objectives[name] = append(objectives[name], objectiveOf(r))
			tg := targets[name]
			switch r.Target {
			case latency.TargetAvg:
				tg.AvgMs = page.Millis(r.Objective)
			case latency.TargetP95:
				tg.P95Ms = page.Millis(r.Objective)
			case latency.TargetP99:
				tg.P99Ms = page.Millis(r.Objective)
			}
			targets[name] = tg
		}
		var out []panel.StageLatency
		for _, stage := range t.Stages() {
			name := stageName(stage)
			sl := panel.StageLatency{Stage: name, SLO: targets[name], Objectives: objectives[name]}
			for _, w := range windows {
				if sum, ok := t.Summary(stage, w); ok {
					sl.Windows = append(sl.Windows, summaryOf(windowName(w), sum))
				}
			}
			for _, w := range []latency.Window{latency.WindowHour, latency.WindowDay, latency.WindowMinute} {
				if sk, ok := t.Sketch(stage, w); ok && sk.Count() > 0 {
					sl.Histogram = page.Histogram(sk.Buckets(), 40)
					break
				}
			}
			out = append(out, sl)
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].Stage == panel.TotalStage && out[j].Stage != panel.TotalStage })
		s.Latency = out
		s.Notes = append(s.Notes, "Latency from the service's latency.Tracker (relative accuracy "+page.Pct(t.RelativeAccuracy())+"); SLO verdicts are the tracker's own.")
		return nil
	})
}

// DriftSource fills the Drift and Freshness panels from a drift monitor's
// report, usually (*drift.Monitor).Report. Status is the feature's level:
// "ok", "warn" or "critical"; identifier features (distinct counts only)
// are left out.
func DriftSource(report func() drift.Report) Source {
	return SourceFunc(func(_ context.Context, s *Snapshot) error {
		r := report()
		for _, f := range r.Features {
			if f.Kind == 0 {
				continue
			}
			s.Drift = append(s.Drift, FeatureDrift{Feature: f.Feature, PSI: page.Round6(f.PSI), KS: page.Round6(f.KS.Statistic), JS: page.Round6(f.JS),
				WassersteinSD: page.Round6(f.NormalizedWasserstein), MissingChange: page.Round6(f.MissingRate - f.ReferenceMissingRate),
				OutOfRange: page.Round6(f.OutOfRangeRate), Status: f.Level.String()})
		}
		sort.SliceStable(s.Drift, func(i, j int) bool { return s.Drift[i].PSI > s.Drift[j].PSI })
		for _, src := range r.Sources {
			s.Freshness = append(s.Freshness, Freshness{Source: src.Source, Count: src.Count, MeanMs: page.Millis(src.Mean),
				P50Ms: page.Millis(src.P50), P99Ms: page.Millis(src.P99), MaxMs: page.Millis(src.Max)})
		}
		return nil
	})
}

// RelevanceSource fills the Calibration, CTRByPosition and Ranking panels
// from a relevance analyzer the service added to its exporters, over all
// traffic. Its cost is the analyzer's Report: linear in its segments
// (bounded by relevance.Config.MaxSegments).
func RelevanceSource(a *relevance.Analyzer) Source {
	return SourceFunc(func(_ context.Context, s *Snapshot) error {
		r := a.Report(segment.DimNone)
		rel, ok := page.FromRelevance(r)
		if !ok {
			return nil
		}
		s.Calibration, s.CTRByPosition, s.Ranking = rel.Calibration, rel.CTRByPosition, rel.Ranking
		if p := r.Stats.Join.Pending; p > 0 {
			s.Notes = append(s.Notes, fmt.Sprintf("Relevance covers finalized impressions; %d still wait for outcomes.", p))
		}
		if n := rel.Rejected; n > 0 {
			s.Notes = append(s.Notes, fmt.Sprintf("%d item scores outside [0, 1] were left out of the calibration curve.", n))
		}
		return nil
	})
}

// FairnessSource fills the Fairness panel (exposure per group, fairness
// ratios, diversity) from a fairness tracker the service added to its
// exporters, over all traffic.
func FairnessSource(t *fairness.Tracker) Source {
	return SourceFunc(func(_ context.Context, s *Snapshot) error {
		if f, ok := page.FromFairness(t.Report(segment.DimNone)); ok {
			s.Fairness = f
		}
		return nil
	})
}

// ExperimentSource fills the Experiments panel from an experiment
// collector the service added to its exporters: for each analysis, the
// exposed units per arm and the sample-ratio check, as
// (*experiment.Collector).Analyze computes them. Give each analysis its
// Design so the check uses the configured weights.
//
// Analyze walks every unit of the experiment, so its cost grows with the
// collector's units (bounded by experiment.CollectorConfig.MaxUnits); the
// source reuses its result for every (default 10 s when <= 0), whatever
// the handler's CacheFor.
func ExperimentSource(c *experiment.Collector, every time.Duration, analyses ...experiment.AnalysisConfig) Source {
	if every <= 0 {
		every = 10 * time.Second
	}
	var (
		mu     sync.Mutex
		cached []panel.Experiment
		notes  []string
		at     time.Time
	)
	return SourceFunc(func(_ context.Context, s *Snapshot) error {
		mu.Lock()
		defer mu.Unlock()
		if at.IsZero() || s.Time.Sub(at) >= every || s.Time.Before(at) {
			cached, notes, at = nil, nil, s.Time
			for _, a := range analyses {
				r, err := c.Analyze(a)
				if err != nil { // typically: no exposure yet
					notes = append(notes, "Experiment "+a.Experiment+": no exposure seen yet.")
					continue
				}
				cached = append(cached, page.FromExperiment(r))
			}
		}
		s.Experiments = append(s.Experiments, cached...)
		s.Notes = append(s.Notes, notes...)
		return nil
	})
}
