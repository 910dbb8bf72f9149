package main

import (
	"io"
	"net/http"
	"signaling-auth/lifecycle/testrun"
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

// TestDrainOnSIGTERM: corsproxy drains as every program does (testrun.CheckDrain), on
// its admin listener, and what it adds: requests are still proxied while it drains,
// each answer asking the client to reconnect (through the load balancer, to another
// replica).
func TestDrainOnSIGTERM(t *testing.T) {
	up := newTestUpstream(t)
	p := startProxy(t, "--upstream="+up.URL, "--timeouts.drain=3s")
	testrun.CheckDrain(t, p.Running, testrun.Drain{
		Drain:           "3s",
		Readyz:          "http://" + p.admin + "/readyz",
		Healthz:         "http://" + p.admin + "/healthz",
		Metrics:         "http://" + p.admin + "/metrics",
		DrainingGauge:   "corsproxy_draining",
		Served:          map[string]string{p.url() + "/rtm/alice/": ""},
		ConnectionClose: true,
	})
}
