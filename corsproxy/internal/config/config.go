// Package config loads the corsproxy configuration once, at start: defaults
// < config file < CORSPROXY_* environment < command-line flags, through
// viper. It checks everything and reports every problem, one line each,
// then hands out a typed Config; nothing else in the program reads the
// environment or the file.
package config

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"signaling-auth/corsproxy/internal/cors"
	"signaling-auth/corsproxy/internal/target"
	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/clientip"
	"signaling-auth/ratelimit/redis"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// EnvPrefix starts every environment variable the proxy reads.
const EnvPrefix = "CORSPROXY_"

// DefaultFile is read when no --config is given and it exists, relative to
// the working directory (so `make run` from the repository root finds it).
const DefaultFile = "configs/corsproxy.yaml"

// maxFileBytes bounds the config file; a larger one is a mistake.
const maxFileBytes = 1 << 20

// Config is the validated configuration. Treat it as read-only.
type Config struct {
	// File is the config file that was read, "" if none.
	File string

	Listen      string
	AdminListen string
	// Upstream is the fixed upstream; nil when only AllowedTargets are used.
	Upstream *url.URL
	// AllowedTargets are the origins the cors-anywhere form may name, in
	// canonical form.
	AllowedTargets []*url.URL
	// AllowedPaths are the request paths passed on, in either form; nil
	// means every path.
	AllowedPaths   *target.Paths
	CORS           cors.Config
	Timeouts       Timeouts
	Transport      Transport
	MaxBodyBytes   int64
	MaxHeaderBytes int
	// MaxConns caps the client connections open at once on Listen; 0
	// means no cap.
	MaxConns int
	// TLS is nil when the proxy serves plain HTTP.
	TLS *tls.Certificate
	// TrustedProxies are the IPs/CIDRs whose X-Forwarded-For is believed
	// for the client address.
	TrustedProxies []string
	RateLimit      RateLimit
	Log            Log
}

// RateLimit is rate_limit.*: the per-client-IP token bucket.
type RateLimit struct {
	// PerIP is the limit; the zero Limit means off.
	PerIP        ratelimit.Limit
	Store        string // memory or redis
	RedisURL     Secret // may hold a password
	RedisTimeout time.Duration
	OnStoreError ratelimit.Policy
	MaxKeys      int
}

// Secret is a string that prints as "[redacted]" in every format, so a
// Config holding a password can be logged or shown in a test failure.
type Secret struct{ v string }

// Reveal returns the value; call it only where the value is used.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether no value is set.
func (s Secret) IsZero() bool { return s.v == "" }

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return "[redacted]"
}

// Format makes every fmt verb print the redacted form.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Timeouts of the server (towards clients) and the transport (towards the
// upstream). All are positive.
type Timeouts struct {
	Dial           time.Duration
	TLSHandshake   time.Duration
	ResponseHeader time.Duration
	ReadHeader     time.Duration
	Read           time.Duration
	Write          time.Duration
	Idle           time.Duration
	UpstreamIdle   time.Duration
	Shutdown       time.Duration
	Readiness      time.Duration
	// Drain is how long, on SIGTERM, the admin /readyz answers 503 while
	// requests are still served, before the shutdown; 0 means none.
	Drain time.Duration
}

// Transport tunes the connections to the upstream.
type Transport struct {
	MaxIdleConnsPerHost int
	// Proxy is an outgoing HTTP proxy, nil for direct connections.
	Proxy *url.URL
}

// Log selects the logger.
type Log struct {
	Level  slog.Level
	Format string // "text" or "json"
}

type kind int

const (
	kString kind = iota
	kList
	kBool
	kInt
	kDuration
)

// key is one configuration key. def is written the way an environment
// variable would spell it; help is the flag usage and the comment in
// configs/corsproxy.yaml.
type key struct {
	name string
	kind kind
	def  string
	help string
}

