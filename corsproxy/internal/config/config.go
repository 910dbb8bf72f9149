// Package config loads the corsproxy configuration once, at start: defaults
// < config file < CORSPROXY_* environment < command-line flags, through
// package settings. It checks everything and reports every problem, one line
// each, then hands out a typed Config; nothing else in the program reads the
// environment or the file.
package config

//go:generate go test -run TestGeneratedFilesMatchTheKeyTable -update .

import (
	"crypto/tls"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"signaling-auth/lifecycle"

	"github.com/spf13/pflag"

	"signaling-auth/corsproxy/internal/cors"
	"signaling-auth/corsproxy/internal/proxy"
	"signaling-auth/corsproxy/internal/target"
	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/clientip"
	"signaling-auth/ratelimit/connsettings"
	"signaling-auth/ratelimit/limitsettings"
	"signaling-auth/settings"
)

// EnvPrefix starts every environment variable the proxy reads.
const EnvPrefix = "CORSPROXY_"

// DefaultFile is read when no --config is given and it exists, relative to
// the working directory (so `make run` from the repository root finds it).
const DefaultFile = "configs/corsproxy.yaml"

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
	CORS           cors.Policy
	Timeouts       Timeouts
	Transport      Transport
	MaxBodyBytes   int64
	MaxHeaderBytes int
	// Conns bounds the client connections open on Listen, in all and per
	// client address.
	Conns connsettings.Limits
	// TLS is nil when the proxy serves plain HTTP.
	TLS *tls.Certificate
	// TrustedProxies are the IPs/CIDRs whose X-Forwarded-For is believed
	// for the client address, as configured; Clients is them parsed.
	TrustedProxies []string
	Clients        *clientip.Resolver
	RateLimit      RateLimit
	Log            Log
}

// RateLimit is rate_limit.*: the per-client-IP token bucket.
type RateLimit struct {
	// PerIP is the limit; the zero Limit means off.
	PerIP ratelimit.Limit
	limitsettings.StoreConfig
}

// Secret is a string that prints as "[redacted]" in every format.
type Secret = settings.Secret

// Timeouts of the server (towards clients) and the transport (towards the
// upstream). All are positive.
type Timeouts struct {
	lifecycle.Timeouts // the proxy listener's read_header, read, write, idle; shutdown, drain
	Dial               time.Duration
	TLSHandshake       time.Duration
	ResponseHeader     time.Duration
	UpstreamIdle       time.Duration
	Readiness          time.Duration
}

// Transport tunes the connections to the upstream.
type Transport struct {
	MaxIdleConnsPerHost int
	// Protocol is proxy.HTTP1 or proxy.H2C.
	Protocol proxy.Protocol
	// Proxy is an outgoing HTTP proxy, nil for direct connections.
	Proxy *url.URL
}

// Log is log.*.
type Log = settings.Log

