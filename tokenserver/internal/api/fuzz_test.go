package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"signaling-auth/tokenserver/internal/accesstoken"
	"signaling-auth/tokenserver/internal/tokens"
)

// Seeds live in testdata/fuzz/<FuzzName>/ as well; `go test` runs them all.

func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"type":"rtc","uid":"1","expiresIn":60}`, `[]`, `null`, `{"a":1}`, `{"uid":`, `{"uid":"\u0000"}`, `{"expiresIn":1e400}`, `{} {}`, `{"uid":"a","uid":"b"}`,
		`{"permissions":{"streamChannels":{"read":["room-*"],"write":["room-1"]}}}`, `{"permissions":{"users":{"read":[1]}}}`,
		`{"permissions":{"users":{"admin":true}}}`, `{"permissions":[]}`, `{"privilegeExpiresIn":{"join":60,"publishData":1e3}}`,
		`{"privilegeExpiresIn":{"join":"60"}}`, `{"privilegeExpiresIn":{"kick":1}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var q mintBody
		bad, err := decodeObject(body, strictBody, q.fields())
		if lax, laxErr := decodeObject(body, compatBody, q.fields()); (laxErr == nil) != (err == nil) || len(lax) > len(bad) {
			t.Fatalf("the compat rules judge %q differently: %v %v, strict %v %v", body, lax, laxErr, bad, err)
		}
		if err == nil && !json.Valid(body) {
			t.Fatalf("invalid JSON %q accepted", body)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
		for _, p := range bad {
			if p.Name == "" || p.Reason == "" || len(p.Name) > 44 {
				t.Fatalf("bad report %+v", p)
			}
		}
	})
}

// FuzzCompatRTM drives GET /rtm/{uid}/?expiry= through the whole handler:
// whatever the input, the answer is a token for exactly that user or a
// problem, never a 500.
func FuzzCompatRTM(f *testing.F) {
	for _, s := range [][2]string{{"alice", "600"}, {"a b", ""}, {strings.Repeat("x", 65), "1"}, {"é", "86401"}, {"a\x00", "-5"}, {"../x", "1"}} {
		f.Add(s[0], s[1])
	}
	a := newTestAPI(f, nil)
	f.Fuzz(func(t *testing.T, uid, exp string) {
		path := "/rtm/" + url.PathEscape(uid) + "/?expiry=" + url.QueryEscape(exp)
		req, err := http.NewRequest(http.MethodGet, "http://x"+path, nil)
		if err != nil {
			return // not a URL a client could send
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK:
			var body struct{ RtmToken string }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			tok, err := accesstoken.Parse(body.RtmToken)
			if err != nil || !tok.Verify(testCert) || tok.Services[0].UserID != uid {
				t.Fatalf("200 for %q without a valid token for that user", uid)
			}
		case http.StatusBadRequest, http.StatusNotFound:
			if w.Header().Get("Content-Type") != problemContentType {
				t.Fatalf("%d without problem JSON", w.Code)
			}
		default:
			t.Fatalf("status %d for uid %q expiry %q: %s", w.Code, uid, exp, w.Body)
		}
	})
}

// FuzzMintJSON posts arbitrary bodies to /v1/tokens: never a 500.
func FuzzMintJSON(f *testing.F) {
	for _, s := range []string{`{"type":"signaling","uid":"a"}`, `{"type":"rte","uid":"0","channel":"c"}`, `{"type":"rtc","uid":"4294967296","channel":"c","role":"2"}`, `{"type":"chat-app","expiresIn":-1}`, `{`, ``,
		`{"type":"signaling","uid":"a","permissions":{"streamChannels":{"read":["room-*"],"write":["room-1"]}}}`,
		`{"type":"signaling","uid":"a","channel":"c","expiresIn":60}`,
		`{"type":"rtc","uid":"1","channel":"c","expiresIn":60,"privilegeExpiresIn":{"join":60,"publishData":61}}`,
		`{"type":"rtc","uid":"a","channel":"c","privilegeExpiresIn":{"publishAudio":-9223372036854775808}}`,
		`{"type":"convoai","uid":"1001","rtmUid":"agent","channel":"c","expiresIn":600,"privilegeExpiresIn":{"join":600,"publishAudio":60}}`,
		`{"type":"stt","uid":"0","rtmUid":"bot","channel":"c","role":"subscriber","privilegeExpiresIn":{"join":60,"publishData":1}}`} {
		f.Add(s)
	}
	a := newTestAPI(f, nil)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/tokens", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK:
			var r tokens.MintResponse
			if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if tok, err := accesstoken.Parse(r.Token); err != nil || !tok.Verify(testCert) {
				t.Fatalf("200 without a valid token: %s", w.Body)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
	})
}

// FuzzGetToken posts arbitrary bodies under arbitrary content types to the
// compatible POST /getToken: a valid token, or a 400/413 problem whose error
// and message repeat its detail; never anything else.
func FuzzGetToken(f *testing.F) {
	for _, s := range [][2]string{
		{`{"tokenType":"rtm","uid":"a","channel":"c"}`, "text/plain;charset=UTF-8"},
		{`{"tokenType":"rtc","uid":"","channel":"c","x":[1,{}]}`, ""},
		{`tokenType=rtm&uid=a`, "application/x-www-form-urlencoded"},
		{`{"tokenType":"chat","expire":0}`, "application/json; charset=utf-8"},
		{`{"tokenType":"rtc","uid":"4294967296","channel":"c","role":"1"}`, "multipart/form-data; boundary=x"},
		{`null`, "application/json"},
	} {
		f.Add(s[0], s[1])
	}
	a := newTestAPI(f, nil)
	f.Fuzz(func(t *testing.T, body, contentType string) {
		req := httptest.NewRequest(http.MethodPost, "/getToken", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK:
			var r struct{ Token string }
			if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if tok, err := accesstoken.Parse(r.Token); err != nil || !tok.Verify(testCert) {
				t.Fatalf("200 without a valid token: %s", w.Body)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			var p Problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Detail == "" || p.Error != p.Detail || p.Message != p.Detail {
				t.Fatalf("%d without a compat problem: %s", w.Code, w.Body)
			}
		default:
			t.Fatalf("status %d for %q (%q): %s", w.Code, body, contentType, w.Body)
		}
	})
}

// FuzzRTCUID: rtcUID accepts exactly the decimal spellings of a uint32, and
// the user the binding compares is that number spelt plainly, uid 0 flagged.
func FuzzRTCUID(f *testing.F) {
	for _, s := range []string{"", "0", "000", "42", "0042", "4294967295", "4294967296", "-1", "+1", " 1", "1e3", "٣", "alice"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := tokens.RTCUID(s)
		want, err := strconv.ParseUint(s, 10, 32)
		if ok != (err == nil && strings.Trim(s, "0123456789") == "") || (ok && uint64(n) != want) {
			t.Fatalf("tokens.RTCUID(%q) = %d, %v; ParseUint says %d, %v", s, n, ok, want, err)
		}
		u := rtcUser("uid", s, true)
		switch {
		case ok && (u.id != strconv.FormatUint(want, 10) || u.anyUser != (n == 0)):
			t.Fatalf("rtcUser(%q) = %+v", s, u)
		case !ok && (u.id != s || u.anyUser):
			t.Fatalf("rtcUser(%q) = %+v, want the account as sent", s, u)
		}
		var bad params
		if tokens.ParseRTCUID(s, "uid", &bad) != n || (len(bad) == 0) != ok {
			t.Fatalf("tokens.ParseRTCUID(%q) disagrees with rtcUID: %+v", s, bad)
		}
	})
}
