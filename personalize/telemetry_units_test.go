package personalize_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/rankscope/rankscope/personalize"
)

// TestTelemetryUnits: every instrument rankscope publishes (durable mode
// and stage histograms included) carries a UCUM unit as OpenTelemetry's
// semantic conventions write them: s or By for measures, a {annotation}
// for counts of things, never an empty unit (which the Prometheus
// exporter would leave unnamed).
func TestTelemetryUnits(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	rec := &recorder{name: "rec"}
	in := newInst(t, func(c *personalize.Config) {
		c.MeterProvider, c.StageHistogram, c.WAL.Dir = mp, true, t.TempDir()
	}, rec)
	ctx := context.Background()
	_, inf := in.Start(ctx, personalize.Request{User: "u"})
	inf.Stage("model_scoring").End(nil)
	inf.Impress(items(2))
	require.NoError(t, inf.End(nil))
	require.NoError(t, in.Flush(ctx))
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	require.NoError(t, in.Shutdown(ctx))

	allowed := map[string]bool{"s": true, "ms": true, "By": true, "{event}": true, "{batch}": true, "{line}": true, "{observation}": true}
	want := map[string]string{
		personalize.MetricAccepted: "{event}", personalize.MetricExported: "{event}", personalize.MetricDropped: "{event}",
		personalize.MetricQueueDepth: "{event}", personalize.MetricExportTime: "s", personalize.MetricWALBytes: "By",
	}
	seen := 0
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if !strings.HasPrefix(m.Name, "rankscope.") {
				continue
			}
			seen++
			assert.True(t, allowed[m.Unit], "%s: unit %q", m.Name, m.Unit)
			if u, ok := want[m.Name]; ok {
				assert.Equal(t, u, m.Unit, m.Name)
				delete(want, m.Name)
			}
		}
	}
	assert.Empty(t, want, "published")
	assert.GreaterOrEqual(t, seen, 8)
}
