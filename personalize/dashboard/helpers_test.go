package dashboard

import (
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

var fixedNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// fakeSource fills every panel with fixed numbers.
func fakeSource() Source {
	return SourceFunc(func(_ context.Context, s *Snapshot) error {
		w := newWindows()
		for i := range 1000 {
			w.add(fixedNow.Add(-time.Duration(i)*time.Second), 5+float64(i%50), i%100 == 0)
		}
		s.Latency = []StageLatency{w.stage("model_scoring", fixedNow, SLO{P95Ms: 50, P99Ms: 52})}
		s.Traffic = &Traffic{RequestsPerSecond: 120.5, EventsPerSecond: 260, LastEventAgeSeconds: 0.8, LagP95Seconds: 1.2,
			Series: []RatePoint{{Time: fixedNow.Add(-20 * time.Second), RequestsPerSecond: 110, EventsPerSecond: 240}, {Time: fixedNow.Add(-10 * time.Second), RequestsPerSecond: 131, EventsPerSecond: 280}}}
		s.Pipeline = &Pipeline{Accepted: 123456, Queued: 12, QueueCapacity: 8192, OptedOut: 7,
			Dropped:   []Count{{Key: "queue_full", Count: 42}},
			Rejected:  []Count{{Key: "impression.items.propensity", Count: 3}},
			Exporters: []ExporterHealth{{Name: "file", Exported: 123400, LastExportAgeSeconds: 0.5, Healthy: true}, {Name: "webhook", Exported: 100, Dropped: 56, LastExportAgeSeconds: 95, LastError: "status_503"}}}
		s.Runtime = &Runtime{GOMAXPROCS: 2, Goroutines: 17, CPUFraction: 0.23, HeapBytes: 12 << 20, HeapGoal: 16 << 20, GCCycles: 9, GCPauseP50Ms: 0.05, GCPauseP99Ms: 0.4, GCPauseMaxMs: 0.9}
		s.Experiments = []Experiment{{Name: "ranker-v42", Arms: []Arm{{Variant: "control", Units: 5010}, {Variant: "treatment", Units: 4990}}, SRMPValue: round3(srm([]int64{5010, 4990}, nil)), SRM: "ok"}}
		s.Calibration = &Calibration{Count: 1000, ECE: 0.02, Bins: []CalibrationBin{{Lo: 0, Hi: 0.1, Count: 600, MeanPredicted: 0.05, Observed: 0.06}, {Lo: 0.1, Hi: 0.2, Count: 400, MeanPredicted: 0.15, Observed: 0.13}}}
		s.CTRByPosition = []PositionCTR{{Position: 1, Impressions: 1000, Clicks: 120, CTR: 0.12, Lo: 0.101, Hi: 0.142}, {Position: 2, Impressions: 1000, Clicks: 80, CTR: 0.08, Lo: 0.065, Hi: 0.098}}
		s.Exposure = []GroupExposure{{Group: "provider-a", ExposureShare: 0.7, RelevanceShare: 0.5, Ratio: 1.4}, {Group: "provider-b", ExposureShare: 0.3, RelevanceShare: 0.5, Ratio: 0.6}}
		s.Drift = []FeatureDrift{{Feature: "user_age_days", PSI: 0.31, Status: "drift"}, {Feature: "item_price", PSI: 0.04, Status: "ok"}}
		s.Alerts = []Alert{{Rule: "latency.p99_ms", Key: "model_scoring", Severity: "critical", Value: 61, Limit: 52, Since: fixedNow.Add(-3 * time.Minute)}, {Rule: "drift.psi", Key: "user_age_days", Severity: "routine", Value: 0.31, Limit: 0.25, Since: fixedNow.Add(-time.Hour)}}
		return nil
	})
}

// checkWellFormed parses page as strict XML (the pages are written as
// polyglot markup) and fails on any error; it returns the count of each
// element name.
func checkWellFormed(t *testing.T, page string) map[string]int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict = true
	d.Entity = map[string]string{}
	counts := map[string]int{}
	var stack []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "page is not well-formed")
		switch tk := tok.(type) {
		case xml.StartElement:
			counts[tk.Name.Local]++
			stack = append(stack, tk.Name.Local)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	require.Empty(t, stack, "unclosed elements")
	require.Equal(t, 1, counts["html"])
	return counts
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	require.Equal(t, string(want), string(got), "golden %s differs; rerun with -update if the change is intended", path)
}