// Keys lists every key; the flags, the environment names and the defaults
// all come from here.
var keys = []key{
	{"listen", kString, ":8080", "address the proxy listens on (host:port; port 0 picks a free one)"},
	{"admin_listen", kString, ":9091", "address of the admin listener: /healthz, /readyz, /metrics"},
	{"upstream", kString, "http://localhost:8081", `fixed upstream every request goes to ("" to allow only allowed_targets)`},
	{"allowed_targets", kList, "", "origins the cors-anywhere form /http://host:port/path may name (empty: that form is off)"},
	{"allowed_paths", kList, "/rtm/,/rtc/,/rte/,/chat/,/getToken,/v1/tokens", `paths passed on to the upstream: "/rtm/" (ends in /) is a prefix, "/getToken" one exact path; others get 404 (empty: every path, with a warning)`},
	{"cors.allowed_origins", kList, "http://localhost:9000", `origins allowed to read answers: exact origins, https://*.example.com patterns, or "*" alone`},
	{"cors.allow_credentials", kBool, "false", `let pages send cookies/HTTP auth (Access-Control-Allow-Credentials; only with exact https or loopback origins)`},
	{"cors.allowed_methods", kList, "GET,HEAD,POST", "methods a cross-origin page may use"},
	{"cors.allowed_headers", kList, "Content-Type,Authorization,X-Requested-With", "request headers a cross-origin page may send"},
	{"cors.exposed_headers", kList, "Retry-After,RateLimit-Limit,RateLimit-Remaining,RateLimit-Reset", "response headers a page may read beyond the CORS-safelisted ones (the defaults let it back off on 429)"},
	{"cors.max_age", kDuration, "10m", "how long browsers may cache a preflight (0: no Access-Control-Max-Age; at most 24h)"},
	{"cors.reject_disallowed_origins", kBool, "true", "answer requests from other origins with 403 instead of forwarding them without CORS headers"},
	{"timeouts.dial", kDuration, "5s", "connecting to the upstream"},
	{"timeouts.tls_handshake", kDuration, "5s", "TLS handshake with an https upstream"},
	{"timeouts.response_header", kDuration, "10s", "waiting for the upstream's response headers (then 504)"},
	{"timeouts.read_header", kDuration, "5s", "a client sending its request headers"},
	{"timeouts.read", kDuration, "30s", "a client sending its whole request"},
	{"timeouts.write", kDuration, "30s", "writing an answer, from the end of the request headers (must exceed response_header)"},
	{"timeouts.idle", kDuration, "120s", "keeping an idle client connection open"},
	{"timeouts.upstream_idle", kDuration, "90s", "keeping an idle upstream connection open"},
	{"timeouts.shutdown", kDuration, "15s", "letting in-flight requests finish on SIGTERM"},
	{"timeouts.drain", kDuration, "5s", "on SIGTERM, /readyz answers 503 while requests are still served, before the shutdown (0: none)"},
	{"timeouts.readiness", kDuration, "1s", "the /readyz dial to the upstream"},
	{"transport.max_idle_conns_per_host", kInt, "256", "idle upstream connections kept per host (size it to the concurrent load)"},
	{"transport.proxy", kString, "", "outgoing HTTP proxy URL for upstream requests (HTTP_PROXY is ignored)"},
	{"max_body_bytes", kInt, "1048576", "largest request body accepted (413 beyond)"},
	{"max_conns", kInt, "4096", "most client connections open at once on listen; more wait to be accepted (0: no cap)"},
	{"max_header_bytes", kInt, "65536", "largest request header block accepted (431 beyond)"},
	{"tls.cert_file", kString, "", "PEM certificate (chain) to serve HTTPS; empty: plain HTTP"},
	{"tls.key_file", kString, "", "PEM private key for tls.cert_file"},
	{"trusted_proxies", kList, "", "proxy IPs/CIDRs whose X-Forwarded-For gives the client IP for rate limits and goes on to the upstream (empty: the TCP peer)"},
	{"rate_limit.per_ip", kString, "10/s", "requests per client IP, preflights not counted: N/s, N/min, N/h or off"},
	{"rate_limit.burst", kInt, "40", "requests a client may make at once before the rate applies"},
	{"rate_limit.store", kString, "memory", "memory (this process) or redis (shared by every replica)"},
	{"rate_limit.redis_url", kString, "", "redis store: redis://[user:password@]host:port/db or rediss://… (prefer the environment)"},
	{"rate_limit.redis_timeout", kDuration, "250ms", "redis store: longest wait for Redis per request; then on_store_error applies"},
	{"rate_limit.on_store_error", kString, "allow", "when the store fails: allow (requests pass unlimited) or deny (503)"},
	{"rate_limit.max_keys", kInt, "100000", "memory store: most client IPs tracked; the least recently seen go first"},
	{"log.level", kString, "info", "debug, info, warn or error"},
	{"log.format", kString, "text", "text or json"},
}

