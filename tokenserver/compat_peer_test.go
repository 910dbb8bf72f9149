package main

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"signaling-auth/tokenserver/internal/accesstoken"
	"signaling-auth/tokenserver/internal/accesstoken/tokentest"
)

// The request shapes and status codes of agora-token-service's own endpoint
// tests (AgoraIO-Community/agora-token-service, service/endpoints_test.go and
// service/http_handlers_POST_test.go), plus what its clients rely on beyond
// those tests (the numbered cases below), run against
// the real server started by run() with token.default_expiry 1h, the peer's
// default. Where this server answers differently on purpose, the row asserts
// our status and its comment names the difference (README, "Differences from
// agora-token-service").

// peerService is what one service of an answered token must be.
type peerService = tokentest.Service

var (
	peerPublisher  = tokentest.Publisher
	peerSubscriber = tokentest.Subscriber
	peerStream     = tokentest.Stream
	peerLogin      = []accesstoken.Privilege{accesstoken.PrivLogin}
)

func peerRTC(ch, user string, privs []accesstoken.Privilege) peerService {
	return peerService{Type: accesstoken.ServiceRTC, Channel: ch, User: user, Privs: privs}
}

func peerRTM(user string) peerService {
	return peerService{Type: accesstoken.ServiceRTM, User: user, Privs: peerLogin}
}

// peerRTMIn is the peer's RTM token for a channel: RTC join and publish-data
// for the channel with the user as account, then RTM login.
func peerRTMIn(ch, user string) []peerService {
	return []peerService{peerRTC(ch, user, peerStream), peerRTM(user)}
}

