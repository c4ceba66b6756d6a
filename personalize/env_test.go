package personalize

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clearEnv unsets every variable FromEnv reads, for the test.
func clearEnv(t *testing.T) {
	for _, k := range []string{EnvServiceName, EnvResourceAttributes, EnvQueueSize, EnvShards, EnvBatchSize, EnvBatchTimeout,
		EnvExporterQueueSize, EnvExportTimeout, EnvStallTimeout, EnvBlockTimeout, EnvStageHistogram, EnvWALDir} {
		t.Setenv(k, "")
	}
}

func TestConfigFromEnv(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		code Config
		want Config
	}{
		{"nothing set", nil, Config{}, Config{}},
		{"every variable", map[string]string{
			EnvServiceName: " feed-ranker ", EnvQueueSize: "4096", EnvShards: "8", EnvBatchSize: "256",
			EnvBatchTimeout: "250ms", EnvExporterQueueSize: "4", EnvExportTimeout: "5000", EnvStallTimeout: "1s",
			EnvBlockTimeout: "20ms", EnvStageHistogram: "TRUE", EnvWALDir: "/var/lib/rankscope",
		}, Config{}, Config{Service: "feed-ranker", QueueSize: 4096, Shards: 8, BatchSize: 256, BatchTimeout: 250 * time.Millisecond,
			ExporterQueueSize: 4, ExportTimeout: 5 * time.Second, StallTimeout: time.Second, BlockTimeout: 20 * time.Millisecond,
			StageHistogram: true, WAL: WALConfig{Dir: "/var/lib/rankscope"}}},
		{"code wins", map[string]string{EnvServiceName: "env-name", EnvQueueSize: "10", EnvBlockTimeout: "1s", EnvWALDir: "/env"},
			Config{Service: "code-name", QueueSize: 99, BlockTimeout: time.Millisecond, WAL: WALConfig{Dir: "/code"}},
			Config{Service: "code-name", QueueSize: 99, BlockTimeout: time.Millisecond, WAL: WALConfig{Dir: "/code"}}},
		{"service.name from OTEL_RESOURCE_ATTRIBUTES", map[string]string{EnvResourceAttributes: "deployment.environment=prod, service.name=feed%20ranker"},
			Config{}, Config{Service: "feed ranker"}},
		{"OTEL_SERVICE_NAME wins over the resource attributes", map[string]string{EnvServiceName: "a", EnvResourceAttributes: "service.name=b"},
			Config{}, Config{Service: "a"}},
		{"block timeout 0 keeps the refusing policy", map[string]string{EnvBlockTimeout: "0"}, Config{}, Config{}},
		{"false histogram", map[string]string{EnvStageHistogram: "0"}, Config{}, Config{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, err := tt.code.FromEnv()
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestConfigFromEnvErrors(t *testing.T) {
	for _, tt := range []struct {
		key, val, want string
	}{
		{EnvQueueSize, "lots", `personalize: RANKSCOPE_QUEUE_SIZE: must be an integer from 1 to 16777216, got "lots"`},
		{EnvQueueSize, "0", `RANKSCOPE_QUEUE_SIZE: must be an integer from 1 to 16777216, got "0"`},
		{EnvQueueSize, "99999999999", `RANKSCOPE_QUEUE_SIZE: must be an integer from 1 to 16777216, got "99999999999"`},
		{EnvShards, "65", `personalize: RANKSCOPE_SHARDS: must be an integer from 1 to 64, got "65"`},
		{EnvBatchSize, "-1", `RANKSCOPE_BATCH_SIZE: must be an integer from 1`},
		{EnvExporterQueueSize, "1.5", `RANKSCOPE_EXPORTER_QUEUE_SIZE: must be an integer`},
		{EnvBatchTimeout, "soon", `personalize: RANKSCOPE_BATCH_TIMEOUT: must be a duration ("250ms", "2s") or a number of milliseconds, got "soon"`},
		{EnvExportTimeout, "-5s", `personalize: RANKSCOPE_EXPORT_TIMEOUT: must be from 0 to 24h0m0s, got "-5s"`},
		{EnvStallTimeout, "90000000", `RANKSCOPE_STALL_TIMEOUT: must be from 0 to 24h0m0s, got "90000000"`},
		{EnvBlockTimeout, "-1", `RANKSCOPE_BLOCK_TIMEOUT: must be from 0 to 24h0m0s, got "-1"`},
		{EnvStageHistogram, "yes", `personalize: RANKSCOPE_STAGE_HISTOGRAM: must be true or false, got "yes"`},
		{EnvResourceAttributes, "service.name", `personalize: OTEL_RESOURCE_ATTRIBUTES: entry 1: want key=value, got "service.name"`},
		{EnvResourceAttributes, "a=1,service.name=%zz", `personalize: OTEL_RESOURCE_ATTRIBUTES: service.name: bad percent-encoding in "%zz"`},
		{EnvQueueSize, strings.Repeat("9", 200), `got "` + strings.Repeat("9", 64) + `..."`},
	} {
		t.Run(tt.key+"="+tt.val[:min(len(tt.val), 20)], func(t *testing.T) {
			clearEnv(t)
			t.Setenv(tt.key, tt.val)
			base := Config{Exporters: []Exporter{DiscardExporter}}
			_, err := base.FromEnv()
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// FuzzEnvValues: the parsers never panic; an accepted value is within
// its documented bounds, a refused one yields an error naming the
// variable.
func FuzzEnvValues(f *testing.F) {
	for _, s := range []string{"", "0", "1", "64", "250ms", "2s", "5000", "-1", "true", "TRUE", "x", "service.name=a%20b,k=v", "=", "1e3", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if n, err := parseEnvInt("K_INT", v, MaxShards); err != nil {
			require.ErrorContains(t, err, "personalize: K_INT: ")
		} else if strings.TrimSpace(v) != "" {
			require.True(t, n >= 1 && n <= MaxShards, "%d", n)
		}
		if d, err := parseEnvDuration("K_DUR", v); err != nil {
			require.ErrorContains(t, err, "personalize: K_DUR: ")
		} else {
			require.True(t, d >= 0 && d <= maxEnvDuration, "%v", d)
		}
		if _, err := parseEnvBool("K_BOOL", v); err != nil {
			require.ErrorContains(t, err, "personalize: K_BOOL: ")
		}
		if _, err := resourceServiceName(v); err != nil {
			require.ErrorContains(t, err, "personalize: OTEL_RESOURCE_ATTRIBUTES: ")
		}
	})
}
