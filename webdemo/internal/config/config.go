// Package config loads the webdemo configuration once, at start: defaults, then a YAML
// file, then WEBDEMO_* environment variables, then flags. Every problem is reported at
// once, one line each, and the result is a typed value that nothing re-checks later.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
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
// root that `make run` starts webdemo in.
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
	// Timeouts bound the stop.
	Timeouts Timeouts
	// SDKDir is a directory that may hold agora-rtm.js (from `make sdk`); when it does,
	// webdemo serves it and the page loads it from this origin instead of SDKURL.
	SDKDir string
	// DemoMode says the token server signs with a placeholder (no App Certificate), so
	// the page warns before the first Login that Agora will reject its tokens.
	DemoMode bool
	// LogLevel and LogFormat configure the program's slog handler.
	LogLevel  slog.Level
	LogFormat string
	// File is the config file that was read, "" if none.
	File string
}

// Timeouts bound how the server stops.
type Timeouts struct {
	// Drain is how long, on SIGTERM, /readyz answers 503 while requests are still
	// served, before the shutdown; 0 means none.
	Drain time.Duration
	// Shutdown is how long in-flight requests get to finish once the listener closes.
	Shutdown time.Duration
}

// TokenURLPrefix is what the page puts in front of "rtm/{uid}/?expiry=N".
func (c Config) TokenURLPrefix() string {
	if c.ServerURL == "" {
		return c.ProxyURL
	}
	return c.ProxyURL + c.ServerURL + "/"
}

// keys lists every key with its default and the help text of its flag. Every key is
// registered with viper so that a file and the environment are seen for it.
var keys = []struct {
	name, def, help string
}{
	{"listen", ":9000", "host:port to serve the page on"},
	{"proxy_url", "http://localhost:8080/", "CORS proxy the page fetches tokens through (empty: call server_url directly)"},
	{"server_url", "", "token server behind the proxy, cors-anywhere style: proxy_url + server_url + /rtm/..."},
	{"agora.app_id", "", "Agora App ID for the Signaling SDK (empty: take it from the token)"},
	{"token_expiry", "600", "token lifetime the page asks for (seconds or Go duration, at most 24h)"},
	{"timeouts.drain", "5s", "on SIGTERM, time /readyz answers 503 while requests are still served, before shutting down (0: none)"},
	{"timeouts.shutdown", "10s", "time in-flight requests get to finish on SIGINT/SIGTERM"},
	{"sdk_url", DefaultSDKURL, "URL of agora-rtm-sdk 2.x (agora-rtm.js) the page loads when sdk_dir has no copy"},
	{"sdk_dir", DefaultSDKDir, "directory with agora-rtm.js from make sdk; served as /sdk/agora-rtm.js when present (empty: always sdk_url)"},
	{"demo_mode", "false", "the token server runs in demo mode (no App Certificate): the page says so before the first Login"},
	{"log.level", "info", "debug, info, warn or error"},
	{"log.format", "text", "text or json"},
}

// ErrHelp is returned by Load when -h or --help was given; Usage has the text to print.
var ErrHelp = pflag.ErrHelp

// Usage describes the flags, for --help.
func Usage() string {
	var b strings.Builder
	fs := newFlagSet()
	fs.SetOutput(&b)
	fs.PrintDefaults()
	return b.String()
}

func newFlagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("webdemo", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.String("config", "", "YAML config file (default "+DefaultFile+" if it exists)")
	for _, k := range keys {
		fs.String(k.name, k.def, k.help)
	}
	return fs
}

