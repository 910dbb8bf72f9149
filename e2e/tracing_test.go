package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"signaling-auth/telemetry/otlptest"
)

// TestOneTokenFetchIsOneTrace: the built corsproxy and tokenserver, both
// exporting to an OTLP/HTTP receiver in this test, and one token fetch from
// a "browser" that sends its own traceparent. Every span belongs to the
// browser's trace, linked browser → corsproxy server span → corsproxy
// client span (the upstream call) → tokenserver server span → mint span;
// no attribute holds the token, the certificate or the API key.
func TestOneTokenFetchIsOneTrace(t *testing.T) {
	rcv := otlptest.Start(t)
	const apiKey = "trace-test-key-0123456789abcdef"
	otel := func(service string) []string {
		return []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + rcv.URL, "OTEL_SERVICE_NAME=" + service, "OTEL_TRACES_SAMPLER=parentbased_always_on"}
	}
	ts := start(t, "tokenserver", append(otel("tokenserver"),
		"TOKENSERVER_AGORA_APP_ID="+vectorAppID, "TOKENSERVER_AGORA_APP_CERTIFICATE="+vectorCertificate,
		"TOKENSERVER_AUTH_MODE=api_key", "TOKENSERVER_AUTH_API_KEYS="+apiKey), "--listen", "127.0.0.1:0")
	page := "http://localhost:9000"
	px := start(t, "corsproxy", otel("corsproxy"), "--listen", "127.0.0.1:0", "--admin_listen", "127.0.0.1:0",
		"--upstream", ts.url(), "--cors.allowed_origins", page)

	const traceID, browserSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, _ := http.NewRequest(http.MethodGet, px.url()+"/rtm/alice/", nil)
	req.Header.Set("Origin", page)
	req.Header.Set("X-API-Key", apiKey)
	req.Header.Set("traceparent", "00-"+traceID+"-"+browserSpan+"-01")
	res, err := plainHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var answer struct{ RTMToken string }
	if res.StatusCode != 200 || json.Unmarshal(body, &answer) != nil || !strings.HasPrefix(answer.RTMToken, "007") {
		t.Fatalf("token fetch: %d %s", res.StatusCode, body)
	}
	// The batchers flush on SIGTERM.
	px.stop(t)
	ts.stop(t)
	spans := rcv.WaitSpans(t, 4)

	byKind := map[string]otlptest.Span{}
	for _, s := range spans {
		if s.TraceID != traceID {
			t.Errorf("span %q of %s is in trace %s, not the browser's", s.Name, s.Service, s.TraceID)
		}
		byKind[s.Service+" "+s.Kind] = s
		for k, v := range s.Attributes {
			for _, secret := range []string{answer.RTMToken[:20], vectorCertificate, apiKey} {
				if strings.Contains(v, secret) || strings.Contains(strings.ToLower(v), strings.ToLower(vectorCertificate)) {
					t.Errorf("span %q attribute %s holds a token or a secret", s.Name, k)
				}
			}
		}
	}
	proxyServer, proxyClient := byKind["corsproxy SPAN_KIND_SERVER"], byKind["corsproxy SPAN_KIND_CLIENT"]
	tokenServer, mint := byKind["tokenserver SPAN_KIND_SERVER"], byKind["tokenserver SPAN_KIND_INTERNAL"]
	for _, link := range []struct {
		what          string
		child         otlptest.Span
		parentID, why string
	}{
		{"corsproxy's server span", proxyServer, browserSpan, "the browser's span"},
		{"corsproxy's upstream call", proxyClient, proxyServer.SpanID, "corsproxy's server span"},
		{"tokenserver's server span", tokenServer, proxyClient.SpanID, "corsproxy's upstream call"},
		{"the mint span", mint, tokenServer.SpanID, "tokenserver's server span"},
	} {
		if link.child.SpanID == "" || link.child.ParentID != link.parentID {
			t.Errorf("%s (%+v) is not a child of %s (%s)", link.what, link.child, link.why, link.parentID)
		}
	}
	if tokenServer.Name != "GET /rtm/:uid" || mint.Name != "mint" {
		t.Errorf("span names %q, %q", tokenServer.Name, mint.Name)
	}
}
