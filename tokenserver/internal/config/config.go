// Package config loads tokenserver's configuration once, at start: defaults <
// config file < environment (and .env) < flags, through package settings. It
// validates every value, reports every problem on its own line, and hands out
// a typed, immutable Config. Nothing else in the program reads the environment.
package config

//go:generate go test -run TestGeneratedFilesMatchTheKeyTable -update .

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"signaling-auth/lifecycle"

	"github.com/joho/godotenv"
	"github.com/spf13/pflag"

	"signaling-auth/origin"
	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/clientip"
	"signaling-auth/ratelimit/connsettings"
	"signaling-auth/ratelimit/limitsettings"
	"signaling-auth/settings"
	"signaling-auth/tokenserver/internal/accesstoken"
	"signaling-auth/tokenserver/internal/auth/authsettings"
)

// EnvPrefix starts every environment variable that sets a key.
const EnvPrefix = "TOKENSERVER_"

// DefaultFile is the config file read when --config is not given and the file
// exists relative to the working directory (so `make run` from the repo root picks it up).
const DefaultFile = "configs/tokenserver.yaml"

// MaxExpiry is Agora's longest token lifetime (24 h); token.* cannot exceed it.
const MaxExpiry = 24 * time.Hour

// Secret is a value that never prints; see settings.Secret.
type Secret = settings.Secret

// NewSecret wraps s.
func NewSecret(s string) Secret { return settings.NewSecret(s) }

// Config is the validated configuration. Treat it as read-only.
type Config struct {
	Listen         string
	AppID          string
	AppCertificate Secret
	// AppCertificateSecondary is the project's other certificate during a
	// rotation (Agora lets a project hold two); zero when not set. Only the
	// token doctor checks signatures against it; tokens are minted with
	// AppCertificate.
	AppCertificateSecondary Secret
	// Demo is true when neither an App ID nor a certificate is configured:
	// serve then mints with a random pair made for this run.
	Demo           bool
	DefaultExpiry  time.Duration
	MaxExpiry      time.Duration
	Origins        origin.List // cors.allowed_origins, parsed; empty: built-in CORS is off
	TrustedProxies []string    // IPs/CIDRs whose X-Forwarded-For is believed, as configured
	// Clients is TrustedProxies parsed: it finds each request's client address.
	Clients        *clientip.Resolver
	Auth           authsettings.Settings
	RateLimit      RateLimit
	Timeouts       Timeouts
	Conns          connsettings.Limits // client connections, in all and per address
	MaxHeaderBytes int
	MaxBodyBytes   int64
	Log            settings.Log
	File           string   // config file that was read, "" if none
	DotEnv         []string // the .env files looked for, the first one winning
	// AuditOutput is where the audit log goes: "off", "stdout", "stderr"
	// or a file path (appended to, reopened on SIGHUP).
	AuditOutput string
}

// RateLimit is rate_limit.*. A zero Limit is off.
type RateLimit struct {
	PerIP  ratelimit.Limit
	PerUID ratelimit.Limit
	limitsettings.StoreConfig
}

// Timeouts are the HTTP server's limits and how it stops (Drain: how long
// /readyz fails before the listener closes; Shutdown: how long in-flight
// requests get after that).
type Timeouts = lifecycle.Timeouts

