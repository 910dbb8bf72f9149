package main

import (
	"net/http"
	"strings"
	"testing"

	"signaling-auth/telemetry/metricstest"
)

// TestMetricsGolden holds the real /metrics, after a token, a 404 and a
// refusal, to testdata/metrics.golden (names, types, labels, help). The
// chart's dashboard and alerts are checked against that file.
func TestMetricsGolden(t *testing.T) {
	golden, rewrite := metricstest.Golden(t) // before startRun changes directory
	s := startRun(t, env("TOKENSERVER_RATE_LIMIT_PER_UID", "1/h", "TOKENSERVER_RATE_LIMIT_BURST", "1"))
	for _, p := range []string{"/rtm/alice", "/rtm/alice", "/nope", "/healthz"} {
		get(t, s.url+p)
	}
	resp, err := http.Post(s.url+"/v1/tokens", "application/json", strings.NewReader(`{"type":"rtc","uid":"1","channel":"c"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, body := get(t, s.url+"/metrics")
	metricstest.Check(t, string(body), golden, rewrite)
}
