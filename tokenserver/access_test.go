package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"signaling-auth/ratelimit/redistest"
)

const (
	runJWTSecret = "run-test-secret-of-at-least-32-bytes!!"
	runAPIKey    = "run-test-api-key-0123456789"
)

func recordsWith(t *testing.T, s *server, msgPrefix string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range s.stderr.Records(t, "") {
		if m, _ := r["msg"].(string); strings.HasPrefix(m, msgPrefix) {
			out = append(out, r)
		}
	}
	return out
}

func TestOpenServerWarnsWhenReachableBeyondLoopback(t *testing.T) {
	tests := []struct {
		name   string
		listen string
		mode   []string
		warn   bool
	}{
		{name: "auth none on all interfaces is warned about", listen: "0.0.0.0:0", warn: true},
		{name: "auth none on loopback is not", listen: "127.0.0.1:0"},
		{name: "api_key on all interfaces is not", listen: "0.0.0.0:0",
			mode: []string{"TOKENSERVER_AUTH_MODE", "api_key", "TOKENSERVER_AUTH_API_KEYS", runAPIKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startRun(t, env(append([]string{"TOKENSERVER_LISTEN", tt.listen}, tt.mode...)...))
			if err := s.stop(t); err != nil {
				t.Fatal(err)
			}
			warned := len(recordsWith(t, s, "auth.mode is none and the server listens beyond loopback"))
			if (warned == 1) != tt.warn || warned > 1 {
				t.Errorf("%d warnings, want warn=%v:\n%s", warned, tt.warn, s.stderr)
			}
			l := recordsWith(t, s, "listening")[0]
			if l["auth"] == nil || l["rate_limit"] == nil {
				t.Errorf("the listening record does not say auth and rate_limit: %v", l)
			}
		})
	}
}

func TestRunWithJWTCallers(t *testing.T) {
	s := startRun(t, env("APP_ID", testAppID, "APP_CERTIFICATE", testCert,
		"TOKENSERVER_AUTH_MODE", "jwt", "TOKENSERVER_AUTH_JWT_SECRET", runJWTSecret))
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(runJWTSecret))
	if err != nil {
		t.Fatal(err)
	}
	do := func(path, bearer string) int {
		req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		path, bearer string
		want         int
	}{
		{"/rtm/alice/", tok, 200}, {"/rtm/bob/", tok, 403}, {"/rtm/alice/", "", 401}, {"/healthz", "", 200},
	} {
		if got := do(c.path, c.bearer); got != c.want {
			t.Errorf("GET %s (token %v): %d, want %d", c.path, c.bearer != "", got, c.want)
		}
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.stderr.String(), runJWTSecret) || strings.Contains(s.stderr.String(), tok[len(tok)-16:]) {
		t.Error("the log holds the JWT secret or the caller's token")
	}
}

func TestRunWithRedisLimits(t *testing.T) {
	r := redistest.Start(t)
	getenv := env("TOKENSERVER_RATE_LIMIT_STORE", "redis", "TOKENSERVER_RATE_LIMIT_REDIS_URL", r.URL(),
		"TOKENSERVER_RATE_LIMIT_PER_IP", "1/h", "TOKENSERVER_RATE_LIMIT_BURST", "3")
	a, b := startRun(t, getenv), startRun(t, getenv)
	codes := []int{}
	for i := 0; i < 6; i++ {
		s := a
		if i%2 == 1 {
			s = b
		}
		code, _ := get(t, s.url+"/rtm/alice")
		codes = append(codes, code)
	}
	want := []int{200, 200, 200, 429, 429, 429}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("two tokenservers on one Redis answered %v, want %v", codes, want)
		}
	}
	r.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.url+"/rtm/alice", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("with Redis gone the request did not come back: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("with Redis gone and on_store_error allow: %d, want 200", resp.StatusCode)
	}
	if err := a.stop(t); err != nil {
		t.Fatal(err)
	}
	if n := len(recordsWith(t, a, "rate limit store failed")); n != 1 {
		t.Errorf("%d store failure records:\n%s", n, a.stderr)
	}
}
