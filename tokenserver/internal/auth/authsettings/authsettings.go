// Package authsettings reads and checks tokenserver's auth.* keys (who may
// ask for tokens) and turns them into auth.Options, as limitsettings and
// connsettings do for the rate and connection limits: package auth itself
// reads no configuration.
package authsettings

import (
	"bufio"
	"bytes"
	"errors"
	"log/slog"
	"os"
	"strings"
	"time"

	"signaling-auth/settings"
	"signaling-auth/tokenserver/internal/auth"
)

// Settings are auth.*, checked at load: who may ask for tokens.
type Settings struct {
	Mode string // none, api_key or jwt
	// APIKeys are the configured entries (keys or sha256:<hex> digests),
	// from auth.api_keys and auth.api_keys_file together.
	APIKeys []settings.Secret
	JWT     JWT
}

// JWT is auth.jwt.*.
type JWT struct {
	Secret      settings.Secret // HS256; from auth.jwt.secret or auth.jwt.secret_file
	JWKSURL     string
	Issuer      string
	Audience    string
	UIDClaim    string
	Leeway      time.Duration
	JWKSRefresh time.Duration
}

// Keys say who may mint tokens (docs/security.md, "Securing the token server").
var Keys = []settings.Key{
	{Name: "auth", Kind: settings.Section, Doc: "Who may mint tokens. See docs/security.md, \"Securing the token server\"."},
	{Name: "auth.mode", Default: "none", Doc: "none (anyone who reaches the server; fine for the demo on loopback, a warning at start\notherwise), api_key (backends send X-API-Key or Authorization: Bearer <key>) or jwt\n(users send their login JWT as Authorization: Bearer <jwt> and get tokens only for\nthe user ID in it)."},
	{Name: "auth.api_keys", Kind: settings.List, Doc: "api_key mode: accepted keys, each the key itself (16+ random characters) or\nsha256:<hex SHA-256 of the key>, so this file need not hold the key\n(printf %s \"$KEY\" | sha256sum). Prefer TOKENSERVER_AUTH_API_KEYS or the _file key."},
	{Name: "auth.api_keys_file", Doc: "api_key mode: file with one key or sha256:<hex> per line (# comments); added to api_keys."},
	{Name: "auth.jwt.secret", Doc: "jwt mode: HS256 shared secret, at least 32 bytes. Keep it out of this file: use\nTOKENSERVER_AUTH_JWT_SECRET or secret_file."},
	{Name: "auth.jwt.secret_file", Doc: "jwt mode: file holding the HS256 secret (e.g. a Docker secret); not together with secret."},
	{Name: "auth.jwt.jwks_url", Doc: "jwt mode: the identity provider's JWKS URL, for RS256/ES256/EdDSA tokens; https (plain http only\non loopback). Not together with a secret."},
	{Name: "auth.jwt.issuer", Doc: "jwt mode: the iss claim tokens must carry (required with jwks_url)."},
	{Name: "auth.jwt.audience", Doc: "jwt mode: the aud value tokens must carry (required with jwks_url)."},
	{Name: "auth.jwt.uid_claim", Default: "sub", Doc: "jwt mode: the claim holding the caller's user ID; a token is minted only for that user ID (else 403)."},
	{Name: "auth.jwt.leeway", Kind: settings.Duration, Default: "30s", Doc: "jwt mode: clock skew forgiven on exp, nbf and iat (at most 5m)."},
	{Name: "auth.jwt.jwks_refresh", Kind: settings.Duration, Default: "5m", Doc: "jwt mode: how often the JWKS is fetched again; a token naming an unknown key ID also triggers\na fetch, at most one every 30s."},
}

