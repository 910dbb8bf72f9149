package api

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"signaling-auth/lifecycle/testlog"
	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/memory"
	"signaling-auth/ratelimit/redis"
	"signaling-auth/ratelimit/redistest"
	"signaling-auth/tokenserver/internal/auth"
)

const (
	jwtSecret = "the-applications-login-secret-32+bytes"
	apiKey    = "backend-key-0123456789abcdef"
)

// userJWT is an HS256 token for uid (claim sub), valid for an hour.
func userJWT(t *testing.T, uid any) string {
	t.Helper()
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": uid, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}).SignedString([]byte(jwtSecret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func jwtAuth(t testing.TB) *auth.Authenticator {
	t.Helper()
	a, err := auth.New(auth.Options{Mode: auth.ModeJWT, JWT: auth.JWTOptions{Secret: []byte(jwtSecret), Leeway: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func keyAuth(t testing.TB) *auth.Authenticator {
	t.Helper()
	a, err := auth.New(auth.Options{Mode: auth.ModeAPIKey, APIKeys: []string{apiKey}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// limiter is a memory-store limiter; an hourly rate does not refill during a test.
func limiter() *ratelimit.Limiter {
	return ratelimit.New(ratelimit.Options{Store: memory.New(memory.Options{})})
}

func hourly(burst int) ratelimit.Limit {
	return ratelimit.Limit{Rate: 1, Period: time.Hour, Burst: burst}
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

const js = "application/json"

// mintingCalls is every route shape that hands out a token, asking for user
// "alice" (or, for numeric RTC uids, 4242).
func mintingCalls() []call {
	return []call{
		{path: "/rtm/alice"}, {path: "/rtm/alice/"},
		{path: "/rtc/room/publisher/userAccount/alice"}, {path: "/rtc/room/publisher/userAccount/alice/"},
		{path: "/rte/room/publisher/userAccount/alice"}, {path: "/rte/room/publisher/userAccount/alice/alice/"},
		{path: "/chat/account/alice"}, {path: "/chat/account/alice/"},
		{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"alice"}`},
		{method: "POST", path: "/getToken/", contentType: js, body: `{"tokenType":"rtc","channel":"room","uid":"alice"}`},
		{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"chat","uid":"alice"}`},
		{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling","uid":"alice"}`},
		{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rtc","uid":"alice","channel":"room"}`},
		{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rte","uid":"alice","channel":"room"}`},
		{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"chat-user","uid":"alice"}`},
		{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"convoai","uid":"alice","channel":"room"}`},
		{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"stt","uid":"alice","channel":"room"}`},
	}
}

func (c call) with(h map[string]string) call {
	c.header = h
	return c
}

func (c call) String() string {
	if c.body != "" {
		return c.method + " " + c.path + " " + c.body
	}
	return "GET " + c.path
}

// noToken fails when an answer carries anything that looks like a token.
func noToken(t *testing.T, a answer) {
	t.Helper()
	if strings.Contains(string(a.body), `"007`) {
		t.Fatalf("a refused request got a token: %s", a.body)
	}
}

func TestEveryTokenRouteAsksForCredentials(t *testing.T) {
	for _, mode := range []struct {
		name string
		a    *auth.Authenticator
		cred map[string]string
	}{
		{"api_key", keyAuth(t), map[string]string{"X-API-Key": apiKey}},
		{"jwt", jwtAuth(t), bearer(userJWT(t, "alice"))},
	} {
		srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.Auth = mode.a }))
		for _, c := range mintingCalls() {
			t.Run(mode.name+": "+c.String()+" without credentials gets 401 with a challenge", func(t *testing.T) {
				ans := do(t, srv, c)
				problemOf(t, ans, http.StatusUnauthorized)
				noToken(t, ans)
				if ch := ans.header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, `Bearer realm="tokenserver"`) {
					t.Errorf("WWW-Authenticate %q", ch)
				}
			})
			t.Run(mode.name+": "+c.String()+" with credentials mints", func(t *testing.T) {
				if ans := do(t, srv, c.with(mode.cred)); ans.status != http.StatusOK {
					t.Fatalf("status %d: %s", ans.status, ans.body)
				}
			})
		}
		t.Run(mode.name+": inspect asks for credentials too", func(t *testing.T) {
			c := call{method: "POST", path: "/v1/tokens/inspect", contentType: js, body: `{"token":"nope"}`}
			problemOf(t, do(t, srv, c), http.StatusUnauthorized)
			problemOf(t, do(t, srv, c.with(mode.cred)), http.StatusBadRequest) // past auth: the token is checked
		})
		for _, p := range []string{"/healthz", "/readyz", "/metrics", "/openapi.json", "/ping", "/ping/"} {
			t.Run(mode.name+": "+p+" stays open", func(t *testing.T) {
				if ans := do(t, srv, call{path: p}); ans.status != http.StatusOK {
					t.Fatalf("status %d: %s", ans.status, ans.body)
				}
			})
		}
	}
}

func TestAPIKeysAreCheckedOnTheWire(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.Auth = keyAuth(t) }))
	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"the key as X-API-Key mints", map[string]string{"X-API-Key": apiKey}, 200},
		{"the key as a Bearer token mints", bearer(apiKey), 200},
		{"a wrong key is refused", map[string]string{"X-API-Key": apiKey + "x"}, 401},
		{"a JWT is no API key", bearer(userJWT(t, "alice")), 401},
		{"Basic credentials are refused", map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("u:"+apiKey))}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans := do(t, srv, call{path: "/chat/app/", header: tt.header})
			if ans.status != tt.want {
				t.Fatalf("status %d, want %d: %s", ans.status, tt.want, ans.body)
			}
			if strings.Contains(string(ans.body), apiKey) || strings.Contains(ans.header.Get("WWW-Authenticate"), apiKey) {
				t.Error("the answer echoes the key")
			}
		})
	}
}

