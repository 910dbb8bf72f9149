package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// JWKS is a JSON Web Key Set (RFC 7517) fetched from a URL and cached, by
// github.com/MicahParks/keyfunc/v3 (the JWKS companion of golang-jwt) over
// its storage library github.com/MicahParks/jwkset: they parse the keys,
// refresh them in the background every refresh interval, and fetch again
// when a token names a key ID the cache lacks (the identity provider rotated
// its keys) — at most once every minRefresh, the request waiting at most
// unknownKidWait. A request never waits for the endpoint otherwise; when a
// fetch fails the previous keys stay in use.
//
// What is ours: the policy of which published keys may verify a token
// (signingKeys: RSA of 2048 bits or more, EC P-256, Ed25519, for signing, by
// an accepted algorithm), a bound on the key set's size, and retrying the
// first load every minRefresh until it succeeds.
type JWKS struct {
	url        string
	client     *http.Client
	refresh    time.Duration
	minRefresh time.Duration
	log        *slog.Logger

	kf      atomic.Pointer[keyfunc.Keyfunc] // nil until the first load
	mu      sync.Mutex
	lastErr error
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
	// jwkset reads the whole body; a key set over the bound is cut short
	// and fails to decode, so the keys already loaded stay in use.
	limited := *client
	limited.Transport = limitBody{next: client.Transport}
	if refresh <= 0 {
		refresh = DefaultJWKSRefresh
	}
	if minRefresh <= 0 {
		minRefresh = DefaultJWKSMinRefresh
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &JWKS{url: rawURL, client: &limited, refresh: refresh, minRefresh: minRefresh, log: log}, nil
}

// Run loads the keys (trying again every minRefresh until that works), then
// leaves keyfunc refreshing them until ctx is done.
func (j *JWKS) Run(ctx context.Context) {
	for {
		attempt, cancel := context.WithCancel(ctx)
		kf, err := j.load(attempt)
		if err == nil {
			j.kf.Store(&kf)
			<-ctx.Done()
			cancel()
			return
		}
		cancel() // ends the refresh goroutine of the failed attempt
		j.failed(err)
		t := time.NewTimer(j.minRefresh)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// load makes the keyfunc, whose storage fetches the set once now; it fails
// when that fetch does.
func (j *JWKS) load(ctx context.Context) (keyfunc.Keyfunc, error) {
	store, err := jwkset.NewStorageFromHTTP(j.url, jwkset.HTTPClientStorageOptions{
		Client:          j.client,
		Ctx:             ctx,
		HTTPTimeout:     jwksFetchTimeout,
		RefreshInterval: j.refresh,
		RefreshErrorHandler: func(_ context.Context, err error) {
			j.failed(err)
		},
		Storage: signingKeys{Storage: jwkset.NewMemoryStorage(), jwks: j},
	})
	if err != nil {
		return nil, err
	}
	client, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs: map[string]jwkset.Storage{j.url: store},
		// A token under an unknown key ID waits this long at most, for
		// the rate limiter and the fetch together.
		RateLimitWaitMax:  unknownKidWait,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(j.minRefresh), 1),
	})
	if err != nil {
		return nil, err
	}
	return keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: client, UseWhitelist: []jwkset.USE{jwkset.UseSig, ""}})
}

func (j *JWKS) failed(err error) {
	j.mu.Lock()
	j.lastErr = err
	j.mu.Unlock()
	j.log.Warn("jwks: fetch failed; keeping the keys already loaded", "url", redactURL(j.url), "err", scrubURL(err.Error(), j.url))
}

// Loaded is nil once a key set has been fetched, else why not.
func (j *JWKS) Loaded() error {
	if j.kf.Load() != nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.lastErr != nil {
		return fmt.Errorf("jwks: no signing keys loaded yet: %s", scrubURL(j.lastErr.Error(), j.url))
	}
	return errors.New("jwks: no signing keys loaded yet")
}

