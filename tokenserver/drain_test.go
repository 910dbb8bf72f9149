package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestDrainOnSIGTERM: on SIGTERM's cause /readyz turns 503 at once while
// tokens are still served, then the server shuts down and run returns nil,
// logging draining, shutting down and stopped in that order.
func TestDrainOnSIGTERM(t *testing.T) {
	s := startRun(t, env("APP_ID", testAppID, "APP_CERTIFICATE", testCert, "TOKENSERVER_TIMEOUTS_DRAIN", "3s"))
	if code, body := get(t, s.url+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM: %d %s", code, body)
	}
	s.terminate()
	rec := s.stderr.waitFor(t, "draining: not ready, serving for 3s", s.done)
	if rec["service"] != "tokenserver" {
		t.Errorf("draining record: %v", rec)
	}
	code, body := get(t, s.url+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), "shutting down") {
		t.Errorf("/readyz while draining: %d %s, want 503 saying shutting down", code, body)
	}
	if code, body := get(t, s.url+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while draining: %d %s, want 200 (alive, only not ready)", code, body)
	}
	res, err := http.Get(s.url + "/rtm/alice/")
	if err != nil {
		t.Fatalf("token while draining: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), `"007`) {
		t.Errorf("token while draining: %d %s, want 200 with a token", res.StatusCode, b)
	}
	if !res.Close {
		t.Error("an answer while draining kept the connection open; want Connection: close")
	}
	if strings.Contains(s.stderr.String(), `"msg":"shutting down"`) {
		t.Fatal("shut down before the checks above finished; the drain is shorter than configured")
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("run returned %v", err)
	}
	var order []string
	for _, r := range s.stderr.records(t) {
		switch m, _ := r["msg"].(string); {
		case strings.HasPrefix(m, "draining"), m == "shutting down", m == "stopped":
			order = append(order, m)
		}
	}
	if got := strings.Join(order, " | "); got != "draining: not ready, serving for 3s | shutting down | stopped" {
		t.Errorf("log order: %s", got)
	}
}

// TestInterruptSkipsTheDrain: a plain cancel (SIGINT, Ctrl-C) shuts down at
// once, however long timeouts.drain is.
func TestInterruptSkipsTheDrain(t *testing.T) {
	s := startRun(t, env("TOKENSERVER_TIMEOUTS_DRAIN", "1h"))
	if err := s.stop(t); err != nil {
		t.Fatalf("run returned %v", err)
	}
	if out := s.stderr.String(); strings.Contains(out, "draining") || !strings.Contains(out, `"msg":"stopped"`) {
		t.Errorf("want no draining record and a stopped record:\n%s", out)
	}
}

// TestZeroDrainShutsDownAtOnce: timeouts.drain=0 turns the drain off for SIGTERM too.
func TestZeroDrainShutsDownAtOnce(t *testing.T) {
	s := startRun(t, env("TOKENSERVER_TIMEOUTS_DRAIN", "0"))
	s.terminate()
	if err := s.stop(t); err != nil {
		t.Fatalf("run returned %v", err)
	}
	if out := s.stderr.String(); strings.Contains(out, "draining") {
		t.Errorf("drain 0 still drained:\n%s", out)
	}
}