// Key describes one configuration key, for documentation and tests.
type Key struct {
	Name, Env, Flag, Default, Help string
}

// Keys returns every key with its environment variable, flag and default.
func Keys() []Key {
	out := make([]Key, len(keys))
	for i, k := range keys {
		out[i] = Key{Name: k.name, Env: EnvName(k.name), Flag: "--" + k.name, Default: k.def, Help: k.help}
	}
	return out
}

// EnvName is the environment variable of a key: cors.max_age →
// CORSPROXY_CORS_MAX_AGE.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// ErrHelp is returned by Load when --help was asked for; the usage has been
// written.
var ErrHelp = pflag.ErrHelp

// Load reads the configuration from args (flags, without the program name
// and subcommand), getenv and the config file, and validates it. The error
// lists every problem, one "config: key: reason" line each. usage receives
// the --help text.
func Load(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	fset := pflag.NewFlagSet("corsproxy", pflag.ContinueOnError)
	fset.SetOutput(usage)
	fset.SortFlags = false
	configFlag := fset.String("config", "", "config file (default: "+DefaultFile+" if it exists; env "+EnvPrefix+"CONFIG)")
	for _, k := range keys {
		// Every flag is a string: the typed parsing is the same for flags,
		// environment and file (see parser).
		fset.String(k.name, "", k.help+" (env "+EnvName(k.name)+", default "+strconv.Quote(k.def)+")")
		if k.kind == kBool {
			fset.Lookup(k.name).NoOptDefVal = "true" // --cors.allow_credentials alone means true
		}
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return Config{}, ErrHelp
		}
		return Config{}, fmt.Errorf("config: %v (see --help)", err)
	}
	if fset.NArg() > 0 {
		return Config{}, fmt.Errorf("config: unexpected argument %q (flags are --key=value; see --help)", fset.Arg(0))
	}

	v := viper.New()
	v.SetConfigType("yaml")
	for _, k := range keys {
		v.SetDefault(k.name, k.def)
	}

	var problems []string
	file, explicit := *configFlag, true
	if file == "" {
		file = getenv(EnvPrefix + "CONFIG")
	}
	if file == "" {
		file, explicit = DefaultFile, false
	}
	data, err := readFile(file)
	switch {
	case err == nil:
		probs, fatal := readInto(v, file, data)
		if fatal != nil {
			return Config{}, fatal
		}
		problems = append(problems, probs...)
	case !explicit && errors.Is(err, fs.ErrNotExist):
		file = ""
	default:
		return Config{}, fmt.Errorf("config: %v", err)
	}

	// Environment: merged over the file, below the flags. viper's own
	// AutomaticEnv would read os.Getenv; the program only reads the getenv
	// it was given.
	env := map[string]any{}
	for _, k := range keys {
		if val := getenv(EnvName(k.name)); val != "" {
			setNested(env, k.name, val)
		}
	}
	if err := v.MergeConfigMap(env); err != nil {
		return Config{}, fmt.Errorf("config: environment: %v", err)
	}
	for _, k := range keys {
		if err := v.BindPFlag(k.name, fset.Lookup(k.name)); err != nil {
			return Config{}, fmt.Errorf("config: --%s: %v", k.name, err)
		}
	}

	p := parser{v: v}
	cfg := p.build()
	cfg.File = file
	problems = append(problems, p.problems...)
	if len(problems) > 0 {
		return Config{}, errors.New(strings.Join(problems, "\n"))
	}
	return cfg, nil
}

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxFileBytes)
	}
	return data, nil
}

// readInto loads the YAML file into v and returns one problem per unknown
// key. A file that is not YAML is fatal: nothing else can be checked.
func readInto(v *viper.Viper, file string, data []byte) (problems []string, fatal error) {
	fv := viper.New()
	fv.SetConfigType("yaml")
	if err := fv.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("config: %s: not valid YAML: %v", file, oneLine(err.Error()))
	}
	known := map[string]bool{}
	sections := map[string]bool{}
	for _, k := range keys {
		known[k.name] = true
		if s, _, ok := strings.Cut(k.name, "."); ok {
			sections[s] = true
		}
	}
	fileKeys := fv.AllKeys()
	sort.Strings(fileKeys)
	for _, k := range fileKeys {
		switch {
		case known[k]:
		case sections[k]:
			problems = append(problems, fmt.Sprintf("config: %s: %s: must be a mapping of keys", file, k))
		default:
			problems = append(problems, fmt.Sprintf("config: %s: unknown key %q", file, k))
		}
	}
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("config: %s: not valid YAML: %v", file, oneLine(err.Error()))
	}
	return problems, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func setNested(m map[string]any, key string, val any) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[parts[len(parts)-1]] = val
}