// Keyfunc returns the jwt.Keyfunc for a request: keyfunc's lookup by kid,
// with the JWK's alg and use checked against the token's (a token without
// kid is tried against every key). The key's type is checked by golang-jwt
// itself (an RS256 verification refuses anything but *rsa.PublicKey), and
// the parser only accepts jwksAlgs, so no key can verify the wrong family.
func (j *JWKS) Keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		kf := j.kf.Load()
		if kf == nil {
			return nil, errors.New("no key set loaded yet")
		}
		return (*kf).KeyfuncCtx(ctx)(t)
	}
}

// signingKeys is the key store jwkset fills on every successful fetch. It
// keeps only the keys that may verify a token and refuses a set with none,
// which jwkset then treats as a failed fetch (the previous keys stay).
type signingKeys struct {
	jwkset.Storage
	jwks *JWKS
}

// KeyReplaceAll is called by jwkset with every key of a fetched set.
func (s signingKeys) KeyReplaceAll(ctx context.Context, given []jwkset.JWK) error {
	if len(given) > maxJWKSKeys {
		return fmt.Errorf("the key set has %d keys, more than %d", len(given), maxJWKSKeys)
	}
	keep := make([]jwkset.JWK, 0, len(given))
	for i, k := range given {
		if reason := unusable(k); reason != "" {
			s.jwks.log.Debug("jwks: key skipped", "index", i, "kid", k.Marshal().KID, "reason", reason)
			continue
		}
		keep = append(keep, k)
	}
	if len(keep) == 0 {
		return fmt.Errorf("the key set has no usable signing key (of %d: RSA ≥ %d bits, EC P-256 or Ed25519 wanted)", len(given), minRSABits)
	}
	if err := s.Storage.KeyReplaceAll(ctx, keep); err != nil {
		return err
	}
	s.jwks.mu.Lock()
	s.jwks.lastErr = nil
	s.jwks.mu.Unlock()
	s.jwks.log.Debug("jwks: keys loaded", "url", redactURL(s.jwks.url), "keys", len(keep))
	return nil
}

// unusable says why a parsed JWK must not verify tokens, or "". "oct" above
// all: a symmetric key published in a key set would turn every holder of
// the set into a signer.
func unusable(k jwkset.JWK) string {
	m := k.Marshal()
	if m.USE != "" && m.USE != jwkset.UseSig {
		return fmt.Sprintf("use %q is not sig", m.USE)
	}
	if len(m.KEYOPS) > 0 && !slices.Contains(m.KEYOPS, jwkset.KeyOpsVerify) {
		return "key_ops does not include verify"
	}
	alg := m.ALG.String()
	if alg == "Ed25519" {
		alg = "EdDSA" // RFC 9864's fully specified name for the same thing
	}
	if alg != "" && !slices.Contains(jwksAlgs, alg) {
		return fmt.Sprintf("alg %q is not accepted", alg)
	}
	switch pub := k.Key().(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return fmt.Sprintf("RSA key of %d bits, fewer than %d", pub.N.BitLen(), minRSABits)
		}
		if pub.E < 3 || pub.E%2 == 0 || pub.E > 1<<31-1 {
			return "RSA key with an unusable exponent"
		}
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return "EC key not on P-256 (only ES256 is accepted)"
		}
		if _, err := pub.ECDH(); err != nil { // refuses points not on the curve
			return "EC key that is not a point on P-256"
		}
	case ed25519.PublicKey:
	default:
		return fmt.Sprintf("key type %q is not accepted", m.KTY)
	}
	return ""
}

// limitBody cuts every response body at maxJWKSBytes+1 bytes.
type limitBody struct{ next http.RoundTripper }

func (l limitBody) RoundTrip(r *http.Request) (*http.Response, error) {
	next := l.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(r)
	if err == nil {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(resp.Body, maxJWKSBytes+1), resp.Body}
	}
	return resp, err
}

// scrubURL replaces the key set URL in msg (jwkset's errors quote it as
// given) by its redacted form.
func scrubURL(msg, rawURL string) string {
	return strings.ReplaceAll(msg, rawURL, redactURL(rawURL))
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "[JWKS URL]"
	}
	u.RawQuery = "" // a signed URL carries its signature here
	return u.Redacted()
}
