package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwksAuth is an Authenticator over srv's key set, started and loaded.
func jwksAuth(t *testing.T, srv *jwksServer, minRefresh time.Duration) *Authenticator {
	t.Helper()
	a, err := New(Options{Mode: ModeJWT, JWT: JWTOptions{
		JWKSURL: srv.URL + "/.well-known/jwks.json", Issuer: "https://login.example.com/", Audience: "tokenserver",
		Leeway: 30 * time.Second, JWKSRefresh: time.Hour, JWKSMinRefresh: minRefresh}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go a.Run(ctx)
	waitReady(t, a)
	return a
}

func waitReady(t *testing.T, a *Authenticator) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(a.Ready()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the key set never loaded: %v", a.Ready())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestJWTWithAKeySet(t *testing.T) {
	rs, es, ed := rsaSigner(t, "rsa-1"), ecSigner(t, "ec-1"), edSigner(t, "ed-1")
	srv := newJWKSServer(t, rs, es, ed)
	a := jwksAuth(t, srv, time.Hour)
	pemKey := rsaPublicPEM(t)
	runJWTCases(t, a, []jwtCase{
		{name: "an RS256 token is accepted", wantUID: "alice",
			token: func(t *testing.T) string { return sign(t, rs, claimsFor("alice")) }},
		{name: "an ES256 token is accepted", wantUID: "alice",
			token: func(t *testing.T) string { return sign(t, es, claimsFor("alice")) }},
		{name: "an EdDSA token is accepted", wantUID: "alice",
			token: func(t *testing.T) string { return sign(t, ed, claimsFor("alice")) }},
		{name: "HS/RS confusion: HS256 signed with the RSA public key as secret is refused", wantReason: "signature or algorithm",
			token: func(t *testing.T) string {
				return sign(t, signer{kid: "rsa-1", method: jwt.SigningMethodHS256, priv: pemKey}, claimsFor("alice"))
			}},
		{name: "HS/RS confusion with the key's DER bytes is refused too", wantReason: "signature or algorithm",
			token: func(t *testing.T) string {
				return sign(t, signer{kid: "rsa-1", method: jwt.SigningMethodHS256, priv: rsaPriv.PublicKey.N.Bytes()}, claimsFor("alice"))
			}},
		{name: "alg none naming a real key ID is refused", wantReason: "signature or algorithm",
			token: func(t *testing.T) string { return noneToken(t, "rsa-1") }},
		{name: "an RS256 token naming the EC key's ID is refused", wantReason: "signing key is not known",
			token: func(t *testing.T) string { s := rs; s.kid = "ec-1"; return sign(t, s, claimsFor("alice")) }},
		{name: "a token signed by a key not in the set (forged) is refused", wantReason: "signing key is not known",
			token: func(t *testing.T) string { return sign(t, rsaSigner2(t, "attacker"), claimsFor("alice")) }},
		{name: "a token signed by another key under a known key ID is refused", wantReason: "signature",
			token: func(t *testing.T) string { return sign(t, rsaSigner2(t, "rsa-1"), claimsFor("alice")) }},
		{name: "a token without kid is accepted when exactly one key fits its algorithm", wantUID: "alice",
			token: func(t *testing.T) string { s := es; s.kid = ""; return sign(t, s, claimsFor("alice")) }},
		{name: "an expired RS256 token is refused", wantReason: "expired",
			token: func(t *testing.T) string {
				return sign(t, rs, with(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }))
			}},
		{name: "an RS256 token for another audience is refused", wantReason: "audience",
			token: func(t *testing.T) string { return sign(t, rs, with(func(c jwt.MapClaims) { c["aud"] = "other-app" })) }},
		{name: "an RS256 token from another issuer is refused", wantReason: "issuer",
			token: func(t *testing.T) string {
				return sign(t, rs, with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example/" }))
			}},
	})
}

func TestKeyRotationTriggersOneRateLimitedRefresh(t *testing.T) {
	old, rotated := rsaSigner(t, "2026-01"), rsaSigner2(t, "2026-02")
	srv := newJWKSServer(t, old)
	a := jwksAuth(t, srv, time.Hour)
	if _, e := a.Authenticate(bearerRequest(sign(t, old, claimsFor("alice")))); e != nil {
		t.Fatal(e)
	}
	hits := srv.hits.Load()

	// The identity provider rotates: the new key ID is fetched on first sight.
	srv.setKeys(t, old, rotated)
	if c, e := a.Authenticate(bearerRequest(sign(t, rotated, claimsFor("bob")))); e != nil || c.UserID != "bob" {
		t.Fatalf("a token under the rotated key: %+v %v", c, e)
	}
	if n := srv.hits.Load() - hits; n != 1 {
		t.Fatalf("%d fetches for the new key ID, want 1", n)
	}
	// A flood of made-up key IDs within min_refresh fetches nothing more.
	for i := 0; i < 50; i++ {
		s := rsaSigner2(t, "made-up-"+strings.Repeat("x", i))
		if _, e := a.Authenticate(bearerRequest(sign(t, s, claimsFor("bob")))); e == nil {
			t.Fatal("a made-up key ID was accepted")
		}
	}
	if n := srv.hits.Load() - hits; n != 1 {
		t.Errorf("%d fetches after 50 unknown key IDs, want still 1 (refreshes are rate-limited)", n)
	}
}

func TestASlowKeySetEndpointDoesNotStallRequests(t *testing.T) {
	rs := rsaSigner(t, "rsa-1")
	srv := newJWKSServer(t, rs)
	a := jwksAuth(t, srv, time.Millisecond)
	srv.stall() // every fetch from now on hangs until the test ends

	// A guard far above unknownKidWait: reaching it means a request waited for the endpoint.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 3; i++ {
			if _, e := a.Authenticate(bearerRequest(sign(t, rs, claimsFor("alice")))); e != nil {
				t.Errorf("a cached key was not used while the endpoint hangs: %v", e)
			}
			if _, e := a.Authenticate(bearerRequest(sign(t, rsaSigner2(t, "new"), claimsFor("alice")))); e == nil {
				t.Error("an unknown key ID was accepted")
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("requests were still waiting for a hung key set endpoint after 30s")
	}
}

func TestAFailingKeySetEndpointKeepsTheLoadedKeys(t *testing.T) {
	rs := rsaSigner(t, "rsa-1")
	srv := newJWKSServer(t, rs)
	var logs syncWriter
	a, err := New(Options{Mode: ModeJWT, Logger: slog.New(slog.NewTextHandler(&logs, nil)), JWT: JWTOptions{
		JWKSURL: srv.URL, JWKSRefresh: time.Hour, JWKSMinRefresh: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	waitReady(t, a)
	srv.setStatus(http.StatusInternalServerError)
	// An unknown kid forces a fetch, which fails.
	if _, e := a.Authenticate(bearerRequest(sign(t, rsaSigner2(t, "x"), claimsFor("alice")))); e == nil {
		t.Fatal("an unknown key ID was accepted")
	}
	if _, e := a.Authenticate(bearerRequest(sign(t, rs, claimsFor("alice")))); e != nil {
		t.Fatalf("the loaded key was dropped after a failed fetch: %v", e)
	}
	if len(a.Ready()) != 0 {
		t.Errorf("not ready after a failed refresh although keys are loaded: %v", a.Ready())
	}
	if !strings.Contains(logs.String(), "jwks: fetch failed; keeping the keys already loaded") || !strings.Contains(logs.String(), "500") {
		t.Errorf("the failed fetch is not logged:\n%s", logs.String())
	}
}

func TestAKeySetThatNeverLoadsMakesTheServerNotReady(t *testing.T) {
	srv := newJWKSServer(t)
	srv.setStatus(http.StatusServiceUnavailable)
	a, err := New(Options{Mode: ModeJWT, JWT: JWTOptions{JWKSURL: srv.URL, JWKSMinRefresh: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	if r := a.Ready(); len(r) != 1 || !strings.Contains(r[0], "no signing keys loaded yet") {
		t.Fatalf("before the first fetch: %v", r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for r := a.Ready(); !strings.Contains(strings.Join(r, ""), "503"); r = a.Ready() {
		if time.Now().After(deadline) {
			t.Fatalf("the failure never showed in Ready: %v", r)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, e := a.Authenticate(bearerRequest(sign(t, rsaSigner(t, "k"), claimsFor("alice")))); e == nil {
		t.Fatal("a token was accepted without any key set")
	}
}

func TestParseJWKSKeepsOnlyUsableSigningKeys(t *testing.T) {
	testKeys(t)
	good := jwkOf(rsaSigner(t, "good"))
	mod := func(f func(m map[string]any)) map[string]any {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		f(m)
		return m
	}
	small := jwkOf(signer{kid: "small", alg: "RS256", pub: &rsaSmall.PublicKey})
	ec := jwkOf(ecSigner(t, "ec"))
	tests := []struct {
		name string
		key  map[string]any
	}{
		{"a symmetric (oct) key, which would let anyone holding the set sign", map[string]any{"kty": "oct", "kid": "h", "k": b64u(testSecret)}},
		{"an RSA key under 2048 bits", small},
		{"an encryption key (use enc)", mod(func(m map[string]any) { m["use"] = "enc" })},
		{"a key whose key_ops lack verify", mod(func(m map[string]any) { m["key_ops"] = []string{"encrypt"} })},
		{"a key for an algorithm not accepted (RS512)", mod(func(m map[string]any) { m["alg"] = "RS512" })},
		{"a key for HS256", mod(func(m map[string]any) { m["alg"] = "HS256" })},
		{"an RSA key with an even exponent", mod(func(m map[string]any) { m["e"] = b64u([]byte{2}) })},
		{"an RSA key with a huge exponent", mod(func(m map[string]any) { m["e"] = b64u([]byte{1, 0, 0, 0, 1}) })},
		{"an RSA key whose modulus is not base64url", mod(func(m map[string]any) { m["n"] = "!!!" })},
		{"an EC point that is not on the curve", func() map[string]any {
			m := map[string]any{}
			for k, v := range ec {
				m[k] = v
			}
			y, _ := base64.RawURLEncoding.DecodeString(m["y"].(string))
			y[31] ^= 1
			m["y"] = b64u(y)
			return m
		}()},
		{"an EC key on P-384", func() map[string]any {
			m := map[string]any{}
			for k, v := range ec {
				m[k] = v
			}
			m["crv"] = "P-384"
			return m
		}()},
		{"an X25519 (OKP) key", map[string]any{"kty": "OKP", "crv": "X25519", "x": b64u(make([]byte, 32))}},
	}
	for _, tt := range tests {
		t.Run("skips "+tt.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"keys": []any{tt.key, good}})
			ks, err := parseJWKS(body, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if len(ks.keys) != 1 || ks.keys[0].kid != "good" {
				t.Fatalf("kept %d keys, want only the good one", len(ks.keys))
			}
			body, _ = json.Marshal(map[string]any{"keys": []any{tt.key}})
			if _, err := parseJWKS(body, slog.New(slog.DiscardHandler)); err == nil {
				t.Fatal("a set with only this key was accepted")
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{"keys":"x"}`, `{"keys":[1,2]}`, `null`} {
		if _, err := parseJWKS([]byte(bad), slog.New(slog.DiscardHandler)); err == nil {
			t.Errorf("parseJWKS(%q) accepted", bad)
		}
	}
}

func FuzzParseJWKS(f *testing.F) {
	testKeys(f)
	for _, s := range []signer{rsaSigner(f, "r"), ecSigner(f, "e"), edSigner(f, "d")} {
		b, _ := json.Marshal(map[string]any{"keys": []any{jwkOf(s)}})
		f.Add(b)
	}
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"","e":""}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ks, err := parseJWKS(body, slog.New(slog.DiscardHandler))
		if err != nil {
			return
		}
		for _, k := range ks.keys {
			if !keyFits(k.key, "RS256") && !keyFits(k.key, "ES256") && !keyFits(k.key, "EdDSA") {
				t.Fatalf("kept a key no accepted algorithm can use: %T", k.key)
			}
		}
	})
}

func TestCheckJWKSURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://login.example.com/.well-known/jwks.json", true},
		{"http://127.0.0.1:8088/jwks", true},
		{"http://localhost/jwks", true},
		{"http://[::1]:1/jwks", true},
		{"http://login.example.com/jwks", false},
		{"https://user:pass@login.example.com/jwks", false},
		{"ftp://login.example.com/jwks", false},
		{"login.example.com/jwks", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := CheckJWKSURL(tt.url)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckJWKSURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
			}
			if err != nil && strings.Contains(err.Error(), "user:pass") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// syncWriter collects log output written from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
