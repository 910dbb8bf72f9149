// Package config loads tokenserver's configuration once, at start: defaults <
// config file < environment (and .env) < flags, through viper. It validates
// every value, reports every problem on its own line, and hands out a typed,
// immutable Config. Nothing else in the program reads the environment.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"signaling-auth/origin"
	"signaling-auth/ratelimit/clientip"
	"signaling-auth/tokenserver/internal/accesstoken"
)

// EnvPrefix starts every environment variable that sets a key.
const EnvPrefix = "TOKENSERVER_"

// DefaultFile is the config file read when --config is not given and the file
// exists relative to the working directory (so `make run` from the repo root picks it up).
const DefaultFile = "configs/tokenserver.yaml"

// MaxExpiry is Agora's longest token lifetime (24 h); token.* cannot exceed it.
const MaxExpiry = 24 * time.Hour

// Config is the validated configuration. Treat it as read-only.
type Config struct {
	Listen         string
	AppID          string
	AppCertificate Secret
	// Demo is true when neither an App ID nor a certificate is configured:
	// serve then mints with a random pair made for this run.
	Demo           bool
	DefaultExpiry  time.Duration
	MaxExpiry      time.Duration
	AllowedOrigins []string // empty: built-in CORS is off
	TrustedProxies []string // IPs/CIDRs whose X-Forwarded-For is believed
	Auth           Auth
	RateLimit      RateLimit
	Timeouts       Timeouts
	MaxHeaderBytes int
	MaxBodyBytes   int64
	LogLevel       slog.Level
	LogFormat      string // "text" or "json"
	File           string // config file that was read, "" if none
}

// Timeouts are the HTTP server's limits.
type Timeouts struct {
	ReadHeader time.Duration
	Read       time.Duration
	Write      time.Duration
	Idle       time.Duration
	Shutdown   time.Duration // how long in-flight requests get after SIGTERM
	Drain      time.Duration // on SIGTERM, how long /readyz says 503 while serving goes on; 0: none
}

// key describes one configuration key: its default and the one-line help shown by --help.
type key struct {
	name string
	def  any
	help string
}

// keys is every key tokenserver knows. A key missing here cannot be set at
// all: viper only sees environment variables for keys it knows, and the file
// check refuses unknown keys.
var keys = slices.Concat([]key{
	{"listen", ":8081", "address to listen on, host:port (port 0 picks a free port)"},
	{"agora.app_id", "", "Agora App ID, 32 hex characters (empty with no certificate: demo mode)"},
	{"agora.app_certificate", "", "Agora App Certificate, 32 hex characters (prefer the _file form or the environment)"},
	{"agora.app_certificate_file", "", "file holding the App Certificate (Docker secrets)"},
	{"token.default_expiry", "24h", "token lifetime when the client asks for none (Go duration or seconds)"},
	{"token.max_expiry", "24h", "longest lifetime a client may ask for; larger requests are refused, not clamped"},
	{"cors.allowed_origins", []string{}, "origins allowed by the built-in CORS (comma-separated; empty: CORS off)"},
	{"trusted_proxies", []string{}, "proxy IPs/CIDRs whose X-Forwarded-For gives the client IP for logs and rate limits (comma-separated)"},
	{"timeouts.read_header", "5s", "time to read the request headers"},
	{"timeouts.read", "10s", "time to read the whole request"},
	{"timeouts.write", "10s", "time to write the response"},
	{"timeouts.idle", "60s", "keep-alive idle time"},
	{"timeouts.shutdown", "10s", "time in-flight requests get to finish on SIGINT/SIGTERM"},
	{"timeouts.drain", "5s", "on SIGTERM, time /readyz answers 503 while requests are still served, before shutting down (0: none)"},
	{"max_header_bytes", 16384, "largest request line + headers, bytes"},
	{"max_body_bytes", 16384, "largest request body, bytes (larger: 413)"},
	{"log.level", "info", "debug, info, warn or error"},
	{"log.format", "text", "text or json"},
}, securityKeys)

