package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// A refused preflight is told apart from an allowed one in the access log,
// with the part that failed; the 403 for a disallowed origin names the
// setting to change.
func TestCORSRefusalsSayWhy(t *testing.T) {
	up := newTestUpstream(t)
	px := startProxy(t, "--upstream="+up.URL, "--cors.allowed_origins=http://localhost:9000",
		"--cors.allowed_methods=GET,POST", "--cors.allowed_headers=X-Requested-With")
	lenient := startProxy(t, "--upstream="+up.URL, "--cors.allowed_origins=http://localhost:9000", "--cors.reject_disallowed_origins=false")

	cases := []struct {
		name   string
		px     *proxyProc
		method string
		hdr    [][2]string
		status int
		cors   string // the record's cors attribute
		reason string // and its cors_reason; "" = none
	}{
		{"allowed preflight", px, "OPTIONS", [][2]string{{"Origin", "http://localhost:9000"}, {"Access-Control-Request-Method", "GET"}, {"Access-Control-Request-Headers", "x-requested-with"}}, 204, "allowed", ""},
		{"preflight from another origin", px, "OPTIONS", [][2]string{{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "GET"}}, 403, "refused", "origin"},
		{"preflight from another origin, not rejected", lenient, "OPTIONS", [][2]string{{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "GET"}}, 204, "refused", "origin"},
		{"preflight for a method not allowed", px, "OPTIONS", [][2]string{{"Origin", "http://localhost:9000"}, {"Access-Control-Request-Method", "DELETE"}}, 204, "refused", "method"},
		{"preflight for a header not allowed", px, "OPTIONS", [][2]string{{"Origin", "http://localhost:9000"}, {"Access-Control-Request-Method", "POST"}, {"Access-Control-Request-Headers", "x-secret"}}, 204, "refused", "headers"},
		{"request from another origin", px, "GET", [][2]string{{"Origin", "https://evil.example"}}, 403, "refused", "origin"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := "cors-case-" + string(rune('a'+i))
			res := rawDo(t, c.px.addr, c.method, "/rtm/alice/", append(c.hdr, [2]string{"X-Request-Id", id}), "")
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d", res.StatusCode, c.status)
			}
			if c.status == 403 {
				var p struct{ Detail string }
				if err := json.Unmarshal(res.body, &p); err != nil || !strings.Contains(p.Detail, "cors.allowed_origins") {
					t.Errorf("403 detail %q (%v), want it to name cors.allowed_origins", p.Detail, err)
				}
			}
			rec := c.px.logs.WaitRecord(t, func(r map[string]any) bool { return r["msg"] == "request" && r["request_id"] == id })
			if rec["cors"] != c.cors || (c.reason == "") != (rec["cors_reason"] == nil) || c.reason != "" && rec["cors_reason"] != c.reason {
				t.Errorf("access log cors=%v cors_reason=%v, want %q %q; record %v", rec["cors"], rec["cors_reason"], c.cors, c.reason, rec)
			}
		})
	}
}
