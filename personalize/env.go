package personalize

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variables read by [Config.FromEnv].
const (
	// EnvServiceName names the service (Config.Service), as it names the
	// service.name of every OpenTelemetry resource.
	EnvServiceName = "OTEL_SERVICE_NAME"
	// EnvResourceAttributes is read for its service.name when
	// OTEL_SERVICE_NAME is unset, as the OpenTelemetry SDKs do.
	EnvResourceAttributes = "OTEL_RESOURCE_ATTRIBUTES"

	EnvQueueSize         = "RANKSCOPE_QUEUE_SIZE"          // Config.QueueSize, events
	EnvShards            = "RANKSCOPE_SHARDS"              // Config.Shards, 1 to MaxShards
	EnvBatchSize         = "RANKSCOPE_BATCH_SIZE"          // Config.BatchSize, events
	EnvBatchTimeout      = "RANKSCOPE_BATCH_TIMEOUT"       // Config.BatchTimeout
	EnvExporterQueueSize = "RANKSCOPE_EXPORTER_QUEUE_SIZE" // Config.ExporterQueueSize, batches
	EnvExportTimeout     = "RANKSCOPE_EXPORT_TIMEOUT"      // Config.ExportTimeout
	EnvStallTimeout      = "RANKSCOPE_STALL_TIMEOUT"       // Config.StallTimeout
	EnvBlockTimeout      = "RANKSCOPE_BLOCK_TIMEOUT"       // Config.BlockTimeout: the queue policy
	EnvStageHistogram    = "RANKSCOPE_STAGE_HISTOGRAM"     // Config.StageHistogram, true or false
	EnvWALDir            = "RANKSCOPE_WAL_DIR"             // Config.WAL.Dir: durable mode
)

// maxEnvInt bounds the sizes read from the environment, so a typo cannot
// ask for a queue of a billion events.
const maxEnvInt = 1 << 24

// FromEnv returns a copy of c whose zero fields are filled from the
// environment; a field set in code always wins, and a field neither set
// nor in the environment keeps its default (applied by [New]). It reads:
//
//	OTEL_SERVICE_NAME              Service (else service.name in OTEL_RESOURCE_ATTRIBUTES)
//	RANKSCOPE_QUEUE_SIZE           QueueSize            events, 1 to 16777216
//	RANKSCOPE_SHARDS               Shards               1 to 64
//	RANKSCOPE_BATCH_SIZE           BatchSize            events, 1 to 16777216
//	RANKSCOPE_BATCH_TIMEOUT        BatchTimeout         duration
//	RANKSCOPE_EXPORTER_QUEUE_SIZE  ExporterQueueSize    batches, 1 to 16777216
//	RANKSCOPE_EXPORT_TIMEOUT       ExportTimeout        duration
//	RANKSCOPE_STALL_TIMEOUT        StallTimeout         duration
//	RANKSCOPE_BLOCK_TIMEOUT        BlockTimeout         duration; 0 refuses at a full queue (the default), more waits
//	RANKSCOPE_STAGE_HISTOGRAM      StageHistogram       true or false
//	RANKSCOPE_WAL_DIR              WAL.Dir              a directory: durable mode on
//
// A duration is Go's syntax ("250ms", "2s") or a bare number of
// milliseconds, as the OTEL_* timeouts are written. Empty variables count
// as unset. An error names the variable and quotes its bad value; c is
// not changed either way.
//
// OTEL_SERVICE_NAME is the one place to name the service: the OTLP
// exporter's default resource (and otlpsetup's) reads the same variable,
// so events, logs, traces and metrics carry one name when Service is left
// empty in code.
func (c Config) FromEnv() (Config, error) {
	if c.Service == "" {
		name, err := serviceNameFromEnv()
		if err != nil {
			return c, err
		}
		c.Service = name
	}
	ints := []struct {
		key string
		dst *int
		max int
	}{
		{EnvQueueSize, &c.QueueSize, maxEnvInt},
		{EnvShards, &c.Shards, MaxShards},
		{EnvBatchSize, &c.BatchSize, maxEnvInt},
		{EnvExporterQueueSize, &c.ExporterQueueSize, maxEnvInt},
	}
	for _, v := range ints {
		if *v.dst != 0 {
			continue
		}
		n, err := envInt(v.key, v.max)
		if err != nil {
			return c, err
		}
		*v.dst = n
	}
	durations := []struct {
		key string
		dst *time.Duration
	}{
		{EnvBatchTimeout, &c.BatchTimeout},
		{EnvExportTimeout, &c.ExportTimeout},
		{EnvStallTimeout, &c.StallTimeout},
		{EnvBlockTimeout, &c.BlockTimeout},
	}
	for _, v := range durations {
		if *v.dst != 0 {
			continue
		}
		d, err := envDuration(v.key)
		if err != nil {
			return c, err
		}
		*v.dst = d
	}
	if !c.StageHistogram {
		b, err := envBool(EnvStageHistogram)
		if err != nil {
			return c, err
		}
		c.StageHistogram = b
	}
	if c.WAL.Dir == "" {
		c.WAL.Dir = strings.TrimSpace(os.Getenv(EnvWALDir))
	}
	return c, nil
}

