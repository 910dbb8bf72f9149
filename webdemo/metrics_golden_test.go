package main

import (
	"io"
	"net/http"
	"testing"

	"signaling-auth/telemetry/metricstest"
)

// TestMetricsGolden holds the real /metrics, after a page and a 404, to
// testdata/metrics.golden (names, types, labels, help). The chart's
// dashboard and alerts are checked against that file.
func TestMetricsGolden(t *testing.T) {
	golden, rewrite := metricstest.Golden(t) // before startRun changes directory
	s := startRun(t)
	var body []byte
	for _, p := range []string{"/", "/nope", "/metrics"} {
		res, err := http.Get("http://" + s.addr + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
	}
	metricstest.Check(t, string(body), golden, rewrite)
}