// Program is tokenserver's key table: flags, --help, environment names,
// configs/tokenserver.yaml and docs/config-tokenserver.md all come from it.
var Program = settings.Program{
	Name:      "tokenserver",
	EnvPrefix: EnvPrefix,
	Header: `tokenserver configuration. Every key with its default and what it does.
Generated from tokenserver/internal/config by go generate; edit the key table there.
Precedence: these defaults < this file (or --config FILE) < environment < flags.
Environment: TOKENSERVER_ + key upper-cased, dots as underscores
(token.max_expiry -> TOKENSERVER_TOKEN_MAX_EXPIRY); also APP_ID, APP_CERTIFICATE,
SERVER_PORT, PORT and CORS_ALLOW_ORIGIN, and a .env file in the working directory.
Durations take Go syntax (90s, 24h) or plain seconds (90). Unknown keys are an error.`,
	Keys: slices.Concat(settings.ServerKeys(settings.ServerDefaults{Listen: ":8081", ReadHeader: "5s", Read: "10s", Write: "10s", Idle: "60s", Shutdown: "10s"}), []settings.Key{
		{Name: "agora.app_id", Doc: "Agora App ID, 32 hex characters. Leave it and the certificate empty for demo mode\n(a random pair for this run: tokens are well-formed but Agora rejects them)."},
		{Name: "agora.app_certificate", Doc: "Agora App Certificate, 32 hex characters. Keep it out of this file: use the\nenvironment (TOKENSERVER_AGORA_APP_CERTIFICATE or APP_CERTIFICATE) or the _file key."},
		{Name: "agora.app_certificate_file", Doc: "File holding the App Certificate (e.g. a Docker secret); not together with app_certificate."},
		{Name: "agora.app_certificate_secondary", Doc: "The project's secondary App Certificate during a rotation, 32 hex characters. Only the token\ndoctor (POST /v1/tokens/diagnose, tokenserver doctor) checks signatures against it, and\nsays which certificate signed; tokens are minted with app_certificate. Keep it out of this\nfile too (environment or the _file key)."},
		{Name: "agora.app_certificate_secondary_file", Doc: "File holding the secondary App Certificate; not together with app_certificate_secondary."},
		{Name: "token.default_expiry", Kind: settings.Duration, Default: "24h", Doc: "Token lifetime when the client asks for none (1h is agora-token-service's default)."},
		{Name: "token.max_expiry", Kind: settings.Duration, Default: "24h", Doc: "Longest lifetime a client may ask for (at most 24h, Agora's limit); larger requests get 400, never clamped."},
		{Name: "cors.allowed_origins", Kind: settings.List, Doc: "Origins allowed by the built-in CORS, e.g. [http://localhost:9000] or [\"*\"]; empty turns it off\n(the usual setup puts corsproxy in front instead). Same rules as corsproxy's: exact origins\nand https://*.example.com patterns; a default port or trailing slash is dropped at start."},
		{Name: "trusted_proxies", Kind: settings.List, Doc: "Proxy IPs/CIDRs whose X-Forwarded-For is believed for the client IP (access logs and\nrate limits); everyone else's is ignored. Put corsproxy's address here when it is in front."},
		{Name: "max_header_bytes", Kind: settings.Int, Default: "16384", Doc: "Largest request line + headers, in bytes (or 16KiB)."},
		{Name: "max_body_bytes", Kind: settings.Int, Default: "16384", Doc: "Largest request body, in bytes (or 16KiB); larger bodies get 413."},
	}, settings.LogKeys, []settings.Key{
		{Name: "audit.output", Default: "off", Doc: "Audit log (one JSON line per token minted or refused by a gate, see docs/operations.md):\noff, stdout, stderr or a file path, appended to and reopened on SIGHUP (logrotate)."},
	}, authsettings.Keys, []settings.Key{
		{Name: "rate_limit", Kind: settings.Section, Doc: "Token-bucket rate limits on the token routes and /v1/tokens/inspect; 429 with Retry-After\nbeyond them. Rates are N/s, N/min or N/h, or off."},
		{Name: "rate_limit.per_ip", Default: "10/s", Doc: "Requests per client IP (the peer, or X-Forwarded-For from trusted_proxies)."},
		{Name: "rate_limit.per_uid", Default: "2/s", Doc: "Tokens per requested user ID, whoever asks."},
	}, limitsettings.Keys, connsettings.Keys),
	// The names existing Agora token servers read; they rank below ours.
	Aliases: []settings.Alias{
		{Env: "APP_ID", Key: "agora.app_id"},
		{Env: "APP_CERTIFICATE", Key: "agora.app_certificate"},
		// The names .env uses for make run and docker compose, so that the
		// token server started alone reads the same file the same way.
		{Env: "AGORA_APP_ID", Key: "agora.app_id"},
		{Env: "AGORA_APP_CERTIFICATE", Key: "agora.app_certificate"},
		{Env: "AGORA_APP_CERTIFICATE_FILE", Key: "agora.app_certificate_file"},
		{Env: "CORS_ALLOW_ORIGIN", Key: "cors.allowed_origins"},
		// PORT first so that SERVER_PORT, which agora-token-service prefers, wins.
		{Env: "PORT", Key: "listen", Convert: portOnly},
		{Env: "SERVER_PORT", Key: "listen", Convert: portOnly},
	},
}