// quote quotes a bad value for an error, cut to 64 bytes.
func quote(v string) string {
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return strconv.Quote(v)
}

func envInt(key string, maxN int) (int, error) { return parseEnvInt(key, os.Getenv(key), maxN) }

func parseEnvInt(key, v string, maxN int) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxN {
		return 0, fmt.Errorf("personalize: %s: must be an integer from 1 to %d, got %s", key, maxN, quote(v))
	}
	return n, nil
}

// maxEnvDuration bounds durations read from the environment (a day).
const maxEnvDuration = 24 * time.Hour

func envDuration(key string) (time.Duration, error) { return parseEnvDuration(key, os.Getenv(key)) }

func parseEnvDuration(key, v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		ms, ierr := strconv.ParseInt(v, 10, 64)
		if ierr != nil {
			return 0, fmt.Errorf("personalize: %s: must be a duration (\"250ms\", \"2s\") or a number of milliseconds, got %s", key, quote(v))
		}
		if ms < 0 || ms > int64(maxEnvDuration/time.Millisecond) {
			return 0, fmt.Errorf("personalize: %s: must be from 0 to %v, got %s", key, maxEnvDuration, quote(v))
		}
		d = time.Duration(ms) * time.Millisecond
	}
	if d < 0 || d > maxEnvDuration {
		return 0, fmt.Errorf("personalize: %s: must be from 0 to %v, got %s", key, maxEnvDuration, quote(v))
	}
	return d, nil
}

func envBool(key string) (bool, error) { return parseEnvBool(key, os.Getenv(key)) }

func parseEnvBool(key, v string) (bool, error) {
	v = strings.TrimSpace(v)
	switch strings.ToLower(v) {
	case "":
		return false, nil
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("personalize: %s: must be true or false, got %s", key, quote(v))
}

// serviceNameFromEnv applies OTEL_SERVICE_NAME > service.name in
// OTEL_RESOURCE_ATTRIBUTES > "".
func serviceNameFromEnv() (string, error) {
	if v := strings.TrimSpace(os.Getenv(EnvServiceName)); v != "" {
		return v, nil
	}
	return resourceServiceName(os.Getenv(EnvResourceAttributes))
}

// resourceServiceName returns service.name from an OTEL_RESOURCE_ATTRIBUTES
// value: key=value pairs separated by commas, values percent-encoded.
// The last service.name wins, as in the SDKs' parsing into a set.
func resourceServiceName(s string) (string, error) {
	name := ""
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	for i, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return "", fmt.Errorf("personalize: %s: entry %d: want key=value, got %s", EnvResourceAttributes, i+1, quote(kv))
		}
		if k != "service.name" {
			continue
		}
		d, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return "", fmt.Errorf("personalize: %s: service.name: bad percent-encoding in %s", EnvResourceAttributes, quote(v))
		}
		name = d
	}
	return name, nil
}