// Program is corsproxy's key table: flags, --help, environment names,
// configs/corsproxy.yaml and docs/config-corsproxy.md all come from it.
var Program = settings.Program{
	Name:      "corsproxy",
	EnvPrefix: EnvPrefix,
	Header: `corsproxy configuration: every key with its default.
Generated from corsproxy/internal/config by go generate; edit the key table there.
Precedence: these defaults < this file (or --config FILE, or CORSPROXY_CONFIG)
< environment CORSPROXY_<KEY> (dots → underscores, lists comma-separated)
< flags --<key>=value.
Durations take Go syntax ("90s", "1h30m") or plain seconds (90).
Unknown keys are an error; a bad value stops the proxy at start with one line per problem.`,
	Keys: slices.Concat(settings.ServerKeys(settings.ServerDefaults{Listen: ":8080", ReadHeader: "5s", Read: "30s", Write: "30s", Idle: "120s", Shutdown: "15s"}), []settings.Key{
		{Name: "timeouts.dial", Kind: settings.Duration, Default: "5s", Doc: "Connecting to the upstream."},
		{Name: "timeouts.tls_handshake", Kind: settings.Duration, Default: "5s", Doc: "TLS handshake with an https upstream."},
		{Name: "timeouts.response_header", Kind: settings.Duration, Default: "10s", Doc: "Waiting for the upstream's response headers (then 504)."},
		{Name: "timeouts.upstream_idle", Kind: settings.Duration, Default: "90s", Doc: "Keeping an idle upstream connection open."},
		{Name: "timeouts.readiness", Kind: settings.Duration, Default: "1s", Doc: "The /readyz dial to the upstream."},
		{Name: "admin_listen", Default: ":9091", Doc: "Address of the admin listener: /healthz, /readyz, /metrics."},
		{Name: "upstream", Default: "http://localhost:8081", Doc: `Fixed upstream every request goes to ("" to allow only allowed_targets).`},
		{Name: "allowed_targets", Kind: settings.List, Doc: "Origins the cors-anywhere form /http://host:port/path may name (empty: that form is off)."},
		{Name: "allowed_paths", Kind: settings.List, Default: "/rtm/,/rtc/,/rte/,/chat/,/getToken,/v1/tokens", Doc: `Paths passed on to the upstream: "/rtm/" (ends in /) is a prefix, "/getToken" one exact path; others get 404
(empty: every path, with a warning). The defaults are the token routes of our tokenserver (and Agora's samples);
the upstream's /metrics, /readyz, /openapi.json, /v1/tokens/inspect and /v1/tokens/diagnose stay private. To open more, add an entry:
"/api/" allows every path below /api/, "/ping" only /ping itself. Paths are compared as sent and decoded
(/rtm%2Fx is not below /rtm/); . and .. segments are refused (403). In the cors-anywhere form the path after
the target counts.`},
	}, connsettings.Keys, []settings.Key{
		{Name: "cors.allowed_origins", Kind: settings.List, Default: "http://localhost:9000", Doc: `Origins allowed to read answers: exact origins, https://*.example.com patterns, or "*" alone.`},
		{Name: "cors.allow_credentials", Kind: settings.Bool, Default: "false", Doc: "Let pages send cookies/HTTP auth (Access-Control-Allow-Credentials; only with exact https or loopback origins)."},
		{Name: "cors.allowed_methods", Kind: settings.List, Default: "GET,HEAD,POST", Doc: "Methods a cross-origin page may use."},
		{Name: "cors.allowed_headers", Kind: settings.List, Default: "Content-Type,Authorization,X-Requested-With,traceparent,tracestate", Doc: "Request headers a cross-origin page may send (traceparent and tracestate let a traced page continue\nits trace through the proxy; they are harmless when tracing is off)."},
		{Name: "cors.exposed_headers", Kind: settings.List, Default: "X-Request-Id,Retry-After,RateLimit-Limit,RateLimit-Remaining,RateLimit-Reset,Token-Mode", Doc: "Response headers a page may read beyond the CORS-safelisted ones (the defaults let it back off on 429,\nquote the request ID, which names the token server's audit line, and learn from the token server's\nToken-Mode whether it runs in demo mode)."},
		{Name: "cors.max_age", Kind: settings.Duration, Default: "10m", Doc: "How long browsers may cache a preflight (0: no Access-Control-Max-Age; at most 24h)."},
		{Name: "cors.reject_disallowed_origins", Kind: settings.Bool, Default: "true", Doc: "Answer requests from other origins with 403 instead of forwarding them without CORS headers."},
		{Name: "transport.max_idle_conns_per_host", Kind: settings.Int, Default: "256", Doc: "Idle upstream connections kept per host (size it to the concurrent load)."},
		{Name: "transport.protocol", Default: "http1", Doc: `How the proxy talks to upstreams. http1: HTTP/1.1 (h2 where an https upstream offers it), each client
connection with upstream connections of its own, never shared with another client's: an upstream that
answers twice or late cannot hand one user's answer to another. h2c: HTTP/2 only (prior knowledge on
http://, h2 on https://), one multiplexed connection shared by all clients, each answer on its request's
stream; every upstream must speak HTTP/2 (tokenserver does). Not with transport.proxy.`},
		{Name: "transport.proxy", Doc: "Outgoing HTTP proxy URL for upstream requests (HTTP_PROXY is ignored)."},
		{Name: "max_body_bytes", Kind: settings.Int, Default: "1048576", Doc: "Largest request body accepted, in bytes or e.g. 1MiB (413 beyond)."},
		{Name: "max_header_bytes", Kind: settings.Int, Default: "65536", Doc: "Largest request header block accepted, in bytes or e.g. 64KiB (431 beyond)."},
		{Name: "tls.cert_file", Doc: "PEM certificate (chain) to serve HTTPS; empty: plain HTTP."},
		{Name: "tls.key_file", Doc: "PEM private key for tls.cert_file."},
		{Name: "trusted_proxies", Kind: settings.List, Doc: "Proxy IPs/CIDRs whose X-Forwarded-For gives the client IP for rate limits; that client\n(else the TCP peer) goes on to the upstream as the only X-Forwarded-For entry."},
		{Name: "rate_limit", Kind: settings.Section, Doc: "Token-bucket limit per client IP; 429 with Retry-After beyond it (CORS headers included)."},
		{Name: "rate_limit.per_ip", Default: "10/s", Doc: "Requests per client IP: N/s, N/min, N/h or off. CORS preflights have a bucket of their own,\nfour times this rate and rate_limit.burst, so a refused request is still preflighted and its 429\nread by the page."},
	}, limitsettings.Keys, settings.LogKeys),
}

// ErrHelp is returned by Load when --help was asked for; the usage has been
// written.
var ErrHelp = pflag.ErrHelp