// Load builds the Config from flags (args, without the program name or subcommand),
// the environment seen through getenv, and the config file. The error lists every
// problem, one "config: key: reason" line each.
func Load(args []string, getenv func(string) string) (Config, error) {
	fs := newFlagSet()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return Config{}, ErrHelp
		}
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("config: unexpected argument %q", fs.Arg(0))
	}

	v := viper.New()
	for _, k := range keys {
		v.SetDefault(k.name, k.def)
	}

	file, _ := fs.GetString("config")
	explicit := file != ""
	if !explicit {
		if _, err := os.Stat(DefaultFile); err == nil {
			file = DefaultFile
		}
	}
	var problems []string
	if file != "" {
		problems = append(problems, readFile(v, file)...)
		if len(problems) > 0 {
			// The file's values are unknown, so checking them would only add noise.
			return Config{}, errors.New(strings.Join(problems, "\n"))
		}
	}

	// viper.Set outranks the file and the defaults; flags come last so they win over
	// the environment.
	for _, k := range keys {
		env := EnvPrefix + strings.ToUpper(strings.ReplaceAll(k.name, ".", "_"))
		if val := getenv(env); val != "" {
			v.Set(k.name, val)
		}
	}
	fs.Visit(func(f *pflag.Flag) {
		if f.Name != "config" {
			v.Set(f.Name, f.Value.String())
		}
	})

	var c Config
	c.File = file
	add := func(key string, err error) {
		if err != nil {
			problems = append(problems, fmt.Sprintf("config: %s: %v", key, err))
		}
	}
	str := func(key string) string {
		s, err := scalar(v.Get(key))
		add(key, err)
		return s
	}

	c.Listen = str("listen")
	add("listen", checkListen(c.Listen))

	var err error
	urlProblems := len(problems)
	c.ProxyURL, err = baseURL(str("proxy_url"), true)
	add("proxy_url", err)
	c.ServerURL, err = baseURL(str("server_url"), false)
	add("server_url", err)
	// A URL that was given but refused is reported already; "must be set" is only for
	// both really left empty.
	if c.ProxyURL == "" && c.ServerURL == "" && len(problems) == urlProblems {
		add("proxy_url", errors.New("must be set when server_url is empty (the page needs somewhere to fetch tokens from)"))
	}

	c.AppID = str("agora.app_id")
	add("agora.app_id", checkAppID(c.AppID))

	c.TokenExpiry, err = parseSeconds(str("token_expiry"))
	add("token_expiry", err)

	c.SDKURL = str("sdk_url")
	add("sdk_url", checkSDKURL(c.SDKURL))

	c.Timeouts.Drain, err = parseDuration(str("timeouts.drain"), 0)
	add("timeouts.drain", err)
	c.Timeouts.Shutdown, err = parseDuration(str("timeouts.shutdown"), time.Millisecond)
	add("timeouts.shutdown", err)

	c.SDKDir = str("sdk_dir")
	c.DemoMode, err = parseBool(str("demo_mode"))
	add("demo_mode", err)

	c.LogLevel, err = parseLevel(str("log.level"))
	add("log.level", err)
	c.LogFormat = str("log.format")
	if c.LogFormat != "text" && c.LogFormat != "json" {
		add("log.format", fmt.Errorf("must be text or json (got %q)", c.LogFormat))
	}

	if len(problems) > 0 {
		return Config{}, errors.New(strings.Join(problems, "\n"))
	}
	return c, nil
}

// readFile merges a YAML file into v and reports keys we do not know, so that a typo
// ("token_expiri") is an error instead of a silently ignored setting.
func readFile(v *viper.Viper, file string) []string {
	f := viper.New()
	f.SetConfigFile(file)
	f.SetConfigType("yaml")
	if err := f.ReadInConfig(); err != nil {
		return []string{fmt.Sprintf("config: %s: %v", file, err)}
	}
	var problems []string
	known := make([]string, len(keys))
	for i, k := range keys {
		known[i] = k.name
	}
	fileKeys := f.AllKeys()
	slices.Sort(fileKeys)
	for _, k := range fileKeys {
		if !slices.Contains(known, k) {
			problems = append(problems, fmt.Sprintf("config: %s: unknown key %q (known: %s)", file, k, strings.Join(known, ", ")))
		}
	}
	if len(problems) > 0 {
		return problems
	}
	for _, k := range fileKeys {
		v.Set(k, f.Get(k))
	}
	return nil
}

