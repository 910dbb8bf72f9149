package api

import (
	"strings"
	"testing"
)

func TestEveryTokenAnswerSaysWhetherTheServerRunsInDemoMode(t *testing.T) {
	routes := []call{
		{path: "/rtm/alice"},
		{path: "/rtm/alice/"},
		{path: "/rtc/c/publisher/uid/1"},
		{path: "/chat/app"},
		{method: "POST", path: "/getToken", contentType: "application/json", body: `{"tokenType":"rtm","uid":"alice"}`},
		{method: "POST", path: "/v1/tokens", contentType: "application/json", body: `{"type":"signaling","uid":"alice"}`},
	}
	for _, demo := range []bool{true, false} {
		want := Mode(demo)
		srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.Demo = demo }))
		for _, c := range routes {
			t.Run(want+" "+c.method+" "+c.path, func(t *testing.T) {
				a := do(t, srv, c)
				if a.status != 200 {
					t.Fatalf("status %d: %s", a.status, a.body)
				}
				if got := a.header.Get(TokenModeHeader); got != want {
					t.Errorf("%s: %q, want %q", TokenModeHeader, got, want)
				}
			})
		}
	}
	t.Run("a refused token request says it too: the page learns demo mode even from an error", func(t *testing.T) {
		srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.Demo = true }))
		a := do(t, srv, call{path: "/rtm/" + strings.Repeat("x", 65)})
		if a.status == 200 || a.header.Get(TokenModeHeader) != "demo" {
			t.Errorf("status %d, %s %q", a.status, TokenModeHeader, a.header.Get(TokenModeHeader))
		}
	})
	t.Run("the built-in CORS lets a page of another origin read it", func(t *testing.T) {
		srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.Origins = mustOrigins(t, []string{"http://page.test"}) }))
		a := do(t, srv, call{path: "/rtm/alice", header: map[string]string{"Origin": "http://page.test"}})
		if exp := a.header.Get("Access-Control-Expose-Headers"); !strings.Contains(strings.ToLower(exp), strings.ToLower(TokenModeHeader)) {
			t.Errorf("Access-Control-Expose-Headers %q does not name %s", exp, TokenModeHeader)
		}
	})
	t.Run("routes that hand out no token do not carry it", func(t *testing.T) {
		srv := newTestServer(t, newTestAPI(t, nil))
		if a := do(t, srv, call{path: "/healthz"}); a.header.Get(TokenModeHeader) != "" {
			t.Errorf("/healthz carries %s", TokenModeHeader)
		}
	})
}
