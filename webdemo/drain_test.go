package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestDrainOnSIGTERM: with SIGTERM's cause /readyz turns 503 at once while the page
// is still served, then the server shuts down and run returns nil, logging draining,
// shutting down and stopped in that order.
func TestDrainOnSIGTERM(t *testing.T) {
	s := startRun(t, "--timeouts.drain", "3s")
	base := "http://" + s.addr
	if code, body := getStatus(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM: %d %s", code, body)
	}
	s.terminate()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.stderr.String(), `"msg":"draining: not ready, serving for 3s"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no draining record:\n%s", s.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code, body := getStatus(t, base+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Errorf("/readyz while draining: %d %s, want 503 saying shutting down", code, body)
	}
	if code, body := getStatus(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while draining: %d %s, want 200", code, body)
	}
	if code, _ := getStatus(t, base+"/authentication_guide/"); code != http.StatusOK {
		t.Errorf("the page while draining: %d, want 200", code)
	}
	if strings.Contains(s.stderr.String(), `"msg":"shutting down"`) {
		t.Fatal("shut down before the checks above finished; the drain is shorter than configured")
	}
	if err := s.stop(); err != nil {
		t.Fatalf("run returned %v", err)
	}
	logs := s.stderr.String()
	d, sd, st := strings.Index(logs, `"msg":"draining`), strings.Index(logs, `"msg":"shutting down"`), strings.Index(logs, `"msg":"stopped"`)
	if d < 0 || sd < d || st < sd {
		t.Errorf("want draining, shutting down, stopped in that order:\n%s", logs)
	}
}

// TestInterruptSkipsTheDrain: a plain cancel (SIGINT, Ctrl-C) shuts down at once
// however long timeouts.drain is, and so does SIGTERM with drain 0.
func TestInterruptSkipsTheDrain(t *testing.T) {
	s := startRun(t, "--timeouts.drain", "1h")
	if err := s.stop(); err != nil {
		t.Fatalf("run returned %v", err)
	}
	logs := s.stderr.String()
	q := startRun(t, "--timeouts.drain", "0")
	q.terminate()
	if err := q.stop(); err != nil {
		t.Fatalf("run returned %v", err)
	}
	for _, l := range []string{logs, q.stderr.String()} {
		if strings.Contains(l, "draining") || !strings.Contains(l, `"msg":"stopped"`) {
			t.Errorf("want no draining record and a stopped record:\n%s", l)
		}
	}
}
