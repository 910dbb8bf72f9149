package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretBytes is the shortest HS256 secret accepted: RFC 7518 §3.2 asks
// for a key at least as long as the hash output.
const MinSecretBytes = 32

// Algorithms accepted, by key source. Nothing else is: not "none", and not
// an HMAC algorithm when keys come from a JWKS (the classic confusion where a
// public key is used as an HMAC secret).
var (
	secretAlgs = []string{"HS256"}
	jwksAlgs   = []string{"RS256", "ES256", "EdDSA"}
)

type jwtVerifier struct {
	parser   *jwt.Parser
	secret   []byte
	jwks     *JWKS
	uidClaim string
	log      *slog.Logger
}

func newJWTVerifier(o JWTOptions, log *slog.Logger) (*jwtVerifier, error) {
	if o.UIDClaim == "" {
		o.UIDClaim = "sub"
	}
	v := &jwtVerifier{uidClaim: o.UIDClaim, log: log}
	opts := []jwt.ParserOption{
		jwt.WithLeeway(o.Leeway),
		// A token that never expires is a password that cannot be changed.
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		// Numbers stay json.Number, so a numeric uid claim compares exactly.
		jwt.WithJSONNumber(),
	}
	if o.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(o.Issuer))
	}
	if o.Audience != "" {
		opts = append(opts, jwt.WithAudience(o.Audience))
	}
	switch {
	case len(o.Secret) > 0 && o.JWKSURL != "":
		return nil, errors.New("auth: jwt: set a secret or a JWKS URL, not both")
	case len(o.Secret) > 0:
		if len(o.Secret) < MinSecretBytes {
			return nil, fmt.Errorf("auth: jwt: the secret must be at least %d bytes", MinSecretBytes)
		}
		v.secret = o.Secret
		opts = append(opts, jwt.WithValidMethods(secretAlgs))
	case o.JWKSURL != "":
		j, err := NewJWKS(o.JWKSURL, o.HTTPClient, o.JWKSRefresh, o.JWKSMinRefresh, log)
		if err != nil {
			return nil, err
		}
		v.jwks = j
		opts = append(opts, jwt.WithValidMethods(jwksAlgs))
	default:
		return nil, errors.New("auth: jwt: a secret or a JWKS URL is required")
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// verify checks the token and returns the caller bound to its uid claim.
func (v *jwtVerifier) verify(ctx context.Context, raw string) (Caller, *Error) {
	claims := jwt.MapClaims{}
	_, err := v.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) { return v.key(ctx, t) })
	if err != nil {
		reason := describe(err)
		v.log.Debug("jwt refused", "reason", reason, "err", err.Error())
		return Caller{}, unauthorized("invalid_token", reason)
	}
	uid, ok := claimString(claims[v.uidClaim])
	if !ok {
		return Caller{}, unauthorized("invalid_token", "the token has no "+v.uidClaim+" claim holding a user ID")
	}
	sub, _ := claimString(claims["sub"])
	iss, _ := claims["iss"].(string)
	return Caller{Kind: ModeJWT, UserID: uid, Subject: sub, Issuer: iss}, nil
}

// key is the jwt.Keyfunc. ValidMethods has already refused any algorithm
// not listed; a secret is only ever handed to an HMAC method.
func (v *jwtVerifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	if v.secret == nil {
		return v.jwks.Keyfunc(ctx)(t)
	}
	if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok {
		return nil, fmt.Errorf("algorithm %s with a shared secret", t.Method.Alg())
	}
	return v.secret, nil
}

// describe says why a token was refused, in words fit for the client.
func describe(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "the token is malformed"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "the token's signing key is not known"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "the token's signature or algorithm is not accepted"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "the token lacks a required claim (exp)"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "the token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "the token is not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "the token was issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "the token's issuer is not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "the token's audience is not accepted"
	}
	return "the token is not valid"
}

// claimString reads a user ID claim: a non-empty string, or a whole number
// (RTC uids are numbers) in its decimal spelling.
func claimString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, v != ""
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return v.String(), true
		}
	}
	return "", false
}