// parser turns raw values into typed ones and collects one problem per bad key.
type parser struct {
	v        *viper.Viper
	problems []string
}

func (p *parser) fail(key, format string, args ...any) {
	p.problems = append(p.problems, "config: "+key+": "+fmt.Sprintf(format, args...))
}

func (p *parser) str(key string) string {
	switch x := p.v.Get(key).(type) {
	case string:
		return strings.TrimSpace(x)
	case nil:
		return ""
	default:
		p.fail(key, "must be a string (got %s)", describe(x))
		return ""
	}
}

func (p *parser) list(key string) []string {
	var items []string
	switch x := p.v.Get(key).(type) {
	case nil:
		return nil
	case string:
		// Environment and flags give "a,b"; viper alone would split on spaces.
		items = strings.Split(x, ",")
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				p.fail(key, "every entry must be a string (got %s)", describe(e))
				return nil
			}
			items = append(items, strings.Split(s, ",")...)
		}
	case []string:
		for _, s := range x {
			items = append(items, strings.Split(s, ",")...)
		}
	default:
		p.fail(key, "must be a list or a comma-separated string (got %s)", describe(x))
		return nil
	}
	out := make([]string, 0, len(items))
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" && !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) boolean(key string) bool {
	switch x := p.v.Get(key).(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "1", "yes", "on":
			return true
		case "false", "0", "no", "off", "":
			return false
		}
		p.fail(key, "must be true or false (got %q)", x)
	default:
		p.fail(key, "must be true or false (got %s)", describe(x))
	}
	return false
}

func (p *parser) integer(key string, min, max int64) int64 {
	var n int64
	switch x := p.v.Get(key).(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case uint64:
		if x > math.MaxInt64 {
			p.fail(key, "must be at most %d (got %d)", max, x)
			return 0
		}
		n = int64(x)
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			p.fail(key, "must be a whole number (got %v)", x)
			return 0
		}
		n = int64(x)
	case string:
		var err error
		n, err = strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			p.fail(key, "must be a whole number (got %q)", x)
			return 0
		}
	default:
		p.fail(key, "must be a whole number (got %s)", describe(x))
		return 0
	}
	if n < min || n > max {
		p.fail(key, "must be from %d to %d (got %d)", min, max, n)
		return 0
	}
	return n
}

// duration accepts Go syntax ("90s", "1h30m") and plain seconds (90, "90",
// 1.5). A negative duration is reported; zero is left to the caller.
func (p *parser) duration(key string) time.Duration {
	const hint = `must be a duration like "90s" or a number of seconds`
	var d time.Duration
	switch x := p.v.Get(key).(type) {
	case int:
		d = secs(float64(x))
	case int64:
		d = secs(float64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			p.fail(key, "%s (got %v)", hint, x)
			return 0
		}
		d = secs(x)
	case string:
		s := strings.TrimSpace(x)
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				p.fail(key, "%s (got %q)", hint, x)
				return 0
			}
			d = secs(f)
			break
		}
		var err error
		d, err = time.ParseDuration(s)
		if err != nil {
			p.fail(key, "%s (got %q)", hint, x)
			return 0
		}
	default:
		p.fail(key, "%s (got %s)", hint, describe(x))
		return 0
	}
	if d < 0 {
		p.fail(key, "must not be negative (got %s)", d)
		return 0
	}
	return d
}

// secs converts seconds to a Duration, saturating instead of overflowing.
func secs(f float64) time.Duration {
	ns := f * float64(time.Second)
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	if ns <= math.MinInt64 {
		return math.MinInt64
	}
	return time.Duration(ns)
}

func describe(x any) string {
	switch x := x.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return strconv.Quote(x)
	default:
		return fmt.Sprintf("%v", x)
	}
}

func (p *parser) positive(key string) time.Duration {
	d := p.duration(key)
	if d == 0 && !p.failed(key) {
		p.fail(key, "must be greater than zero")
	}
	return d
}