func TestAgoraTokenServiceCompat(t *testing.T) {
	// Difference: the peer has no rate limits; ours (10/s per IP, burst 40) would stop
	// this table part-way, and have tests of their own.
	s := startRun(t, env("APP_ID", testAppID, "APP_CERTIFICATE", testCert, "TOKENSERVER_TOKEN_DEFAULT_EXPIRY", "1h",
		"TOKENSERVER_RATE_LIMIT_PER_IP", "off", "TOKENSERVER_RATE_LIMIT_PER_UID", "off"))
	const hour = 3600
	chatApp := []peerService{{Type: accesstoken.ServiceChat, Privs: []accesstoken.Privilege{accesstoken.PrivChatApp}}}
	chatUser := func(u string) []peerService {
		return []peerService{{Type: accesstoken.ServiceChat, User: u, Privs: []accesstoken.Privilege{accesstoken.PrivChatUser}}}
	}
	tests := []struct {
		name        string
		method      string // GET when empty
		path        string
		contentType string
		body        string
		status      int
		expire      uint32                   // of every token in a 200 answer
		tokens      map[string][]peerService // answer field → its token's services, for 200
	}{
		// endpoints_test.go: TestRtcValidAndInvalid.
		{name: "rtc uid 0", path: "/rtc/fsda/publisher/uid/0/?expiry=600", status: 200, expire: 600,
			tokens: map[string][]peerService{"rtcToken": {peerRTC("fsda", "", peerPublisher)}}},
		{name: "rtc uid that is not a number", path: "/rtc/fsda/publisher/uid/test/?expiry=600", status: 400},
		{name: "rtc expiry that is not a number", path: "/rtc/fsda/publisher/uid/0/?expiry=failing", status: 400},
		// TestRtmValidAndInvalid.
		{name: "rtm", path: "/rtm/username/?expiry=600", status: 200, expire: 600,
			tokens: map[string][]peerService{"rtmToken": {peerRTM("username")}}},
		// Difference: Signaling user ID "0" is a valid user ID for Agora; the peer answers 400.
		{name: "rtm user ID 0", path: "/rtm/0/?expiry=600", status: 200, expire: 600,
			tokens: map[string][]peerService{"rtmToken": {peerRTM("0")}}},
		// TestChatValidAndInvalid.
		{name: "chat app", path: "/chat/app/", status: 200, expire: hour, tokens: map[string][]peerService{"chatToken": chatApp}},
		{name: "chat account", path: "/chat/account/username/", status: 200, expire: hour,
			tokens: map[string][]peerService{"chatToken": chatUser("username")}},
		// Difference: no such route here (404 problem); the peer answers 400.
		{name: "chat account without user", path: "/chat/account/", status: 404},
		// Difference: no such route here (404 problem); the peer answers 400.
		{name: "chat with an unknown kind", path: "/chat/invalid/", status: 404},
		// TestRteValidAndInvalid.
		{name: "rte uid 0 with an rtm user", path: "/rte/channelName/publisher/uid/0/rtmid/?expiry=600", status: 200, expire: 600,
			tokens: map[string][]peerService{"rtcToken": {peerRTC("channelName", "", peerPublisher)}, "rtmToken": peerRTMIn("channelName", "rtmid")}},
		{name: "rte uid", path: "/rte/channelName/publisher/uid/2345/?expiry=600", status: 200, expire: 600,
			tokens: map[string][]peerService{"rtcToken": {peerRTC("channelName", "2345", peerPublisher)}, "rtmToken": peerRTMIn("channelName", "2345")}},
		{name: "rte uid 0 without an rtm user", path: "/rte/channelName/publisher/uid/0/?expiry=600", status: 400},
		{name: "rte expiry that is not a number", path: "/rte/channelName/publisher/uid/2345/?expiry=failing", status: 400},
		// TestTokentypes.
		{name: "rtc by uid, default expiry", path: "/rtc/fsda/publisher/uid/0/", status: 200, expire: hour,
			tokens: map[string][]peerService{"rtcToken": {peerRTC("fsda", "", peerPublisher)}}},
		{name: "rtc by user account 0", path: "/rtc/fsda/publisher/userAccount/0/", status: 200, expire: hour,
			tokens: map[string][]peerService{"rtcToken": {peerRTC("fsda", "0", peerPublisher)}}},
		{name: "rtc with an unknown token type", path: "/rtc/fsda/publisher/nonsense/0/", status: 400},

		// http_handlers_POST_test.go, through POST /getToken.
		{name: "getToken rtc account publisher", method: "POST", path: "/getToken", contentType: "application/json",
			body: `{"tokenType":"rtc","channel":"my_channel","uid":"user123","role":"publisher","expire":3600}`, status: 200, expire: hour,
			tokens: map[string][]peerService{"token": {peerRTC("my_channel", "user123", peerPublisher)}}},
		{name: "getToken rtc uid subscriber without expire", method: "POST", path: "/getToken", contentType: "application/json",
			body: `{"tokenType":"rtc","channel":"my_channel","uid":"123","role":"subscriber"}`, status: 200, expire: hour,
			tokens: map[string][]peerService{"token": {peerRTC("my_channel", "123", peerSubscriber)}}},
		{name: "getToken rtc without channel", method: "POST", path: "/getToken", contentType: "application/json",
			body: `{"tokenType":"rtc","role":"publisher","expire":3600}`, status: 400},
		// Difference: no uid is uid 0 (any user), as the peer's GET routes read an
		// empty uid; the peer's POST answers 400.
		{name: "getToken rtc without uid", method: "POST", path: "/getToken", contentType: "application/json",
			body: `{"tokenType":"rtc","channel":"my_channel","role":"subscriber"}`, status: 200, expire: hour,
			tokens: map[string][]peerService{"token": {peerRTC("my_channel", "", peerSubscriber)}}},
		{name: "getToken rtm", method: "POST", path: "/getToken", contentType: "application/json",
			body: `{"tokenType":"rtm","uid":"user123","expire":3600}`, status: 200, expire: hour,
			tokens: map[string][]peerService{"token": {peerRTM("user123")}}},
		{name: "getToken rtm without uid", method: "POST", path: "/getToken", contentType: "application/json",
			body: `{"tokenType":"rtm","expire":3600}`, status: 400},
		{name: "getToken chat app", method: "POST", path: "/getToken", contentType: "application/json",
			body: `{"tokenType":"chat","expire":3600}`, status: 200, expire: hour, tokens: map[string][]peerService{"token": chatApp}},
		{name: "getToken chat user", method: "POST", path: "/getToken", contentType: "application/json",
			body: `{"tokenType":"chat","uid":"user123","expire":3600}`, status: 200, expire: hour, tokens: map[string][]peerService{"token": chatUser("user123")}},
		{name: "getToken chat user without expire", method: "POST", path: "/getToken", contentType: "application/json",
			body: `{"tokenType":"chat","uid":"user123"}`, status: 200, expire: hour, tokens: map[string][]peerService{"token": chatUser("user123")}},
		{name: "getToken with an unknown tokenType", method: "POST", path: "/getToken", contentType: "application/json",
			body: `{"tokenType":"voice","uid":"a"}`, status: 400},

		// Clients rely on 1: the RTM token for a channel also joins it as a stream channel.
		{name: "getToken rtm with a channel", method: "POST", path: "/getToken", contentType: "application/json",
			body: `{"tokenType":"rtm","uid":"user123","channel":"my_channel","expire":600}`, status: 200, expire: 600,
			tokens: map[string][]peerService{"token": peerRTMIn("my_channel", "user123")}},
		// Clients rely on 2: JSON whatever the Content-Type; only a body that is not JSON is refused.
		{name: "getToken JSON as text/plain (fetch)", method: "POST", path: "/getToken", contentType: "text/plain;charset=UTF-8",
			body: `{"tokenType":"rtm","uid":"user123","expire":600}`, status: 200, expire: 600, tokens: map[string][]peerService{"token": {peerRTM("user123")}}},
		{name: "getToken JSON as a form (curl -d)", method: "POST", path: "/getToken", contentType: "application/x-www-form-urlencoded",
			body: `{"tokenType":"rtm","uid":"user123","expire":600}`, status: 200, expire: 600, tokens: map[string][]peerService{"token": {peerRTM("user123")}}},
		{name: "getToken JSON without a Content-Type", method: "POST", path: "/getToken",
			body: `{"tokenType":"rtm","uid":"user123","expire":600}`, status: 200, expire: 600, tokens: map[string][]peerService{"token": {peerRTM("user123")}}},
		{name: "getToken a form that is not JSON", method: "POST", path: "/getToken", contentType: "application/x-www-form-urlencoded",
			body: `tokenType=rtm&uid=user123`, status: 400},
		// Clients rely on 3: unknown members are ignored.
		{name: "getToken with unknown members", method: "POST", path: "/getToken", contentType: "application/json",
			body: `{"tokenType":"rtm","uid":"user123","expire":600,"platform":"web","debug":true}`, status: 200, expire: 600,
			tokens: map[string][]peerService{"token": {peerRTM("user123")}}},
		// Clients rely on 4: an empty RTC uid is uid 0.
		{name: "rtc with an empty uid", path: "/rtc/fsda/publisher/uid//?expiry=600", status: 200, expire: 600,
			tokens: map[string][]peerService{"rtcToken": {peerRTC("fsda", "", peerPublisher)}}},
		// ... but an empty user account is no account at all.
		{name: "rtc with an empty user account", path: "/rtc/fsda/publisher/userAccount//?expiry=600", status: 400},
		{name: "getToken rtc with uid \"\"", method: "POST", path: "/getToken", contentType: "application/json",
			body: `{"tokenType":"rtc","channel":"c","uid":"","role":"publisher","expire":600}`, status: 200, expire: 600,
			tokens: map[string][]peerService{"token": {peerRTC("c", "", peerPublisher)}}},
		// A plain RTM request stays RTM only.
		{name: "rtm without channel stays RTM only", path: "/rtm/alice?expiry=600", status: 200, expire: 600,
			tokens: map[string][]peerService{"rtmToken": {peerRTM("alice")}}},

		// Deliberate differences.
		// Expiry 0: the peer mints a token that has already expired; here it is refused.
		{name: "expiry 0", path: "/rtm/alice/?expiry=0", status: 400},
		// 24 h cap (token.max_expiry): the peer mints any uint32 lifetime.
		{name: "expiry above 24 h", path: "/rtc/fsda/publisher/uid/1/?expiry=86401", status: 400},
		{name: "getToken expire above 24 h", method: "POST", path: "/getToken", contentType: "application/json",
			body: `{"tokenType":"rtm","uid":"alice","expire":86401}`, status: 400},
		// Role "1" is a publisher in Agora's numbering; the peer takes anything but
		// "publisher" for a subscriber.
		{name: "role 1 is a publisher", path: "/rtc/fsda/1/uid/7/?expiry=600", status: 200, expire: 600,
			tokens: map[string][]peerService{"rtcToken": {peerRTC("fsda", "7", peerPublisher)}}},
		// An unknown role is refused; the peer makes a subscriber of it.
		{name: "unknown role", path: "/rtc/fsda/king/uid/7/?expiry=600", status: 400},
		// Channel names follow Agora's rules (1-64 bytes of its character set); the peer
		// signs anything.
		{name: "channel outside Agora's character set", path: "/rtc/f%C3%A9/publisher/uid/7/?expiry=600", status: 400},
		// Signaling user IDs are 1-64 bytes of printable ASCII; the peer signs anything.
		{name: "user ID over 64 bytes", path: "/rtm/" + strings.Repeat("u", 65) + "/?expiry=600", status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequest(method, s.url+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("%s %s: status %d, want %d: %s", method, tt.path, resp.StatusCode, tt.status, body)
			}
			if tt.status != http.StatusOK {
				checkCompatProblem(t, resp, body)
				return
			}
			var answer map[string]string
			if err := json.Unmarshal(body, &answer); err != nil {
				t.Fatalf("answer %s: %v", body, err)
			}
			var fields, want []string
			for f := range answer {
				fields = append(fields, f)
			}
			for f := range tt.tokens {
				want = append(want, f)
			}
			slices.Sort(fields)
			slices.Sort(want)
			if !slices.Equal(fields, want) {
				t.Fatalf("answer fields %v, want %v", fields, want)
			}
			for f, services := range tt.tokens {
				checkPeerToken(t, f, answer[f], tt.expire, services)
			}
		})
	}
}

// checkCompatProblem checks an error answer of a compatible route: problem
// JSON, with error and message repeating detail for the peer's clients (a
// 404 for a path no route has is not a compatible route's answer).
func checkCompatProblem(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p struct{ Detail, Error, Message string }
	if err := json.Unmarshal(body, &p); err != nil || p.Detail == "" {
		t.Fatalf("not a problem: %s", body)
	}
	if resp.StatusCode == http.StatusNotFound {
		return
	}
	if p.Error != p.Detail || p.Message != p.Detail {
		t.Errorf("error %q and message %q, want both %q", p.Error, p.Message, p.Detail)
	}
}

func checkPeerToken(t *testing.T, field, s string, expire uint32, want []peerService) {
	t.Helper()
	tok, err := accesstoken.Parse(s)
	if err != nil || !tok.Verify(testCert) {
		t.Fatalf("%s: not a token signed with the certificate: %v", field, err)
	}
	tokentest.Check(t, field, tok, expire, want)
}
