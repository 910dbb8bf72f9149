// Package config loads the webdemo configuration once, at start: defaults, then a YAML
// file, then WEBDEMO_* environment variables, then flags, through package settings.
// Every problem is reported at once, one line each, and the result is a typed value that
// nothing re-checks later.
package config

//go:generate go test -run TestGeneratedFilesMatchTheKeyTable -update .

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"signaling-auth/lifecycle"
	"signaling-auth/ratelimit/connsettings"
	"signaling-auth/settings"
)

// DefaultFile is read when --config is not given and the file exists, so that `make run`
// from the repository root picks it up.
const DefaultFile = "configs/webdemo.yaml"

// EnvPrefix is prepended to the upper-cased key, dots turned into underscores.
const EnvPrefix = "WEBDEMO_"

// DefaultSDKURL is agora-rtm-sdk 2.x from a public CDN. The SDK is never committed to
// the repository (its licence is Agora's); the page loads it at run time.
const DefaultSDKURL = "https://cdn.jsdelivr.net/npm/agora-rtm-sdk@2.2.2/agora-rtm.js"

// DefaultSDKDir is where `make sdk` puts agora-rtm-sdk 2.x, relative to the repository
// root, where make run starts webdemo.
const DefaultSDKDir = ".sdk"

// SDKFile is the script of the npm package agora-rtm-sdk 2.x; webdemo serves it as
// /sdk/agora-rtm.js when it is in SDKDir.
const SDKFile = "agora-rtm.js"

// MaxTokenExpiry is Agora's longest token lifetime.
const MaxTokenExpiry = 24 * time.Hour

// Config is the validated configuration. It is a value: copy it freely, never mutate it.
type Config struct {
	// Listen is the host:port the page is served on.
	Listen string
	// ProxyURL is the CORS proxy the page fetches tokens through; it ends in "/".
	// Empty means the page calls ServerURL directly (the token server must then send
	// CORS headers itself).
	ProxyURL string
	// ServerURL, when set, is the token server the proxy forwards to in the
	// cors-anywhere style (ProxyURL + ServerURL + "/rtm/..."); no trailing slash.
	ServerURL string
	// AppID is the Agora App ID given to the Signaling SDK; empty means "use the App
	// ID inside each token".
	AppID string
	// TokenExpiry is the lifetime the page asks for, in whole seconds.
	TokenExpiry time.Duration
	// SDKURL is where the page loads agora-rtm-sdk 2.x from when SDKDir has no copy.
	SDKURL string
	// SDKDir is a directory that may hold agora-rtm.js (from `make sdk`); when it does,
	// webdemo serves it and the page loads it from this origin instead of SDKURL.
	SDKDir string
	// DemoMode says the token server signs with a placeholder (no App Certificate), so
	// the page warns before the first Login that Agora will reject its tokens.
	DemoMode bool
	Log      settings.Log // log.*: the program's logger
	// Timeouts are the listener's limits and how it stops.
	Timeouts lifecycle.Timeouts
	// Conns bounds the page's client connections, in all and per address.
	Conns connsettings.Limits
	// File is the config file that was read, "" if none.
	File string
}

// TokenURLPrefix is what the page puts in front of "rtm/{uid}/?expiry=N".
func (c Config) TokenURLPrefix() string {
	if c.ServerURL == "" {
		return c.ProxyURL
	}
	return c.ProxyURL + c.ServerURL + "/"
}

// Program is webdemo's key table: flags, --help, environment names,
// configs/webdemo.yaml and docs/config-webdemo.md all come from it.
var Program = settings.Program{
	Name:      "webdemo",
	EnvPrefix: EnvPrefix,
	Header: `webdemo: the Authentication Guide page. Every key, with its default.
Generated from webdemo/internal/config by go generate; edit the key table there.
Precedence: these defaults < this file (or --config FILE) < WEBDEMO_* environment
variables (WEBDEMO_ + key upper-cased, dots as underscores) < flags (--key).`,
	Keys: slices.Concat(settings.ServerKeys(settings.ServerDefaults{Listen: ":9000", ReadHeader: "5s", Read: "10s", Write: "30s", Idle: "60s", Shutdown: "10s"}), []settings.Key{
		{Name: "proxy_url", Default: "http://localhost:8080/", Doc: "CORS proxy the page fetches tokens through (corsproxy, default :8080). Empty: the page\ncalls server_url directly, and that token server must allow this page's origin itself."},
		{Name: "server_url", Doc: "Token server behind the proxy, cors-anywhere style (proxy_url + server_url + /rtm/...);\nempty: the proxy forwards to its own upstream. Must be on corsproxy's allowed_targets."},
		{Name: "agora.app_id", Doc: "Agora App ID (32 hex characters) given to the Signaling SDK; empty: use the one in each token."},
		{Name: "token_expiry", Kind: settings.Duration, Default: "600", Doc: "Token lifetime the page asks for, in seconds or as a Go duration (10m); at most 24h."},
		{Name: "sdk_url", Default: DefaultSDKURL, Doc: "agora-rtm-sdk 2.x (its agora-rtm.js) from a public CDN; never committed to this repository.\nUsed when sdk_dir holds no copy. The Content-Security-Policy allows exactly this script."},
		{Name: "sdk_dir", Default: DefaultSDKDir, Doc: "Directory where make sdk puts agora-rtm.js (relative to where webdemo starts; make run\nstarts it in the repository root). When the file is there, webdemo serves it as\n/sdk/agora-rtm.js and the page loads it from this origin: no CDN needed (behind a\nfirewall, offline). Empty: always sdk_url."},
		{Name: "demo_mode", Kind: settings.Bool, Default: "false", Doc: "true when the token server has no App Certificate (demo mode): the page shows a banner\nbefore the first Login saying Agora will reject its tokens. make run sets it\n(WEBDEMO_DEMO_MODE) from whether .env gives a certificate."},
	}, settings.LogKeys, connsettings.Keys),
}

