package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// signer is a private key with the kid and alg a key set publishes it under.
type signer struct {
	kid    string
	alg    string
	method jwt.SigningMethod
	priv   any
	pub    any
}

// rsaKey and friends are made once per test binary: RSA key generation is slow.
var (
	keysOnce          sync.Once
	rsaPriv, rsaPriv2 *rsa.PrivateKey
	ecPriv            *ecdsa.PrivateKey
	edPub             ed25519.PublicKey
	edPriv            ed25519.PrivateKey
	rsaSmall          *rsa.PrivateKey
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if rsaPriv, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if rsaPriv2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if ecPriv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if edPub, edPriv, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
		if rsaSmall, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
			panic(err)
		}
	})
}

func rsaSigner(t testing.TB, kid string) signer {
	testKeys(t)
	return signer{kid: kid, alg: "RS256", method: jwt.SigningMethodRS256, priv: rsaPriv, pub: &rsaPriv.PublicKey}
}

func rsaSigner2(t testing.TB, kid string) signer {
	testKeys(t)
	return signer{kid: kid, alg: "RS256", method: jwt.SigningMethodRS256, priv: rsaPriv2, pub: &rsaPriv2.PublicKey}
}

func ecSigner(t testing.TB, kid string) signer {
	testKeys(t)
	return signer{kid: kid, alg: "ES256", method: jwt.SigningMethodES256, priv: ecPriv, pub: &ecPriv.PublicKey}
}

func edSigner(t testing.TB, kid string) signer {
	testKeys(t)
	return signer{kid: kid, alg: "EdDSA", method: jwt.SigningMethodEdDSA, priv: edPriv, pub: edPub}
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwkOf is the public JWK of s.
func jwkOf(s signer) map[string]any {
	m := map[string]any{"kid": s.kid, "use": "sig", "alg": s.alg}
	switch k := s.pub.(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64u(k.N.Bytes()), b64u(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		x, y := make([]byte, 32), make([]byte, 32)
		b, _ := k.Bytes()
		copy(x, b[1:33])
		copy(y, b[33:])
		m["kty"], m["crv"], m["x"], m["y"] = "EC", "P-256", b64u(x), b64u(y)
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64u(k)
	}
	return m
}

// sign makes a compact JWS of claims with s, kid in the header.
func sign(t testing.TB, s signer, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(s.method, claims)
	if s.kid != "" {
		tok.Header["kid"] = s.kid
	}
	out, err := tok.SignedString(s.priv)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// claimsFor are valid claims for uid, issued now, expiring in an hour.
func claimsFor(uid string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"sub": uid, "iss": "https://login.example.com/", "aud": "tokenserver",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// jwksServer is a key set endpoint on loopback whose answer the test changes.
type jwksServer struct {
	*httptest.Server
	mu     sync.Mutex
	body   []byte
	status int
	hold   chan struct{} // non-nil: requests wait until it is closed
	hits   atomic.Int64
}

func newJWKSServer(t *testing.T, keys ...signer) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK}
	s.setKeys(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		hold, body, status := s.hold, s.body, s.status
		s.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(func() {
		s.release()
		s.Close()
	})
	return s
}

func (s *jwksServer) setKeys(t testing.TB, keys ...signer) {
	var list []any
	for _, k := range keys {
		list = append(list, jwkOf(k))
	}
	s.setRaw(t, map[string]any{"keys": list})
}

func (s *jwksServer) setRaw(t testing.TB, doc any) {
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

func (s *jwksServer) setStatus(code int) {
	s.mu.Lock()
	s.status = code
	s.mu.Unlock()
}

// stall makes the endpoint hang until release.
func (s *jwksServer) stall() {
	s.mu.Lock()
	s.hold = make(chan struct{})
	s.mu.Unlock()
}

func (s *jwksServer) release() {
	s.mu.Lock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
	s.mu.Unlock()
}

// bearerRequest is a request carrying Authorization: Bearer tok.
func bearerRequest(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/rtm/alice", nil)
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return r
}
