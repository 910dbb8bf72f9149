package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// notMinting are the routes that hand out no token.
var notMinting = map[string]bool{
	"GET /healthz": true, "GET /readyz": true, "GET /metrics": true, "GET /openapi.json": true,
	"GET /ping": true, "GET /ping/": true, "POST /v1/tokens/inspect": true, "POST /v1/tokens/diagnose": true,
}

// mintBodies is, per POST route that mints, a body asking a token for the
// user %s.
var mintBodies = map[string]string{
	"/getToken":  `{"tokenType":"rtm","uid":%q}`,
	"/getToken/": `{"tokenType":"rtm","uid":%q}`,
	"/v1/tokens": `{"type":"signaling","uid":%q}`,
}

// appOnly are the minting routes whose tokens carry no user ID: a JWT caller
// is refused them, and there is no user to count against the per-uid limit.
var appOnly = map[string]bool{"GET /chat/app": true, "GET /chat/app/": true}

// pathFor fills a route pattern's parameters so that the request asks a
// token for user.
func pathFor(pattern, user string) string {
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		switch s {
		case ":channel":
			segs[i] = "room"
		case ":role":
			segs[i] = "publisher"
		case ":tokentype":
			segs[i] = "userAccount"
		default:
			if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
				segs[i] = user
			}
		}
	}
	return strings.Join(segs, "/")
}

// TestEveryMintingRouteBindsAndLimits walks the router: every route that is
// not known to hand out no token must refuse a JWT caller asking for someone
// else (403) and count the user against rate_limit.per_uid (429 on the
// second request at a limit of 1). A route registered without mintRoute
// fails here.
func TestEveryMintingRouteBindsAndLimits(t *testing.T) {
	a := newTestAPI(t, func(o *Options) { o.Auth, o.Limiter, o.PerUID = jwtAuth(t), limiter(), hourly(1) })
	srv := newTestServer(t, a)
	intruder := bearer(userJWT(t, "mallory"))
	walked := 0
	for i, r := range a.engine.Routes() {
		route := r.Method + " " + r.Path
		if notMinting[route] {
			continue
		}
		walked++
		user := fmt.Sprintf("user%d", i) // one per route: the per-uid limit spans routes
		t.Run(route, func(t *testing.T) {
			c := call{method: r.Method, path: pathFor(r.Path, user)}
			if r.Method != http.MethodGet {
				body, ok := mintBodies[r.Path]
				if !ok {
					t.Fatalf("no sample body for %s: add one to mintBodies (or to notMinting if it hands out no token)", route)
				}
				c.body, c.contentType = fmt.Sprintf(body, user), js
			}
			ans := do(t, srv, c.with(intruder))
			problemOf(t, ans, http.StatusForbidden)
			noToken(t, ans)
			if appOnly[route] {
				return
			}
			own := bearer(userJWT(t, user))
			if ans := do(t, srv, c.with(own)); ans.status != http.StatusOK {
				t.Fatalf("%s for its own user: status %d: %s", c, ans.status, ans.body)
			}
			check429(t, do(t, srv, c.with(own)), 1)
		})
	}
	if walked < 15 {
		t.Fatalf("walked %d minting routes; the router has at least 15", walked)
	}
}

// TestUIDZeroIsNeverBoundToACaller: a JWT whose sub is 0 still gets no RTC
// token for uid 0, which anyone may join with, on any route or spelling.
func TestUIDZeroIsNeverBoundToACaller(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.Auth = jwtAuth(t) }))
	for _, sub := range []any{"0", 0} {
		for _, c := range []call{
			{path: "/rtc/room/publisher/uid/0"},
			{path: "/rtc/room/subscriber/uid/000/"},
			{path: "/rte/room/publisher/uid/0/0"},
			{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtc","channel":"room","uid":"0"}`},
			// An empty uid is uid 0 too, as agora-token-service reads it.
			{path: "/rtc/room/publisher/uid//?expiry=600"},
			{path: "/rte/room/publisher/uid//0/"},
			{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtc","channel":"room","uid":""}`},
			{method: "POST", path: "/getToken", body: `{"tokenType":"rtc","channel":"room"}`},
			{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rtc","channel":"room","uid":"00"}`},
			{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rte","channel":"room","uid":"0","rtmUid":"0"}`},
		} {
			t.Run(fmt.Sprintf("sub %#v %s", sub, c), func(t *testing.T) {
				ans := do(t, srv, c.with(bearer(userJWT(t, sub))))
				p := problemOf(t, ans, http.StatusForbidden)
				noToken(t, ans)
				if !strings.Contains(p.Detail, "uid 0 lets anyone join") {
					t.Errorf("detail %q", p.Detail)
				}
			})
		}
	}
}