func portOnly(s string) (string, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return "", fmt.Errorf("must be a port number 0-65535 (got %q)", s)
	}
	return ":" + strconv.FormatUint(n, 10), nil
}

// AddFlags registers --config and one flag per key, named exactly as the key.
func AddFlags(fs *pflag.FlagSet) { Program.AddFlags(fs) }

// Source is where Load reads from; Dir is also where .env is looked up.
type Source = settings.Source

// Load reads, merges and validates the configuration. The error lists every
// problem, one line each, each starting with "config: ".
func Load(src Source) (Config, error) {
	dotEnv := DotEnvFiles(src.Dir)
	getenv, err := withDotEnv(src.Getenv, dotEnv)
	if err != nil {
		return Config{}, err
	}
	src.Getenv = getenv
	vs, err := Program.Load(src)
	if err != nil {
		return Config{}, err
	}
	c := Config{Listen: vs.HostPort("listen"), AppID: vs.String("agora.app_id"), File: vs.File, DotEnv: dotEnv}
	certKey := "agora.app_certificate"
	c.AppCertificate, certKey = vs.SecretOrFile(certKey, certKey+"_file")
	if c.AppID != "" && !vs.Failed("agora.app_id") {
		if err := accesstoken.ValidateAppID(c.AppID); err != nil {
			vs.Fail("agora.app_id", "%v", err)
		}
	}
	if !c.AppCertificate.IsZero() {
		if err := accesstoken.ValidateCertificate(c.AppCertificate.Reveal()); err != nil {
			vs.Fail(certKey, "%v", err)
		}
	}
	secondKey := "agora.app_certificate_secondary"
	c.AppCertificateSecondary, secondKey = vs.SecretOrFile(secondKey, secondKey+"_file")
	if !c.AppCertificateSecondary.IsZero() {
		if err := accesstoken.ValidateCertificate(c.AppCertificateSecondary.Reveal()); err != nil {
			vs.Fail(secondKey, "%v", err)
		} else if c.AppCertificate.IsZero() {
			vs.Fail(secondKey, "needs agora.app_certificate (the primary one) too")
		}
	}
	switch {
	case c.AppID == "" && c.AppCertificate.IsZero() && !vs.Failed(certKey):
		c.Demo = true
	case c.AppID == "":
		vs.Fail("agora.app_id", "required when a certificate is set (or unset both for demo mode)")
	case c.AppCertificate.IsZero() && !vs.Failed(certKey):
		vs.Fail("agora.app_certificate", "required when agora.app_id is set (or unset both for demo mode)")
	}
	c.DefaultExpiry, c.MaxExpiry = vs.Seconds("token.default_expiry", time.Second, MaxExpiry), vs.Seconds("token.max_expiry", time.Second, MaxExpiry)
	if c.DefaultExpiry > c.MaxExpiry && c.MaxExpiry > 0 {
		vs.Fail("token.default_expiry", "must not exceed token.max_expiry (%s) (got %s)", c.MaxExpiry, c.DefaultExpiry)
	}
	c.TrustedProxies = vs.List("trusted_proxies")
	// The origin rules (and their one spelling) are package origin's,
	// shared with corsproxy.
	var originErrs []error
	c.Origins, originErrs = origin.ParseList(vs.List("cors.allowed_origins"), false)
	for _, err := range originErrs {
		vs.Fail("cors.allowed_origins", "%v", err)
	}
	if c.Clients, err = clientip.New(c.TrustedProxies); err != nil {
		// Name every bad entry, not only the first New stopped at.
		for _, tp := range c.TrustedProxies {
			if _, err := clientip.ParsePrefixes([]string{tp}); err != nil {
				vs.Fail("trusted_proxies", "%v", err)
			}
		}
	}
	c.Timeouts = vs.Timeouts()
	c.Conns = connsettings.Load(vs, c.Clients)
	c.MaxHeaderBytes = int(vs.Size("max_header_bytes", 1024, math.MaxInt64))
	c.MaxBodyBytes = vs.Size("max_body_bytes", 1024, 1<<20)
	c.Log = vs.Log()
	c.AuditOutput = vs.String("audit.output")
	if c.AuditOutput == "" {
		vs.Fail("audit.output", "must be off, stdout, stderr or a file path (got an empty value)")
	}
	c.Auth = authsettings.Load(vs)
	var burst int
	c.RateLimit.StoreConfig, burst = limitsettings.Load(vs)
	c.RateLimit.PerIP = limitsettings.Rate(vs, "rate_limit.per_ip", burst)
	c.RateLimit.PerUID = limitsettings.Rate(vs, "rate_limit.per_uid", burst)
	if err := vs.Err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// DotEnvFiles are the .env files Load reads, the first one winning: the one in
// dir and, when dir is inside a go.work repository, the one at its root, which
// make run reads too. So the token server started from the root or from
// tokenserver/ finds the same credentials. Outside a repository (an image, a
// service unit) only dir counts: a stray .env further up is never read.
func DotEnvFiles(dir string) []string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs // so that a message names the file wherever it is read
	}
	files := []string{filepath.Join(dir, ".env")}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			if d != dir {
				files = append(files, filepath.Join(d, ".env"))
			}
			return files
		}
		parent := filepath.Dir(d)
		if parent == d {
			return files
		}
		d = parent
	}
}

