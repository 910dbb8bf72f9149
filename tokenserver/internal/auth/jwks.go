package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// JWKS is a JSON Web Key Set (RFC 7517) fetched from a URL and cached. A
// request never waits for the endpoint, with one bounded exception: a token
// naming a key ID the cache lacks (the identity provider rotated its keys)
// starts a fetch — at most one every minRefresh — and waits up to
// unknownKidWait for it. Keys are refreshed in the background every refresh
// interval; when a fetch fails the previous keys stay in use.
//
// No JWKS helper module is available to this build, so this is a small one
// over net/http and the standard crypto packages: RSA (2048 bits or more),
// EC P-256 and Ed25519 signing keys.
type JWKS struct {
	url        string
	client     *http.Client
	refresh    time.Duration
	minRefresh time.Duration
	log        *slog.Logger

	keys atomic.Pointer[keySet]

	mu       sync.Mutex
	inflight chan struct{} // closed when the running fetch ends; nil if none
	// lastKidFetch is when an unknown key ID last started a fetch; the
	// scheduled refreshes do not count, so a rotation just after start is
	// still picked up at once.
	lastKidFetch time.Time
	lastErr      error
	base         context.Context // Run's context, so fetches stop at shutdown
}

type keySet struct {
	keys []jwk
}

type jwk struct {
	kid string
	alg string // "" when the set does not say
	key any    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// Defaults and bounds of the cache.
const (
	DefaultJWKSRefresh    = 5 * time.Minute
	DefaultJWKSMinRefresh = 30 * time.Second
	jwksFetchTimeout      = 5 * time.Second
	unknownKidWait        = time.Second
	maxJWKSBytes          = 1 << 20
	maxJWKSKeys           = 100
	minRSABits            = 2048
)

// CheckJWKSURL reports what is wrong with a key set URL: it must be https,
// or http on a loopback host (a sidecar, a test), and hold no credentials.
func CheckJWKSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("must be an https:// URL")
	}
	if u.User != nil {
		return errors.New("must not hold a user name or password")
	}
	if u.Scheme == "http" {
		h := u.Hostname()
		ip := net.ParseIP(h)
		if h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return errors.New("must be https:// (plain http only for a loopback host): keys fetched in the clear can be swapped on the way")
		}
	}
	return nil
}

