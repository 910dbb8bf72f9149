package e2e

// Caller authentication end to end: a real app's page sends its session JWT through corsproxy to a token
// server in jwt mode, in real Chromium, and reads the 401/403/429 answers it gets back.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"
)

const securityJWTSecret = "e2e-login-secret-of-at-least-32-bytes"

// securityJWT is an HS256 JWT for sub, as an app's login would issue it (built by hand:
// the e2e module needs no JWT library for three base64 parts and an HMAC).
func securityJWT(sub string) string {
	enc := base64.RawURLEncoding.EncodeToString
	header := enc([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims, _ := json.Marshal(map[string]any{"sub": sub, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	signing := header + "." + enc(claims)
	mac := hmac.New(sha256.New, []byte(securityJWTSecret))
	mac.Write([]byte(signing))
	return signing + "." + enc(mac.Sum(nil))
}

// securityStack is tokenserver in jwt mode behind corsproxy, and webdemo for a page origin.
func securityStack(t *testing.T, proxyArgs ...string) (proxy, page string) {
	t.Helper()
	sdk := serveFakeSDK(t)
	token := start(t, "tokenserver", []string{
		"TOKENSERVER_AGORA_APP_ID=" + vectorAppID, "TOKENSERVER_AGORA_APP_CERTIFICATE=" + vectorCertificate,
		"TOKENSERVER_AUTH_MODE=jwt", "TOKENSERVER_AUTH_JWT_SECRET=" + securityJWTSecret,
	}, "--listen", "127.0.0.1:0", "--trusted_proxies", "127.0.0.1")
	webAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	p := start(t, "corsproxy", nil, append([]string{"--listen", "127.0.0.1:0", "--admin_listen", "127.0.0.1:0",
		"--upstream", token.url(), "--cors.allowed_origins", "http://" + webAddr}, proxyArgs...)...)
	web := start(t, "webdemo", nil, "--listen", webAddr, "--proxy_url", p.url()+"/", "--sdk_url", sdk.url)
	return p.url(), web.url() + "/authentication_guide/"
}

// pageFetch has the page fetch url with the given headers and returns what the page's
// own JavaScript can read of the answer.
type pageAnswer struct {
	Status     int    `json:"status"`
	Body       string `json:"body"`
	RetryAfter string `json:"retryAfter"`
	Remaining  string `json:"remaining"`
	Error      string `json:"error"`
}

func pageFetch(tb *tab, url string, headers map[string]string) pageAnswer {
	tb.t.Helper()
	if headers == nil {
		headers = map[string]string{}
	}
	h, _ := json.Marshal(headers)
	tb.exec(fmt.Sprintf(`window.__answer = null, fetch(%q, {headers: %s}).then(async r => {
		window.__answer = JSON.stringify({status: r.status, body: await r.text(),
			retryAfter: r.headers.get('Retry-After') || '', remaining: r.headers.get('RateLimit-Remaining') || ''});
	}, e => { window.__answer = JSON.stringify({error: String(e)}); })`, url, h))
	tb.waitUntil("the fetch settled", `window.__answer !== null`)
	var a pageAnswer
	if err := json.Unmarshal([]byte(eval[string](tb, `window.__answer`)), &a); err != nil {
		tb.t.Fatal(err)
	}
	return a
}

func TestAPagesSessionJWTReachesTheTokenServerThroughTheProxy(t *testing.T) {
	proxy, page := securityStack(t)
	tb := newTab(t)
	tb.open(page)
	tests := []struct {
		name    string
		path    string
		headers map[string]string
		want    int
	}{
		{"the user's own token is minted: Authorization passes the preflight and the proxy", "/rtm/alice/?expiry=600",
			map[string]string{"Authorization": "Bearer " + securityJWT("alice")}, 200},
		{"a token for another user is refused with a 403 the page can read", "/rtm/bob/?expiry=600",
			map[string]string{"Authorization": "Bearer " + securityJWT("alice")}, 403},
		{"no session gets a 401 the page can read", "/rtm/alice/?expiry=600", nil, 401},
		{"a forged session gets a 401 the page can read", "/rtm/alice/?expiry=600",
			map[string]string{"Authorization": "Bearer " + securityJWT("alice") + "x"}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb.t = t
			a := pageFetch(tb, proxy+tt.path, tt.headers)
			if a.Error != "" {
				t.Fatalf("the browser blocked the fetch: %s", a.Error)
			}
			if a.Status != tt.want {
				t.Fatalf("status %d, want %d: %s", a.Status, tt.want, a.Body)
			}
			var body map[string]any
			_ = json.Unmarshal([]byte(a.Body), &body)
			if tt.want == 200 && body["rtmToken"] == nil || tt.want != 200 && (body["detail"] == nil || body["rtmToken"] != nil) {
				t.Errorf("body %s", a.Body)
			}
		})
	}
}

func TestAPageCanReadTheRateLimitAnswer(t *testing.T) {
	proxy, page := securityStack(t, "--rate_limit.per_ip=1/h", "--rate_limit.burst=2")
	tb := newTab(t)
	tb.open(page)
	auth := map[string]string{"Authorization": "Bearer " + securityJWT("alice")}
	first := pageFetch(tb, proxy+"/rtm/alice/?expiry=600", auth)
	if first.Status != 200 || first.Remaining != "1" {
		t.Fatalf("first request: %+v", first)
	}
	pageFetch(tb, proxy+"/rtm/alice/?expiry=600", auth)
	a := pageFetch(tb, proxy+"/rtm/alice/?expiry=600", auth)
	if a.Status != 429 {
		t.Fatalf("third request: %+v", a)
	}
	if n, err := strconv.Atoi(a.RetryAfter); err != nil || n < 1 {
		t.Errorf("the page reads Retry-After %q; the proxy must expose it", a.RetryAfter)
	}
}
