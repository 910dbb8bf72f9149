// Package telemetry is what the three programs share to be observed: the
// OpenTelemetry tracing setup read from the standard OTEL_* environment
// (tracing.go), and, in metricstest, the golden-file check of a program's
// /metrics.
package telemetry
