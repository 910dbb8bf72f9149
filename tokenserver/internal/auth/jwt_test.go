package auth

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testSecret = []byte("a-shared-secret-of-32-bytes-or-more!")

func hsSigner(secret []byte) signer {
	return signer{alg: "HS256", method: jwt.SigningMethodHS256, priv: secret}
}

// with returns claims for alice changed by f.
func with(f func(jwt.MapClaims)) jwt.MapClaims {
	c := claimsFor("alice")
	f(c)
	return c
}

// rsaPublicPEM is the RSA public key as a PEM file: what an attacker would
// try as the HMAC secret in the HS/RS confusion attack.
func rsaPublicPEM(t *testing.T) []byte {
	testKeys(t)
	der, err := x509.MarshalPKIXPublicKey(&rsaPriv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func noneToken(t *testing.T, kid string) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, claimsFor("alice"))
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jwtCase is one token shown to an authenticator.
type jwtCase struct {
	name       string
	token      func(t *testing.T) string
	wantUID    string // "" means refused
	wantReason string
}

func runJWTCases(t *testing.T, a *Authenticator, cases []jwtCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.token(t)
			c, e := a.Authenticate(bearerRequest(tok))
			if tt.wantUID != "" {
				if e != nil || c.UserID != tt.wantUID || !c.Bound() {
					t.Fatalf("got %+v, %v; want caller %q bound to it", c, e, tt.wantUID)
				}
				return
			}
			if e == nil {
				t.Fatalf("accepted: %+v", c)
			}
			if e.Status != http.StatusUnauthorized || e.Code != "invalid_token" || !strings.Contains(e.Reason, tt.wantReason) {
				t.Fatalf("refused with %+v, want 401 invalid_token saying %q", e, tt.wantReason)
			}
			if len(tok) > 20 && strings.Contains(e.Reason+a.Challenge(e), tok[len(tok)-20:]) {
				t.Errorf("the refusal echoes the token")
			}
		})
	}
}

func TestJWTWithASharedSecret(t *testing.T) {
	a, err := New(Options{Mode: ModeJWT, JWT: JWTOptions{
		Secret: testSecret, Issuer: "https://login.example.com/", Audience: "tokenserver", Leeway: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	hs := hsSigner(testSecret)
	now := time.Now()
	runJWTCases(t, a, []jwtCase{
		{name: "a valid token is accepted and bound to its sub", wantUID: "alice",
			token: func(t *testing.T) string { return sign(t, hs, claimsFor("alice")) }},
		{name: "a token expired within the leeway is still accepted", wantUID: "alice",
			token: func(t *testing.T) string {
				return sign(t, hs, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Second).Unix() }))
			}},
		{name: "an expired token is refused", wantReason: "expired",
			token: func(t *testing.T) string {
				return sign(t, hs, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() }))
			}},
		{name: "a token not valid yet (nbf) is refused", wantReason: "not valid yet",
			token: func(t *testing.T) string {
				return sign(t, hs, with(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }))
			}},
		{name: "a token issued in the future (iat) is refused", wantReason: "issued in the future",
			token: func(t *testing.T) string {
				return sign(t, hs, with(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() }))
			}},
		{name: "a token without exp is refused: it would never expire", wantReason: "exp",
			token: func(t *testing.T) string { return sign(t, hs, with(func(c jwt.MapClaims) { delete(c, "exp") })) }},
		{name: "a token from another issuer is refused", wantReason: "issuer",
			token: func(t *testing.T) string {
				return sign(t, hs, with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example/" }))
			}},
		{name: "a token for another audience is refused", wantReason: "audience",
			token: func(t *testing.T) string { return sign(t, hs, with(func(c jwt.MapClaims) { c["aud"] = "billing" })) }},
		{name: "a token with our audience among others is accepted", wantUID: "alice",
			token: func(t *testing.T) string {
				return sign(t, hs, with(func(c jwt.MapClaims) { c["aud"] = []string{"billing", "tokenserver"} }))
			}},
		{name: "a token signed with another secret (forged) is refused", wantReason: "signature",
			token: func(t *testing.T) string {
				return sign(t, hsSigner([]byte("someone-elses-secret-of-32-bytes!!")), claimsFor("alice"))
			}},
		{name: "a token whose payload was changed after signing is refused", wantReason: "signature",
			token: func(t *testing.T) string {
				good := strings.Split(sign(t, hs, claimsFor("alice")), ".")
				other := strings.Split(sign(t, hs, claimsFor("mallory")), ".")
				return good[0] + "." + other[1] + "." + good[2]
			}},
		{name: "alg none is refused", wantReason: "signature or algorithm",
			token: func(t *testing.T) string { return noneToken(t, "") }},
		{name: "HS384 is refused: only HS256 is configured", wantReason: "signature or algorithm",
			token: func(t *testing.T) string {
				return sign(t, signer{method: jwt.SigningMethodHS384, priv: testSecret}, claimsFor("alice"))
			}},
		{name: "an RS256 token is refused by a secret-only server", wantReason: "signature or algorithm",
			token: func(t *testing.T) string { return sign(t, rsaSigner(t, "r1"), claimsFor("alice")) }},
		{name: "a token without the uid claim is refused", wantReason: "no sub claim",
			token: func(t *testing.T) string { return sign(t, hs, with(func(c jwt.MapClaims) { delete(c, "sub") })) }},
		{name: "a token with an empty sub is refused", wantReason: "no sub claim",
			token: func(t *testing.T) string { return sign(t, hs, with(func(c jwt.MapClaims) { c["sub"] = "" })) }},
		{name: "a token whose sub is an object is refused", wantReason: "no sub claim",
			token: func(t *testing.T) string {
				return sign(t, hs, with(func(c jwt.MapClaims) { c["sub"] = map[string]any{"id": "alice"} }))
			}},
		{name: "garbage is refused as malformed", wantReason: "malformed",
			token: func(t *testing.T) string { return "not.a.jwt" }},
	})

	t.Run("no credentials get 401 without an error code", func(t *testing.T) {
		_, e := a.Authenticate(bearerRequest(""))
		if e == nil || e.Status != 401 || e.Code != "" {
			t.Fatalf("got %+v", e)
		}
	})
	t.Run("an X-API-Key header is no credential in jwt mode", func(t *testing.T) {
		r := bearerRequest("")
		r.Header.Set("X-API-Key", sign(t, hs, claimsFor("alice")))
		if _, e := a.Authenticate(r); e == nil {
			t.Fatal("accepted")
		}
	})
}