// NewJWKS returns an empty cache for url; Run fills it.
func NewJWKS(rawURL string, client *http.Client, refresh, minRefresh time.Duration, log *slog.Logger) (*JWKS, error) {
	if err := CheckJWKSURL(rawURL); err != nil {
		return nil, fmt.Errorf("auth: jwt: JWKS URL %v", err)
	}
	if client == nil {
		client = &http.Client{
			Timeout:   jwksFetchTimeout,
			Transport: &http.Transport{Proxy: nil, TLSHandshakeTimeout: jwksFetchTimeout, ResponseHeaderTimeout: jwksFetchTimeout},
			// A redirect could lead the fetch anywhere; the configured URL is the one trusted.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if refresh <= 0 {
		refresh = DefaultJWKSRefresh
	}
	if minRefresh <= 0 {
		minRefresh = DefaultJWKSMinRefresh
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &JWKS{url: rawURL, client: client, refresh: refresh, minRefresh: minRefresh, log: log, base: context.Background()}, nil
}

// Run fetches the keys now and then every refresh interval (after a failed
// fetch: again after minRefresh) until ctx is done.
func (j *JWKS) Run(ctx context.Context) {
	j.mu.Lock()
	j.base = ctx
	j.mu.Unlock()
	for {
		wait := j.refresh
		if ch := j.startFetch(true); ch != nil {
			select {
			case <-ch:
			case <-ctx.Done():
				return
			}
		}
		j.mu.Lock()
		if j.lastErr != nil {
			wait = j.minRefresh
		}
		j.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// Loaded is nil once a key set has been fetched, else why not.
func (j *JWKS) Loaded() error {
	if j.keys.Load() != nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.lastErr != nil {
		return fmt.Errorf("jwks: no signing keys loaded yet: %v", j.lastErr)
	}
	return errors.New("jwks: no signing keys loaded yet")
}

// Key returns the key for a token's kid and alg.
func (j *JWKS) Key(ctx context.Context, kid, alg string) (any, error) {
	k, err := j.lookup(kid, alg)
	if err == nil || !errors.Is(err, errUnknownKid) {
		return k, err
	}
	ch := j.startFetch(false)
	if ch == nil {
		return nil, err // fetched recently: this kid is simply unknown
	}
	t := time.NewTimer(unknownKidWait)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
	return j.lookup(kid, alg)
}

var errUnknownKid = errors.New("unknown key ID")

func (j *JWKS) lookup(kid, alg string) (any, error) {
	ks := j.keys.Load()
	if ks == nil {
		return nil, fmt.Errorf("%w: no key set loaded yet", errUnknownKid)
	}
	var fits []jwk
	for _, k := range ks.keys {
		if (k.alg == "" || k.alg == alg) && keyFits(k.key, alg) {
			if kid != "" && k.kid == kid {
				return k.key, nil
			}
			fits = append(fits, k)
		}
	}
	if kid == "" && len(fits) == 1 {
		return fits[0].key, nil // a token without kid, and only one key it could mean
	}
	if kid == "" {
		return nil, fmt.Errorf("the token names no key ID (kid) and %d keys fit %s", len(fits), alg)
	}
	return nil, fmt.Errorf("%w %q for %s", errUnknownKid, kid, alg)
}

// startFetch starts a fetch unless one is running (then it returns that
// one's channel). For an unknown key ID (scheduled false) it starts one only
// if the last such fetch began at least minRefresh ago, else returns nil.
func (j *JWKS) startFetch(scheduled bool) chan struct{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.inflight != nil {
		return j.inflight
	}
	if !scheduled {
		if !j.lastKidFetch.IsZero() && time.Since(j.lastKidFetch) < j.minRefresh {
			return nil
		}
		j.lastKidFetch = time.Now()
	}
	ch := make(chan struct{})
	j.inflight = ch
	base := j.base
	go func() {
		ks, err := j.fetch(base)
		j.mu.Lock()
		j.lastErr = err
		j.inflight = nil
		j.mu.Unlock()
		if err != nil {
			j.log.Warn("jwks: fetch failed; keeping the keys already loaded", "url", redactURL(j.url), "err", err.Error())
		} else {
			j.keys.Store(ks)
			j.log.Debug("jwks: keys loaded", "url", redactURL(j.url), "keys", len(ks.keys))
		}
		close(ch)
	}()
	return ch
}

func (j *JWKS) fetch(ctx context.Context) (*keySet, error) {
	ctx, cancel := context.WithTimeout(ctx, jwksFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("GET %s: %v", redactURL(j.url), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s answered %s", redactURL(j.url), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading the body: %v", redactURL(j.url), err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("GET %s: the key set is over %d bytes", redactURL(j.url), maxJWKSBytes)
	}
	return parseJWKS(body, j.log)
}

// rawJWK is a JWK's members, as strings (RFC 7518 §6).
type rawJWK struct {
	Kty    string   `json:"kty"`
	Kid    string   `json:"kid"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Alg    string   `json:"alg"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	Crv    string   `json:"crv"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
}

// parseJWKS reads a key set and keeps the keys usable for signature
// verification by an accepted algorithm; it fails when none is.
func parseJWKS(body []byte, log *slog.Logger) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errors.New("the key set is not a JSON object with a keys array")
	}
	if len(doc.Keys) > maxJWKSKeys {
		return nil, fmt.Errorf("the key set has %d keys, more than %d", len(doc.Keys), maxJWKSKeys)
	}
	ks := &keySet{}
	for i, raw := range doc.Keys {
		k, err := parseJWK(raw)
		if err != nil {
			log.Debug("jwks: key skipped", "index", i, "reason", err.Error())
			continue
		}
		ks.keys = append(ks.keys, k)
	}
	if len(ks.keys) == 0 {
		return nil, fmt.Errorf("the key set has no usable signing key (of %d: RSA ≥ %d bits, EC P-256 or Ed25519 wanted)", len(doc.Keys), minRSABits)
	}
	return ks, nil
}

func parseJWK(raw json.RawMessage) (jwk, error) {
	var r rawJWK
	if err := json.Unmarshal(raw, &r); err != nil {
		return jwk{}, errors.New("not a JWK object")
	}
	if r.Use != "" && r.Use != "sig" {
		return jwk{}, fmt.Errorf("use %q is not sig", r.Use)
	}
	if len(r.KeyOps) > 0 && !slices.Contains(r.KeyOps, "verify") {
		return jwk{}, errors.New("key_ops does not include verify")
	}
	if r.Alg == "Ed25519" {
		r.Alg = "EdDSA" // RFC 9864's fully specified name for the same thing
	}
	if r.Alg != "" && !slices.Contains(jwksAlgs, r.Alg) {
		return jwk{}, fmt.Errorf("alg %q is not accepted", r.Alg)
	}
	k := jwk{kid: r.Kid, alg: r.Alg}
	switch r.Kty {
	case "RSA":
		n, err1 := b64(r.N)
		e, err2 := b64(r.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return jwk{}, errors.New("RSA key with a malformed n or e")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < minRSABits {
			return jwk{}, fmt.Errorf("RSA key of %d bits, fewer than %d", pub.N.BitLen(), minRSABits)
		}
		if pub.E < 3 || pub.E%2 == 0 {
			return jwk{}, errors.New("RSA key with an unusable exponent")
		}
		k.key = pub
	case "EC":
		if r.Crv != "P-256" {
			return jwk{}, fmt.Errorf("EC curve %q (only P-256, for ES256)", r.Crv)
		}
		x, err1 := b64(r.X)
		y, err2 := b64(r.Y)
		if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
			return jwk{}, errors.New("EC key with malformed coordinates")
		}
		// ParseUncompressedPublicKey refuses points that are not on the curve.
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return jwk{}, errors.New("EC key that is not a point on P-256")
		}
		k.key = pub
	case "OKP":
		x, err := b64(r.X)
		if r.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return jwk{}, errors.New("OKP key that is not a well-formed Ed25519 key")
		}
		k.key = ed25519.PublicKey(x)
	default:
		// "oct" above all: a symmetric key published in a key set would turn
		// every holder of the set into a signer.
		return jwk{}, fmt.Errorf("key type %q is not accepted", r.Kty)
	}
	return k, nil
}

// b64 decodes base64url, with or without padding.
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "[JWKS URL]"
	}
	u.RawQuery = "" // a signed URL carries its signature here
	return u.Redacted()
}
