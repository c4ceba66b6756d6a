package alert_test

import (
	"context"
	"fmt"
	"time"

	"github.com/rankscope/rankscope/personalize/alert"
)

func Example() {
	ev, err := alert.New(alert.Config{
		Handler: alert.HandlerFunc(func(_ context.Context, a alert.Alert) { fmt.Println(a) }),
		Rules: []alert.Rule{
			// p99 latency: page after two minutes above 250 ms; resolve below 200 ms.
			{Name: "latency.p99_ms", Severity: alert.SeverityCritical, Enter: 250, Exit: 200, For: 2 * time.Minute},
		},
	})
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, p99 := range []float64{180, 260, 255, 270, 230, 190, 210} {
		_ = ev.Observe(context.Background(), start.Add(time.Duration(i)*time.Minute), "latency.p99_ms", "model_scoring", p99)
	}
	// Output:
	// critical latency.p99_ms[model_scoring] firing: value 270, threshold 250, since 2026-03-01T12:01:00Z
	// critical latency.p99_ms[model_scoring] resolved: value 190, threshold 200, since 2026-03-01T12:05:00Z
}
