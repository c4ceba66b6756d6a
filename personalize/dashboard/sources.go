package dashboard

import (
	"context"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/alert"
	"github.com/rankscope/rankscope/personalize/drift"
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
				h.LastExportAgeSeconds = round3(s.Time.Sub(e.LastExport).Seconds())
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

// LatencySource fills the Latency panel from a latency tracker (the one
// given to personalize.Config.Latency), replacing what an earlier source
// put there. slos lists the objectives to draw against (usually those the
// tracker was built with); latency.EndToEnd is shown as [TotalStage].
func LatencySource(t *latency.Tracker, slos []latency.SLO) Source {
	targets := map[string]SLO{}
	for _, o := range slos {
		name := o.Stage
		if name == latency.EndToEnd {
			name = TotalStage
		}
		targets[name] = SLO{AvgMs: msOf(o.Avg), P95Ms: msOf(o.P95), P99Ms: msOf(o.P99)}
	}
	windows := []struct {
		w    latency.Window
		name string
	}{{latency.WindowMinute, WindowMinute}, {latency.WindowHour, WindowHour}, {latency.WindowDay, WindowDay}}
	return SourceFunc(func(_ context.Context, s *Snapshot) error {
		var out []StageLatency
		for _, stage := range t.Stages() {
			name := stage
			if name == latency.EndToEnd {
				name = TotalStage
			}
			sl := StageLatency{Stage: name, SLO: targets[name]}
			for _, w := range windows {
				sum, ok := t.Summary(stage, w.w)
				if !ok {
					continue
				}
				sl.Windows = append(sl.Windows, Quantiles{Window: w.name, Count: sum.Count, MeanMs: msOf(sum.Mean),
					P50Ms: msOf(sum.P50), P95Ms: msOf(sum.P95), P99Ms: msOf(sum.P99), Degraded: sum.Errors + sum.Timeouts + sum.Fallbacks})
			}
			for _, w := range []latency.Window{latency.WindowHour, latency.WindowDay, latency.WindowMinute} {
				if sk, ok := t.Sketch(stage, w); ok && sk.Count() > 0 {
					sl.Histogram = coarsen(sk.Buckets(), 40)
					break
				}
			}
			out = append(out, sl)
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].Stage == TotalStage && out[j].Stage != TotalStage })
		s.Latency = out
		if !strings.Contains(strings.Join(s.Notes, " "), "latency.Tracker") {
			s.Notes = append(s.Notes, "Latency from the service's latency.Tracker (relative accuracy "+pctString(t.RelativeAccuracy())+").")
		}
		return nil
	})
}

func pctString(v float64) string { return pct(v) }

func msOf(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

// coarsen merges sketch buckets into at most n bars of equal count of
// buckets.
func coarsen(bs []latency.Bucket, n int) []Bucket {
	if len(bs) == 0 {
		return nil
	}
	per := int(math.Ceil(float64(len(bs)) / float64(n)))
	var out []Bucket
	for i := 0; i < len(bs); i += per {
		j := min(i+per, len(bs)) - 1
		b := Bucket{LoMs: msOf(bs[i].Lower), HiMs: msOf(bs[j].Upper)}
		for k := i; k <= j; k++ {
			b.Count += bs[k].Count
		}
		out = append(out, b)
	}
	return out
}

// DriftSource fills the Drift panel from a drift monitor's report, usually
// (*drift.Monitor).Report. Status is the feature's level: "ok", "warn" or
// "critical".
func DriftSource(report func() drift.Report) Source {
	return SourceFunc(func(_ context.Context, s *Snapshot) error {
		for _, f := range report().Features {
			if f.Kind == 0 { // identifier features have no distribution
				continue
			}
			s.Drift = append(s.Drift, FeatureDrift{Feature: f.Feature, PSI: round6(f.PSI), KS: round6(f.KS.Statistic), Status: f.Level.String()})
		}
		sort.SliceStable(s.Drift, func(i, j int) bool { return s.Drift[i].PSI > s.Drift[j].PSI })
		return nil
	})
}
