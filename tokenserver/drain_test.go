package main

import (
	"testing"

	"signaling-auth/lifecycle/testrun"
)

// TestDrainOnSIGTERM: tokenserver drains as every program does (testrun.CheckDrain),
// and what it adds: tokens are still handed out while it drains, each answer asking
// the client to reconnect (through the load balancer, to another replica).
func TestDrainOnSIGTERM(t *testing.T) {
	s := startRun(t, env("APP_ID", testAppID, "APP_CERTIFICATE", testCert, "TOKENSERVER_TIMEOUTS_DRAIN", "3s"))
	testrun.CheckDrain(t, s.Running, testrun.Drain{
		Drain:           "3s",
		Readyz:          s.url + "/readyz",
		Healthz:         s.url + "/healthz",
		Metrics:         s.url + "/metrics",
		DrainingGauge:   "tokenserver_draining",
		Served:          map[string]string{s.url + "/rtm/alice/": `"007`},
		ConnectionClose: true,
	})
}