func TestAJWTCallerGetsTokensOnlyForItself(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.Auth = jwtAuth(t) }))
	alice, numeric := bearer(userJWT(t, "alice")), bearer(userJWT(t, 4242))
	tests := []struct {
		name  string
		c     call
		cred  map[string]string
		want  int
		field string // named in a 403's detail
	}{
		{name: "rtm for someone else", c: call{path: "/rtm/bob/"}, want: 403, field: "uid"},
		{name: "rtm for a user ID differing only in case", c: call{path: "/rtm/Alice"}, want: 403, field: "uid"},
		{name: "an rtc account token for someone else", c: call{path: "/rtc/room/publisher/userAccount/bob/"}, want: 403, field: "uid"},
		{name: "an rtc uid token for another number", c: call{path: "/rtc/room/publisher/uid/4243"}, cred: numeric, want: 403, field: "uid"},
		{name: "an rtc uid token for the caller's number", c: call{path: "/rtc/room/publisher/uid/4242"}, cred: numeric, want: 200},
		{name: "an rtc uid token for the caller's number with leading zeros", c: call{path: "/rtc/room/publisher/uid/004242"}, cred: numeric, want: 200},
		{name: "an rtc token for uid 0 (anyone)", c: call{path: "/rtc/room/publisher/uid/0"}, want: 403, field: "uid"},
		{name: "rte whose RTC user is someone else", c: call{path: "/rte/room/publisher/userAccount/bob/alice/"}, want: 403, field: "rtcuid"},
		{name: "rte whose Signaling user is someone else", c: call{path: "/rte/room/publisher/userAccount/alice/bob/"}, want: 403, field: "rtmuid"},
		{name: "rte with RTC uid 0 (anyone)", c: call{path: "/rte/room/publisher/uid/0/alice"}, want: 403, field: "rtcuid"},
		{name: "rte by numeric uid for the caller", c: call{path: "/rte/room/publisher/uid/4242/"}, cred: numeric, want: 200},
		{name: "a chat app token, which has no user", c: call{path: "/chat/app"}, want: 403},
		{name: "a chat user token for someone else", c: call{path: "/chat/account/bob"}, want: 403, field: "uid"},
		{name: "getToken rtm for someone else", c: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"bob"}`}, want: 403, field: "uid"},
		{name: "getToken rtc account for someone else", c: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtc","channel":"c","uid":"bob"}`}, want: 403, field: "uid"},
		{name: "getToken rtc for uid 0", c: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtc","channel":"c","uid":"0"}`}, want: 403, field: "uid"},
		{name: "getToken rtc without a uid", c: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtc","channel":"c"}`}, want: 403, field: "uid"},
		{name: "getToken chat without a uid (an app token)", c: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"chat"}`}, want: 403},
		{name: "getToken chat for someone else", c: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"chat","uid":"bob"}`}, want: 403, field: "uid"},
		{name: "getToken with the uid twice, the caller's first", c: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"alice","uid":"bob"}`}, want: 403, field: "uid"},
		{name: "v1 signaling for someone else", c: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling","uid":"bob"}`}, want: 403, field: "uid"},
		{name: "v1 rte with someone else's rtmUid", c: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rte","uid":"alice","rtmUid":"bob","channel":"c"}`}, want: 403, field: "rtmUid"},
		{name: "v1 convoai with someone else's rtmUid", c: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"convoai","uid":"alice","rtmUid":"bob","channel":"c"}`}, want: 403, field: "rtmUid"},
		{name: "v1 stt whose agent is someone else", c: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"stt","uid":"bob","rtmUid":"alice","channel":"c"}`}, want: 403, field: "uid"},
		{name: "v1 convoai for uid 0", c: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"convoai","uid":"0","rtmUid":"alice","channel":"c"}`}, want: 403, field: "uid"},
		{name: "v1 rtc for uid 0", c: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rtc","uid":"0","channel":"c"}`}, want: 403, field: "uid"},
		{name: "v1 rtc with an empty uid (an account token for nobody)", c: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rtc","uid":"","channel":"c"}`}, want: 403, field: "uid"},
		{name: "v1 chat-app", c: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"chat-app"}`}, want: 403},
		{name: "v1 with an unknown type", c: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"admin","uid":"bob"}`}, want: 403, field: "uid"},
		{name: "v1 with a body that is not JSON gets the handler's 415", c: call{method: "POST", path: "/v1/tokens", contentType: "text/plain", body: `{"type":"signaling","uid":"alice"}`}, want: 415},
		{name: "v1 with an unknown field gets the handler's 400", c: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling","uid":"alice","admin":true}`}, want: 400},
		{name: "v1 with a body over the limit gets the handler's 413", c: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling","uid":"alice","channel":"` + strings.Repeat("x", 20000) + `"}`}, want: 413},
		{name: "getToken with the caller's uid mints", c: call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"alice"}`}, want: 200},
	}
	for _, tt := range tests {
		verb := "is refused"
		if tt.want == 200 {
			verb = "mints"
		} else if tt.want != 403 {
			verb = "is refused as malformed"
		}
		t.Run(tt.name+" "+verb, func(t *testing.T) {
			cred := tt.cred
			if cred == nil {
				cred = alice
			}
			ans := do(t, srv, tt.c.with(cred))
			if tt.want == 200 {
				if ans.status != 200 {
					t.Fatalf("status %d: %s", ans.status, ans.body)
				}
				return
			}
			p := problemOf(t, ans, tt.want)
			noToken(t, ans)
			if tt.want == 403 {
				if tt.field != "" && !strings.HasPrefix(p.Detail, tt.field+": ") {
					t.Errorf("detail %q does not start with the field %s", p.Detail, tt.field)
				}
				if ch := ans.header.Get("WWW-Authenticate"); !strings.Contains(ch, `error="insufficient_scope"`) {
					t.Errorf("WWW-Authenticate %q", ch)
				}
			}
		})
	}
}

// TestTokenAttacksOnTheWire sends forged and broken JWTs to a real route.
func TestTokenAttacksOnTheWire(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.Auth = jwtAuth(t) }))
	now := time.Now()
	signHS := func(claims jwt.MapClaims, secret string) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "alice", "exp": now.Add(time.Hour).Unix()}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	good := userJWT(t, "alice")
	parts := strings.Split(good, ".")
	tests := []struct {
		name, token, want string
	}{
		{"an expired token", signHS(jwt.MapClaims{"sub": "alice", "exp": now.Add(-time.Hour).Unix()}, jwtSecret), "expired"},
		{"a token not valid yet", signHS(jwt.MapClaims{"sub": "alice", "nbf": now.Add(time.Hour).Unix(), "exp": now.Add(2 * time.Hour).Unix()}, jwtSecret), "not valid yet"},
		{"a token signed with another secret", signHS(jwt.MapClaims{"sub": "alice", "exp": now.Add(time.Hour).Unix()}, "not-the-applications-secret-32-bytes"), "signature"},
		{"alg none", none, "algorithm"},
		{"a token without its signature", parts[0] + "." + parts[1] + ".", "signature"},
		{"a token without exp", signHS(jwt.MapClaims{"sub": "alice"}, jwtSecret), "exp"},
		{"a truncated token", good[:len(good)/2], "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused with 401", func(t *testing.T) {
			ans := do(t, srv, call{path: "/rtm/alice", header: bearer(tt.token)})
			p := problemOf(t, ans, http.StatusUnauthorized)
			noToken(t, ans)
			if !strings.Contains(p.Detail, tt.want) || !strings.Contains(ans.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("detail %q, WWW-Authenticate %q; want %q", p.Detail, ans.header.Get("WWW-Authenticate"), tt.want)
			}
		})
	}
}

// TestJWKSCallersOnTheWire runs RS256 through a real JWKS endpoint on
// loopback, including the HS/RS confusion attack.
func TestJWKSCallersOnTheWire(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{
			"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(priv.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(priv.E)).Bytes()),
		}}})
	}))
	t.Cleanup(jwks.Close)
	a, err := auth.New(auth.Options{Mode: auth.ModeJWT, JWT: auth.JWTOptions{
		JWKSURL: jwks.URL, Issuer: "https://login.example.com/", Audience: "tokenserver"}})
	if err != nil {
		t.Fatal(err)
	}
	api := newTestAPI(t, func(o *Options) { o.Auth = a; o.Ready = a.Ready })
	srv := newTestServer(t, api)
	if ans := do(t, srv, call{path: "/readyz"}); ans.status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before the keys are loaded: %d %s", ans.status, ans.body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for do(t, srv, call{path: "/readyz"}).status != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("never ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	claims := jwt.MapClaims{"sub": "alice", "iss": "https://login.example.com/", "aud": "tokenserver", "exp": time.Now().Add(time.Hour).Unix()}
	rs := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	rs.Header["kid"] = "k1"
	good, err := rs.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	hs.Header["kid"] = "k1"
	confused, err := hs.SignedString(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	if ans := do(t, srv, call{path: "/rtm/alice", header: bearer(good)}); ans.status != 200 {
		t.Fatalf("a good RS256 token: %d %s", ans.status, ans.body)
	}
	if ans := do(t, srv, call{path: "/rtm/bob", header: bearer(good)}); ans.status != 403 {
		t.Fatalf("a good RS256 token for another user: %d %s", ans.status, ans.body)
	}
	ans := do(t, srv, call{path: "/rtm/alice", header: bearer(confused)})
	problemOf(t, ans, http.StatusUnauthorized)
	noToken(t, ans)
}

func check429(t *testing.T, ans answer, limit int) Problem {
	t.Helper()
	p := problemOf(t, ans, http.StatusTooManyRequests)
	noToken(t, ans)
	ra, err := strconv.Atoi(ans.header.Get("Retry-After"))
	if err != nil || ra < 1 {
		t.Errorf("Retry-After %q, want whole seconds ≥ 1", ans.header.Get("Retry-After"))
	}
	if ans.header.Get("RateLimit-Limit") != strconv.Itoa(limit) || ans.header.Get("RateLimit-Remaining") != "0" || ans.header.Get("RateLimit-Reset") == "" {
		t.Errorf("RateLimit headers: limit %q remaining %q reset %q", ans.header.Get("RateLimit-Limit"),
			ans.header.Get("RateLimit-Remaining"), ans.header.Get("RateLimit-Reset"))
	}
	return p
}

func TestAPIKeyBruteForceIsRateLimited(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, func(o *Options) {
		o.Auth, o.Limiter, o.PerIP = keyAuth(t), limiter(), hourly(10)
	}))
	refusedAuth, limited := 0, 0
	for i := 0; i < 200; i++ {
		ans := do(t, srv, call{path: "/chat/app", header: map[string]string{"X-API-Key": fmt.Sprintf("guess-%016d", i)}})
		switch ans.status {
		case http.StatusUnauthorized:
			refusedAuth++
		case http.StatusTooManyRequests:
			limited++
			if limited == 1 {
				check429(t, ans, 10)
			}
		default:
			t.Fatalf("guess %d: status %d", i, ans.status)
		}
	}
	if refusedAuth != 10 || limited != 190 {
		t.Fatalf("of 200 guesses %d were checked and %d rate limited; want 10 and 190", refusedAuth, limited)
	}
	// The limit comes before the key check: from this address even the right key waits.
	check429(t, do(t, srv, call{path: "/chat/app", header: map[string]string{"X-API-Key": apiKey}}), 10)
}

func TestPerIPLimitAndForwardedAddresses(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		xff     func(i int) string
		allowed int
	}{
		{name: "a spoofed X-Forwarded-For from an untrusted peer is ignored: one bucket for the peer",
			xff: func(i int) string { return fmt.Sprintf("198.51.100.%d", i) }, allowed: 3},
		{name: "a trusted proxy's X-Forwarded-For gives each client its own bucket", trusted: []string{"127.0.0.1"},
			xff: func(i int) string { return fmt.Sprintf("198.51.100.%d", i) }, allowed: 10},
		{name: "behind a trusted proxy one client is still limited", trusted: []string{"127.0.0.1"},
			xff: func(int) string { return "198.51.100.7" }, allowed: 3},
		{name: "behind a trusted proxy a client prepending fake hops is still one client", trusted: []string{"127.0.0.1"},
			xff: func(i int) string { return fmt.Sprintf("10.0.0.%d, 198.51.100.7", i) }, allowed: 3},
		{name: "IPv6 clients behind a trusted proxy share their /64", trusted: []string{"127.0.0.1"},
			xff: func(i int) string { return fmt.Sprintf("2001:db8:1:2::%x", i+1) }, allowed: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs testlog.Buffer
			srv := newTestServer(t, newTestAPI(t, func(o *Options) {
				o.Limiter, o.PerIP, o.Clients = limiter(), hourly(3), mustClients(t, tt.trusted)
				o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			}))
			allowed := 0
			for i := 0; i < 10; i++ {
				ans := do(t, srv, call{path: "/rtm/u" + strconv.Itoa(i), header: map[string]string{"X-Forwarded-For": tt.xff(i)}})
				switch ans.status {
				case http.StatusOK:
					allowed++
					if ans.header.Get("RateLimit-Limit") != "3" || ans.header.Get("Retry-After") != "" {
						t.Errorf("an allowed answer's headers: %v", ans.header)
					}
				case http.StatusTooManyRequests:
					check429(t, ans, 3)
				default:
					t.Fatalf("status %d", ans.status)
				}
			}
			if allowed != tt.allowed {
				t.Errorf("%d of 10 allowed, want %d", allowed, tt.allowed)
			}
		})
	}
}

func TestPerUIDLimitSpansRoutes(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.Limiter, o.PerUID = limiter(), hourly(3) }))
	for i, c := range []call{
		{path: "/rtm/alice"},
		{path: "/chat/account/alice/"},
		{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling","uid":"alice"}`},
	} {
		if ans := do(t, srv, c); ans.status != http.StatusOK || ans.header.Get("RateLimit-Remaining") != strconv.Itoa(2-i) {
			t.Fatalf("request %d for alice: %d remaining %q", i+1, ans.status, ans.header.Get("RateLimit-Remaining"))
		}
	}
	p := check429(t, do(t, srv, call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"alice"}`}), 3)
	if !strings.Contains(p.Detail, `user ID "alice"`) {
		t.Errorf("detail %q", p.Detail)
	}
	if ans := do(t, srv, call{path: "/rtm/bob"}); ans.status != http.StatusOK {
		t.Errorf("bob was limited by alice's requests: %d", ans.status)
	}
	// rte names two users: both are counted, and one over its limit refuses the pair.
	if ans := do(t, srv, call{path: "/rte/c/publisher/userAccount/bob/alice/"}); ans.status != http.StatusTooManyRequests {
		t.Errorf("rte with alice as the Signaling user: %d", ans.status)
	}
	if ans := do(t, srv, call{path: "/chat/app/"}); ans.status != http.StatusOK {
		t.Errorf("a chat app token (no user ID) was limited: %d", ans.status)
	}
}

func TestRateLimitMetrics(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, func(o *Options) {
		o.Auth, o.Limiter, o.PerIP = keyAuth(t), limiter(), hourly(2)
	}))
	for i := 0; i < 5; i++ {
		do(t, srv, call{path: "/rtm/alice"})
	}
	body := string(do(t, srv, call{path: "/metrics"}).body)
	for _, want := range []string{
		`tokenserver_auth_refused_total{status="401"} 2`,
		`tokenserver_rate_limited_total{limit="ip"} 3`,
		`tokenserver_rate_limited_total{limit="uid"} 0`,
		`tokenserver_rate_limit_store_errors_total 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// redisAPI is a tokenserver handler over a Redis-backed limiter: one replica.
func redisAPI(t *testing.T, url string, policy ratelimit.Policy, logs *testlog.Buffer) *httptest.Server {
	t.Helper()
	store, err := redis.New(redis.Options{URL: url, Prefix: "tokenserver:", Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log := slog.New(slog.DiscardHandler)
	if logs != nil {
		log = slog.New(slog.NewJSONHandler(logs, nil))
	}
	lim := ratelimit.New(ratelimit.Options{Store: store, OnStoreError: policy, Timeout: 300 * time.Millisecond, Name: "tokenserver", Logger: log})
	return newTestServer(t, newTestAPI(t, func(o *Options) {
		o.Limiter, o.PerIP, o.PerUID, o.Logger = lim, hourly(4), hourly(100), log
	}))
}

func TestTwoReplicasShareTheLimitThroughRedis(t *testing.T) {
	r := redistest.Start(t)
	a, b := redisAPI(t, r.URL(), ratelimit.OnErrorAllow, nil), redisAPI(t, r.URL(), ratelimit.OnErrorAllow, nil)
	allowed := 0
	for i := 0; i < 12; i++ {
		srv := a
		if i%2 == 1 {
			srv = b
		}
		switch ans := do(t, srv, call{path: "/rtm/u" + strconv.Itoa(i)}); ans.status {
		case http.StatusOK:
			allowed++
		case http.StatusTooManyRequests:
			check429(t, ans, 4)
		default:
			t.Fatalf("status %d", ans.status)
		}
	}
	if allowed != 4 {
		t.Errorf("two replicas allowed %d requests from one address, want the one burst of 4", allowed)
	}
}

func TestRedisGoingAwayFollowsOnStoreError(t *testing.T) {
	tests := []struct {
		name   string
		policy ratelimit.Policy
		hang   bool
		want   int
	}{
		{name: "allow: requests pass when Redis is killed", policy: ratelimit.OnErrorAllow, want: 200},
		{name: "deny: requests get 503 when Redis is killed", policy: ratelimit.OnErrorDeny, want: 503},
		{name: "allow: requests pass when Redis hangs", policy: ratelimit.OnErrorAllow, hang: true, want: 200},
		{name: "deny: requests get 503 when Redis hangs", policy: ratelimit.OnErrorDeny, hang: true, want: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var url string
			r := redistest.Start(t)
			if tt.hang {
				url = "redis://" + redistest.Tarpit(t) + "/0"
			} else {
				url = r.URL()
			}
			var logs testlog.Buffer
			srv := redisAPI(t, url, tt.policy, &logs)
			if !tt.hang {
				if ans := do(t, srv, call{path: "/rtm/alice"}); ans.status != 200 {
					t.Fatalf("with Redis up: %d", ans.status)
				}
				r.Stop()
			}
			client := &http.Client{Timeout: 20 * time.Second} // far above the store timeout: reaching it is a hang
			for i := 0; i < 5; i++ {
				resp, err := client.Get(srv.URL + "/rtm/alice")
				if err != nil {
					t.Fatalf("request %d: %v (the limiter hung on a broken store)", i, err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.want {
					t.Fatalf("request %d: status %d, want %d", i, resp.StatusCode, tt.want)
				}
				if tt.want == 503 && resp.Header.Get("Retry-After") != "1" {
					t.Errorf("503 without Retry-After: 1")
				}
			}
			if n := len(logs.Records(t, "rate limit store failed")); n != 1 {
				t.Errorf("%d store-failure records for 5 requests, want 1", n)
			}
			body := string(do(t, srv, call{path: "/metrics"}).body)
			if strings.Contains(body, "tokenserver_rate_limit_store_errors_total 0\n") {
				t.Error("store errors are not counted")
			}
		})
	}
}

func TestOpenAPIDescribesSecurity(t *testing.T) {
	for _, tt := range []struct {
		mode    string
		limited bool
	}{{"none", false}, {"api_key", true}, {"jwt", true}} {
		t.Run("auth mode "+tt.mode, func(t *testing.T) {
			raw, err := openAPIDocument("x", tt.mode, tt.limited)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Components struct {
					SecuritySchemes map[string]map[string]any `json:"securitySchemes"`
				} `json:"components"`
				Paths map[string]map[string]struct {
					Security  []map[string][]string      `json:"security"`
					Responses map[string]json.RawMessage `json:"responses"`
				} `json:"paths"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Components.SecuritySchemes["bearer"]["scheme"] != "bearer" || doc.Components.SecuritySchemes["apiKey"]["name"] != "X-API-Key" {
				t.Errorf("security schemes %v", doc.Components.SecuritySchemes)
			}
			for _, p := range []string{"/rtm/{uid}", "/getToken/", "/v1/tokens", "/v1/tokens/inspect"} {
				for method, op := range doc.Paths[p] {
					_, has401 := op.Responses["401"]
					_, has429 := op.Responses["429"]
					switch {
					case tt.mode == "none" && (op.Security != nil || has401):
						t.Errorf("%s %s asks for credentials in mode none", method, p)
					case tt.mode != "none" && (len(op.Security) == 0 || !has401):
						t.Errorf("%s %s: security %v, 401 documented %v", method, p, op.Security, has401)
					case has429 != tt.limited:
						t.Errorf("%s %s: 429 documented %v with limits %v", method, p, has429, tt.limited)
					}
				}
			}
			for _, p := range []string{"/healthz", "/readyz", "/metrics", "/openapi.json", "/ping"} {
				if op := doc.Paths[p]["get"]; op.Security != nil {
					t.Errorf("%s asks for credentials", p)
				}
			}
		})
	}
}

func TestBuiltInCORSLetsAPageReadA429(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, func(o *Options) {
		o.Limiter, o.PerIP, o.Origins = limiter(), hourly(1), mustOrigins(t, []string{"http://localhost:9000"})
	}))
	origin := map[string]string{"Origin": "http://localhost:9000"}
	do(t, srv, call{path: "/rtm/alice", header: origin})
	ans := do(t, srv, call{path: "/rtm/alice", header: origin})
	check429(t, ans, 1)
	if ans.header.Get("Access-Control-Allow-Origin") != "http://localhost:9000" {
		t.Errorf("the 429 lacks Access-Control-Allow-Origin: %v", ans.header)
	}
	if exp := strings.ToLower(ans.header.Get("Access-Control-Expose-Headers")); !strings.Contains(exp, "retry-after") || !strings.Contains(exp, "ratelimit-remaining") {
		t.Errorf("Access-Control-Expose-Headers %q", exp)
	}
}
