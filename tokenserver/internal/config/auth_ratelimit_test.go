package config

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"signaling-auth/ratelimit"
)

const (
	testKey      = "Zq0Xr4m9Hk2Lw8Vt1Cy7-secret"
	testJWTKey   = "a-jwt-secret-of-at-least-32-bytes-ok!"
	testRedisURL = "redis://:redis-pa55@127.0.0.1:6379/0"
	testDigest   = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

func TestSecurityKeysLoad(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		env   map[string]string
		args  []string
		check func(t *testing.T, c Config)
	}{
		{name: "API keys come from the environment, comma-separated, clear or hashed",
			env: map[string]string{"TOKENSERVER_AUTH_MODE": "api_key", "TOKENSERVER_AUTH_API_KEYS": testKey + ", " + testDigest},
			check: func(t *testing.T, c Config) {
				if c.Auth.Mode != "api_key" || len(c.Auth.APIKeys) != 2 || c.Auth.APIKeys[0].Reveal() != testKey || c.Auth.APIKeys[1].Reveal() != testDigest {
					t.Errorf("auth %+v", c.Auth)
				}
			}},
		{name: "API keys from a file are added to the configured ones, comments and blanks skipped",
			files: map[string]string{"keys.txt": "# backend keys\n\n" + testKey + "\n  " + testDigest + "  \n"},
			args:  []string{"--auth.mode", "api_key", "--auth.api_keys_file", "KEYS"},
			check: func(t *testing.T, c Config) {
				if len(c.Auth.APIKeys) != 2 || c.Auth.APIKeys[1].Reveal() != testDigest {
					t.Errorf("keys %v", c.Auth.APIKeys)
				}
			}},
		{name: "a JWT secret comes from the environment",
			env: map[string]string{"TOKENSERVER_AUTH_MODE": "jwt", "TOKENSERVER_AUTH_JWT_SECRET": testJWTKey},
			check: func(t *testing.T, c Config) {
				if c.Auth.JWT.Secret.Reveal() != testJWTKey || c.Auth.JWT.UIDClaim != "sub" {
					t.Errorf("jwt %+v", c.Auth.JWT)
				}
			}},
		{name: "a JWT secret file is read and trimmed",
			files: map[string]string{"jwt.key": testJWTKey + "\n"},
			args:  []string{"--auth.mode=jwt", "--auth.jwt.secret_file", "JWTKEY"},
			check: func(t *testing.T, c Config) {
				if c.Auth.JWT.Secret.Reveal() != testJWTKey {
					t.Error("the secret file was not read")
				}
			}},
		{name: "a JWKS setup with issuer, audience and another uid claim loads",
			files: map[string]string{DefaultFile: "auth:\n  mode: jwt\n  jwt:\n    jwks_url: https://login.example.com/.well-known/jwks.json\n    issuer: https://login.example.com/\n    audience: tokenserver\n    uid_claim: user_id\n    leeway: 10\n"},
			check: func(t *testing.T, c Config) {
				j := c.Auth.JWT
				if j.JWKSURL == "" || j.Issuer == "" || j.Audience != "tokenserver" || j.UIDClaim != "user_id" || j.Leeway != 10*time.Second {
					t.Errorf("jwt %+v", j)
				}
			}},
		{name: "rates take N/min and off, and the burst applies to both",
			env: map[string]string{"TOKENSERVER_RATE_LIMIT_PER_IP": "30/min", "TOKENSERVER_RATE_LIMIT_PER_UID": "off", "TOKENSERVER_RATE_LIMIT_BURST": "5"},
			check: func(t *testing.T, c Config) {
				if c.RateLimit.PerIP != (ratelimit.Limit{Rate: 30, Period: time.Minute, Burst: 5}) || !c.RateLimit.PerUID.IsZero() {
					t.Errorf("rate limit %+v", c.RateLimit)
				}
			}},
		{name: "the redis store takes a URL and the deny policy",
			env: map[string]string{"TOKENSERVER_RATE_LIMIT_STORE": "redis", "TOKENSERVER_RATE_LIMIT_REDIS_URL": testRedisURL,
				"TOKENSERVER_RATE_LIMIT_ON_STORE_ERROR": "deny", "TOKENSERVER_RATE_LIMIT_REDIS_TIMEOUT": "100ms"},
			check: func(t *testing.T, c Config) {
				r := c.RateLimit
				if r.Store != "redis" || r.RedisURL.Reveal() != testRedisURL || r.OnStoreError != ratelimit.OnErrorDeny || r.RedisTimeout != 100*time.Millisecond {
					t.Errorf("rate limit %+v", r)
				}
			}},
		{name: "trusted proxies take addresses and CIDRs",
			env: map[string]string{"TOKENSERVER_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8, ::1"},
			check: func(t *testing.T, c Config) {
				if !slices.Equal(c.TrustedProxies, []string{"127.0.0.1", "10.0.0.0/8", "::1"}) {
					t.Errorf("trusted proxies %q", c.TrustedProxies)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := slices.Clone(tt.args)
			dir := t.TempDir()
			for i, a := range args {
				switch a {
				case "KEYS":
					args[i] = dir + "/keys.txt"
				case "JWTKEY":
					args[i] = dir + "/jwt.key"
				}
			}
			cfg, err := loadIn(t, dir, tt.files, tt.env, args...)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, cfg)
			// Whatever else happens, the secrets do not print.
			out := fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg)
			var sb strings.Builder
			slog.New(slog.NewJSONHandler(&sb, nil)).Info("x", "cfg", cfg)
			for _, secret := range []string{testKey, testJWTKey, "redis-pa55"} {
				if strings.Contains(out+sb.String(), secret) {
					t.Errorf("a secret prints: %s", secret)
				}
			}
		})
	}
}

