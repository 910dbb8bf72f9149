package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracing is a program's OpenTelemetry tracing: off (the zero value's
// behaviour, and what NewTracing returns unless an OTLP endpoint is
// configured) or exporting spans over OTLP/HTTP. Off, Handler and Transport
// return what they are given, so tracing costs nothing when it is not used.
// Nothing here is global: the tracer provider and propagator are passed to
// each wrapper, never installed with otel.Set*.
type Tracing struct {
	provider *sdktrace.TracerProvider // nil: off
	prop     propagation.TextMapPropagator
}

// NewTracing reads OpenTelemetry's standard environment through getenv:
//
//	OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  full URL spans are POSTed to, or
//	OTEL_EXPORTER_OTLP_ENDPOINT         base URL (+ /v1/traces); neither: tracing is off
//	OTEL_SDK_DISABLED=true, OTEL_TRACES_EXPORTER=none   off even with an endpoint
//	OTEL_SERVICE_NAME                   service.name (default: service)
//	OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG        as the specification
//	                                    (default parentbased_always_on)
//
// Other OTEL_EXPORTER_OTLP_* variables (headers, timeout, certificates) are
// read by the exporter itself from the process environment. Propagation is
// W3C Trace Context (traceparent, tracestate). A bad value is an error
// naming the variable.
func NewTracing(service string, getenv func(string) string) (*Tracing, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	t := &Tracing{prop: propagation.TraceContext{}}
	endpoint := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		if base := getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); base != "" {
			endpoint = strings.TrimSuffix(base, "/") + "/v1/traces"
		}
	}
	switch exp := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); {
	case endpoint == "" || strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") || exp == "none":
		return t, nil
	case exp != "" && exp != "otlp":
		return nil, fmt.Errorf("telemetry: OTEL_TRACES_EXPORTER: only otlp or none (got %q)", exp)
	}
	if p := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") + getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); p != "" && !strings.HasPrefix(p, "http/protobuf") {
		return nil, fmt.Errorf("telemetry: OTEL_EXPORTER_OTLP_PROTOCOL: only http/protobuf (got %q)", p)
	}
	sampler, err := samplerFrom(getenv("OTEL_TRACES_SAMPLER"), getenv("OTEL_TRACES_SAMPLER_ARG"))
	if err != nil {
		return nil, err
	}
	exporter, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("telemetry: OTEL_EXPORTER_OTLP_ENDPOINT: %v", err)
	}
	name := getenv("OTEL_SERVICE_NAME")
	if name == "" {
		name = service
	}
	res := resource.NewSchemaless(attribute.String("service.name", name))
	t.provider = sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithSampler(sampler), sdktrace.WithResource(res))
	return t, nil
}

// samplerFrom is OTEL_TRACES_SAMPLER and its argument.
func samplerFrom(name, arg string) (sdktrace.Sampler, error) {
	ratio := func() (float64, error) {
		if arg == "" {
			return 1, nil
		}
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return 0, fmt.Errorf("telemetry: OTEL_TRACES_SAMPLER_ARG: must be a ratio 0 to 1 (got %q)", arg)
		}
		return r, nil
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "traceidratio", "parentbased_traceidratio":
		r, err := ratio()
		if err != nil {
			return nil, err
		}
		if name == "traceidratio" {
			return sdktrace.TraceIDRatioBased(r), nil
		}
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(r)), nil
	}
	return nil, fmt.Errorf("telemetry: OTEL_TRACES_SAMPLER: always_on, always_off, traceidratio or their parentbased_ forms (got %q)", name)
}

// Enabled reports whether spans are exported.
func (t *Tracing) Enabled() bool { return t != nil && t.provider != nil }

// Tracer is the named tracer, a no-op one when tracing is off.
func (t *Tracing) Tracer(name string) trace.Tracer {
	if !t.Enabled() {
		return noop.NewTracerProvider().Tracer(name)
	}
	return t.provider.Tracer(name)
}

// Handler makes a server span for each request to h, continuing the trace
// in the request's traceparent. The span is named operation until
// NameSpan gives it its route.
func (t *Tracing) Handler(h http.Handler, operation string) http.Handler {
	if !t.Enabled() {
		return h
	}
	return otelhttp.NewHandler(h, operation, otelhttp.WithTracerProvider(t.provider), otelhttp.WithPropagators(t.prop))
}

// Transport makes a client span for each request through rt and sends its
// traceparent upstream.
func (t *Tracing) Transport(rt http.RoundTripper) http.RoundTripper {
	if !t.Enabled() {
		return rt
	}
	return otelhttp.NewTransport(rt, otelhttp.WithTracerProvider(t.provider), otelhttp.WithPropagators(t.prop))
}

// NameSpan names the request's server span by method and route pattern
// (never the raw path, which holds user IDs), once the router knows it.
func NameSpan(r *http.Request, route string) {
	span := trace.SpanFromContext(r.Context())
	if !span.IsRecording() {
		return
	}
	span.SetName(r.Method + " " + route)
	span.SetAttributes(attribute.String("http.route", route))
}

// Shutdown exports the spans still buffered; ctx bounds the wait.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	if err := t.provider.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("telemetry: flushing spans: %v", err)
	}
	return nil
}

// Flush is Shutdown with a 5 s bound for a program on its way out; a
// failure is logged, not returned (the answers were already given).
func (t *Tracing) Flush(log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		log.Warn("spans not exported", "err", err)
	}
}
