// Package auth decides who may ask tokenserver for a token: nobody needs to
// prove anything (mode none, the demo), a backend holding an API key (mode
// api_key), or a user holding a JWT from the application's login (mode jwt),
// who is then bound to the user ID in one of its claims. It reads
// credentials from a request and says who the caller is or why not; it does
// not know routes, write answers or read configuration (New gets Options).
package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Modes.
const (
	ModeNone   = "none"
	ModeAPIKey = "api_key"
	ModeJWT    = "jwt"
)

// Options configures an Authenticator.
type Options struct {
	Mode string
	// APIKeys are api_key mode's keys, each either the key itself or
	// "sha256:<64 hex digits>" of it (see ParseAPIKey).
	APIKeys []string
	JWT     JWTOptions
	Logger  *slog.Logger
}

// JWTOptions configures jwt mode: Secret (HS256) or JWKSURL (RS256, ES256,
// EdDSA), never both.
type JWTOptions struct {
	Secret   []byte
	JWKSURL  string
	Issuer   string // "" means not checked
	Audience string // "" means not checked
	// UIDClaim names the claim that holds the caller's user ID ("sub").
	UIDClaim string
	// Leeway forgives clock skew on exp, nbf and iat.
	Leeway time.Duration
	// JWKSRefresh is how often the key set is fetched again; JWKSMinRefresh
	// is the least time between two fetches, however many tokens name an
	// unknown key ID.
	JWKSRefresh    time.Duration
	JWKSMinRefresh time.Duration
	// HTTPClient fetches the key set; nil means a client with a 5s timeout
	// that ignores HTTP_PROXY and does not follow redirects.
	HTTPClient *http.Client
}

// Caller is who made a request.
type Caller struct {
	// Kind is "anonymous", "api_key" or "jwt".
	Kind string
	// UserID is, for Kind jwt, the value of the uid claim: the only user
	// this caller may ask tokens for.
	UserID string
	// KeyID names the API key that matched (Kind api_key): KeyIDOf of it,
	// the first 12 hex digits of its SHA-256, which identify a key among
	// the configured ones without revealing it.
	KeyID string
	// Subject and Issuer are the JWT's sub and iss claims (Kind jwt), for
	// the audit log; empty when the token has none.
	Subject, Issuer string
}

// Bound reports whether the caller may ask tokens only for UserID.
func (c Caller) Bound() bool { return c.Kind == ModeJWT }

// Error is a refused request: 401 (no or bad credentials) or 403 (good
// credentials, not for this). Its text is safe to show the client: it never
// holds a credential.
type Error struct {
	Status int
	// Code is the RFC 6750 error code: "invalid_request", "invalid_token",
	// "insufficient_scope", or "" when no credentials were sent.
	Code   string
	Reason string
}

func (e *Error) Error() string { return e.Reason }

func unauthorized(code, reason string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: code, Reason: reason}
}

// Forbidden is the 403 for a caller asking beyond what its credentials allow.
func Forbidden(reason string) *Error {
	return &Error{Status: http.StatusForbidden, Code: "insufficient_scope", Reason: reason}
}

// Authenticator checks credentials. It is safe for concurrent use.
type Authenticator struct {
	mode string
	keys *keyRing
	jwt  *jwtVerifier
	log  *slog.Logger
}

// maxCredential bounds a key or token before any work is spent on it.
const maxCredential = 8192

// New checks o and returns an Authenticator. In jwt mode with a JWKS URL,
// call Run to load and refresh the keys.
func New(o Options) (*Authenticator, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Authenticator{mode: o.Mode, log: o.Logger}
	switch o.Mode {
	case ModeNone, "":
		a.mode = ModeNone
	case ModeAPIKey:
		kr, err := newKeyRing(o.APIKeys)
		if err != nil {
			return nil, err
		}
		a.keys = kr
	case ModeJWT:
		v, err := newJWTVerifier(o.JWT, o.Logger)
		if err != nil {
			return nil, err
		}
		a.jwt = v
	default:
		return nil, errors.New("auth: mode must be none, api_key or jwt (got " + o.Mode + ")")
	}
	return a, nil
}

// Mode is the configured mode.
func (a *Authenticator) Mode() string { return a.mode }

// Run keeps the JWKS key set fresh until ctx is done; it returns at once in
// other modes. Requests are served from the cached set meanwhile.
func (a *Authenticator) Run(ctx context.Context) {
	if a.jwt != nil && a.jwt.jwks != nil {
		a.jwt.jwks.Run(ctx)
	}
}

// Ready lists why the authenticator cannot accept callers yet (no JWKS keys
// loaded so far); empty when it can.
func (a *Authenticator) Ready() []string {
	if a.jwt != nil && a.jwt.jwks != nil {
		if err := a.jwt.jwks.Loaded(); err != nil {
			return []string{err.Error()}
		}
	}
	return nil
}

// Authenticate reads r's credentials.
func (a *Authenticator) Authenticate(r *http.Request) (Caller, *Error) {
	switch a.mode {
	case ModeAPIKey:
		key, e := apiKeyOf(r)
		if e != nil {
			return Caller{}, e
		}
		if !a.keys.contains(key) {
			return Caller{}, unauthorized("invalid_token", "the API key is not valid")
		}
		return Caller{Kind: ModeAPIKey, KeyID: KeyIDOf(key)}, nil
	case ModeJWT:
		tok, e := bearer(r)
		if e != nil {
			return Caller{}, e
		}
		return a.jwt.verify(r.Context(), tok)
	}
	return Caller{Kind: "anonymous"}, nil
}

// Challenge is the WWW-Authenticate value for e (RFC 6750 §3).
func (a *Authenticator) Challenge(e *Error) string {
	v := `Bearer realm="tokenserver"`
	if e != nil && e.Code != "" {
		v += `, error="` + e.Code + `", error_description="` + strings.ReplaceAll(e.Reason, `"`, `'`) + `"`
	}
	return v
}

// bearer reads "Authorization: Bearer <credential>": exactly one
// Authorization header, scheme case-insensitive (RFC 9110 §11.1).
func bearer(r *http.Request) (string, *Error) {
	vals := r.Header.Values("Authorization")
	switch {
	case len(vals) == 0:
		return "", unauthorized("", "credentials required: send Authorization: Bearer <token>")
	case len(vals) > 1:
		return "", unauthorized("invalid_request", "send one Authorization header, not several")
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(vals[0]), " ")
	cred = strings.TrimSpace(cred)
	if !ok || !strings.EqualFold(scheme, "Bearer") || cred == "" {
		return "", unauthorized("invalid_request", "the Authorization header must be Bearer <token>")
	}
	if len(cred) > maxCredential {
		return "", unauthorized("invalid_request", "the credential is too long")
	}
	return cred, nil
}
