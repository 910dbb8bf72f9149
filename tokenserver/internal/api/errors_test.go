package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func jsonUnmarshalStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func TestErrors(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, nil))
	long := strings.Repeat("a", 70)
	big := `{"type":"signaling","uid":"` + strings.Repeat("x", 20*1024) + `"}`
	const js = "application/json"

	tests := []struct {
		name       string
		call       call
		status     int
		params     []string // invalidParams names, in order
		detailHas  string   // substring of detail
		reasonHas  string   // substring of the first reason
		wantHeader map[string]string
	}{
		// Compatible GET routes: path and query.
		{name: "an overlong user ID is refused with its length", call: call{path: "/rtm/" + long + "/"},
			status: 400, params: []string{"uid"}, reasonHas: "must be 1-64 characters long (got 70)"},
		{name: "a non-ASCII user ID is refused", call: call{path: "/rtm/%C3%A9l%C3%A8ve/"},
			status: 400, params: []string{"uid"}, reasonHas: "English letters, digits, spaces and ASCII punctuation"},
		{name: "a user ID with a newline is refused", call: call{path: "/rtm/a%0Ab/"},
			status: 400, params: []string{"uid"}, reasonHas: "a line break (character 2) is not allowed"},
		{name: "a user ID with a NUL byte is refused", call: call{path: "/rtm/a%00b"},
			status: 400, params: []string{"uid"}, reasonHas: "the control character U+0000"},
		{name: "a user ID with an escape sequence is refused", call: call{path: "/rtm/%1B%5B31m/"},
			status: 400, params: []string{"uid"}},
		{name: "a negative expiry is refused", call: call{path: "/rtm/alice/?expiry=-1"},
			status: 400, params: []string{"expiry"}, reasonHas: `must be a whole number of seconds (got "-1")`},
		{name: "a non-numeric expiry is refused", call: call{path: "/rtm/alice/?expiry=abc"},
			status: 400, params: []string{"expiry"}, reasonHas: "whole number"},
		{name: "a fractional expiry is refused", call: call{path: "/rtm/alice/?expiry=1.5"},
			status: 400, params: []string{"expiry"}},
		{name: "an expiry with a plus sign is refused", call: call{path: "/rtm/alice/?expiry=%2B60"},
			status: 400, params: []string{"expiry"}},
		{name: "a zero expiry is refused", call: call{path: "/rtm/alice/?expiry=0"},
			status: 400, params: []string{"expiry"}, reasonHas: "at least 1 second"},
		{name: "an expiry above the maximum is refused, naming the maximum, not clamped", call: call{path: "/rtm/alice/?expiry=86401"},
			status: 400, params: []string{"expiry"}, detailHas: "must be at most 86400 seconds (24h0m0s)"},
		{name: "a huge expiry is refused, not wrapped around", call: call{path: "/rtm/alice/?expiry=4294967896"},
			status: 400, params: []string{"expiry"}, reasonHas: "at most 86400"},
		{name: "an expiry beyond uint64 is refused", call: call{path: "/rtm/alice/?expiry=999999999999999999999999999"},
			status: 400, params: []string{"expiry"}, reasonHas: "at most 86400"},
		{name: "a repeated expiry is refused", call: call{path: "/rtm/alice/?expiry=60&expiry=90"},
			status: 400, params: []string{"expiry"}, reasonHas: "once"},
		{name: "an unknown role is refused", call: call{path: "/rtc/room1/admin/uid/1/"},
			status: 400, params: []string{"role"}, reasonHas: "publisher or subscriber"},
		{name: "role 0 is refused", call: call{path: "/rtc/room1/0/uid/1/"},
			status: 400, params: []string{"role"}},
		{name: "an unknown tokentype is refused", call: call{path: "/rtc/room1/publisher/account/1/"},
			status: 400, params: []string{"tokentype"}},
		{name: "a non-numeric uid for tokentype uid is refused", call: call{path: "/rtc/room1/publisher/uid/bob/"},
			status: 400, params: []string{"uid"}, reasonHas: "0-4294967295"},
		{name: "a uid beyond 32 bits is refused", call: call{path: "/rtc/room1/publisher/uid/4294967296/"},
			status: 400, params: []string{"uid"}},
		{name: "a negative uid is refused", call: call{path: "/rtc/room1/publisher/uid/-1/"},
			status: 400, params: []string{"uid"}},
		{name: "a channel with a character Agora forbids is refused", call: call{path: "/rtc/r%C3%A9/publisher/uid/1/"},
			status: 400, params: []string{"channel"}},
		{name: "an overlong user account is refused", call: call{path: "/rtc/room1/publisher/userAccount/" + strings.Repeat("b", 256) + "/"},
			status: 400, params: []string{"uid"}, reasonHas: "1-255 bytes (got 256)"},
		{name: "every bad RTC field is reported at once", call: call{path: "/rtc/r%0A/boss/uid/x/?expiry=0"},
			status: 400, params: []string{"role", "uid", "expiry", "channel"}},
		{name: "RTE with rtcuid 0 and no rtmuid is refused", call: call{path: "/rte/room1/publisher/uid/0/"},
			status: 400, params: []string{"rtmuid"}},
		{name: "RTE with a bad Signaling user ID names rtmuid", call: call{path: "/rte/room1/publisher/uid/1/" + long + "/"},
			status: 400, params: []string{"rtmuid"}},
		{name: "RTE with an account too long for Signaling names rtcuid", call: call{path: "/rte/room1/publisher/userAccount/" + long + "/"},
			status: 400, params: []string{"rtcuid"}, reasonHas: "1-64 characters long"},
		{name: "a bad chat user ID is refused", call: call{path: "/chat/account/a%7Fb/"},
			status: 400, params: []string{"uid"}},
		{name: "a bad chat app expiry is refused", call: call{path: "/chat/app/?expiry=x"},
			status: 400, params: []string{"expiry"}},
		{name: "a bad Signaling user ID is still reported next to a bad expiry", call: call{path: "/rtm/a%0Ab/?expiry=0"},
			status: 400, params: []string{"expiry", "uid"}},
		{name: "a bad chat user ID is still reported next to a bad expiry", call: call{path: "/chat/account/a%7Fb/?expiry=0"},
			status: 400, params: []string{"expiry", "uid"}},
		{name: "RTE with a bad rtmuid is still reported next to a bad expiry", call: call{path: "/rte/room1/publisher/uid/1/" + long + "/?expiry=0"},
			status: 400, params: []string{"expiry", "rtmuid"}},
		{name: "RTE without rtmuid reports an account too long for Signaling as rtcuid next to a bad expiry", call: call{path: "/rte/room1/publisher/userAccount/" + long + "/?expiry=0"},
			status: 400, params: []string{"expiry", "rtcuid"}},

		// POST /getToken.
		{name: "getToken with a form body that is not JSON is 400", call: call{method: "POST", path: "/getToken", contentType: "application/x-www-form-urlencoded", body: `tokenType=rtm`},
			status: 400, detailHas: "request body is not valid JSON"},
		{name: "getToken with text/plain that is not JSON is 400", call: call{method: "POST", path: "/getToken", contentType: "text/plain", body: `tokenType: rtm`},
			status: 400, detailHas: "request body is not valid JSON"},
		{name: "getToken with broken JSON is 400", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":`},
			status: 400, detailHas: "not valid JSON"},
		{name: "getToken with an empty body is 400", call: call{method: "POST", path: "/getToken", contentType: js},
			status: 400, detailHas: "must be a JSON object"},
		{name: "getToken with a JSON array is 400", call: call{method: "POST", path: "/getToken", contentType: js, body: `[1,2]`},
			status: 400, detailHas: "must be a JSON object"},
		{name: "getToken with JSON null is 400", call: call{method: "POST", path: "/getToken", contentType: js, body: `null`},
			status: 400, detailHas: "must be a JSON object"},
		{name: "getToken with two objects is 400", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"a"}{}`},
			status: 400, detailHas: "exactly one JSON object"},
		{name: "getToken with an unknown field still checks the known ones", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"a\nb","admin":true}`},
			status: 400, params: []string{"uid"}},
		{name: "getToken with a 20 KB body is 413", call: call{method: "POST", path: "/getToken", contentType: js, body: big},
			status: 413, detailHas: "at most 16384 bytes"},
		{name: "getToken without tokenType is 400", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"uid":"a"}`},
			status: 400, params: []string{"tokenType"}},
		{name: "getToken with an unknown tokenType is 400", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"voice","uid":"a"}`},
			status: 400, params: []string{"tokenType"}},
		{name: "getToken with a string expire is 400", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"a","expire":"3600"}`},
			status: 400, params: []string{"expire"}, reasonHas: "whole number"},
		{name: "getToken with a negative expire is 400", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"a","expire":-5}`},
			status: 400, params: []string{"expire"}},
		{name: "getToken with a fractional expire is 400", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"a","expire":1.5}`},
			status: 400, params: []string{"expire"}},
		{name: "getToken with an expire above the maximum is 400", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"a","expire":1e9}`},
			status: 400, params: []string{"expire"}},
		{name: "getToken rtm with a bad channel names it", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"a","channel":"c/d"}`},
			status: 400, params: []string{"channel"}},
		{name: "getToken rtm without uid is 400", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm"}`},
			status: 400, params: []string{"uid"}},
		{name: "getToken rtc without channel reports it next to a bad role (no uid is uid 0)", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtc","role":"king"}`},
			status: 400, params: []string{"role", "channel"}},
		{name: "getToken rtm reports a bad uid next to a bad expire", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"a\nb","expire":-1}`},
			status: 400, params: []string{"expire", "uid"}},
		{name: "getToken chat reports a bad uid next to a bad expire", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"chat","uid":"a\nb","expire":-1}`},
			status: 400, params: []string{"expire", "uid"}},
		{name: "getToken chat without uid reports a bad expire alone", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"chat","expire":-1}`},
			status: 400, params: []string{"expire"}},
		{name: "getToken rtc reports a bad account next to a bad expire", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtc","channel":"c","uid":"` + strings.Repeat("b", 256) + `","expire":-1}`},
			status: 400, params: []string{"expire", "uid"}},
		{name: "getToken with a numeric uid member is 400", call: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":5}`},
			status: 400, params: []string{"uid"}, reasonHas: "must be a string"},

		// POST /v1/tokens.
		{name: "v1 without type is 400", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"uid":"a"}`},
			status: 400, params: []string{"type"}},
		{name: "v1 with an unknown type is 400", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rtm","uid":"a"}`},
			status: 400, params: []string{"type"}},
		{name: "v1 with explicit expiresIn 0 is 400", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling","uid":"a","expiresIn":0}`},
			status: 400, params: []string{"expiresIn"}},
		{name: "v1 with expiresIn above the maximum is 400 naming it", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling","uid":"a","expiresIn":90000}`},
			status: 400, params: []string{"expiresIn"}, reasonHas: "at most 86400 seconds"},
		{name: "v1 with a field the type does not use is 400", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"chat-user","uid":"a","channel":"c"}`},
			status: 400, params: []string{"channel"}},
		{name: "v1 chat-app with a uid is 400", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"chat-app","uid":"a"}`},
			status: 400, params: []string{"uid"}},
		{name: "v1 rte with uid 0 and no rtmUid is 400", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rte","uid":"0","channel":"c"}`},
			status: 400, params: []string{"rtmUid"}},
		{name: "v1 rte without uid is 400", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rte","channel":"c","rtmUid":"a"}`},
			status: 400, params: []string{"uid"}},
		{name: "v1 with unknown fields lists each", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling","uid":"a","zeta":1,"alpha":2}`},
			status: 400, params: []string{"alpha", "zeta"}},
		{name: "v1 with wrong member types lists each", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":1,"uid":[],"expiresIn":"x"}`},
			status: 400, params: []string{"type", "uid", "expiresIn"}},
		{name: "v1 reports every bad rtc field at once", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rtc","uid":"x\n","channel":"","role":"boss","expiresIn":0}`},
			status: 400, params: []string{"expiresIn", "role", "channel", "uid"}},
		{name: "v1 reports every bad rte field at once", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rte","uid":"0","channel":"a\tb","expiresIn":-1}`},
			status: 400, params: []string{"expiresIn", "rtmUid", "channel"}},
		{name: "v1 signaling reports a bad uid next to a bad expiresIn", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling","uid":"a\nb","expiresIn":0}`},
			status: 400, params: []string{"expiresIn", "uid"}},
		{name: "v1 chat-user reports a bad uid next to a bad expiresIn", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"chat-user","uid":"a\nb","expiresIn":0}`},
			status: 400, params: []string{"expiresIn", "uid"}},
		{name: "v1 rtc with a numeric uid reports a bad channel next to a bad expiresIn", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rtc","uid":"7","channel":"a\tb","expiresIn":0}`},
			status: 400, params: []string{"expiresIn", "channel"}},
		{name: "v1 with a control character in uid is 400", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling","uid":"a\u0007"}`},
			status: 400, params: []string{"uid"}},
		{name: "v1 with an emoji uid is 400", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"chat-user","uid":"🙂"}`},
			status: 400, params: []string{"uid"}},
		{name: "v1 with a 20 KB body is 413", call: call{method: "POST", path: "/v1/tokens", contentType: js, body: big},
			status: 413},
		{name: "v1 with application/xml is 415", call: call{method: "POST", path: "/v1/tokens", contentType: "application/xml", body: `<a/>`},
			status: 415},
		{name: "v1 with a malformed content type is 415", call: call{method: "POST", path: "/v1/tokens", contentType: "application/json; =", body: `{}`},
			status: 415},

		// POST /v1/tokens/inspect.
		{name: "inspect without token is 400", call: call{method: "POST", path: "/v1/tokens/inspect", contentType: js, body: `{}`},
			status: 400, params: []string{"token"}},
		{name: "inspect with garbage is 400", call: call{method: "POST", path: "/v1/tokens/inspect", contentType: js, body: `{"token":"hello"}`},
			status: 400, params: []string{"token"}, reasonHas: "not an AccessToken2"},
		{name: "inspect with a 007 prefix and bad base64 is 400", call: call{method: "POST", path: "/v1/tokens/inspect", contentType: js, body: `{"token":"007!!!!"}`},
			status: 400, params: []string{"token"}},
		{name: "inspect with an unknown field is 400", call: call{method: "POST", path: "/v1/tokens/inspect", contentType: js, body: `{"token":"007","verbose":true}`},
			status: 400, params: []string{"verbose"}},

		// Routing.
		{name: "an unknown path is a 404 problem", call: call{path: "/nope"}, status: 404, detailHas: "no route"},
		{name: "the root is a 404 problem", call: call{path: "/"}, status: 404},
		{name: "an RTM path without uid is a 404, not a redirect", call: call{path: "/rtm/"}, status: 404},
		{name: "a native path with a trailing slash is a 404, not a redirect", call: call{method: "POST", path: "/v1/tokens/", contentType: js, body: `{}`}, status: 404},
		{name: "healthz with a trailing slash is a 404, not a redirect", call: call{path: "/healthz/"}, status: 404},
		{name: "a doubled slash is a 404, not a redirect", call: call{path: "//rtm/alice"}, status: 404},
		{name: "the wrong case is a 404, not a redirect", call: call{path: "/RTM/alice"}, status: 404},
		{name: "GET on a POST route is a 405 with Allow", call: call{path: "/v1/tokens"}, status: 405,
			wantHeader: map[string]string{"Allow": "POST"}},
		{name: "DELETE on an RTM route is a 405 with Allow", call: call{method: "DELETE", path: "/rtm/alice/"}, status: 405,
			wantHeader: map[string]string{"Allow": "GET"}},
		{name: "OPTIONS without CORS configured is a 405", call: call{method: "OPTIONS", path: "/rtm/alice/", header: map[string]string{"Origin": "http://a.example", "Access-Control-Request-Method": "GET"}},
			status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, srv, tt.call)
			p := problemOf(t, a, tt.status)
			if got := paramNames(p); !slices.Equal(got, tt.params) {
				t.Errorf("invalidParams %v, want %v (%+v)", got, tt.params, p.InvalidParams)
			}
			if !strings.Contains(p.Detail, tt.detailHas) {
				t.Errorf("detail %q does not contain %q", p.Detail, tt.detailHas)
			}
			if tt.reasonHas != "" && (len(p.InvalidParams) == 0 || !strings.Contains(p.InvalidParams[0].Reason, tt.reasonHas)) {
				t.Errorf("first reason does not contain %q: %+v", tt.reasonHas, p.InvalidParams)
			}
			for k, v := range tt.wantHeader {
				if got := a.header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if a.header.Get("Location") != "" {
				t.Errorf("answer redirects to %s", a.header.Get("Location"))
			}
			if len(a.body) > 4096 {
				t.Errorf("problem body is %d bytes: input is echoed back in full", len(a.body))
			}
		})
	}
}

func TestExpiryMaximumComesFromConfig(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.DefaultExpiry = time.Hour; o.MaxExpiry = 2 * time.Hour }))
	p := problemOf(t, do(t, srv, call{path: "/rtm/alice/?expiry=7201"}), 400)
	if want := "must be at most 7200 seconds (2h0m0s)"; !strings.Contains(p.Detail, want) {
		t.Errorf("detail %q does not name the configured maximum", p.Detail)
	}
	a := do(t, srv, call{path: "/rtm/alice/"})
	tok := mustToken(t, a.json(t)["rtmToken"].(string))
	if tok.Expire != 3600 {
		t.Errorf("default expiry %d, want the configured 3600", tok.Expire)
	}
}

// TestBodyLimitWithoutContentLength sends a chunked body: the limit must hold
// when the client does not say how much it sends.
func TestBodyLimitWithoutContentLength(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, nil))
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte(`{"type":"signaling","uid":"`))
		_, _ = pw.Write(bytes.Repeat([]byte("x"), 20*1024))
		_, _ = pw.Write([]byte(`"}`))
		_ = pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/tokens", pr)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if req.ContentLength != 0 {
		t.Fatalf("the request had a Content-Length")
	}
	problemOf(t, answer{status: resp.StatusCode, header: resp.Header, body: b}, http.StatusRequestEntityTooLarge)
}

func TestRequestID(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, nil))
	tests := []struct {
		name string
		sent string
		keep bool
	}{
		{name: "a sane request ID from a proxy is kept", sent: "abc-123_x.y", keep: true},
		{name: "a request ID with characters outside the safe set is replaced", sent: "abc <script>"},
		{name: "an overlong request ID is replaced", sent: strings.Repeat("a", 65)},
		{name: "a missing request ID is made up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := call{path: "/nope"}
			if tt.sent != "" {
				c.header = map[string]string{"X-Request-Id": tt.sent}
			}
			a := do(t, srv, c)
			got := a.header.Get("X-Request-Id")
			if p := problemOf(t, a, 404); p.RequestID != got {
				t.Errorf("problem requestId %q, header %q", p.RequestID, got)
			}
			if (got == tt.sent) != tt.keep || !validRequestID(got) {
				t.Errorf("X-Request-Id %q for %q", got, tt.sent)
			}
		})
	}
}
