package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"signaling-auth/lifecycle/testlog"

	"github.com/MicahParks/jwkset"
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
	var logs testlog.Buffer
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

// loadSet serves doc as a key set and runs a JWKS over it until the first
// load succeeded or failed.
func loadSet(t *testing.T, doc any) *JWKS {
	t.Helper()
	srv := newJWKSServer(t)
	srv.setRaw(t, doc)
	j, err := NewJWKS(srv.URL, nil, time.Hour, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go j.Run(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for {
		j.mu.Lock()
		failed := j.lastErr != nil
		j.mu.Unlock()
		if j.Loaded() == nil || failed {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatal("the key set neither loaded nor failed")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// keptIDs are the key IDs a loaded JWKS holds.
func keptIDs(t *testing.T, j *JWKS) []string {
	t.Helper()
	kf := j.kf.Load()
	if kf == nil {
		return nil
	}
	all, err := (*kf).Storage().KeyReadAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range all {
		ids = append(ids, k.Marshal().KID)
	}
	return ids
}

func TestAKeySetKeepsOnlyUsableSigningKeys(t *testing.T) {
	testKeys(t)
	good := jwkOf(rsaSigner(t, "good"))
	mod := func(base map[string]any, f func(m map[string]any)) map[string]any {
		m := map[string]any{}
		for k, v := range base {
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
		// whole: jwkset cannot parse the key at all and refuses the whole
		// set (the keys loaded before stay); otherwise the key is skipped.
		whole bool
	}{
		{"a symmetric (oct) key, which would let anyone holding the set sign", map[string]any{"kty": "oct", "kid": "h", "k": b64u(testSecret)}, false},
		{"an RSA key under 2048 bits", small, false},
		{"an encryption key (use enc)", mod(good, func(m map[string]any) { m["kid"], m["use"] = "enc", "enc" }), false},
		{"a key whose key_ops lack verify", mod(good, func(m map[string]any) { m["kid"], m["key_ops"] = "ops", []string{"encrypt"}; delete(m, "use") }), false},
		{"a key for an algorithm not accepted (RS512)", mod(good, func(m map[string]any) { m["kid"], m["alg"] = "rs512", "RS512" }), false},
		{"a key for HS256", mod(good, func(m map[string]any) { m["kid"], m["alg"] = "hs", "HS256" }), false},
		{"an RSA key with an even exponent", mod(good, func(m map[string]any) { m["kid"], m["e"] = "even", b64u([]byte{2}) }), false},
		{"an RSA key with a huge exponent", mod(good, func(m map[string]any) { m["kid"], m["e"] = "huge", b64u([]byte{1, 0, 0, 0, 1}) }), true},
		{"an RSA key whose modulus is not base64url", mod(good, func(m map[string]any) { m["kid"], m["n"] = "bad-n", "!!!" }), true},
		{"an EC point that is not on the curve", mod(ec, func(m map[string]any) {
			y, _ := base64.RawURLEncoding.DecodeString(m["y"].(string))
			y[31] ^= 1
			m["y"] = b64u(y)
		}), true},
		{"an EC key on P-384 (with P-256 coordinates, so not on its curve)", mod(ec, func(m map[string]any) { m["crv"] = "P-384" }), true},
		{"a real EC key on P-384", func() map[string]any {
			k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := k.PublicKey.Bytes()
			return map[string]any{"kty": "EC", "crv": "P-384", "kid": "p384", "x": b64u(b[1:49]), "y": b64u(b[49:])}
		}(), false},
		{"an X25519 (OKP) key", map[string]any{"kty": "OKP", "crv": "X25519", "kid": "x", "x": b64u(make([]byte, 32))}, false},
	}
	for _, tt := range tests {
		t.Run("skips "+tt.name, func(t *testing.T) {
			j := loadSet(t, map[string]any{"keys": []any{tt.key, good}})
			if tt.whole {
				if err := j.Loaded(); err == nil {
					t.Fatalf("a set with this key loaded: %q", keptIDs(t, j))
				}
			} else if ids := keptIDs(t, j); !slices.Equal(ids, []string{"good"}) {
				t.Fatalf("kept %q (load error %v), want only the good key", ids, j.Loaded())
			}
			j = loadSet(t, map[string]any{"keys": []any{tt.key}})
			if err := j.Loaded(); err == nil {
				t.Fatalf("a set with only this key was accepted: %q", keptIDs(t, j))
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{"keys":"x"}`, `{"keys":[1,2]}`, `null`, `{"keys":[]}`} {
		t.Run("refuses the key set "+bad, func(t *testing.T) {
			srv := newJWKSServer(t)
			srv.mu.Lock()
			srv.body = []byte(bad)
			srv.mu.Unlock()
			j, err := NewJWKS(srv.URL, nil, time.Hour, time.Hour, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := j.load(t.Context()); err == nil {
				t.Errorf("the key set %q loaded", bad)
			}
		})
	}
	t.Run("refuses a key set over the size bound", func(t *testing.T) {
		// 20 keys, far fewer than maxJWKSKeys, of 64 KiB each.
		many := []any{good}
		for len(many) < 20 {
			many = append(many, mod(good, func(m map[string]any) { m["kid"] = strings.Repeat("k", 64<<10) + fmt.Sprint(len(many)) }))
		}
		if j := loadSet(t, map[string]any{"keys": many}); j.Loaded() == nil {
			t.Errorf("a key set of over %d bytes loaded", maxJWKSBytes)
		}
	})
	t.Run("refuses a key set with too many keys", func(t *testing.T) {
		many := []any{good}
		for len(many) <= maxJWKSKeys {
			many = append(many, mod(good, func(m map[string]any) { m["kid"] = fmt.Sprint(len(many)) }))
		}
		if j := loadSet(t, map[string]any{"keys": many}); j.Loaded() == nil || !strings.Contains(j.Loaded().Error(), "more than 100") {
			t.Errorf("a key set of %d keys: %v", len(many), j.Loaded())
		}
	})
}

// FuzzKeySet feeds any body to jwkset's parser and our key policy: nothing
// panics, and a key the policy keeps can verify an accepted algorithm.
func FuzzKeySet(f *testing.F) {
	testKeys(f)
	for _, s := range []signer{rsaSigner(f, "r"), ecSigner(f, "e"), edSigner(f, "d")} {
		b, _ := json.Marshal(map[string]any{"keys": []any{jwkOf(s)}})
		f.Add(b)
	}
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"","e":""}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var set jwkset.JWKSMarshal
		if json.Unmarshal(body, &set) != nil {
			return
		}
		for _, m := range set.Keys {
			k, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{Private: true}, jwkset.JWKValidateOptions{})
			if err != nil || unusable(k) != "" {
				continue
			}
			if !keyFits(k.Key(), "RS256") && !keyFits(k.Key(), "ES256") && !keyFits(k.Key(), "EdDSA") {
				t.Fatalf("kept a key no accepted algorithm can use: %T", k.Key())
			}
			if rk, ok := k.Key().(*rsa.PublicKey); ok && rk.N.BitLen() < minRSABits {
				t.Fatalf("kept an RSA key of %d bits", rk.N.BitLen())
			}
		}
	})
}

// keyFits reports whether k is the kind of key alg verifies with.
func keyFits(k any, alg string) bool {
	switch alg {
	case "RS256":
		_, ok := k.(*rsa.PublicKey)
		return ok
	case "ES256":
		ek, ok := k.(*ecdsa.PublicKey)
		return ok && ek.Curve == elliptic.P256()
	case "EdDSA":
		_, ok := k.(ed25519.PublicKey)
		return ok
	}
	return false
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
