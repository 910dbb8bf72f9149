package main

import (
	"strconv"
	"strings"
	"testing"
)

// The upstream's private routes stay private: with the built-in
// allowed_paths only the token routes pass, in both forms; everything else
// is a 404 problem that carries CORS headers, is counted, and never reaches
// the upstream.
func TestAllowedPathsKeepTheUpstreamsPrivateRoutesPrivate(t *testing.T) {
	up, hits := countingServer(t)
	host := strings.TrimPrefix(up.URL, "http://")
	px := startProxyDefaultPaths(t, "--upstream="+up.URL, "--allowed_targets="+up.URL, "--rate_limit.per_ip=off")
	const allowed = "http://localhost:9000"
	origin := [][2]string{{"Origin", allowed}}

	refused := []struct {
		target string
		status int
	}{
		{"/metrics", 404},
		{"/readyz", 404},
		{"/openapi.json", 404},
		{"/v1/tokens/inspect", 404},
		{"/v1/tokens%2Finspect", 404},
		{"/getToken/", 404},
		{"/", 404},
		{"/rtm%2Falice/", 404},
		{"/http://" + host + "/metrics", 404},
		{"/http://" + host + "/v1/tokens/inspect", 404},
		{"/rtm/../metrics", 403},
		{"/rtm/%2e%2e/metrics", 403},
		{"/rtm%2F..%2Fmetrics", 403},
		{"//metrics", 403},
		{"/http://" + host + "/rtm/%2E%2E/v1/tokens/inspect", 403},
	}
	n404 := 0
	for _, c := range refused {
		for _, method := range []string{"GET", "POST"} {
			res := rawDo(t, px.addr, method, c.target, origin, "")
			if res.StatusCode != c.status {
				t.Errorf("%s %s: %d %s, want %d", method, c.target, res.StatusCode, res.body, c.status)
			}
			if acao := res.Header.Values("Access-Control-Allow-Origin"); len(acao) != 1 || acao[0] != allowed {
				t.Errorf("%s %s: Access-Control-Allow-Origin %q, want %q (the page must read the error)", method, c.target, acao, allowed)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s %s: Content-Type %q, want application/problem+json", method, c.target, ct)
			}
			if c.status == 404 {
				n404++
			}
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the upstream saw %d refused requests", n)
	}
	if _, m := adminGet(t, px, "/metrics"); !strings.Contains(m, "corsproxy_refused_paths_total "+strconv.Itoa(n404)+"\n") {
		t.Errorf("/metrics lacks corsproxy_refused_paths_total %d:\n%s", n404, grepLines(m, "corsproxy_refused_paths"))
	}

	for _, c := range []struct{ method, target string }{
		{"GET", "/rtm/alice/?expiry=60"},
		{"GET", "/rtc/ch/publisher/uid/1/"},
		{"GET", "/rte/ch/publisher/uid/1/"},
		{"GET", "/chat/app/"},
		{"POST", "/getToken"},
		{"POST", "/v1/tokens"},
		{"GET", "/http://" + host + "/rtm/alice/"},
	} {
		before := hits.Load()
		res := rawDo(t, px.addr, c.method, c.target, origin, "")
		if res.StatusCode != 200 || hits.Load() != before+1 {
			t.Errorf("%s %s: %d %s, upstream hits +%d; want it passed on", c.method, c.target, res.StatusCode, res.body, hits.Load()-before)
		}
	}
}

func TestEmptyAllowedPathsPassesEveryPathAndSaysSo(t *testing.T) {
	up, hits := countingServer(t)
	px := startProxy(t, "--upstream="+up.URL, "--allowed_paths=")
	rec := px.logs.WaitRecord(t, func(r map[string]any) bool {
		msg, _ := r["msg"].(string)
		return r["level"] == "WARN" && strings.Contains(msg, "allowed_paths is empty")
	})
	if rec == nil {
		return
	}
	if res := rawDo(t, px.addr, "GET", "/metrics", nil, ""); res.StatusCode != 200 || hits.Load() != 1 {
		t.Fatalf("GET /metrics: %d, upstream hits %d; want it passed on", res.StatusCode, hits.Load())
	}
	// The built-in list says nothing.
	quiet := startProxyDefaultPaths(t, "--upstream="+up.URL)
	if strings.Contains(quiet.logs.String(), "allowed_paths is empty") {
		t.Fatal("the warning is logged with the built-in allowed_paths")
	}
}

func grepLines(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
