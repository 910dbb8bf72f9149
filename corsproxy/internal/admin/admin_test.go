package admin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestEndpoints(t *testing.T) {
	var reasons []string
	srv := httptest.NewServer(New(Options{
		Version:      "v1.2.3",
		Ready:        func(context.Context) []string { return reasons },
		ReadyTimeout: time.Second,
		Metrics:      http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "metrics here") }),
	}))
	defer srv.Close()

	call := func(method, path string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Content-Type"), string(b)
	}

	code, _, body := call("GET", "/healthz")
	var h map[string]string
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != 200 || h["status"] != "ok" || h["version"] != "v1.2.3" {
		t.Errorf("/healthz = %d %q, want 200 with status ok and the version", code, body)
	}
	if code, _, body := call("GET", "/readyz"); code != 200 || !strings.Contains(body, `"ready"`) {
		t.Errorf("/readyz when ready = %d %q", code, body)
	}
	reasons = []string{"http://tokenserver:8081: connection refused"}
	code, ct, body := call("GET", "/readyz")
	if code != 503 || ct != "application/problem+json" || !strings.Contains(body, "connection refused") {
		t.Errorf("/readyz when not ready = %d %s %q, want 503 problem+json with the reason", code, ct, body)
	}
	if code, _, body := call("GET", "/metrics"); code != 200 || body != "metrics here" {
		t.Errorf("/metrics = %d %q", code, body)
	}
	if code, _, _ := call("POST", "/healthz"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", code)
	}
	if code, _, _ := call("GET", "/rtm/alice/"); code != http.StatusNotFound {
		t.Errorf("an upstream path on the admin listener = %d, want 404", code)
	}
}

func TestReadinessCheckIsBounded(t *testing.T) {
	srv := httptest.NewServer(New(Options{
		Ready: func(ctx context.Context) []string {
			<-ctx.Done() // a check that would hang without the timeout
			return []string{ctx.Err().Error()}
		},
		ReadyTimeout: 20 * time.Millisecond,
	}))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 503 {
		t.Fatalf("status %d, want 503", res.StatusCode)
	}
}