// ErrHelp is returned by Load when -h or --help was given; Usage has the text to print.
var ErrHelp = pflag.ErrHelp

// Load builds the Config from flags (args, without the program name or subcommand),
// the environment seen through getenv, and the config file. The error lists every
// problem, one "config: key: reason" line each.
func Load(args []string, getenv func(string) string) (Config, error) {
	vs, err := Program.Parse(args, getenv, io.Discard)
	if err != nil {
		return Config{}, err
	}
	c := Config{Listen: vs.HostPort("listen"), File: vs.File}
	if host, _, _ := net.SplitHostPort(c.Listen); host != "" && host != "localhost" && net.ParseIP(host) == nil {
		vs.Fail("listen", "host must be empty, localhost or an IP address (got %q)", host)
	}
	c.ProxyURL, _ = settings.Parsed(vs, "proxy_url", func(s string) (string, error) { return baseURL(s, true) })
	c.ServerURL, _ = settings.Parsed(vs, "server_url", func(s string) (string, error) { return baseURL(s, false) })
	// A URL that was given but refused is reported already; "must be set" is only for
	// both really left empty.
	if c.ProxyURL == "" && c.ServerURL == "" && !vs.Failed("proxy_url") && !vs.Failed("server_url") {
		vs.Fail("proxy_url", "must be set when server_url is empty (the page needs somewhere to fetch tokens from)")
	}
	c.AppID, _ = settings.Parsed(vs, "agora.app_id", checkAppID)
	c.TokenExpiry = vs.Seconds("token_expiry", time.Second, MaxTokenExpiry)
	c.SDKURL, _ = settings.Parsed(vs, "sdk_url", checkSDKURL)
	c.SDKDir, c.DemoMode = vs.String("sdk_dir"), vs.Bool("demo_mode")
	c.Log = vs.Log()
	c.Timeouts = vs.Timeouts()
	// No trusted_proxies here: behind a reverse proxy every connection is the
	// proxy's, so there max_conns_per_ip must be 0 or above the proxy's pool.
	c.Conns = connsettings.Load(vs, nil)
	if err := vs.Err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// parseHTTPURL accepts an absolute http(s) URL without credentials, query or fragment,
// and with nothing that would break the Content-Security-Policy header it goes into.
func parseHTTPURL(s string) (*url.URL, error) {
	u, err := settings.ParseURL(s, "http", "https")
	switch {
	case err != nil:
		return nil, err
	case u.User != nil:
		return nil, errors.New("must not contain credentials")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, errors.New("must not have a query or fragment")
	case strings.ContainsAny(s, " \t\r\n;,'\""):
		return nil, errors.New("must not contain spaces, quotes, commas or semicolons")
	}
	return u, nil
}

// baseURL validates an optional URL. With slash it ends in "/" (the page appends
// "rtm/..."), without it has none (the page appends "/rtm/...").
func baseURL(s string, slash bool) (string, error) {
	if s == "" {
		return "", nil
	}
	if _, err := parseHTTPURL(s); err != nil {
		return "", err
	}
	s = strings.TrimRight(s, "/")
	if slash {
		s += "/"
	}
	return s, nil
}

func checkSDKURL(s string) (string, error) {
	if s == "" {
		return "", errors.New("must be set (the page cannot log in without the Signaling SDK)")
	}
	u, err := parseHTTPURL(s)
	if err != nil {
		return "", err
	}
	if u.Path == "" || strings.HasSuffix(u.Path, "/") {
		return "", fmt.Errorf("must name the script file, e.g. %s", DefaultSDKURL)
	}
	return s, nil
}

func checkAppID(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) != 32 {
		return "", fmt.Errorf("must be 32 hex characters (got %d characters)", len(s))
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune("0123456789abcdefABCDEF", r) }); i >= 0 {
		return "", fmt.Errorf("must be 32 hex characters (byte %q at offset %d is not hex)", s[i], i)
	}
	return s, nil
}