// compatEnv maps the environment names that existing Agora token servers
// read to our keys. They rank below the TOKENSERVER_ names.
var compatEnv = []struct{ env, key string }{
	{"APP_ID", "agora.app_id"},
	{"APP_CERTIFICATE", "agora.app_certificate"},
	{"CORS_ALLOW_ORIGIN", "cors.allowed_origins"},
	// PORT first so that SERVER_PORT, which agora-token-service prefers, wins.
	{"PORT", "listen"},
	{"SERVER_PORT", "listen"},
}

// EnvName returns the environment variable for a key: agora.app_id → TOKENSERVER_AGORA_APP_ID.
func EnvName(k string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(k, ".", "_"))
}

// Keys lists every key with its default (as written in configs/tokenserver.yaml) and help.
func Keys() [][3]string {
	out := make([][3]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, [3]string{k.name, defaultString(k.def), k.help})
	}
	return out
}

func defaultString(v any) string {
	switch v := v.(type) {
	case []string:
		return strings.Join(v, ",")
	default:
		return fmt.Sprint(v)
	}
}

// AddFlags registers --config and one flag per key, named exactly as the key.
// Flags are strings so that every value goes through the same parser as the
// file and the environment.
func AddFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "config file (default: "+DefaultFile+" if it exists)")
	for _, k := range keys {
		fs.String(k.name, "", k.help+" (default "+strconv.Quote(defaultString(k.def))+")")
	}
}

// Source is where Load reads from.
type Source struct {
	Flags  *pflag.FlagSet      // parsed, with AddFlags registered; nil means no flags
	Getenv func(string) string // the process environment
	Dir    string              // working directory: DefaultFile and .env are looked up here
}

// Load reads, merges and validates the configuration. The error lists every
// problem, one line each, each starting with "config: ".
func Load(src Source) (Config, error) {
	var errs []error
	addErr := func(format string, a ...any) { errs = append(errs, fmt.Errorf("config: "+format, a...)) }

	getenv, err := withDotEnv(src.Getenv, src.Dir)
	if err != nil {
		errs = append(errs, err)
	}

	v := viper.New()
	for _, k := range keys {
		v.SetDefault(k.name, k.def)
	}

	file, ferrs := readFile(v, src)
	errs = append(errs, ferrs...)

	// Environment: compat names first, then ours, so ours win. v.Set outranks the
	// file; flags are Set afterwards and so outrank the environment.
	for _, c := range compatEnv {
		val := getenv(c.env)
		if val == "" {
			continue
		}
		if c.key == "listen" {
			if n, err := strconv.ParseUint(val, 10, 16); err != nil {
				addErr("%s: must be a port number 0-65535 (got %q)", c.env, val)
				continue
			} else {
				val = ":" + strconv.FormatUint(n, 10)
			}
		}
		v.Set(c.key, val)
	}
	for _, k := range keys {
		if val := getenv(EnvName(k.name)); val != "" {
			v.Set(k.name, val)
		}
	}
	if src.Flags != nil {
		for _, k := range keys {
			if f := src.Flags.Lookup(k.name); f != nil && f.Changed {
				v.Set(k.name, f.Value.String())
			}
		}
	}

	p := parser{v: v}
	cfg := Config{
		Listen:         p.str("listen"),
		AppID:          p.str("agora.app_id"),
		AppCertificate: NewSecret(p.str("agora.app_certificate")),
		DefaultExpiry:  p.duration("token.default_expiry"),
		MaxExpiry:      p.duration("token.max_expiry"),
		AllowedOrigins: p.list("cors.allowed_origins"),
		TrustedProxies: p.list("trusted_proxies"),
		Timeouts: Timeouts{
			ReadHeader: p.duration("timeouts.read_header"),
			Read:       p.duration("timeouts.read"),
			Write:      p.duration("timeouts.write"),
			Idle:       p.duration("timeouts.idle"),
			Shutdown:   p.duration("timeouts.shutdown"),
			Drain:      p.duration("timeouts.drain"),
		},
		MaxHeaderBytes: p.integer("max_header_bytes"),
		MaxBodyBytes:   int64(p.integer("max_body_bytes")),
		LogFormat:      p.str("log.format"),
		File:           file,
	}
	certFile := p.str("agora.app_certificate_file")
	level := p.str("log.level")
	var secErrs []error
	cfg.Auth, cfg.RateLimit = loadSecurity(&p, func(k, format string, a ...any) {
		secErrs = append(secErrs, fmt.Errorf("config: %s: "+format, append([]any{k}, a...)...))
	})
	errs = append(errs, p.errs...)
	errs = cfg.validate(certFile, level, errs)
	errs = append(errs, secErrs...)
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return cfg, nil
}