func (p *parser) failed(key string) bool {
	prefix := "config: " + key + ": "
	for _, s := range p.problems {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func (p *parser) build() Config {
	var c Config
	c.Listen = p.address("listen")
	c.AdminListen = p.address("admin_listen")
	if c.Listen != "" && c.AdminListen != "" && sameAddress(c.Listen, c.AdminListen) {
		p.fail("admin_listen", "must differ from listen (both are %q)", c.AdminListen)
	}

	if s := p.str("upstream"); s != "" {
		u, err := target.ParseUpstream(s)
		if err != nil {
			p.fail("upstream", "%q %v", redact(s), err)
		}
		c.Upstream = u
	}
	for _, s := range p.list("allowed_targets") {
		u, err := target.ParseOrigin(s)
		if err != nil {
			p.fail("allowed_targets", "%q %v", redact(s), err)
			continue
		}
		c.AllowedTargets = append(c.AllowedTargets, u)
	}
	paths, err := target.ParsePaths(p.list("allowed_paths"))
	if err != nil {
		for line := range strings.SplitSeq(err.Error(), "\n") {
			p.fail("allowed_paths", "%s", line)
		}
	}
	c.AllowedPaths = paths
	if c.Upstream == nil && len(c.AllowedTargets) == 0 && !p.failed("upstream") && !p.failed("allowed_targets") {
		p.fail("upstream", "must be set unless allowed_targets lists at least one target (else nothing can be forwarded)")
	}

	c.CORS = cors.Config{
		AllowedOrigins:          p.list("cors.allowed_origins"),
		AllowCredentials:        p.boolean("cors.allow_credentials"),
		AllowedMethods:          p.list("cors.allowed_methods"),
		AllowedHeaders:          p.list("cors.allowed_headers"),
		ExposedHeaders:          p.list("cors.exposed_headers"),
		MaxAge:                  p.duration("cors.max_age"),
		RejectDisallowedOrigins: p.boolean("cors.reject_disallowed_origins"),
	}
	unparsed := map[string]bool{}
	for _, k := range keys {
		if strings.HasPrefix(k.name, "cors.") && p.failed(k.name) {
			unparsed[k.name] = true
		}
	}
	for _, e := range cors.Check(c.CORS) {
		// A key that did not even parse has been reported already; what
		// Check says about its zero value would only add noise.
		if key := "cors." + e.Field; !unparsed[key] {
			p.fail(key, "%s", e.Reason)
		}
	}

	c.Timeouts = Timeouts{
		Dial:           p.positive("timeouts.dial"),
		TLSHandshake:   p.positive("timeouts.tls_handshake"),
		ResponseHeader: p.positive("timeouts.response_header"),
		ReadHeader:     p.positive("timeouts.read_header"),
		Read:           p.positive("timeouts.read"),
		Write:          p.positive("timeouts.write"),
		Idle:           p.positive("timeouts.idle"),
		UpstreamIdle:   p.positive("timeouts.upstream_idle"),
		Shutdown:       p.positive("timeouts.shutdown"),
		Drain:          p.duration("timeouts.drain"),
		Readiness:      p.positive("timeouts.readiness"),
	}
	if t := c.Timeouts; t.Write > 0 && t.ResponseHeader > 0 && t.Write <= t.ResponseHeader {
		// Otherwise the server gives up on the client before the 504 for a
		// slow upstream could be written.
		p.fail("timeouts.write", "must be longer than timeouts.response_header (%s), or a slow upstream's 504 never reaches the client (got %s)", t.ResponseHeader, t.Write)
	}

	c.Transport.MaxIdleConnsPerHost = int(p.integer("transport.max_idle_conns_per_host", 1, 100000))
	if s := p.str("transport.proxy"); s != "" {
		u, err := url.Parse(s)
		switch {
		case err != nil:
			p.fail("transport.proxy", "is not a valid URL")
		case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5":
			p.fail("transport.proxy", "must be an http://, https:// or socks5:// URL (got %q)", u.Redacted())
		case u.Host == "":
			p.fail("transport.proxy", "must have a host (got %q)", u.Redacted())
		default:
			c.Transport.Proxy = u
		}
	}

	c.MaxBodyBytes = p.integer("max_body_bytes", 1, 1<<40)
	c.MaxHeaderBytes = int(p.integer("max_header_bytes", 4096, 16<<20))
	c.MaxConns = int(p.integer("max_conns", 0, 1_000_000))

	cert, key := p.str("tls.cert_file"), p.str("tls.key_file")
	switch {
	case cert == "" && key == "":
	case cert == "" || key == "":
		p.fail("tls", "set both tls.cert_file and tls.key_file, or neither")
	default:
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			p.fail("tls", "cannot load tls.cert_file %q and tls.key_file %q: %v", cert, key, err)
		} else {
			c.TLS = &pair
		}
	}

	c.TrustedProxies = p.list("trusted_proxies")
	if _, err := clientip.ParsePrefixes(c.TrustedProxies); err != nil {
		p.fail("trusted_proxies", "%v", err)
	}
	c.RateLimit = p.rateLimit()

	switch lvl := strings.ToLower(p.str("log.level")); lvl {
	case "debug":
		c.Log.Level = slog.LevelDebug
	case "info":
		c.Log.Level = slog.LevelInfo
	case "warn", "warning":
		c.Log.Level = slog.LevelWarn
	case "error":
		c.Log.Level = slog.LevelError
	default:
		p.fail("log.level", "must be debug, info, warn or error (got %q)", lvl)
	}
	switch f := strings.ToLower(p.str("log.format")); f {
	case "text", "json":
		c.Log.Format = f
	default:
		p.fail("log.format", "must be text or json (got %q)", f)
	}
	return c
}

// address checks a host:port listen address; the port may be 0.
func (p *parser) address(key string) string {
	s := p.str(key)
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		p.fail(key, `must be host:port, e.g. ":8080" or "127.0.0.1:0" (got %q)`, s)
		return ""
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.fail(key, "port must be a number from 0 to 65535 (got %q)", port)
		return ""
	}
	if host != "" && net.ParseIP(host) == nil && !validHostname(host) {
		p.fail(key, "host %q is not an IP address or host name", host)
		return ""
	}
	return s
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// sameAddress reports whether two listen addresses would collide: the same
// non-zero port on the same or a wildcard host.
func sameAddress(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	if pa != pb || pa == "0" {
		return false
	}
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ha == hb || wild(ha) || wild(hb)
}

// redact hides user info in a URL-ish value before it goes into a message.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

// rateLimit reads rate_limit.*; every problem is one line.
func (p *parser) rateLimit() RateLimit {
	r := RateLimit{
		Store:        strings.ToLower(p.str("rate_limit.store")),
		RedisURL:     Secret{p.str("rate_limit.redis_url")},
		RedisTimeout: p.duration("rate_limit.redis_timeout"),
		MaxKeys:      int(p.integer("rate_limit.max_keys", 1000, 100_000_000)),
	}
	burst := int(p.integer("rate_limit.burst", 1, ratelimit.MaxBurst))
	s := p.str("rate_limit.per_ip")
	if rate, period, err := ratelimit.ParseRate(s); err != nil {
		p.fail("rate_limit.per_ip", "%v (got %q)", err, s)
	} else if rate > 0 {
		r.PerIP = ratelimit.Limit{Rate: rate, Period: period, Burst: burst}
	}
	switch r.Store {
	case "memory":
		if !r.RedisURL.IsZero() {
			p.fail("rate_limit.redis_url", "set but rate_limit.store is memory, so limits are not shared; set rate_limit.store: redis")
		}
	case "redis":
		if r.RedisURL.IsZero() {
			p.fail("rate_limit.redis_url", "required when rate_limit.store is redis")
		}
	default:
		p.fail("rate_limit.store", "must be memory or redis (got %q)", r.Store)
	}
	if !r.RedisURL.IsZero() {
		if err := redis.CheckURL(r.RedisURL.Reveal()); err != nil {
			p.fail("rate_limit.redis_url", "%v", err)
		}
	}
	if (r.RedisTimeout < time.Millisecond || r.RedisTimeout > 10*time.Second) && !p.failed("rate_limit.redis_timeout") {
		p.fail("rate_limit.redis_timeout", "must be from 1ms to 10s (got %s)", r.RedisTimeout)
	}
	pol := p.str("rate_limit.on_store_error")
	if policy, err := ratelimit.ParsePolicy(strings.ToLower(pol)); err != nil {
		p.fail("rate_limit.on_store_error", "%v (got %q)", err, pol)
	} else {
		r.OnStoreError = policy
	}
	return r
}
