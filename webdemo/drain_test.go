package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestDrainOnSIGTERM: with SIGTERM's cause webdemo's /readyz turns 503 at once
// while /healthz and the page are still served, for the configured
// timeouts.drain, and run then returns nil. (Were the drain shorter, those
// requests would find the listener closed.) The sequence itself (drain,
// shutting down, stopped; SIGINT and drain 0 skip the drain) is lifecycle's,
// tested there.
func TestDrainOnSIGTERM(t *testing.T) {
	s := startRun(t, "--timeouts.drain", "3s")
	base := "http://" + s.addr
	check := func(when, path string, want int, wantBody string) {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("%s %s: %v", path, when, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want || !strings.Contains(string(b), wantBody) {
			t.Errorf("%s %s: %d %s, want %d %s", path, when, res.StatusCode, b, want, wantBody)
		}
	}
	check("before SIGTERM", "/readyz", http.StatusOK, "")
	s.terminate()
	s.stderr.WaitRecord(t, func(r map[string]any) bool { return r["msg"] == "draining: not ready, serving for 3s" })
	check("while draining", "/readyz", http.StatusServiceUnavailable, "shutting down")
	check("while draining", "/healthz", http.StatusOK, "")
	check("while draining", "/authentication_guide/", http.StatusOK, "")
	if err := s.stop(); err != nil {
		t.Fatalf("run returned %v", err)
	}
}