// scalar turns a file, env or flag value into a string; YAML may hand us numbers and
// booleans, but a list or a map where a single value belongs is a mistake.
func scalar(x any) (string, error) {
	switch t := x.(type) {
	case nil:
		return "", nil
	case string:
		return t, nil
	case int, int64, uint64, float64, bool:
		return fmt.Sprint(t), nil
	default:
		return "", fmt.Errorf("must be a single value (got %T)", x)
	}
}

func checkListen(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("must be host:port, e.g. :9000 or 127.0.0.1:9000 (got %q)", s)
	}
	if host != "" && host != "localhost" && net.ParseIP(host) == nil {
		return fmt.Errorf("host must be empty, localhost or an IP address (got %q)", host)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port must be a number 0-65535 (got %q)", port)
	}
	return nil
}

// hostRE keeps hosts to characters that are safe inside a Content-Security-Policy header.
var hostRE = regexp.MustCompile(`^([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$`)

// parseHTTPURL accepts an absolute http(s) URL without credentials, query or fragment.
func parseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("must be an http:// or https:// URL (got %q)", s)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("must be an http:// or https:// URL (got %q)", s)
	case u.Host == "" || !hostRE.MatchString(u.Host):
		return nil, fmt.Errorf("must have a valid host (got %q)", s)
	case u.User != nil:
		return nil, fmt.Errorf("must not contain credentials (got %s)", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("must not have a query or fragment (got %q)", s)
	case strings.ContainsAny(s, " \t\r\n;,'\""):
		return nil, fmt.Errorf("must not contain spaces, quotes, commas or semicolons (got %q)", s)
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

func checkSDKURL(s string) error {
	if s == "" {
		return errors.New("must be set (the page cannot log in without the Signaling SDK)")
	}
	u, err := parseHTTPURL(s)
	if err != nil {
		return err
	}
	if u.Path == "" || strings.HasSuffix(u.Path, "/") {
		return fmt.Errorf("must name the script file, e.g. %s (got %q)", DefaultSDKURL, s)
	}
	return nil
}

func checkAppID(s string) error {
	if s == "" {
		return nil
	}
	if len(s) != 32 {
		return fmt.Errorf("must be 32 hex characters (got %d characters)", len(s))
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])) {
			return fmt.Errorf("must be 32 hex characters (byte %q at offset %d is not hex)", s[i], i)
		}
	}
	return nil
}

// parseSeconds accepts plain seconds ("600") and Go durations ("10m"), whole seconds
// from 1 s to 24 h, because that is what Agora tokens can carry.
func parseSeconds(s string) (time.Duration, error) {
	var d time.Duration
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 1 || n > int64(MaxTokenExpiry/time.Second) {
			return 0, fmt.Errorf("must be 1-86400 seconds (got %q)", s)
		}
		d = time.Duration(n) * time.Second
	} else {
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("must be a duration such as 600 or 10m (got %q)", s)
		}
	}
	switch {
	case d < time.Second || d > MaxTokenExpiry:
		return 0, fmt.Errorf("must be between 1s and 24h (got %q)", s)
	case d%time.Second != 0:
		return 0, fmt.Errorf("must be whole seconds (got %q)", s)
	}
	return d, nil
}

// parseDuration accepts plain seconds ("5") and Go durations ("500ms") of at least min.
func parseDuration(s string, min time.Duration) (time.Duration, error) {
	var d time.Duration
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n <= int64(24*time.Hour/time.Second) {
		d = time.Duration(n) * time.Second
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("must be a duration such as 5s or a number of seconds (got %q)", s)
	}
	if d < min {
		if min == 0 {
			return 0, fmt.Errorf("must not be negative (got %q)", s)
		}
		return 0, fmt.Errorf("must be positive (got %q)", s)
	}
	return d, nil
}

// parseBool accepts true and false only: "yes" or "1" in a config file is more likely a
// misunderstanding than a choice.
func parseBool(s string) (bool, error) {
	switch s {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("must be true or false (got %q)", s)
}

func parseLevel(s string) (slog.Level, error) {
	switch s {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("must be debug, info, warn or error (got %q)", s)
}
