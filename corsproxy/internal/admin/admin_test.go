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
}

func TestUnknownRoutesAndMethodsAreProblems(t *testing.T) {
	srv := httptest.NewServer(New(Options{Version: "v1", ReadyTimeout: time.Second, Metrics: http.NotFoundHandler()}))
	defer srv.Close()
	cases := []struct {
		name, method, path string
		status             int
		allow              string
	}{
		{"a POST to /healthz is a 405 naming GET", "POST", "/healthz", 405, "GET, HEAD"},
		{"a DELETE of /readyz is a 405", "DELETE", "/readyz", 405, "GET, HEAD"},
		{"a PUT to /metrics is a 405", "PUT", "/metrics", 405, "GET, HEAD"},
		{"an upstream path on the admin listener is a 404", "GET", "/rtm/alice/", 404, ""},
		{"a path below a route is a 404", "GET", "/healthz/x", 404, ""},
		{"the root is a 404", "GET", "/", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var p struct {
				Status int    `json:"status"`
				Detail string `json:"detail"`
			}
			err = json.NewDecoder(res.Body).Decode(&p)
			if res.StatusCode != tc.status || res.Header.Get("Content-Type") != "application/problem+json" || err != nil || p.Status != tc.status || p.Detail == "" {
				t.Fatalf("%s %s = %d %s %+v (%v), want a %d problem+json with a detail", tc.method, tc.path, res.StatusCode, res.Header.Get("Content-Type"), p, err, tc.status)
			}
			if got := res.Header.Get("Allow"); got != tc.allow {
				t.Fatalf("Allow = %q, want %q", got, tc.allow)
			}
		})
	}
	// HEAD still reaches the GET routes.
	res, err := http.Head(srv.URL + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("HEAD /healthz = %v %v, want 200", res, err)
	}
	res.Body.Close()
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
