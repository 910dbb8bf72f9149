// Package telemetry is what the three programs share to be observed: the
// OpenTelemetry tracing setup read from the standard OTEL_* environment
// (tracing.go); in connmetrics, the connection-limit and drain metrics; in
// metricstest, the golden-file check of a program's /metrics.
package telemetry