func TestSecurityKeysInvalid(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{name: "an unknown auth mode is refused",
			env:  map[string]string{"TOKENSERVER_AUTH_MODE": "basic"},
			want: []string{`config: auth.mode: must be none, api_key or jwt (got "basic")`}},
		{name: "api_key mode without keys is refused",
			env:  map[string]string{"TOKENSERVER_AUTH_MODE": "api_key"},
			want: []string{`config: auth.api_keys: api_key mode needs at least one key (auth.api_keys or auth.api_keys_file)`}},
		{name: "a short API key is refused without echoing it",
			env:  map[string]string{"TOKENSERVER_AUTH_MODE": "api_key", "TOKENSERVER_AUTH_API_KEYS": testKey + ",hunter2"},
			want: []string{`config: auth.api_keys: entry 2: a key must be at least 16 characters (one has 7); make them random, e.g. openssl rand -hex 24`}},
		{name: "a malformed digest is refused",
			env:  map[string]string{"TOKENSERVER_AUTH_MODE": "api_key", "TOKENSERVER_AUTH_API_KEYS": "sha256:abc"},
			want: []string{`config: auth.api_keys: entry 1: a sha256: entry must be followed by 64 hex digits (got 3 characters)`}},
		{name: "keys without api_key mode are refused: the server would run open",
			env:  map[string]string{"TOKENSERVER_AUTH_API_KEYS": testKey},
			want: []string{`config: auth.api_keys: keys are set but auth.mode is none, so nobody is asked for one; set auth.mode: api_key`}},
		{name: "a JWT secret without jwt mode is refused",
			env:  map[string]string{"TOKENSERVER_AUTH_JWT_SECRET": testJWTKey},
			want: []string{`config: auth.mode: auth.jwt.* is set but auth.mode is none, so no token is checked; set auth.mode: jwt`}},
		{name: "jwt mode without a secret or a JWKS URL is refused",
			env:  map[string]string{"TOKENSERVER_AUTH_MODE": "jwt"},
			want: []string{`config: auth.jwt.secret: jwt mode needs auth.jwt.secret (or auth.jwt.secret_file) for HS256, or auth.jwt.jwks_url`}},
		{name: "a short JWT secret is refused with its length only",
			env:  map[string]string{"TOKENSERVER_AUTH_MODE": "jwt", "TOKENSERVER_AUTH_JWT_SECRET": "tooshort"},
			want: []string{`config: auth.jwt.secret: must be at least 32 bytes (got 8); e.g. openssl rand -base64 48`}},
		{name: "a secret and a JWKS URL together are refused",
			env: map[string]string{"TOKENSERVER_AUTH_MODE": "jwt", "TOKENSERVER_AUTH_JWT_SECRET": testJWTKey,
				"TOKENSERVER_AUTH_JWT_JWKS_URL": "https://login.example.com/jwks", "TOKENSERVER_AUTH_JWT_ISSUER": "i", "TOKENSERVER_AUTH_JWT_AUDIENCE": "a"},
			want: []string{`config: auth.jwt.secret: set either a secret (HS256) or auth.jwt.jwks_url, not both`}},
		{name: "a JWKS URL without issuer and audience is refused",
			env: map[string]string{"TOKENSERVER_AUTH_MODE": "jwt", "TOKENSERVER_AUTH_JWT_JWKS_URL": "https://login.example.com/jwks"},
			want: []string{`config: auth.jwt.issuer: required with auth.jwt.jwks_url (the provider's iss value)`,
				`config: auth.jwt.audience: required with auth.jwt.jwks_url, else tokens the provider issued for any other application are accepted`}},
		{name: "a JWKS URL over plain http is refused",
			env: map[string]string{"TOKENSERVER_AUTH_MODE": "jwt", "TOKENSERVER_AUTH_JWT_JWKS_URL": "http://login.example.com/jwks",
				"TOKENSERVER_AUTH_JWT_ISSUER": "i", "TOKENSERVER_AUTH_JWT_AUDIENCE": "a"},
			want: []string{`config: auth.jwt.jwks_url: must be https:// (plain http only for a loopback host): keys fetched in the clear can be swapped on the way`}},
		{name: "a long leeway is refused",
			env:  map[string]string{"TOKENSERVER_AUTH_JWT_LEEWAY": "1h"},
			want: []string{`config: auth.jwt.leeway: must be 0s-5m (got 1h)`}},
		{name: "an empty uid claim is refused",
			env:  map[string]string{"TOKENSERVER_AUTH_JWT_UID_CLAIM": " "},
			want: []string{`config: auth.jwt.uid_claim: must name a claim, e.g. sub`}},
		{name: "a rate without a unit is refused",
			env:  map[string]string{"TOKENSERVER_RATE_LIMIT_PER_IP": "10"},
			want: []string{`config: rate_limit.per_ip: must be N/s, N/min or N/h (e.g. "10/s", "30/min"), or "off" (got "10")`}},
		{name: "a rate of zero is refused",
			env:  map[string]string{"TOKENSERVER_RATE_LIMIT_PER_UID": "0/s"},
			want: []string{`config: rate_limit.per_uid: the count must be 1-1000000 (or the whole rate "off") (got "0/s")`}},
		{name: "a burst of zero is refused",
			env:  map[string]string{"TOKENSERVER_RATE_LIMIT_BURST": "0"},
			want: []string{`config: rate_limit.burst: must be 1-100000 (got 0)`}},
		{name: "an unknown store is refused",
			env:  map[string]string{"TOKENSERVER_RATE_LIMIT_STORE": "memcached"},
			want: []string{`config: rate_limit.store: must be memory or redis (got "memcached")`}},
		{name: "the redis store without a URL is refused",
			env:  map[string]string{"TOKENSERVER_RATE_LIMIT_STORE": "redis"},
			want: []string{`config: rate_limit.redis_url: required when rate_limit.store is redis`}},
		{name: "a Redis URL with the memory store is refused: limits would not be shared",
			env:  map[string]string{"TOKENSERVER_RATE_LIMIT_REDIS_URL": testRedisURL},
			want: []string{`config: rate_limit.redis_url: set but rate_limit.store is memory, so limits are not shared; set rate_limit.store: redis`}},
		{name: "a bad Redis URL is refused without echoing its password",
			env:  map[string]string{"TOKENSERVER_RATE_LIMIT_STORE": "redis", "TOKENSERVER_RATE_LIMIT_REDIS_URL": "http://:redis-pa55@h:1"},
			want: []string{`config: rate_limit.redis_url: must be redis://[user:password@]host:port[/db], rediss://… or unix:///path`}},
		{name: "an unknown store error policy is refused",
			env:  map[string]string{"TOKENSERVER_RATE_LIMIT_ON_STORE_ERROR": "ignore"},
			want: []string{`config: rate_limit.on_store_error: must be allow or deny (got "ignore")`}},
		{name: "a zero Redis timeout is refused",
			env:  map[string]string{"TOKENSERVER_RATE_LIMIT_REDIS_TIMEOUT": "0"},
			want: []string{`config: rate_limit.redis_timeout: must be 1ms-10s (got 0s)`}},
		{name: "a tiny key cap is refused",
			env:  map[string]string{"TOKENSERVER_RATE_LIMIT_MAX_KEYS": "10"},
			want: []string{`config: rate_limit.max_keys: must be 1000-100000000 (got 10)`}},
		{name: "trusting every address is refused",
			env:  map[string]string{"TOKENSERVER_TRUSTED_PROXIES": "0.0.0.0/0"},
			want: []string{`config: trusted_proxies: "0.0.0.0/0" trusts every address, so any client could choose its address with X-Forwarded-For; list the proxies' addresses`}},
		{name: "a bad CIDR is refused",
			env:  map[string]string{"TOKENSERVER_TRUSTED_PROXIES": "10.0.0.0/33"},
			want: []string{`config: trusted_proxies: must be an IP address or CIDR (got "10.0.0.0/33")`}},
		{name: "every bad trusted proxy is named, not only the first",
			env: map[string]string{"TOKENSERVER_TRUSTED_PROXIES": "proxy.local,10.0.0.1,::/0"},
			want: []string{`config: trusted_proxies: must be an IP address or CIDR (got "proxy.local")`,
				`config: trusted_proxies: "::/0" trusts every address, so any client could choose its address with X-Forwarded-For; list the proxies' addresses`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, nil, tt.env)
			if err == nil {
				t.Fatal("Load accepted it")
			}
			got := strings.Split(err.Error(), "\n")
			if !slices.Equal(got, tt.want) {
				t.Errorf("error lines:\n got %q\nwant %q", got, tt.want)
			}
			for _, secret := range []string{testKey, testJWTKey, "redis-pa55", "hunter2", "tooshort"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows a secret (%s)", secret)
				}
			}
		})
	}
}

func TestAPIKeyFileProblems(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{name: "a missing key file is refused", want: `config: auth.api_keys_file: cannot read DIR/keys.txt: no such file or directory`},
		{name: "a key file with only comments is refused", files: map[string]string{"keys.txt": "# none yet\n"},
			want: `config: auth.api_keys_file: DIR/keys.txt holds no key`},
		{name: "a bad line is named by its number, not its content", files: map[string]string{"keys.txt": testKey + "\nhunter2\n"},
			want: `config: auth.api_keys_file: DIR/keys.txt line 2: a key must be at least 16 characters (one has 7); make them random, e.g. openssl rand -hex 24`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			_, err := loadIn(t, d, tt.files, map[string]string{"TOKENSERVER_AUTH_MODE": "api_key", "TOKENSERVER_AUTH_API_KEYS_FILE": d + "/keys.txt"})
			if err == nil {
				t.Fatal("accepted")
			}
			if got := strings.ReplaceAll(err.Error(), d, "DIR"); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
