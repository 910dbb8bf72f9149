package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// adminGet GETs an admin path and returns the status and body.
func adminGet(t *testing.T, p *proxyProc, path string) (int, string) {
	t.Helper()
	res, err := http.Get("http://" + p.admin + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestDrainOnSIGTERM: with SIGTERM's cause the admin /readyz turns 503 at
// once while /healthz stays 200 and requests are still proxied, for the
// configured timeouts.drain, and run then returns nil. (Were the drain shorter, those
// requests would find the listener closed.) The sequence itself
// (drain, shutting down, stopped; SIGINT and drain 0 skip the drain) is
// lifecycle's, tested there.
func TestDrainOnSIGTERM(t *testing.T) {
	up := newTestUpstream(t)
	p := startProxy(t, "--upstream="+up.URL, "--timeouts.drain=3s")
	if code, body := adminGet(t, p, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM: %d %s", code, body)
	}
	p.terminate()
	p.logs.WaitRecord(t, func(r map[string]any) bool { return r["msg"] == "draining: not ready, serving for 3s" })
	if code, body := adminGet(t, p, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Errorf("/readyz while draining: %d %s, want 503 saying shutting down", code, body)
	}
	if code, body := adminGet(t, p, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while draining: %d %s, want 200", code, body)
	}
	res, err := http.Get(p.url() + "/rtm/alice/")
	if err != nil {
		t.Fatalf("a request while draining: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("a request while draining: %s, want 200 from the upstream", res.Status)
	}
	if !res.Close {
		t.Error("an answer while draining kept the connection open; want Connection: close")
	}
	if err := p.stop(); err != nil {
		t.Fatalf("run returned %v", err)
	}
}