// withDotEnv returns a getenv that falls back to Dir/.env: the real
// environment wins, as with the servers whose .env files people already have.
func withDotEnv(getenv func(string) string, dir string) (func(string) string, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	path := filepath.Join(dir, ".env")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return getenv, nil
	}
	if err != nil {
		return getenv, fmt.Errorf("config: %s: cannot read: %w", path, unwrapPathErr(err))
	}
	defer f.Close()
	m, err := godotenv.Parse(f)
	if err != nil {
		// godotenv's message quotes the offending text, which may be a secret.
		return getenv, fmt.Errorf("config: %s: not a valid .env file (expected NAME=value lines)", path)
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return m[k]
	}, nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readFile merges the config file into v and refuses keys we do not know.
func readFile(v *viper.Viper, src Source) (string, []error) {
	path, explicit := "", false
	if src.Flags != nil {
		if f := src.Flags.Lookup("config"); f != nil && f.Changed {
			path, explicit = f.Value.String(), true
		}
	}
	if !explicit {
		path = filepath.Join(src.Dir, DefaultFile)
	} else if !filepath.IsAbs(path) {
		path = filepath.Join(src.Dir, path)
	}
	f, err := os.Open(path)
	if !explicit && errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", []error{fmt.Errorf("config: --config %s: cannot read: %w", path, unwrapPathErr(err))}
	}
	defer f.Close()
	fv := viper.New()
	fv.SetConfigType("yaml")
	if err := fv.ReadConfig(f); err != nil {
		return path, []error{fmt.Errorf("config: %s: not valid YAML: %v", path, yamlReason(err))}
	}
	known := make(map[string]bool, len(keys))
	for _, k := range keys {
		known[k.name] = true
	}
	var errs []error
	all := fv.AllKeys()
	slices.Sort(all)
	for _, k := range all {
		if !known[k] {
			errs = append(errs, fmt.Errorf("config: %s: unknown key %q", path, k))
		}
	}
	if len(errs) > 0 {
		return path, errs
	}
	if err := v.MergeConfigMap(fv.AllSettings()); err != nil {
		return path, []error{fmt.Errorf("config: %s: %v", path, err)}
	}
	return path, nil
}

// yamlReason keeps the parser's position but not the quoted text around it,
// which could be a certificate.
func yamlReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "yaml: "); i >= 0 {
		msg = msg[i:]
	}
	if i := strings.IndexAny(msg, "\"`'"); i >= 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	return msg
}

// parser converts viper's loosely typed values, collecting errors instead of
// stopping at the first.
type parser struct {
	v    *viper.Viper
	errs []error
}

func (p *parser) fail(k, format string, a ...any) {
	p.errs = append(p.errs, fmt.Errorf("config: %s: "+format, append([]any{k}, a...)...))
}

func (p *parser) str(k string) string {
	switch v := p.v.Get(k).(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(v)
	case int, int64, bool:
		return fmt.Sprint(v)
	case float64:
		p.fail(k, "must be a string; quote the value in YAML (got a number)")
		return ""
	default:
		p.fail(k, "must be a string (got a %s)", kind(v))
		return ""
	}
}

