package config

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"

	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/redis"
	"signaling-auth/tokenserver/internal/auth"
)

// Auth says who may ask for tokens (issue 7).
type Auth struct {
	Mode string // none, api_key or jwt
	// APIKeys are the configured entries (keys or sha256:<hex> digests),
	// from auth.api_keys and auth.api_keys_file together.
	APIKeys []Secret
	JWT     JWT
}

// JWT is auth.jwt.*.
type JWT struct {
	Secret      Secret // HS256; from auth.jwt.secret or auth.jwt.secret_file
	JWKSURL     string
	Issuer      string
	Audience    string
	UIDClaim    string
	Leeway      time.Duration
	JWKSRefresh time.Duration
}

// RateLimit is rate_limit.*. A zero Limit is off.
type RateLimit struct {
	PerIP        ratelimit.Limit
	PerUID       ratelimit.Limit
	Store        string // memory or redis
	RedisURL     Secret // may hold a password
	RedisTimeout time.Duration
	OnStoreError ratelimit.Policy
	MaxKeys      int
}

// securityKeys are the keys of issue 7 (caller authentication and rate
// limits); keys ends with them.
var securityKeys = []key{
	{"auth.mode", "none", "who may mint tokens: none (anyone; for the demo), api_key or jwt"},
	{"auth.api_keys", []string{}, "api_key mode: accepted keys, each the key itself (16+ characters) or sha256:<hex of its SHA-256> (comma-separated)"},
	{"auth.api_keys_file", "", "api_key mode: file with one key or sha256:<hex> per line (# comments), added to auth.api_keys"},
	{"auth.jwt.secret", "", "jwt mode: HS256 shared secret, at least 32 bytes (prefer the _file form or the environment)"},
	{"auth.jwt.secret_file", "", "jwt mode: file holding the HS256 secret (Docker secrets)"},
	{"auth.jwt.jwks_url", "", "jwt mode: the identity provider's JWKS URL for RS256/ES256/EdDSA tokens (https, or http on loopback)"},
	{"auth.jwt.issuer", "", "jwt mode: the iss claim tokens must carry (required with jwks_url)"},
	{"auth.jwt.audience", "", "jwt mode: the aud value tokens must carry (required with jwks_url)"},
	{"auth.jwt.uid_claim", "sub", "jwt mode: the claim holding the caller's user ID; tokens are minted only for that user ID"},
	{"auth.jwt.leeway", "30s", "jwt mode: clock skew forgiven on exp, nbf and iat (at most 5m)"},
	{"auth.jwt.jwks_refresh", "5m", "jwt mode: how often the JWKS is fetched again (an unknown key ID also triggers a fetch, at most every 30s)"},
	{"rate_limit.per_ip", "10/s", "requests per client IP to the token routes: N/s, N/min, N/h or off"},
	{"rate_limit.per_uid", "2/s", "tokens per requested user ID: N/s, N/min, N/h or off"},
	{"rate_limit.burst", 40, "requests a client (or user ID) may make at once before the rate applies"},
	{"rate_limit.store", "memory", "memory (this process) or redis (shared by every replica)"},
	{"rate_limit.redis_url", "", "redis store: redis://[user:password@]host:port/db or rediss://… (prefer the environment)"},
	{"rate_limit.redis_timeout", "250ms", "redis store: longest wait for Redis per request; then on_store_error applies"},
	{"rate_limit.on_store_error", "allow", "when the store fails: allow (requests pass unlimited) or deny (503)"},
	{"rate_limit.max_keys", 100000, "memory store: most client IPs and user IDs tracked; the least recently seen go first"},
}

// maxLeeway bounds auth.jwt.leeway: more would keep expired tokens alive.
const maxLeeway = 5 * time.Minute