func TestJWTUIDClaim(t *testing.T) {
	a, err := New(Options{Mode: ModeJWT, JWT: JWTOptions{Secret: testSecret, UIDClaim: "rtc_uid"}})
	if err != nil {
		t.Fatal(err)
	}
	hs := hsSigner(testSecret)
	runJWTCases(t, a, []jwtCase{
		{name: "a numeric uid claim is read in its decimal spelling", wantUID: "4242",
			token: func(t *testing.T) string { return sign(t, hs, with(func(c jwt.MapClaims) { c["rtc_uid"] = 4242 })) }},
		{name: "a string uid claim is read as is", wantUID: "alice@example.com",
			token: func(t *testing.T) string {
				return sign(t, hs, with(func(c jwt.MapClaims) { c["rtc_uid"] = "alice@example.com" }))
			}},
		{name: "a fractional uid claim is refused", wantReason: "no rtc_uid claim",
			token: func(t *testing.T) string { return sign(t, hs, with(func(c jwt.MapClaims) { c["rtc_uid"] = 1.5 })) }},
		{name: "sub is not used when another claim is configured", wantReason: "no rtc_uid claim",
			token: func(t *testing.T) string { return sign(t, hs, claimsFor("alice")) }},
	})
}

func TestJWTOptionsRefused(t *testing.T) {
	tests := []struct {
		name string
		o    JWTOptions
	}{
		{"neither a secret nor a JWKS URL", JWTOptions{}},
		{"both a secret and a JWKS URL", JWTOptions{Secret: testSecret, JWKSURL: "https://login.example.com/jwks"}},
		{"a secret shorter than 32 bytes", JWTOptions{Secret: []byte("short")}},
		{"a JWKS URL over plain http to another host", JWTOptions{JWKSURL: "http://login.example.com/jwks"}},
	}
	for _, tt := range tests {
		t.Run("New refuses "+tt.name, func(t *testing.T) {
			if _, err := New(Options{Mode: ModeJWT, JWT: tt.o}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if _, err := New(Options{Mode: "basic"}); err == nil {
		t.Error("an unknown mode was accepted")
	}
	a, err := New(Options{})
	if err != nil || a.Mode() != ModeNone {
		t.Fatalf("the zero Options: %v %v", a, err)
	}
	if c, e := a.Authenticate(bearerRequest("")); e != nil || c.Kind != "anonymous" || c.Bound() {
		t.Errorf("mode none: %+v %v", c, e)
	}
	a.Run(context.Background()) // returns at once without a key set
}