// Load reads and checks Keys.
func Load(vs *settings.Values) Settings {
	a := Settings{
		Mode: vs.OneOf("auth.mode", auth.ModeNone, auth.ModeAPIKey, auth.ModeJWT),
		JWT: JWT{
			JWKSURL:     vs.String("auth.jwt.jwks_url"),
			Issuer:      vs.String("auth.jwt.issuer"),
			Audience:    vs.String("auth.jwt.audience"),
			UIDClaim:    vs.String("auth.jwt.uid_claim"),
			Leeway:      vs.Duration("auth.jwt.leeway", 0, 5*time.Minute),
			JWKSRefresh: vs.Duration("auth.jwt.jwks_refresh", 10*time.Second, 24*time.Hour),
		},
	}
	for i, k := range vs.List("auth.api_keys") {
		if _, err := auth.ParseAPIKey(k); err != nil {
			vs.Fail("auth.api_keys", "entry %d: %v", i+1, err)
		}
		a.APIKeys = append(a.APIKeys, settings.NewSecret(k))
	}
	keysFile := vs.String("auth.api_keys_file")
	if keysFile != "" {
		a.APIKeys = append(a.APIKeys, readKeyFile(vs, keysFile)...)
	}
	secretKey := "auth.jwt.secret"
	a.JWT.Secret, secretKey = vs.SecretOrFile(secretKey, secretKey+"_file")
	hasKeys := len(a.APIKeys) > 0 || keysFile != ""
	hasSecret := !a.JWT.Secret.IsZero() || secretKey != "auth.jwt.secret"
	hasJWT := hasSecret || a.JWT.JWKSURL != ""

	switch a.Mode {
	case auth.ModeNone:
		// Credentials configured but not asked for: the operator believes the
		// server is protected and it is not. Refuse rather than run open.
		if hasKeys {
			vs.Fail("auth.api_keys", "keys are set but auth.mode is none, so nobody is asked for one; set auth.mode: api_key")
		}
		if hasJWT {
			vs.Fail("auth.mode", "auth.jwt.* is set but auth.mode is none, so no token is checked; set auth.mode: jwt")
		}
	case auth.ModeAPIKey:
		if !hasKeys {
			vs.Fail("auth.api_keys", "api_key mode needs at least one key (auth.api_keys or auth.api_keys_file)")
		}
		if hasJWT {
			vs.Fail("auth.mode", "auth.jwt.* is set but auth.mode is api_key; use one mode")
		}
	case auth.ModeJWT:
		if hasKeys {
			vs.Fail("auth.api_keys", "keys are set but auth.mode is jwt; use one mode")
		}
		switch {
		case !hasSecret && a.JWT.JWKSURL == "":
			vs.Fail("auth.jwt.secret", "jwt mode needs auth.jwt.secret (or auth.jwt.secret_file) for HS256, or auth.jwt.jwks_url")
		case hasSecret && a.JWT.JWKSURL != "":
			// Two key sources invite algorithm confusion; one server, one kind of token.
			vs.Fail(secretKey, "set either a secret (HS256) or auth.jwt.jwks_url, not both")
		case !a.JWT.Secret.IsZero() && len(a.JWT.Secret.Reveal()) < auth.MinSecretBytes:
			vs.Fail(secretKey, "must be at least %d bytes (got %d); e.g. openssl rand -base64 48", auth.MinSecretBytes, len(a.JWT.Secret.Reveal()))
		}
		if a.JWT.JWKSURL != "" {
			if err := auth.CheckJWKSURL(a.JWT.JWKSURL); err != nil {
				vs.Fail("auth.jwt.jwks_url", "%v", err)
			}
			// An identity provider signs tokens for all its applications:
			// without these checks any of them would mint here.
			if a.JWT.Issuer == "" {
				vs.Fail("auth.jwt.issuer", "required with auth.jwt.jwks_url (the provider's iss value)")
			}
			if a.JWT.Audience == "" {
				vs.Fail("auth.jwt.audience", "required with auth.jwt.jwks_url, else tokens the provider issued for any other application are accepted")
			}
		}
	}
	if a.JWT.UIDClaim == "" && !vs.Failed("auth.jwt.uid_claim") {
		vs.Fail("auth.jwt.uid_claim", "must name a claim, e.g. sub")
	}
	return a
}

// readKeyFile reads one API key (or sha256:<hex>) per line; blank lines and
// lines starting with # are skipped. A bad line is named by its number only.
func readKeyFile(vs *settings.Values, path string) []settings.Secret {
	const k = "auth.api_keys_file"
	b, err := os.ReadFile(path)
	if err != nil {
		vs.Fail(k, "cannot read %s: %v", path, errors.Unwrap(err))
		return nil
	}
	var out []settings.Secret
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if _, err := auth.ParseAPIKey(l); err != nil {
			vs.Fail(k, "%s line %d: %v", path, n, err)
		}
		out = append(out, settings.NewSecret(l))
	}
	switch {
	case sc.Err() != nil:
		vs.Fail(k, "%s: a line is too long to be a key", path)
	case len(out) == 0:
		vs.Fail(k, "%s holds no key", path)
	}
	return out
}

// Options are s for auth.New, logging to log.
func (s Settings) Options(log *slog.Logger) auth.Options {
	keys := make([]string, len(s.APIKeys))
	for i, k := range s.APIKeys {
		keys[i] = k.Reveal()
	}
	j := s.JWT
	return auth.Options{
		Mode:    s.Mode,
		APIKeys: keys,
		JWT: auth.JWTOptions{
			Secret: []byte(j.Secret.Reveal()), JWKSURL: j.JWKSURL, Issuer: j.Issuer, Audience: j.Audience,
			UIDClaim: j.UIDClaim, Leeway: j.Leeway, JWKSRefresh: j.JWKSRefresh,
		},
		Logger: log,
	}
}