// withDotEnv returns a getenv that falls back to the .env files, the first
// that sets a name winning: the real environment wins over all of them, as
// with the servers whose .env files people already have.
func withDotEnv(getenv func(string) string, files []string) (func(string) string, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var maps []map[string]string
	for _, path := range files {
		m, err := readDotEnv(path)
		if err != nil {
			return getenv, err
		}
		if m != nil {
			maps = append(maps, m)
		}
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		for _, m := range maps {
			if v := m[k]; v != "" {
				return v
			}
		}
		return ""
	}, nil
}

// maxDotEnv is far more than any .env holds; a bigger file is a mistake.
const maxDotEnv = 64 << 10

// readDotEnv parses one .env file; a file that does not exist is nil, no error.
// Only a regular file is opened: a FIFO or a device named .env would block or
// never end.
func readDotEnv(path string) (map[string]string, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %s: cannot read: %w", path, errors.Unwrap(err))
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("config: %s: not a regular file", path)
	}
	if st.Size() > maxDotEnv {
		return nil, fmt.Errorf("config: %s: larger than %d KiB; a .env file holds a few NAME=value lines", path, maxDotEnv>>10)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %s: cannot read: %w", path, errors.Unwrap(err))
	}
	defer f.Close()
	m, err := godotenv.Parse(io.LimitReader(f, maxDotEnv+1))
	if err != nil {
		// godotenv's message quotes the offending text, which may be a secret.
		return nil, fmt.Errorf("config: %s: not a valid .env file (expected NAME=value lines)", path)
	}
	return m, nil
}