// duration accepts Go syntax ("90s", "24h") and plain seconds ("90", 90).
func (p *parser) duration(k string) time.Duration {
	raw := p.v.Get(k)
	var s string
	switch v := raw.(type) {
	case int:
		s = strconv.Itoa(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	case string:
		s = strings.TrimSpace(v)
	case time.Duration:
		return v
	default:
		p.fail(k, "must be a duration like 90s or a number of seconds (got a %s)", kind(v))
		return 0
	}
	d, err := ParseDuration(s)
	if err != nil {
		p.fail(k, "must be a duration like 90s or a number of seconds (got %q)", s)
		return 0
	}
	return d
}

// ParseDuration parses Go duration syntax or a plain number of seconds.
func ParseDuration(s string) (time.Duration, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > int64((1<<63-1)/time.Second) {
			return 0, fmt.Errorf("too large")
		}
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

// list accepts a YAML list or a comma-separated string (viper alone would split
// environment values on spaces).
func (p *parser) list(k string) []string {
	var parts []string
	switch v := p.v.Get(k).(type) {
	case nil:
	case string:
		parts = strings.Split(v, ",")
	case []string:
		parts = v
	case []any:
		for _, e := range v {
			switch e := e.(type) {
			case string:
				parts = append(parts, e)
			case map[string]any, []any, nil:
				p.fail(k, "must be a list of strings (got a %s entry)", kind(e))
				return nil
			default:
				parts = append(parts, fmt.Sprint(e))
			}
		}
	default:
		p.fail(k, "must be a list or a comma-separated string (got a %s)", kind(v))
		return nil
	}
	out := make([]string, 0, len(parts))
	for _, s := range parts {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) integer(k string) int {
	switch v := p.v.Get(k).(type) {
	case int:
		return v
	case int64:
		return int(v)
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			p.fail(k, "must be a whole number (got %q)", v)
		}
		return n
	default:
		p.fail(k, "must be a whole number (got a %s)", kind(v))
		return 0
	}
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "map"
	case []any:
		return "list"
	case nil:
		return "null"
	case float64:
		return "fraction"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// validate checks every field and appends one error per problem to errs,
// which holds what parsing already found (so nothing is reported twice).
func (c *Config) validate(certFile, level string, errs []error) []error {
	add := func(k, format string, a ...any) {
		errs = append(errs, fmt.Errorf("config: %s: "+format, append([]any{k}, a...)...))
	}

	if host, port, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen", "must be host:port, e.g. :8081 or 127.0.0.1:0 (got %q)", c.Listen)
	} else if n, err := strconv.ParseUint(port, 10, 16); err != nil || (port != "0" && n == 0) {
		add("listen", "port must be a number 0-65535 (got %q)", port)
	} else if host != "" && net.ParseIP(strings.Trim(host, "[]")) == nil && !validHostname(host) {
		add("listen", "host must be an IP address or a host name (got %q)", host)
	}

	if c.AppID != "" {
		if err := accesstoken.ValidateAppID(c.AppID); err != nil {
			add("agora.app_id", "%v", err)
		}
	}
	if certFile != "" {
		if !c.AppCertificate.IsZero() {
			add("agora.app_certificate_file", "set either agora.app_certificate or agora.app_certificate_file, not both")
		} else if b, err := os.ReadFile(certFile); err != nil {
			add("agora.app_certificate_file", "cannot read %s: %v", certFile, unwrapPathErr(err))
		} else {
			c.AppCertificate = NewSecret(strings.TrimSpace(string(b)))
			if c.AppCertificate.IsZero() {
				add("agora.app_certificate_file", "%s is empty", certFile)
			}
		}
	}
	if !c.AppCertificate.IsZero() {
		if err := accesstoken.ValidateCertificate(c.AppCertificate.Reveal()); err != nil {
			name := "agora.app_certificate"
			if certFile != "" {
				name = "agora.app_certificate_file"
			}
			add(name, "%v", err)
		}
	}
	switch {
	case c.AppID == "" && c.AppCertificate.IsZero() && certFile == "":
		c.Demo = true
	case c.AppID == "":
		add("agora.app_id", "required when a certificate is set (or unset both for demo mode)")
	case c.AppCertificate.IsZero() && certFile == "":
		add("agora.app_certificate", "required when agora.app_id is set (or unset both for demo mode)")
	}

	expiryOK := func(k string, d time.Duration) bool {
		switch {
		case d == 0:
			return false // already reported as unparseable, or really 0
		case d < time.Second || d%time.Second != 0:
			add(k, "must be a whole number of seconds, at least 1s (got %s)", d)
		case d > MaxExpiry:
			add(k, "must be at most %s, Agora's limit (got %s)", MaxExpiry, d)
		default:
			return true
		}
		return false
	}
	for _, e := range []struct {
		k string
		d time.Duration
	}{{"token.default_expiry", c.DefaultExpiry}, {"token.max_expiry", c.MaxExpiry}} {
		if e.d == 0 && !hasErrFor(errs, e.k) {
			add(e.k, "must be at least 1s (got 0)")
		}
	}
	dOK := expiryOK("token.default_expiry", c.DefaultExpiry)
	mOK := expiryOK("token.max_expiry", c.MaxExpiry)
	if dOK && mOK && c.DefaultExpiry > c.MaxExpiry {
		add("token.default_expiry", "must not exceed token.max_expiry (%s) (got %s)", c.MaxExpiry, c.DefaultExpiry)
	}

	// The origin rules (and their one spelling) are package origin's,
	// shared with corsproxy.
	origins, originErrs := origin.ParseList(c.AllowedOrigins, false)
	for _, err := range originErrs {
		add("cors.allowed_origins", "%v", err)
	}
	if len(originErrs) == 0 {
		c.AllowedOrigins = origins.Entries()
	}

	for _, tp := range c.TrustedProxies {
		if _, err := clientip.ParsePrefixes([]string{tp}); err != nil {
			add("trusted_proxies", "%v", err)
		}
	}

	for _, t := range []struct {
		k string
		d time.Duration
	}{
		{"timeouts.read_header", c.Timeouts.ReadHeader},
		{"timeouts.read", c.Timeouts.Read},
		{"timeouts.write", c.Timeouts.Write},
		{"timeouts.idle", c.Timeouts.Idle},
		{"timeouts.shutdown", c.Timeouts.Shutdown},
	} {
		if t.d <= 0 && !hasErrFor(errs, t.k) {
			add(t.k, "must be positive (got %s)", t.d)
		}
	}
	if c.Timeouts.Drain < 0 && !hasErrFor(errs, "timeouts.drain") {
		add("timeouts.drain", "must not be negative (got %s)", c.Timeouts.Drain)
	}

	if c.MaxHeaderBytes < 1024 && !hasErrFor(errs, "max_header_bytes") {
		add("max_header_bytes", "must be at least 1024 (got %d)", c.MaxHeaderBytes)
	}
	if (c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 1<<20) && !hasErrFor(errs, "max_body_bytes") {
		add("max_body_bytes", "must be 1024-1048576 (got %d)", c.MaxBodyBytes)
	}

	switch strings.ToLower(level) {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		add("log.level", "must be debug, info, warn or error (got %q)", level)
	}
	c.LogFormat = strings.ToLower(c.LogFormat)
	if c.LogFormat != "text" && c.LogFormat != "json" {
		add("log.format", "must be text or json (got %q)", c.LogFormat)
	}
	return errs
}

// hasErrFor reports whether the parser already complained about key k, so a
// value that could not be parsed is not reported twice.
func hasErrFor(errs []error, k string) bool {
	prefix := "config: " + k + ":"
	for _, e := range errs {
		if strings.HasPrefix(e.Error(), prefix) {
			return true
		}
	}
	return false
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
