package api

// Tests for careless edits that once slipped past every other test: each case here fails when the check it names is weakened by one step.

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"signaling-auth/tokenserver/internal/auth"
)

// TestSignalingUserIDLimitIsExactly64Bytes: Agora's limit is 64 bytes, so 64
// is the last length accepted and 65 the first refused, with the message
// naming both numbers (a check written as len > 65 fails here).
func TestSignalingUserIDLimitIsExactly64Bytes(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, nil))
	for _, n := range []int{64, 65} {
		uid := strings.Repeat("u", n)
		calls := []struct {
			name  string
			c     call
			field string
		}{
			{"GET /rtm", call{path: "/rtm/" + uid + "/"}, "uid"},
			{"POST /getToken", call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"` + uid + `"}`}, "uid"},
			{"POST /v1/tokens", call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling","uid":"` + uid + `"}`}, "uid"},
		}
		for _, cc := range calls {
			ans := do(t, srv, cc.c)
			if n == 64 {
				if ans.status != 200 {
					t.Errorf("%s with a 64-byte user ID: status %d, want 200: %s", cc.name, ans.status, ans.body)
				}
				continue
			}
			p := problemOf(t, ans, 400)
			if want := "must be 1-64 characters long (got 65)"; !strings.Contains(string(ans.body), want) {
				t.Errorf("%s with a 65-byte user ID: %+v, want %q", cc.name, p, want)
			}
			if names := paramNames(p); len(names) != 1 || names[0] != cc.field {
				t.Errorf("%s: invalid params %q, want only %s", cc.name, names, cc.field)
			}
		}
	}
}

// TestAPIKeyDigestIsComparedWhole configures a key by its digest with only
// the last byte changed: the real key then matches the first 31 bytes of a
// configured digest, and must still be refused (a comparison of the first
// 16 bytes, or of any prefix, lets it in).
func TestAPIKeyDigestIsComparedWhole(t *testing.T) {
	const presented = "a-backend-key-nobody-configured"
	d := sha256.Sum256([]byte(presented))
	nearly := d
	nearly[len(nearly)-1] ^= 0x01
	a, err := auth.New(auth.Options{Mode: auth.ModeAPIKey, APIKeys: []string{auth.HashPrefix + hex.EncodeToString(nearly[:])}})
	if err != nil {
		t.Fatal(err)
	}
	srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.Auth = a }))

	ans := do(t, srv, call{path: "/rtm/alice/", header: map[string]string{"X-API-Key": presented}})
	problemOf(t, ans, 401)
	noToken(t, ans)

	// The same digest configured exactly does let the key in, so the
	// refusal above is the comparison's doing.
	exact, err := auth.New(auth.Options{Mode: auth.ModeAPIKey, APIKeys: []string{auth.HashPrefix + hex.EncodeToString(d[:])}})
	if err != nil {
		t.Fatal(err)
	}
	srv = newTestServer(t, newTestAPI(t, func(o *Options) { o.Auth = exact }))
	if ans := do(t, srv, call{path: "/rtm/alice/", header: map[string]string{"X-API-Key": presented}}); ans.status != 200 {
		t.Fatalf("the key configured by its exact digest: status %d: %s", ans.status, ans.body)
	}
}

// TestAJWTCallerWhoseUserIDIsZeroGetsNoAnyUserToken: uid 0 in an RTC token
// means "any user", so a caller whose sub is 0 must not get one by asking
// for "its own" uid (removing the uid-0 guard lets this through, since the
// requested ID then equals the caller's).
func TestAJWTCallerWhoseUserIDIsZeroGetsNoAnyUserToken(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.Auth = jwtAuth(t) }))
	for _, sub := range []any{0, "0"} {
		cred := bearer(userJWT(t, sub))
		for _, c := range []struct {
			c     call
			field string
		}{
			{call{path: "/rtc/room/publisher/uid/0/"}, "uid"},
			{call{path: "/rtc/room/subscriber/uid/000"}, "uid"},
			{call{path: "/rte/room/publisher/uid/0/alice/"}, "rtcuid"},
			{call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtc","channel":"c","uid":"0"}`}, "uid"},
			{call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rtc","uid":"0","channel":"c"}`}, "uid"},
		} {
			ans := do(t, srv, c.c.with(cred))
			p := problemOf(t, ans, 403)
			noToken(t, ans)
			if !strings.HasPrefix(p.Detail, c.field+": uid 0 lets anyone join") {
				t.Errorf("sub %#v, %s: detail %q, want the uid-0 refusal for %s", sub, c.c, p.Detail, c.field)
			}
		}
	}
}

// TestJSONRoutesDefaultToTheDefaultExpiry: with a default expiry below the
// maximum, a JSON request without one gets the default, not the maximum
// (only GET /rtm was tested that way).
func TestJSONRoutesDefaultToTheDefaultExpiry(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.DefaultExpiry = 10 * time.Minute; o.MaxExpiry = 2 * time.Hour }))
	tests := []struct {
		name  string
		c     call
		field string
	}{
		{"POST /getToken without expire", call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"alice"}`}, "token"},
		{"POST /getToken with expire 0 (the compat clients' unset)", call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtc","channel":"c","uid":"42","expire":0}`}, "token"},
		{"POST /v1/tokens without expiresIn", call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling","uid":"alice"}`}, "token"},
		{"POST /v1/tokens rtc without expiresIn", call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rtc","uid":"42","channel":"c"}`}, "token"},
		{"GET /rtc without expiry", call{path: "/rtc/c/publisher/uid/42/"}, "rtcToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans := do(t, srv, tt.c)
			if ans.status != 200 {
				t.Fatalf("status %d: %s", ans.status, ans.body)
			}
			tok := mustToken(t, ans.json(t)[tt.field].(string))
			if tok.Expire != 600 {
				t.Errorf("token expire %d, want the default 600 (the maximum is 7200)", tok.Expire)
			}
			for _, s := range tok.Services {
				for _, p := range s.Privileges {
					if p.Expire != 600 {
						t.Errorf("service %d privilege %d expires in %d, want 600", s.Type, p.Privilege, p.Expire)
					}
				}
			}
		})
	}
}
