package main

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	"signaling-auth/corsproxy/internal/testnet"
)

// TestCORSAndOpenProxyCases is one table of what a browser and an attacker
// can send a CORS proxy: behaviour from the Fetch standard, the known bugs of other CORS proxies, and
// attempts to use the proxy as an open proxy. Each case is one hand-written
// HTTP request to the real program (run in-process) in front of a real
// upstream. Besides its own expectations, every case checks:
//
//   - at most one Access-Control-Allow-Origin, with exactly the expected value
//     (or none), on the final answer and on every 1xx answer before it;
//   - Vary: Origin on the answer, errors included;
//   - problem+json for the proxy's own errors;
//   - whether the upstream was reached, and that the other host never was.
func TestCORSAndOpenProxyCases(t *testing.T) {
	up := newTestUpstream(t)
	other, otherHits := countingServer(t)
	otherAddr := strings.TrimPrefix(other.URL, "http://")
	_, upPort, _ := net.SplitHostPort(up.addr())

	common := []string{"--upstream=" + up.URL, "--allowed_targets=" + up.URL, "--max_body_bytes=4096"}
	proxies := map[string]*proxyProc{
		"default": startProxy(t, append(common, "--cors.allowed_origins=http://localhost:9000,https://*.app.example")...),
		"lenient": startProxy(t, append(common, "--cors.allowed_origins=http://localhost:9000", "--cors.reject_disallowed_origins=false")...),
		"credentialed": startProxy(t, append(common, "--cors.allowed_origins=http://localhost:9000", "--cors.allow_credentials",
			"--cors.exposed_headers=X-Request-Id")...),
		"any-origin":    startProxy(t, append(common, "--cors.allowed_origins=*")...),
		"dead-upstream": startProxy(t, "--upstream=http://"+testnet.RefusingAddr(t), "--cors.allowed_origins=http://localhost:9000"),
		"impatient": startProxy(t, append(common, "--cors.allowed_origins=http://localhost:9000",
			"--timeouts.response_header=150ms", "--timeouts.write=5s")...),
	}

	const allowed = "http://localhost:9000"
	origin := func(o string) [2]string { return [2]string{"Origin", o} }
	acrm := func(m string) [2]string { return [2]string{"Access-Control-Request-Method", m} }
	acrh := func(h string) [2]string { return [2]string{"Access-Control-Request-Headers", h} }
	hdr := func(k, v string) [2]string { return [2]string{k, v} }

	type tcase struct {
		name    string
		proxy   string // key in proxies; "" = "default"
		method  string // "" = GET
		target  string
		headers [][2]string
		body    string
		status  int
		acao    string // the one Access-Control-Allow-Origin expected; "" = none
		reaches bool   // the upstream receives the request
		noVary  bool   // answered by net/http before our handler runs (no Vary possible)
		check   func(t *testing.T, res rawResponse)
	}
	hasHeader := func(name, want string) func(*testing.T, rawResponse) {
		return func(t *testing.T, res rawResponse) {
			if got := res.Header.Values(name); len(got) != 1 || got[0] != want {
				t.Errorf("%s = %q, want exactly %q", name, got, want)
			}
		}
	}
	lacks := func(names ...string) func(*testing.T, rawResponse) {
		return func(t *testing.T, res rawResponse) {
			for _, n := range names {
				if v, ok := res.Header[http.CanonicalHeaderKey(n)]; ok {
					t.Errorf("%s = %q, want it absent", n, v)
				}
			}
		}
	}
	all := func(checks ...func(*testing.T, rawResponse)) func(*testing.T, rawResponse) {
		return func(t *testing.T, res rawResponse) {
			for _, c := range checks {
				c(t, res)
			}
		}
	}
	echoed := func(check func(*testing.T, echo)) func(*testing.T, rawResponse) {
		return func(t *testing.T, res rawResponse) {
			var e echo
			if err := json.Unmarshal(res.body, &e); err != nil {
				t.Fatalf("upstream echo: %v (%s)", err, res.body)
			}
			check(t, e)
		}
	}
	preflightOK := all(hasHeader("Access-Control-Allow-Methods", "GET"),
		func(t *testing.T, res rawResponse) {
			for _, v := range []string{"Access-Control-Request-Method", "Access-Control-Request-Headers"} {
				if !varyHas(res.Header, v) {
					t.Errorf("preflight Vary %q lacks %s", res.Header.Values("Vary"), v)
				}
			}
		})
	noAllow := lacks("Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Allow-Credentials", "Access-Control-Max-Age")

	cases := []tcase{
		// --- Fetch standard: simple and actual requests
		{name: "a GET from an allowed origin gets exactly that origin back and reaches the upstream",
			target: "/rtm/alice/?expiry=60", headers: [][2]string{origin(allowed)}, status: 200, acao: allowed, reaches: true,
			check: lacks("Access-Control-Allow-Credentials")},
		{name: "a request without Origin (curl, servers) passes through without CORS headers but with Vary: Origin",
			target: "/rtm/alice/", status: 200, reaches: true},
		{name: "an origin matching a subdomain pattern is allowed",
			target: "/rtm/alice/", headers: [][2]string{origin("https://a.b.app.example")}, status: 200, acao: "https://a.b.app.example", reaches: true},
		{name: "an origin that only ends like the pattern is refused",
			target: "/rtm/alice/", headers: [][2]string{origin("https://evilapp.example")}, status: 403},
		{name: "the bare domain of a subdomain pattern is refused",
			target: "/rtm/alice/", headers: [][2]string{origin("https://app.example")}, status: 403},
		{name: "an origin with the pattern's host but another scheme is refused",
			target: "/rtm/alice/", headers: [][2]string{origin("http://a.app.example")}, status: 403},
		{name: "an allowed origin on another port is refused",
			target: "/rtm/alice/", headers: [][2]string{origin("http://localhost:9001")}, status: 403},
		{name: "the null origin of a sandboxed iframe is refused",
			target: "/rtm/alice/", headers: [][2]string{origin("null")}, status: 403},
		{name: "a request from a disallowed origin gets a 403 problem without CORS headers and never reaches the upstream",
			target: "/rtm/alice/", headers: [][2]string{origin("https://evil.example")}, status: 403},
		{name: "a request from a disallowed origin is forwarded without CORS headers but with Vary: Origin when rejecting is off",
			proxy: "lenient", target: "/rtm/alice/", headers: [][2]string{origin("https://evil.example")}, status: 200, reaches: true},
		{name: "a request with two Origin headers is refused and never gets two Access-Control-Allow-Origin",
			target: "/rtm/alice/", headers: [][2]string{origin(allowed), origin("https://evil.example")}, status: 400},
		{name: "a credentialed proxy reflects the exact origin with Allow-Credentials, never *",
			proxy: "credentialed", target: "/rtm/alice/", headers: [][2]string{origin(allowed)}, status: 200, acao: allowed, reaches: true,
			check: all(hasHeader("Access-Control-Allow-Credentials", "true"), hasHeader("Access-Control-Expose-Headers", "X-Request-Id"))},
		{name: "a wildcard proxy answers * and does not reflect the origin",
			proxy: "any-origin", target: "/rtm/alice/", headers: [][2]string{origin("https://anyone.example")}, status: 200, acao: "*", reaches: true,
			check: lacks("Access-Control-Allow-Credentials")},
		{name: "a HEAD from an allowed origin gets the CORS headers",
			method: "HEAD", target: "/rtm/alice/", headers: [][2]string{origin(allowed)}, status: 200, acao: allowed, reaches: true},

		// --- preflights
		{name: "a preflight from an allowed origin is answered 204 by the proxy and never forwarded",
			method: "OPTIONS", target: "/rtm/alice/", headers: [][2]string{origin(allowed), acrm("GET"), acrh("x-requested-with")}, status: 204, acao: allowed,
			check: all(preflightOK, hasHeader("Access-Control-Allow-Headers", "x-requested-with"), hasHeader("Access-Control-Max-Age", "600"))},
		{name: "a preflight from a disallowed origin gets a 403 without CORS headers and is not forwarded",
			method: "OPTIONS", target: "/rtm/alice/", headers: [][2]string{origin("https://evil.example"), acrm("GET")}, status: 403, check: noAllow},
		{name: "a preflight from a disallowed origin gets a bare 204 when rejecting is off",
			proxy: "lenient", method: "OPTIONS", target: "/rtm/alice/", headers: [][2]string{origin("https://evil.example"), acrm("GET")}, status: 204, check: noAllow},
		{name: "a preflight for a method that is not allowed gets no Allow headers",
			method: "OPTIONS", target: "/rtm/alice/", headers: [][2]string{origin(allowed), acrm("DELETE")}, status: 204, check: noAllow},
		{name: "a preflight for a lower-case method is not matched to its upper-case twin",
			method: "OPTIONS", target: "/rtm/alice/", headers: [][2]string{origin(allowed), acrm("get")}, status: 204, check: noAllow},
		{name: "a preflight for a header that is not allowed gets no Allow headers",
			method: "OPTIONS", target: "/rtm/alice/", headers: [][2]string{origin(allowed), acrm("GET"), acrh("content-type,x-custom")}, status: 204, check: noAllow},
		{name: "a preflight for allowed headers in mixed case and any order is allowed",
			method: "OPTIONS", target: "/rtm/alice/", headers: [][2]string{origin(allowed), acrm("GET"), acrh("X-Requested-With, Authorization,Content-Type")}, status: 204, acao: allowed,
			check: all(preflightOK, hasHeader("Access-Control-Allow-Headers", "authorization,content-type,x-requested-with"))},
		{name: "a preflight whose request headers a gateway split over two lines is allowed",
			method: "OPTIONS", target: "/rtm/alice/", headers: [][2]string{origin(allowed), acrm("GET"), acrh("x-requested-with"), acrh("authorization")}, status: 204, acao: allowed,
			check: all(preflightOK, hasHeader("Access-Control-Allow-Headers", "authorization,x-requested-with"))},
		{name: "a preflight with an oversized Access-Control-Request-Headers is refused",
			method: "OPTIONS", target: "/rtm/alice/", headers: [][2]string{origin(allowed), acrm("GET"), acrh(strings.Repeat("content-type,", 400))}, status: 204, check: noAllow},
		{name: "a preflight with thousands of empty list elements is refused",
			method: "OPTIONS", target: "/rtm/alice/", headers: [][2]string{origin(allowed), acrm("GET"), acrh("content-type" + strings.Repeat(",", 5000))}, status: 204, check: noAllow},
		{name: "a preflight larger than the header limit gets 431 and is not forwarded",
			method: "OPTIONS", target: "/rtm/alice/", headers: [][2]string{origin(allowed), acrm("GET"), acrh(strings.Repeat("x-a,", 20000))}, status: 431, noVary: true},
		{name: "a preflight with a wildcard proxy allows any origin without credentials",
			proxy: "any-origin", method: "OPTIONS", target: "/rtm/alice/", headers: [][2]string{origin("https://anyone.example"), acrm("POST"), acrh("content-type")}, status: 204, acao: "*",
			check: lacks("Access-Control-Allow-Credentials")},
		{name: "an OPTIONS without Access-Control-Request-Method is not a preflight and reaches the upstream",
			method: "OPTIONS", target: "/rtm/alice/", headers: [][2]string{origin(allowed)}, status: 200, acao: allowed, reaches: true,
			check: all(hasHeader("X-Upstream-Options", "yes"), lacks("Access-Control-Allow-Methods"))},

		// --- upstreams that misbehave; errors that must carry CORS headers
		{name: "an upstream that sends its own CORS headers still yields exactly one Access-Control-Allow-Origin",
			target: "/cors/", headers: [][2]string{origin(allowed)}, status: 200, acao: allowed, reaches: true,
			check: all(lacks("Access-Control-Allow-Credentials", "Access-Control-Max-Age"), hasHeader("Vary", "Origin"),
				// The proxy's own exposed headers (the request ID and the rate-limit ones), not the upstream's.
				hasHeader("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, Ratelimit-Limit, Ratelimit-Remaining, Ratelimit-Reset, Token-Mode"))},
		{name: "an upstream's own CORS headers are dropped even for a disallowed origin when rejecting is off",
			proxy: "lenient", target: "/cors/", headers: [][2]string{origin("https://evil.example")}, status: 200, reaches: true,
			check: lacks("Access-Control-Allow-Credentials", "Access-Control-Expose-Headers")},
		{name: "an upstream's own CORS headers are dropped for requests without Origin",
			target: "/cors/", status: 200, reaches: true, check: lacks("Access-Control-Allow-Credentials")},
		{name: "CORS headers survive an upstream 103 Early Hints answer, and the 103 carries ours, not the upstream's",
			target: "/early-hints", headers: [][2]string{origin(allowed)}, status: 200, acao: allowed, reaches: true,
			check: func(t *testing.T, res rawResponse) {
				if len(res.informed) != 1 || res.informed[0] != 103 {
					t.Errorf("1xx answers = %v, want the upstream's 103 passed on", res.informed)
				}
			}},
		{name: "an unreachable upstream is a 502 problem that carries the CORS headers",
			proxy: "dead-upstream", target: "/rtm/alice/", headers: [][2]string{origin(allowed)}, status: 502, acao: allowed},
		{name: "an upstream too slow to answer is a 504 problem that carries the CORS headers",
			proxy: "impatient", target: "/slow", headers: [][2]string{origin(allowed)}, status: 504, acao: allowed, reaches: true},
		{name: "a body over max_body_bytes is a 413 problem that carries the CORS headers",
			method: "POST", target: "/echo", headers: [][2]string{origin(allowed), hdr("Content-Type", "application/json")}, body: strings.Repeat("x", 4097), status: 413, acao: allowed},
		{name: "a body at max_body_bytes is forwarded whole",
			method: "POST", target: "/echo", headers: [][2]string{origin(allowed)}, body: strings.Repeat("x", 4096), status: 200, acao: allowed, reaches: true,
			check: echoed(func(t *testing.T, e echo) {
				if len(e.Body) != 4096 {
					t.Errorf("upstream got %d body bytes, want 4096", len(e.Body))
				}
			})},
		{name: "Origin and Authorization reach the upstream, spoofed X-Forwarded-For does not",
			target: "/echo?x=1", headers: [][2]string{origin(allowed), hdr("Authorization", "Bearer abc"), hdr("X-Forwarded-For", "6.6.6.6")}, status: 200, acao: allowed, reaches: true,
			check: echoed(func(t *testing.T, e echo) {
				if e.Header.Get("Origin") != allowed || e.Header.Get("Authorization") != "Bearer abc" || e.Header.Get("X-Forwarded-For") != "127.0.0.1" || e.RawQuery != "x=1" {
					t.Errorf("upstream saw %+v", e)
				}
			})},

		// --- redirects
		{name: "a redirect to the upstream itself is rewritten to point at the proxy",
			target: "/redirect-self", headers: [][2]string{origin(allowed)}, status: 302, acao: allowed, reaches: true,
			check: hasHeader("Location", "/landed?from=upstream")},
		{name: "a redirect from an allowed target named in the path keeps the path form",
			target: "/" + up.URL + "/redirect-self", headers: [][2]string{origin(allowed)}, status: 302, acao: allowed, reaches: true,
			check: hasHeader("Location", "/"+up.URL+"/landed?from=upstream")},
		{name: "a redirect to another host is passed to the browser, not followed and not turned into a proxied URL",
			target: "/redirect-away/" + otherAddr, headers: [][2]string{origin(allowed)}, status: 302, acao: allowed, reaches: true,
			check: hasHeader("Location", "http://"+otherAddr+"/stolen")},

		// --- the cors-anywhere form and open-proxy attempts
		{name: "an allowed target named in the path is forwarded to, with only the rest of the path",
			target: "/" + up.URL + "/echo?expiry=60", headers: [][2]string{origin(allowed)}, status: 200, acao: allowed, reaches: true,
			check: echoed(func(t *testing.T, e echo) {
				if e.Path != "/echo" || e.RawQuery != "expiry=60" || e.Host != up.addr() {
					t.Errorf("upstream saw path %q query %q host %q", e.Path, e.RawQuery, e.Host)
				}
			})},
		{name: "a target named in the path that is not on the list is refused",
			target: "/http://" + otherAddr + "/", headers: [][2]string{origin(allowed)}, status: 403, acao: allowed},
		{name: "a target on the list is refused for a disallowed origin before anything else",
			target: "/" + up.URL + "/echo", headers: [][2]string{origin("https://evil.example")}, status: 403},
		{name: "a protocol-relative path is refused",
			target: "//" + otherAddr + "/", status: 403},
		{name: "an absolute-form request target is refused",
			target: "http://" + otherAddr + "/", status: 403},
		{name: "an absolute-form request naming the upstream itself is refused",
			target: up.URL + "/rtm/alice/", status: 403},
		{name: "a CONNECT request is refused",
			method: "CONNECT", target: otherAddr, status: 403},
		{name: "user info in front of the other host is refused",
			target: "/http://" + up.addr() + "@" + otherAddr + "/", status: 403},
		{name: "the allowed host as user info of the other host is refused",
			target: "/http://127.0.0.1@" + otherAddr + "/", status: 403},
		{name: "a decimal IP spelling of the allowed target is refused",
			target: "/http://2130706433:" + upPort + "/echo", status: 403},
		{name: "an IPv4-mapped IPv6 spelling of the allowed target is refused",
			target: "/http://[::ffff:127.0.0.1]:" + upPort + "/echo", status: 403},
		{name: "the allowed host on another port is refused",
			target: "/http://127.0.0.1:" + strings.Split(otherAddr, ":")[1] + "/", status: 403},
		{name: "an upper-case scheme is refused",
			target: "/HTTP://" + up.addr() + "/echo", status: 403},
		{name: "percent-encoded slashes after the scheme are refused",
			target: "/http:%2F%2F" + up.addr() + "/echo", status: 403},
		{name: "a fully percent-encoded target is refused",
			target: "/http%3A%2F%2F" + otherAddr + "%2F", status: 403},
		{name: "backslashes instead of slashes are refused",
			target: `/http:\\` + otherAddr + `\`, status: 403},
		{name: "dot-dot segments cannot climb out of the request path",
			target: "/rtm/../../admin", status: 403},
		{name: "percent-encoded dot-dot segments cannot climb out either",
			target: "/rtm/%2e%2e/admin", status: 403},
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := proxies[c.proxy]
			if c.proxy == "" {
				p = proxies["default"]
			}
			if c.method == "" {
				c.method = "GET"
			}
			before, otherBefore := up.hits.Load(), otherHits.Load()
			res := rawDo(t, p.addr, c.method, c.target, c.headers, c.body)

			if res.StatusCode != c.status {
				t.Fatalf("status = %d, want %d (body %s)", res.StatusCode, c.status, res.body)
			}
			acao := res.Header.Values("Access-Control-Allow-Origin")
			switch {
			case c.acao == "" && len(acao) != 0:
				t.Errorf("Access-Control-Allow-Origin = %q, want none", acao)
			case c.acao != "" && (len(acao) != 1 || acao[0] != c.acao):
				t.Errorf("Access-Control-Allow-Origin = %q, want exactly one %q", acao, c.acao)
			}
			// Informational answers too: at most ours, never the upstream's.
			for i, h := range res.informedHeader {
				acao := h.Values("Access-Control-Allow-Origin")
				switch {
				case c.acao == "" && len(acao) != 0:
					t.Errorf("%d answer: Access-Control-Allow-Origin = %q, want none", res.informed[i], acao)
				case c.acao != "" && (len(acao) != 1 || acao[0] != c.acao):
					t.Errorf("%d answer: Access-Control-Allow-Origin = %q, want exactly one %q", res.informed[i], acao, c.acao)
				}
				if v := h.Values("Access-Control-Allow-Headers"); len(v) != 0 {
					t.Errorf("%d answer: the upstream's Access-Control-Allow-Headers %q passed on", res.informed[i], v)
				}
			}
			if !c.noVary && !varyHas(res.Header, "Origin") {
				t.Errorf("Vary = %q, want it to list Origin", res.Header.Values("Vary"))
			}
			if c.status >= 400 && !c.noVary {
				if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type = %q, want application/problem+json", ct)
				}
			}
			if reached := up.hits.Load() > before; reached != c.reaches {
				t.Errorf("upstream reached = %v, want %v", reached, c.reaches)
			}
			if n := otherHits.Load() - otherBefore; n != 0 {
				t.Errorf("the other host received %d requests through the proxy", n)
			}
			if c.check != nil {
				c.check(t, res)
			}
		})
	}
}
