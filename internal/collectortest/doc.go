// Package collectortest proves the OTLP exporter against the official
// OpenTelemetry Collector receiver.
package collectortest
