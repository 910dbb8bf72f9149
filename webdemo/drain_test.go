package main

import (
	"testing"

	"signaling-auth/lifecycle/testrun"
)

// TestDrainOnSIGTERM: webdemo drains as every program does (testrun.CheckDrain), and
// the page is still served while it drains.
func TestDrainOnSIGTERM(t *testing.T) {
	s := startRun(t, "--timeouts.drain", "3s")
	base := "http://" + s.addr
	testrun.CheckDrain(t, s.Running, testrun.Drain{
		Drain:         "3s",
		Readyz:        base + "/readyz",
		Healthz:       base + "/healthz",
		Metrics:       base + "/metrics",
		DrainingGauge: "webdemo_draining",
		Served:        map[string]string{base + "/authentication_guide/": ""},
	})
}
