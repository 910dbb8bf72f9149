package main

import (
	"testing"

	"signaling-auth/telemetry/metricstest"
)

// TestMetricsGolden holds the real admin /metrics, after a proxied request,
// a preflight, a disallowed origin, a refused path and a 429, to
// testdata/metrics.golden (names, types, labels, help). The chart's
// dashboard and alerts are checked against that file.
func TestMetricsGolden(t *testing.T) {
	golden, rewrite := metricstest.Golden(t)
	up := newTestUpstream(t)
	p := startProxyDefaultPaths(t, "--upstream="+up.URL, "--rate_limit.per_ip=1/h", "--rate_limit.burst=3")
	getWith(t, p.url()+"/rtm/a/", map[string]string{"Origin": pageOrigin})
	rawDo(t, p.addr, "OPTIONS", "/rtm/a/", [][2]string{{"Origin", pageOrigin}, {"Access-Control-Request-Method", "GET"}}, "")
	getWith(t, p.url()+"/rtm/a/", map[string]string{"Origin": "https://evil.example"})
	getWith(t, p.url()+"/admin/secret", nil)
	getWith(t, p.url()+"/rtm/a/", nil)
	_, body := getWith(t, "http://"+p.admin+"/metrics", nil)
	metricstest.Check(t, string(body), golden, rewrite)
}
