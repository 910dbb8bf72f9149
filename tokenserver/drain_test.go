package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestDrainOnSIGTERM: on SIGTERM's cause tokenserver's /readyz turns 503 at
// once while /healthz stays 200 and tokens are still served, for the
// configured timeouts.drain, and run then returns nil. (Were the drain shorter, those
// requests would find the listener closed.) The sequence itself
// (drain, shutting down, stopped; SIGINT and drain 0 skip the drain) is
// lifecycle's, tested there.
func TestDrainOnSIGTERM(t *testing.T) {
	s := startRun(t, env("APP_ID", testAppID, "APP_CERTIFICATE", testCert, "TOKENSERVER_TIMEOUTS_DRAIN", "3s"))
	if code, body := get(t, s.url+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM: %d %s", code, body)
	}
	s.terminate()
	if rec := s.waitFor(t, "draining: not ready, serving for 3s"); rec["service"] != "tokenserver" {
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
	if err := s.stop(t); err != nil {
		t.Fatalf("run returned %v", err)
	}
}