// Load reads the configuration from args (flags, without the program name
// and subcommand), getenv and the config file, and validates it. The error
// lists every problem, one "config: key: reason" line each. usage receives
// the --help text.
func Load(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	vs, err := Program.Parse(args, getenv, usage)
	if err != nil {
		return Config{}, err
	}
	c := build(vs)
	if err := vs.Err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func build(vs *settings.Values) Config {
	c := Config{
		File:        vs.File,
		Listen:      vs.HostPort("listen"),
		AdminListen: vs.HostPort("admin_listen"),
	}
	if c.Listen != "" && c.AdminListen != "" && sameAddress(c.Listen, c.AdminListen) {
		vs.Fail("admin_listen", "must differ from listen (both are %q)", c.AdminListen)
	}
	c.Upstream, _ = settings.Parsed(vs, "upstream", func(s string) (*url.URL, error) {
		if s == "" {
			return nil, nil
		}
		return target.ParseUpstream(s)
	})
	for _, s := range vs.List("allowed_targets") {
		u, err := target.ParseOrigin(s)
		if err != nil {
			vs.Fail("allowed_targets", "%q %v", redact(s), err)
			continue
		}
		c.AllowedTargets = append(c.AllowedTargets, u)
	}
	// The path rules are package target's, which the resolver applies.
	paths, err := target.ParsePaths(vs.List("allowed_paths"))
	if err != nil && !vs.Failed("allowed_paths") {
		for line := range strings.SplitSeq(err.Error(), "\n") {
			vs.Fail("allowed_paths", "%s", line)
		}
	}
	c.AllowedPaths = paths
	if c.Upstream == nil && len(c.AllowedTargets) == 0 && !vs.Failed("upstream") && !vs.Failed("allowed_targets") {
		vs.Fail("upstream", "must be set unless allowed_targets lists at least one target (else nothing can be forwarded)")
	}

	var corsErrs []cors.FieldError
	c.CORS, corsErrs = cors.Compile(cors.Config{
		AllowedOrigins:          vs.List("cors.allowed_origins"),
		AllowCredentials:        vs.Bool("cors.allow_credentials"),
		AllowedMethods:          vs.List("cors.allowed_methods"),
		AllowedHeaders:          vs.List("cors.allowed_headers"),
		ExposedHeaders:          vs.List("cors.exposed_headers"),
		MaxAge:                  vs.Duration("cors.max_age", 0, settings.Forever),
		RejectDisallowedOrigins: vs.Bool("cors.reject_disallowed_origins"),
	})
	// A key that did not even parse has been reported already; what Compile
	// says about its zero value would only add noise.
	unparsed := map[string]bool{}
	for _, k := range Program.Keys {
		unparsed[k.Name] = vs.Failed(k.Name)
	}
	for _, e := range corsErrs {
		if key := "cors." + e.Field; !unparsed[key] {
			vs.Fail(key, "%s", e.Reason)
		}
	}

	positive := vs.PositiveDuration
	c.Timeouts = Timeouts{
		Timeouts:       vs.Timeouts(),
		Dial:           positive("timeouts.dial"),
		TLSHandshake:   positive("timeouts.tls_handshake"),
		ResponseHeader: positive("timeouts.response_header"),
		UpstreamIdle:   positive("timeouts.upstream_idle"),
		Readiness:      positive("timeouts.readiness"),
	}
	if t := c.Timeouts; t.Write > 0 && t.ResponseHeader > 0 && t.Write <= t.ResponseHeader {
		// Otherwise the server gives up on the client before the 504 for a
		// slow upstream could be written.
		vs.Fail("timeouts.write", "must be longer than timeouts.response_header (%s), or a slow upstream's 504 never reaches the client (got %s)", t.ResponseHeader, t.Write)
	}

	c.Transport.MaxIdleConnsPerHost = vs.Int("transport.max_idle_conns_per_host", 1, 100000)
	c.Transport.Proxy = vs.URL("transport.proxy", "http", "https", "socks5")
	c.Transport.Protocol = proxy.Protocol(vs.OneOf("transport.protocol", string(proxy.HTTP1), string(proxy.H2C)))
	if c.Transport.Protocol == proxy.H2C && c.Transport.Proxy != nil {
		// An outgoing proxy would be asked to CONNECT or forward HTTP/1.1;
		// prior-knowledge HTTP/2 cannot go through it.
		vs.Fail("transport.protocol", "h2c cannot go through transport.proxy (%s); use http1 or leave transport.proxy empty", c.Transport.Proxy.Redacted())
	}
	c.MaxBodyBytes = vs.Size("max_body_bytes", 1, 1<<40)
	c.MaxHeaderBytes = int(vs.Size("max_header_bytes", 4096, 16<<20))

	switch cert, key := vs.String("tls.cert_file"), vs.String("tls.key_file"); {
	case cert == "" && key == "":
	case cert == "" || key == "":
		vs.Fail("tls", "set both tls.cert_file and tls.key_file, or neither")
	default:
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			vs.Fail("tls", "cannot load tls.cert_file %q and tls.key_file %q: %v", cert, key, err)
		} else {
			c.TLS = &pair
		}
	}

	c.TrustedProxies = vs.List("trusted_proxies")
	if c.Clients, err = clientip.New(c.TrustedProxies); err != nil {
		vs.Fail("trusted_proxies", "%v", err)
	}
	c.Conns = connsettings.Load(vs, c.Clients)
	var burst int
	c.RateLimit.StoreConfig, burst = limitsettings.Load(vs)
	c.RateLimit.PerIP = limitsettings.Rate(vs, "rate_limit.per_ip", burst)
	c.Log = vs.Log()
	return c
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
