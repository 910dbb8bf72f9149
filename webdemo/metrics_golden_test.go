package main

import (
	"flag"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"signaling-auth/telemetry/metricstest"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden from the running program")

// TestMetricsGolden holds the real /metrics, after a page and a 404, to
// testdata/metrics.golden (names, types, labels, help). The chart's
// dashboard and alerts are checked against that file.
func TestMetricsGolden(t *testing.T) {
	golden, err := filepath.Abs("testdata/metrics.golden") // startRun changes directory
	if err != nil {
		t.Fatal(err)
	}
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
	metricstest.Check(t, string(body), golden, *update)
}
