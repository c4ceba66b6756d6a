package latency_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/rankscope/rankscope/latency"
)

// TestObserveSplitEqualsObserve checks that ObserveWindows plus
// RecordMetric (the split personalize uses to keep the OTel histogram off
// the request path) records exactly what Observe records, including the
// "other" stage count past MaxStages.
func TestObserveSplitEqualsObserve(t *testing.T) {
	type side struct {
		tr     *latency.Tracker
		reader *sdkmetric.ManualReader
	}
	mk := func() side {
		r := sdkmetric.NewManualReader()
		tr, err := latency.NewTracker(latency.Config{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(r)), MaxStages: 2})
		require.NoError(t, err)
		return side{tr, r}
	}
	whole, split := mk(), mk()
	start := time.Now()
	for i := 0; i < 300; i++ {
		o := latency.Observation{Stage: []string{"a", "b", "c", "d"}[i%4], Start: start,
			Duration: time.Duration(i+1) * time.Millisecond, Status: latency.Status(i % 4)}
		whole.tr.Observe(o)
		split.tr.ObserveWindows(o)
		split.tr.RecordMetric(o.Stage, o.Duration, o.Status)
	}
	assert.Equal(t, whole.tr.Stats(), split.tr.Stats())
	for _, st := range whole.tr.Stages() {
		a, _ := whole.tr.Summary(st, latency.WindowMinute)
		b, _ := split.tr.Summary(st, latency.WindowMinute)
		assert.Equal(t, a, b, st)
	}
	counts := func(r *sdkmetric.ManualReader) map[string]uint64 {
		var rm metricdata.ResourceMetrics
		require.NoError(t, r.Collect(context.Background(), &rm))
		out := map[string]uint64{}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
					for _, dp := range h.DataPoints {
						out[dp.Attributes.Encoded(nil)] += dp.Count
					}
				}
			}
		}
		return out
	}
	got := counts(split.reader)
	assert.Equal(t, counts(whole.reader), got)
	var total uint64
	for _, n := range got {
		total += n
	}
	assert.EqualValues(t, 300, total)
}
