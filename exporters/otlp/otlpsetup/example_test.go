package otlpsetup_test

import (
	"context"
	"fmt"

	"github.com/rankscope/rankscope/exporters/otlp"
	"github.com/rankscope/rankscope/exporters/otlp/otlpsetup"
)

func ExampleSetup() {
	// Traces and metrics over OTLP/HTTP to a local Collector; Setup
	// connects lazily, so this runs without one.
	p, err := otlpsetup.Setup(context.Background(), otlpsetup.Config{
		Transport: otlp.Transport{Endpoint: "http://localhost:4318"},
	})
	if err != nil {
		panic(err)
	}
	defer p.Shutdown(context.Background())
	// Pass p.MeterProvider in personalize.Config.MeterProvider.
	fmt.Println(p.TracerProvider != nil, p.MeterProvider != nil)
	// Output: true true
}
