package telemetry_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"signaling-auth/telemetry"
	"signaling-auth/telemetry/otlptest"
)

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestTracingIsOffUnlessAnEndpointIsConfigured(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  func(string) string
	}{
		{"nothing set", envOf()},
		{"only a service name", envOf("OTEL_SERVICE_NAME", "x")},
		{"an endpoint with the SDK disabled", envOf("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1", "OTEL_SDK_DISABLED", "true")},
		{"an endpoint with the exporter none", envOf("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1", "OTEL_TRACES_EXPORTER", "none")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := telemetry.NewTracing("svc", tt.env)
			if err != nil || tr.Enabled() {
				t.Fatalf("enabled %v, err %v", tr.Enabled(), err)
			}
			h := http.NotFoundHandler()
			if tr.Handler(h, "x") == nil || tr.Transport(http.DefaultTransport) != http.DefaultTransport {
				t.Error("off, the wrappers must return what they were given")
			}
		})
	}
}

func TestBadTracingEnvironmentIsRefusedByName(t *testing.T) {
	for _, tt := range []struct{ name, key, value string }{
		{"an unknown sampler", "OTEL_TRACES_SAMPLER", "sometimes"},
		{"a ratio above 1", "OTEL_TRACES_SAMPLER_ARG", "1.5"},
		{"a ratio that is no number", "OTEL_TRACES_SAMPLER_ARG", "half"},
		{"an exporter other than otlp", "OTEL_TRACES_EXPORTER", "zipkin"},
		{"the grpc protocol", "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := envOf("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1", "OTEL_TRACES_SAMPLER", "traceidratio", tt.key, tt.value)
			_, err := telemetry.NewTracing("svc", env)
			if err == nil || !strings.Contains(err.Error(), tt.key) {
				t.Errorf("got %v, want an error naming %s", err, tt.key)
			}
		})
	}
}

// TestServerAndClientSpansReachAReceiver: a request through Handler to a
// backend called through Transport gives a server span, its child client
// span, and the backend sees the client span in traceparent.
func TestServerAndClientSpansReachAReceiver(t *testing.T) {
	rcv := otlptest.Start(t)
	tr, err := telemetry.NewTracing("svc", envOf("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL, "OTEL_SERVICE_NAME", "front"))
	if err != nil || !tr.Enabled() {
		t.Fatalf("enabled %v err %v", tr.Enabled(), err)
	}
	var seen string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.Header.Get("traceparent") }))
	defer backend.Close()
	client := &http.Client{Transport: tr.Transport(http.DefaultTransport)}
	front := httptest.NewServer(tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		telemetry.NameSpan(r, "/things/:id")
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, backend.URL, nil)
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}), "front"))
	defer front.Close()
	parent := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	req, _ := http.NewRequest(http.MethodGet, front.URL+"/things/42", nil)
	req.Header.Set("traceparent", parent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := rcv.WaitSpans(t, 2)
	var server, client2 otlptest.Span
	for _, s := range spans {
		switch s.Kind {
		case "SPAN_KIND_SERVER":
			server = s
		case "SPAN_KIND_CLIENT":
			client2 = s
		}
	}
	if server.Name != "GET /things/:id" || server.Service != "front" || server.TraceID != "0af7651916cd43dd8448eb211c80319c" || server.ParentID != "b7ad6b7169203331" {
		t.Errorf("server span %+v", server)
	}
	if client2.TraceID != server.TraceID || client2.ParentID != server.SpanID {
		t.Errorf("client span %+v is not the server span's child", client2)
	}
	if !strings.Contains(seen, client2.SpanID) {
		t.Errorf("the backend got traceparent %q, not the client span %s", seen, client2.SpanID)
	}
}
