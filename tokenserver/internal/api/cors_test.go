package api

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCORS(t *testing.T) {
	list := newTestServer(t, newTestAPI(t, func(o *Options) {
		// The matching rules are package origin's (tested there); these
		// cases check that the middleware asks it.
		o.Origins = mustOrigins(t, []string{"http://localhost:9000", "https://*.example.com", "https://legacy.example.org:443/"})
	}))
	star := newTestServer(t, newTestAPI(t, func(o *Options) { o.Origins = mustOrigins(t, []string{"*"}) }))
	off := newTestServer(t, newTestAPI(t, nil))
	preflight := func(origin string) map[string]string {
		return map[string]string{"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-requested-with"}
	}

	tests := []struct {
		name       string
		srv        *httptest.Server
		call       call
		status     int
		acao       string // expected Access-Control-Allow-Origin ("" = absent)
		preflight  bool   // expect Access-Control-Allow-Methods
		varyOrigin bool
	}{
		{name: "a GET from an allowed origin gets its origin back and Vary: Origin",
			srv: list, call: call{path: "/rtm/alice/", header: map[string]string{"Origin": "http://localhost:9000"}},
			status: 200, acao: "http://localhost:9000", varyOrigin: true},
		{name: "a GET from a disallowed origin gets no CORS headers but still Vary: Origin",
			srv: list, call: call{path: "/rtm/alice/", header: map[string]string{"Origin": "http://evil.example"}},
			status: 200, varyOrigin: true},
		{name: "a GET without Origin still carries Vary: Origin for caches",
			srv: list, call: call{path: "/rtm/alice/"},
			status: 200, varyOrigin: true},
		{name: "a subdomain matches a wildcard entry",
			srv: list, call: call{path: "/ping", header: map[string]string{"Origin": "https://app.example.com"}},
			status: 200, acao: "https://app.example.com", varyOrigin: true},
		{name: "the bare domain does not match a wildcard entry",
			srv: list, call: call{path: "/ping", header: map[string]string{"Origin": "https://example.com"}},
			status: 200, varyOrigin: true},
		{name: "a look-alike domain does not match a wildcard entry",
			srv: list, call: call{path: "/ping", header: map[string]string{"Origin": "https://app.example.com.evil.io"}},
			status: 200, varyOrigin: true},
		{name: "an empty label does not match a wildcard entry",
			srv: list, call: call{path: "/ping", header: map[string]string{"Origin": "https://.example.com"}},
			status: 200, varyOrigin: true},
		{name: "an entry written with its default port and a slash matches the origin a browser sends",
			srv: list, call: call{path: "/ping", header: map[string]string{"Origin": "https://legacy.example.org"}},
			status: 200, acao: "https://legacy.example.org", varyOrigin: true},
		{name: "a preflight from an allowed origin is answered 204 with the allowed methods",
			srv: list, call: call{method: "OPTIONS", path: "/rtm/alice/", header: preflight("http://localhost:9000")},
			status: 204, acao: "http://localhost:9000", preflight: true, varyOrigin: true},
		{name: "a preflight for the POST API is answered too",
			srv: list, call: call{method: "OPTIONS", path: "/v1/tokens", header: preflight("https://a.b.example.com")},
			status: 204, acao: "https://a.b.example.com", preflight: true, varyOrigin: true},
		{name: "a preflight from a disallowed origin is not answered as one",
			srv: list, call: call{method: "OPTIONS", path: "/rtm/alice/", header: preflight("http://evil.example")},
			status: 405, varyOrigin: true},
		{name: "an OPTIONS request without Access-Control-Request-Method is not a preflight",
			srv: list, call: call{method: "OPTIONS", path: "/rtm/alice/", header: map[string]string{"Origin": "http://localhost:9000"}},
			status: 405, acao: "http://localhost:9000", varyOrigin: true},
		{name: "with * every origin is allowed and Vary: Origin is still sent",
			srv: star, call: call{path: "/rtm/alice/", header: map[string]string{"Origin": "http://anything.example"}},
			status: 200, acao: "*", varyOrigin: true},
		{name: "with * a preflight is answered",
			srv: star, call: call{method: "OPTIONS", path: "/getToken", header: preflight("http://anything.example")},
			status: 204, acao: "*", preflight: true, varyOrigin: true},
		{name: "with * an OPTIONS that is not a preflight is routed (405)",
			srv: star, call: call{method: "OPTIONS", path: "/getToken", header: map[string]string{"Origin": "http://anything.example"}},
			status: 405, acao: "*", varyOrigin: true},
		{name: "with CORS off an allowed-looking origin gets nothing",
			srv: off, call: call{path: "/rtm/alice/", header: map[string]string{"Origin": "http://localhost:9000"}},
			status: 200},
		{name: "with CORS off a preflight is not answered",
			srv: off, call: call{method: "OPTIONS", path: "/rtm/alice/", header: preflight("http://localhost:9000")},
			status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, tt.srv, tt.call)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			if got := a.header.Values("Access-Control-Allow-Origin"); (tt.acao == "" && len(got) != 0) || (tt.acao != "" && (len(got) != 1 || got[0] != tt.acao)) {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tt.acao)
			}
			if got := a.header.Get("Access-Control-Allow-Methods"); (got != "") != tt.preflight {
				t.Errorf("Access-Control-Allow-Methods %q, preflight answer expected: %v", got, tt.preflight)
			}
			if tt.preflight && !strings.Contains(strings.ToLower(a.header.Get("Access-Control-Allow-Headers")), "x-requested-with") {
				t.Errorf("preflight does not allow X-Requested-With: %q", a.header.Get("Access-Control-Allow-Headers"))
			}
			vary := strings.Join(a.header.Values("Vary"), ",")
			if strings.Contains(vary, "Origin") != tt.varyOrigin {
				t.Errorf("Vary %q, want Origin in it: %v", vary, tt.varyOrigin)
			}
			if tt.status >= 400 {
				problemOf(t, a, tt.status)
			}
		})
	}
}