// loadSecurity reads and checks auth.* and rate_limit.*; problems go to add.
func loadSecurity(p *parser, add func(k, format string, a ...any)) (Auth, RateLimit) {
	a := Auth{
		Mode: strings.ToLower(p.str("auth.mode")),
		JWT: JWT{
			Secret:      NewSecret(p.str("auth.jwt.secret")),
			JWKSURL:     p.str("auth.jwt.jwks_url"),
			Issuer:      p.str("auth.jwt.issuer"),
			Audience:    p.str("auth.jwt.audience"),
			UIDClaim:    p.str("auth.jwt.uid_claim"),
			Leeway:      p.duration("auth.jwt.leeway"),
			JWKSRefresh: p.duration("auth.jwt.jwks_refresh"),
		},
	}
	keyList := p.list("auth.api_keys")
	keysFile := p.str("auth.api_keys_file")
	secretFile := p.str("auth.jwt.secret_file")

	for i, k := range keyList {
		if _, err := auth.ParseAPIKey(k); err != nil {
			add("auth.api_keys", "entry %d: %v", i+1, err)
		}
		a.APIKeys = append(a.APIKeys, NewSecret(k))
	}
	if keysFile != "" {
		entries, err := readKeyFile(keysFile)
		if err != nil {
			add("auth.api_keys_file", "%v", err)
		}
		for _, e := range entries {
			if _, err := auth.ParseAPIKey(e.key); err != nil {
				add("auth.api_keys_file", "%s line %d: %v", keysFile, e.line, err)
			}
			a.APIKeys = append(a.APIKeys, NewSecret(e.key))
		}
	}
	if secretFile != "" {
		switch b, err := os.ReadFile(secretFile); {
		case !a.JWT.Secret.IsZero():
			add("auth.jwt.secret_file", "set either auth.jwt.secret or auth.jwt.secret_file, not both")
		case err != nil:
			add("auth.jwt.secret_file", "cannot read %s: %v", secretFile, unwrapPathErr(err))
		default:
			a.JWT.Secret = NewSecret(strings.TrimSpace(string(b)))
			if a.JWT.Secret.IsZero() {
				add("auth.jwt.secret_file", "%s is empty", secretFile)
			}
		}
	}
	secretKey := "auth.jwt.secret"
	if secretFile != "" {
		secretKey = "auth.jwt.secret_file"
	}
	hasKeys := len(keyList) > 0 || keysFile != ""
	hasJWT := !a.JWT.Secret.IsZero() || secretFile != "" || a.JWT.JWKSURL != ""

	switch a.Mode {
	case auth.ModeNone:
		// Credentials configured but not asked for: the operator believes the
		// server is protected and it is not. Refuse rather than run open.
		if hasKeys {
			add("auth.api_keys", "keys are set but auth.mode is none, so nobody is asked for one; set auth.mode: api_key")
		}
		if hasJWT {
			add("auth.mode", "auth.jwt.* is set but auth.mode is none, so no token is checked; set auth.mode: jwt")
		}
	case auth.ModeAPIKey:
		if !hasKeys {
			add("auth.api_keys", "api_key mode needs at least one key (auth.api_keys or auth.api_keys_file)")
		}
		if hasJWT {
			add("auth.mode", "auth.jwt.* is set but auth.mode is api_key; use one mode")
		}
	case auth.ModeJWT:
		if hasKeys {
			add("auth.api_keys", "keys are set but auth.mode is jwt; use one mode")
		}
		hasSecret := !a.JWT.Secret.IsZero() || secretFile != ""
		switch {
		case !hasSecret && a.JWT.JWKSURL == "":
			add("auth.jwt.secret", "jwt mode needs auth.jwt.secret (or auth.jwt.secret_file) for HS256, or auth.jwt.jwks_url")
		case hasSecret && a.JWT.JWKSURL != "":
			// Two key sources invite algorithm confusion; one server, one kind of token.
			add(secretKey, "set either a secret (HS256) or auth.jwt.jwks_url, not both")
		case !a.JWT.Secret.IsZero() && len(a.JWT.Secret.Reveal()) < auth.MinSecretBytes:
			add(secretKey, "must be at least %d bytes (got %d); e.g. openssl rand -base64 48", auth.MinSecretBytes, len(a.JWT.Secret.Reveal()))
		}
		if a.JWT.JWKSURL != "" {
			if err := auth.CheckJWKSURL(a.JWT.JWKSURL); err != nil {
				add("auth.jwt.jwks_url", "%v", err)
			}
			// An identity provider signs tokens for all its applications:
			// without these checks any of them would mint here.
			if a.JWT.Issuer == "" {
				add("auth.jwt.issuer", "required with auth.jwt.jwks_url (the provider's iss value)")
			}
			if a.JWT.Audience == "" {
				add("auth.jwt.audience", "required with auth.jwt.jwks_url, else tokens the provider issued for any other application are accepted")
			}
		}
	default:
		add("auth.mode", "must be none, api_key or jwt (got %q)", a.Mode)
	}
	if a.JWT.UIDClaim == "" && !hasErrFor(p.errs, "auth.jwt.uid_claim") {
		add("auth.jwt.uid_claim", "must name a claim, e.g. sub")
	}
	if (a.JWT.Leeway < 0 || a.JWT.Leeway > maxLeeway) && !hasErrFor(p.errs, "auth.jwt.leeway") {
		add("auth.jwt.leeway", "must be 0s-5m (got %s)", a.JWT.Leeway)
	}
	if (a.JWT.JWKSRefresh < 10*time.Second || a.JWT.JWKSRefresh > 24*time.Hour) && !hasErrFor(p.errs, "auth.jwt.jwks_refresh") {
		add("auth.jwt.jwks_refresh", "must be 10s-24h (got %s)", a.JWT.JWKSRefresh)
	}

	r := RateLimit{
		Store:        strings.ToLower(p.str("rate_limit.store")),
		RedisURL:     NewSecret(p.str("rate_limit.redis_url")),
		RedisTimeout: p.duration("rate_limit.redis_timeout"),
		MaxKeys:      p.integer("rate_limit.max_keys"),
	}
	burst := p.integer("rate_limit.burst")
	if (burst < 1 || burst > ratelimit.MaxBurst) && !hasErrFor(p.errs, "rate_limit.burst") {
		add("rate_limit.burst", "must be 1-%d (got %d)", ratelimit.MaxBurst, burst)
	}
	for _, l := range []struct {
		k   string
		dst *ratelimit.Limit
	}{{"rate_limit.per_ip", &r.PerIP}, {"rate_limit.per_uid", &r.PerUID}} {
		s := p.str(l.k)
		rate, period, err := ratelimit.ParseRate(s)
		if err != nil {
			if !hasErrFor(p.errs, l.k) {
				add(l.k, "%v (got %q)", err, clip(s))
			}
			continue
		}
		if rate > 0 {
			*l.dst = ratelimit.Limit{Rate: rate, Period: period, Burst: burst}
		}
	}
	switch r.Store {
	case "memory":
		if !r.RedisURL.IsZero() {
			add("rate_limit.redis_url", "set but rate_limit.store is memory, so limits are not shared; set rate_limit.store: redis")
		}
	case "redis":
		if r.RedisURL.IsZero() {
			add("rate_limit.redis_url", "required when rate_limit.store is redis")
		}
	default:
		add("rate_limit.store", "must be memory or redis (got %q)", clip(r.Store))
	}
	if !r.RedisURL.IsZero() {
		if err := redis.CheckURL(r.RedisURL.Reveal()); err != nil {
			add("rate_limit.redis_url", "%v", err)
		}
	}
	if (r.RedisTimeout < time.Millisecond || r.RedisTimeout > 10*time.Second) && !hasErrFor(p.errs, "rate_limit.redis_timeout") {
		add("rate_limit.redis_timeout", "must be 1ms-10s (got %s)", r.RedisTimeout)
	}
	pol := p.str("rate_limit.on_store_error")
	if policy, err := ratelimit.ParsePolicy(strings.ToLower(pol)); err != nil {
		add("rate_limit.on_store_error", "%v (got %q)", err, clip(pol))
	} else {
		r.OnStoreError = policy
	}
	if (r.MaxKeys < 1000 || r.MaxKeys > 100_000_000) && !hasErrFor(p.errs, "rate_limit.max_keys") {
		add("rate_limit.max_keys", "must be 1000-100000000 (got %d)", r.MaxKeys)
	}
	return a, r
}

type keyLine struct {
	key  string
	line int
}

// readKeyFile reads one API key (or sha256:<hex>) per line; blank lines and
// lines starting with # are skipped.
func readKeyFile(path string) ([]keyLine, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, unwrapPathErr(err))
	}
	var out []keyLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, keyLine{key: l, line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: a line is too long to be a key", path)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no key", path)
	}
	return out, nil
}

// clip shortens a value quoted in an error, so a pasted blob does not
// become a screenful.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
