package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"signaling-auth/tokenserver/internal/accesstoken"
	"signaling-auth/tokenserver/internal/accesstoken/tokentest"
	"signaling-auth/tokenserver/internal/tokens"
)

// service is what a test expects of one service in a token.
type service = tokentest.Service

var (
	publisherPrivs  = tokentest.Publisher
	subscriberPrivs = tokentest.Subscriber
	streamPrivs     = tokentest.Stream
)

func checkToken(t *testing.T, field, s string, expire uint32, want []service) {
	t.Helper()
	tokentest.Check(t, field, mustToken(t, s), expire, want)
}

func TestRoutesMintTokens(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, nil))
	rtm := func(user string) service {
		return service{Type: accesstoken.ServiceRTM, User: user, Privs: []accesstoken.Privilege{accesstoken.PrivLogin}}
	}
	rtc := func(ch, user string, privs []accesstoken.Privilege) service {
		return service{Type: accesstoken.ServiceRTC, Channel: ch, User: user, Privs: privs}
	}
	chatUser := func(user string) service {
		return service{Type: accesstoken.ServiceChat, User: user, Privs: []accesstoken.Privilege{accesstoken.PrivChatUser}}
	}
	chatApp := service{Type: accesstoken.ServiceChat, Privs: []accesstoken.Privilege{accesstoken.PrivChatApp}}
	const day = 86400

	tests := []struct {
		name   string
		call   call
		expire uint32
		tokens map[string][]service // answer field → services of its token
		extra  map[string]any       // other answer fields that must be present with these values
	}{
		{name: "the web sample's GET /rtm/{uid}/?expiry= gets an rtmToken",
			call:   call{path: "/rtm/alice/?expiry=600", header: map[string]string{"X-Requested-With": "XMLHttpRequest"}},
			expire: 600, tokens: map[string][]service{"rtmToken": {rtm("alice")}}},
		{name: "the RTM route works without the trailing slash",
			call:   call{path: "/rtm/alice?expiry=600"},
			expire: 600, tokens: map[string][]service{"rtmToken": {rtm("alice")}}},
		{name: "no expiry means the 24 h default",
			call:   call{path: "/rtm/alice/"},
			expire: day, tokens: map[string][]service{"rtmToken": {rtm("alice")}}},
		{name: "an empty expiry means the default too",
			call:   call{path: "/rtm/alice/?expiry="},
			expire: day, tokens: map[string][]service{"rtmToken": {rtm("alice")}}},
		{name: "a user ID with spaces and punctuation is accepted",
			call:   call{path: "/rtm/Bob%20O'Neil%21/?expiry=60"},
			expire: 60, tokens: map[string][]service{"rtmToken": {rtm("Bob O'Neil!")}}},
		{name: "unknown query parameters such as cache busters are ignored",
			call:   call{path: "/rtm/alice/?expiry=60&_=1700000000"},
			expire: 60, tokens: map[string][]service{"rtmToken": {rtm("alice")}}},
		{name: "an RTC publisher token by numeric uid",
			call:   call{path: "/rtc/room1/publisher/uid/42/?expiry=3600"},
			expire: 3600, tokens: map[string][]service{"rtcToken": {rtc("room1", "42", publisherPrivs)}}},
		{name: "an RTC subscriber token by user account, no slash",
			call:   call{path: "/rtc/room1/subscriber/userAccount/bob?expiry=3600"},
			expire: 3600, tokens: map[string][]service{"rtcToken": {rtc("room1", "bob", subscriberPrivs)}}},
		{name: "role 1 is publisher and uid 0 lets anyone join",
			call:   call{path: "/rtc/room1/1/uid/0/"},
			expire: day, tokens: map[string][]service{"rtcToken": {rtc("room1", "", publisherPrivs)}}},
		{name: "role 2 is subscriber",
			call:   call{path: "/rtc/room1/2/uid/7/"},
			expire: day, tokens: map[string][]service{"rtcToken": {rtc("room1", "7", subscriberPrivs)}}},
		{name: "the Node server's audience role is subscriber",
			call:   call{path: "/rtc/room1/audience/uid/7"},
			expire: day, tokens: map[string][]service{"rtcToken": {rtc("room1", "7", subscriberPrivs)}}},
		{name: "RTE gives an RTC and a Signaling token for the same uid",
			call:   call{path: "/rte/room1/publisher/uid/42/?expiry=900"},
			expire: 900, tokens: map[string][]service{"rtcToken": {rtc("room1", "42", publisherPrivs)}, "rtmToken": {rtc("room1", "42", streamPrivs), rtm("42")}}},
		{name: "RTE with a separate Signaling user ID",
			call:   call{path: "/rte/room1/subscriber/userAccount/bob/alice/?expiry=900"},
			expire: 900, tokens: map[string][]service{"rtcToken": {rtc("room1", "bob", subscriberPrivs)}, "rtmToken": {rtc("room1", "alice", streamPrivs), rtm("alice")}}},
		{name: "RTE with uid 0 for RTC and an explicit Signaling user, no slash",
			call:   call{path: "/rte/room1/publisher/uid/0/alice"},
			expire: day, tokens: map[string][]service{"rtcToken": {rtc("room1", "", publisherPrivs)}, "rtmToken": {rtc("room1", "alice", streamPrivs), rtm("alice")}}},
		{name: "RTE with an empty rtcuid is uid 0, as agora-token-service reads it",
			call:   call{path: "/rte/room1/publisher/uid//alice/?expiry=60"},
			expire: 60, tokens: map[string][]service{"rtcToken": {rtc("room1", "", publisherPrivs)}, "rtmToken": {rtc("room1", "alice", streamPrivs), rtm("alice")}}},
		{name: "RTC with an empty uid is uid 0, as agora-token-service reads it",
			call:   call{path: "/rtc/room1/publisher/uid//?expiry=600"},
			expire: 600, tokens: map[string][]service{"rtcToken": {rtc("room1", "", publisherPrivs)}}},
		{name: "POST /getToken rtm with a channel also joins it as a stream channel",
			call:   call{method: "POST", path: "/getToken", contentType: "application/json", body: `{"tokenType":"rtm","uid":"alice","channel":"room1","expire":60}`},
			expire: 60, tokens: map[string][]service{"token": {rtc("room1", "alice", streamPrivs), rtm("alice")}}},
		{name: "POST /getToken rtc with an empty uid is uid 0",
			call:   call{method: "POST", path: "/getToken", contentType: "application/json", body: `{"tokenType":"rtc","uid":"","channel":"room1","role":"publisher","expire":60}`},
			expire: 60, tokens: map[string][]service{"token": {rtc("room1", "", publisherPrivs)}}},
		{name: "POST /getToken reads JSON sent as text/plain (fetch's default) and ignores other members",
			call:   call{method: "POST", path: "/getToken", contentType: "text/plain;charset=UTF-8", body: `{"tokenType":"rtm","uid":"alice","expire":60,"client":"web"}`},
			expire: 60, tokens: map[string][]service{"token": {rtm("alice")}}},
		{name: "POST /getToken reads JSON sent as a form (curl -d)",
			call:   call{method: "POST", path: "/getToken", contentType: "application/x-www-form-urlencoded", body: `{"tokenType":"chat","expire":60}`},
			expire: 60, tokens: map[string][]service{"token": {chatApp}}},
		{name: "POST /getToken reads JSON sent without a Content-Type",
			call:   call{method: "POST", path: "/getToken", body: `{"tokenType":"rtm","uid":"alice","expire":60}`},
			expire: 60, tokens: map[string][]service{"token": {rtm("alice")}}},
		{name: "POST /v1/tokens signaling with a channel also joins it as a stream channel",
			call:   call{method: "POST", path: "/v1/tokens", contentType: "application/json", body: `{"type":"signaling","uid":"alice","channel":"room1","expiresIn":60}`},
			expire: 60, tokens: map[string][]service{"token": {rtc("room1", "alice", streamPrivs), rtm("alice")}}, extra: map[string]any{"channel": "room1"}},
		{name: "POST /v1/tokens signaling with permissions is an RTM2 token",
			call:   call{method: "POST", path: "/v1/tokens", contentType: "application/json", body: `{"type":"signaling","uid":"alice","expiresIn":60,"permissions":{"streamChannels":{"read":["room-*"],"write":["room-1"]},"messageChannels":{"read":["news"]}}}`},
			expire: 60, tokens: map[string][]service{"token": {{Type: accesstoken.ServiceRTM2, User: "alice", Privs: []accesstoken.Privilege{accesstoken.PrivLogin}}}}},
		{name: "a chat app token",
			call:   call{path: "/chat/app/?expiry=120"},
			expire: 120, tokens: map[string][]service{"chatToken": {chatApp}}},
		{name: "a chat app token without the slash",
			call:   call{path: "/chat/app"},
			expire: day, tokens: map[string][]service{"chatToken": {chatApp}}},
		{name: "a chat user token",
			call:   call{path: "/chat/account/alice/?expiry=120"},
			expire: 120, tokens: map[string][]service{"chatToken": {chatUser("alice")}}},
		{name: "POST /getToken rtc with a numeric uid gives a uid token",
			call:   call{method: "POST", path: "/getToken", contentType: "application/json", body: `{"tokenType":"rtc","channel":"room1","role":"publisher","uid":"123","expire":3600}`},
			expire: 3600, tokens: map[string][]service{"token": {rtc("room1", "123", publisherPrivs)}}},
		{name: "POST /getToken rtc without role is a subscriber, as in agora-token-service",
			call:   call{method: "POST", path: "/getToken", contentType: "application/json", body: `{"tokenType":"rtc","channel":"room1","uid":"user123"}`},
			expire: day, tokens: map[string][]service{"token": {rtc("room1", "user123", subscriberPrivs)}}},
		{name: "POST /getToken rtm with expire 0 uses the default",
			call:   call{method: "POST", path: "/getToken/", contentType: "application/json; charset=utf-8", body: `{"tokenType":"rtm","uid":"alice","expire":0}`},
			expire: day, tokens: map[string][]service{"token": {rtm("alice")}}},
		{name: "POST /getToken chat without uid is an app token",
			call:   call{method: "POST", path: "/getToken", contentType: "application/json", body: `{"tokenType":"chat","expire":60}`},
			expire: 60, tokens: map[string][]service{"token": {chatApp}}},
		{name: "POST /getToken chat with uid is a user token",
			call:   call{method: "POST", path: "/getToken", contentType: "application/json", body: `{"tokenType":"chat","uid":"alice","expire":60}`},
			expire: 60, tokens: map[string][]service{"token": {chatUser("alice")}}},
		{name: "POST /v1/tokens signaling",
			call:   call{method: "POST", path: "/v1/tokens", contentType: "application/json", body: `{"type":"signaling","uid":"alice","expiresIn":3600}`},
			expire: 3600, tokens: map[string][]service{"token": {rtm("alice")}},
			extra: map[string]any{"type": "signaling", "appId": testAppID, "uid": "alice", "mode": "live"}},
		{name: "POST /v1/tokens rtc by account defaults to publisher",
			call:   call{method: "POST", path: "/v1/tokens", contentType: "application/json", body: `{"type":"rtc","uid":"bob","channel":"room1"}`},
			expire: day, tokens: map[string][]service{"token": {rtc("room1", "bob", publisherPrivs)}},
			extra: map[string]any{"type": "rtc", "channel": "room1", "uid": "bob"}},
		{name: "POST /v1/tokens rtc by uid as subscriber",
			call:   call{method: "POST", path: "/v1/tokens", contentType: "application/json", body: `{"type":"rtc","uid":"42","channel":"room1","role":"subscriber","expiresIn":60}`},
			expire: 60, tokens: map[string][]service{"token": {rtc("room1", "42", subscriberPrivs)}}},
		{name: "POST /v1/tokens rte puts RTC and Signaling in one token",
			call:   call{method: "POST", path: "/v1/tokens", contentType: "application/json", body: `{"type":"rte","uid":"42","channel":"room1","rtmUid":"alice","expiresIn":60}`},
			expire: 60, tokens: map[string][]service{"token": {rtc("room1", "42", publisherPrivs), rtm("alice")}},
			extra: map[string]any{"rtmUid": "alice"}},
		{name: "POST /v1/tokens rte with uid 0 encodes any user, as the uid builder does",
			call:   call{method: "POST", path: "/v1/tokens", contentType: "application/json", body: `{"type":"rte","uid":"0","channel":"room1","rtmUid":"alice","expiresIn":60}`},
			expire: 60, tokens: map[string][]service{"token": {rtc("room1", "", publisherPrivs), rtm("alice")}}},
		{name: "POST /v1/tokens chat-user",
			call:   call{method: "POST", path: "/v1/tokens", contentType: "application/json", body: `{"type":"chat-user","uid":"alice","expiresIn":60}`},
			expire: 60, tokens: map[string][]service{"token": {chatUser("alice")}}},
		{name: "POST /v1/tokens chat-app",
			call:   call{method: "POST", path: "/v1/tokens", contentType: "application/json", body: `{"type":"chat-app","expiresIn":60}`},
			expire: 60, tokens: map[string][]service{"token": {chatApp}}},
		{name: "null members count as absent",
			call:   call{method: "POST", path: "/v1/tokens", contentType: "application/json", body: `{"type":"signaling","uid":"alice","expiresIn":null,"channel":null}`},
			expire: day, tokens: map[string][]service{"token": {rtm("alice")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().Add(-time.Second)
			a := do(t, srv, tt.call)
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			if cc := a.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			m := a.json(t)
			want := len(tt.tokens) + len(tt.extra)
			for field, services := range tt.tokens {
				s, _ := m[field].(string)
				checkToken(t, field, s, tt.expire, services)
			}
			for k, v := range tt.extra {
				if m[k] != v {
					t.Errorf("%s = %v, want %v", k, m[k], v)
				}
			}
			if strings.HasPrefix(tt.call.path, "/v1/") {
				issued, err1 := time.Parse(time.RFC3339, m["issuedAt"].(string))
				expires, err2 := time.Parse(time.RFC3339, m["expiresAt"].(string))
				if err1 != nil || err2 != nil || issued.Before(before) || expires.Sub(issued) != time.Duration(tt.expire)*time.Second {
					t.Errorf("issuedAt %v expiresAt %v", m["issuedAt"], m["expiresAt"])
				}
			} else if len(m) != want {
				// The compatible answers carry exactly the fields the old servers sent.
				t.Errorf("answer has fields %v, want only %v", keys(m), keys(tt.tokens))
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestRoutesOps(t *testing.T) {
	tests := []struct {
		name string
		demo bool
		path string
		want map[string]any
	}{
		{name: "ping answers pong as the old servers do", path: "/ping", want: map[string]any{"message": "pong"}},
		{name: "ping answers with the trailing slash too", path: "/ping/", want: map[string]any{"message": "pong"}},
		{name: "healthz says ok and the version", path: "/healthz", want: map[string]any{"status": "ok", "version": "test"}},
		{name: "readyz with real credentials says live", path: "/readyz", want: map[string]any{"status": "ready", "mode": "live", "appId": testAppID}},
		{name: "readyz in demo mode is still 200 but says demo", demo: true, path: "/readyz", want: map[string]any{"status": "ready", "mode": "demo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.Demo = tt.demo }))
			a := do(t, srv, call{path: tt.path})
			if a.status != http.StatusOK {
				t.Fatalf("status %d", a.status)
			}
			m := a.json(t)
			for k, v := range tt.want {
				if m[k] != v {
					t.Errorf("%s = %v, want %v", k, m[k], v)
				}
			}
			if tt.demo && !strings.Contains(m["warning"].(string), "demo mode") {
				t.Errorf("no demo warning: %v", m)
			}
		})
	}
}

func TestDemoModeIsInEveryV1Answer(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.Demo = true }))
	a := do(t, srv, call{method: "POST", path: "/v1/tokens", contentType: "application/json", body: `{"type":"signaling","uid":"a"}`})
	if m := a.json(t); m["mode"] != "demo" {
		t.Errorf("mode = %v, want demo", m["mode"])
	}
	a = do(t, srv, call{method: "POST", path: "/v1/tokens/inspect", contentType: "application/json", body: `{"token":"` + a.json(t)["token"].(string) + `"}`})
	if m := a.json(t); m["mode"] != "demo" {
		t.Errorf("inspect mode = %v, want demo", m["mode"])
	}
}

func TestInspect(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, nil))
	m, _ := accesstoken.NewMinter(testAppID, testCert, accesstoken.WithClock(func() time.Time { return time.Unix(1111111, 0) }), accesstoken.WithSalt(func() uint32 { return 1 }))
	old, _ := m.RTCWithUID("room1", 42, accesstoken.RolePublisher, 600, 600)
	other, _ := accesstoken.NewMinter(testAppID, "0123456789abcdef0123456789abcdef")
	forged, _ := other.Signaling("alice", 600)
	fresh := do(t, srv, call{method: "POST", path: "/v1/tokens", contentType: "application/json", body: `{"type":"rte","uid":"bob","channel":"c","rtmUid":"alice","expiresIn":600}`}).json(t)["token"].(string)

	tests := []struct {
		name  string
		token string
		want  map[string]any
	}{
		{name: "a fresh token of ours verifies and has not expired", token: fresh,
			want: map[string]any{"signatureValid": true, "expired": false, "appIdMatches": true, "expire": 600.0, "version": "007"}},
		{name: "an old token of ours verifies but has expired", token: old.Token,
			want: map[string]any{"signatureValid": true, "expired": true, "issueTs": 1111111.0, "salt": 1.0, "issuedAt": "1970-01-13T20:38:31Z", "expiresAt": "1970-01-13T20:48:31Z"}},
		{name: "a token signed with another certificate does not verify", token: forged.Token,
			want: map[string]any{"signatureValid": false, "appIdMatches": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, srv, call{method: "POST", path: "/v1/tokens/inspect", contentType: "application/json", body: `{"token":"` + tt.token + `"}`})
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			if strings.Contains(string(a.body), tt.token) {
				t.Error("the answer echoes the token")
			}
			if cc := a.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			m := a.json(t)
			for k, v := range tt.want {
				if m[k] != v {
					t.Errorf("%s = %v, want %v", k, m[k], v)
				}
			}
		})
	}
	t.Run("every service and privilege of an RTE token is listed by name", func(t *testing.T) {
		a := do(t, srv, call{method: "POST", path: "/v1/tokens/inspect", contentType: "application/json", body: `{"token":"` + fresh + `"}`})
		var in tokens.Inspection
		if err := jsonUnmarshalStrict(a.body, &in); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range in.Services {
			for _, p := range s.Privileges {
				got = append(got, s.Name+"/"+s.Channel+"/"+s.UID+"/"+p.Name)
			}
		}
		want := []string{"rtc/c/bob/joinChannel", "rtc/c/bob/publishAudioStream", "rtc/c/bob/publishVideoStream", "rtc/c/bob/publishDataStream", "rtm//alice/login"}
		if !slices.Equal(got, want) {
			t.Errorf("got %v\nwant %v", got, want)
		}
	})
}
