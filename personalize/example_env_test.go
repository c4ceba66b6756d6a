package personalize_test

import (
	"fmt"
	"os"

	"github.com/rankscope/rankscope/personalize"
)

func ExampleConfig_FromEnv() {
	// In production these come from the deployment (Kubernetes env, a
	// systemd unit...). Code leaves Service empty so that
	// OTEL_SERVICE_NAME, which the OTLP exporter's resource also reads,
	// names the service everywhere; fields set in code win.
	for k, v := range map[string]string{"OTEL_SERVICE_NAME": "feed-ranker", "RANKSCOPE_QUEUE_SIZE": "4096", "RANKSCOPE_BLOCK_TIMEOUT": "5ms"} {
		_ = os.Setenv(k, v)
		defer os.Unsetenv(k)
	}
	cfg, err := personalize.Config{BatchSize: 128}.FromEnv()
	if err != nil {
		panic(err)
	}
	fmt.Println(cfg.Service, cfg.QueueSize, cfg.BlockTimeout, cfg.BatchSize)
	// Output: feed-ranker 4096 5ms 128
}
