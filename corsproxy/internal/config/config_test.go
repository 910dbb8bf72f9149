package config

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"

	"signaling-auth/corsproxy/internal/proxy"
	"signaling-auth/corsproxy/internal/testcert"
	"signaling-auth/settings"
	"signaling-auth/settings/settingstest"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "corsproxy.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	c, err := Load(nil, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.File != "" {
		t.Errorf("File = %q, want none (no %s next to the test)", c.File, DefaultFile)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, ":8080"},
		{"admin_listen", c.AdminListen, ":9091"},
		{"upstream", c.Upstream.String(), "http://localhost:8081"},
		{"allowed_targets", len(c.AllowedTargets), 0},
		{"cors.allowed_origins", c.CORS.AllowedOrigins, []string{"http://localhost:9000"}},
		{"cors.allow_credentials", c.CORS.AllowCredentials, false},
		{"cors.allowed_methods", c.CORS.AllowedMethods, []string{"GET", "HEAD", "POST"}},
		{"cors.allowed_headers", c.CORS.AllowedHeaders, []string{"Content-Type", "Authorization", "X-Requested-With", "traceparent", "tracestate"}},
		{"cors.exposed_headers", c.CORS.ExposedHeaders, []string{"X-Request-Id", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Token-Mode"}},
		{"trusted_proxies", len(c.TrustedProxies), 0},
		{"rate_limit.per_ip", c.RateLimit.PerIP.String(), "10/s burst 40"},
		{"rate_limit.store", c.RateLimit.Store, "memory"},
		{"rate_limit.redis_timeout", c.RateLimit.RedisTimeout, 250 * time.Millisecond},
		{"rate_limit.max_keys", c.RateLimit.MaxKeys, 100000},
		{"cors.max_age", c.CORS.MaxAge, 10 * time.Minute},
		{"cors.reject_disallowed_origins", c.CORS.RejectDisallowedOrigins, true},
		{"timeouts.response_header", c.Timeouts.ResponseHeader, 10 * time.Second},
		{"timeouts.read_header", c.Timeouts.ReadHeader, 5 * time.Second},
		{"timeouts.write", c.Timeouts.Write, 30 * time.Second},
		{"timeouts.shutdown", c.Timeouts.Shutdown, 15 * time.Second},
		{"timeouts.drain", c.Timeouts.Drain, 5 * time.Second},
		{"transport.max_idle_conns_per_host", c.Transport.MaxIdleConnsPerHost, 256},
		{"transport.proxy", c.Transport.Proxy == nil, true},
		{"transport.protocol", c.Transport.Protocol, proxy.HTTP1},
		{"max_body_bytes", c.MaxBodyBytes, int64(1 << 20)},
		{"max_header_bytes", c.MaxHeaderBytes, 64 << 10},
		{"max_conns", c.Conns.Max, 4096},
		{"max_conns_per_ip", c.Conns.PerIP, 32},
		{"allowed_paths /v1/tokens", c.AllowedPaths.Allows("/v1/tokens", "/v1/tokens"), true},
		{"allowed_paths /rtm/alice/", c.AllowedPaths.Allows("/rtm/alice/", "/rtm/alice/"), true},
		{"allowed_paths /v1/tokens/inspect", c.AllowedPaths.Allows("/v1/tokens/inspect", "/v1/tokens/inspect"), false},
		{"allowed_paths /v1/tokens/diagnose", c.AllowedPaths.Allows("/v1/tokens/diagnose", "/v1/tokens/diagnose"), false},
		{"allowed_paths /metrics", c.AllowedPaths.Allows("/metrics", "/metrics"), false},
		{"tls", c.TLS == nil, true},
		{"log.level", c.Log.Level, slog.LevelInfo},
		{"log.format", c.Log.Format, "text"},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

// The shipped configs/corsproxy.yaml must list every key, with the same
// default and the same comment as the code, so it is the documentation.
func TestShippedFileMatchesTheDefaults(t *testing.T) {
	const shipped = "../../../configs/corsproxy.yaml"
	data, err := os.ReadFile(shipped)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := Load([]string{"--config", shipped}, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	builtIn, err := Load(nil, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	fromFile.File = ""
	if !reflect.DeepEqual(fromFile, builtIn) {
		t.Errorf("the shipped file changes the defaults:\nfile:     %+v\nbuilt-in: %+v", fromFile, builtIn)
	}
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	for _, k := range Program.Keys {
		if k.Kind != settings.Section && !v.InConfig(k.Name) {
			t.Errorf("%s does not list %s", shipped, k.Name)
		}
	}
}

// TestGeneratedFilesMatchTheKeyTable fails when configs/corsproxy.yaml (its
// comments included) or docs/config-corsproxy.md drift from the key table;
// go generate rewrites them.
func TestGeneratedFilesMatchTheKeyTable(t *testing.T) {
	settingstest.Generated(t, &Program, filepath.Join("..", "..", ".."))
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, "listen: \"127.0.0.1:1000\"\nadmin_listen: \"127.0.0.1:2000\"\nlog:\n  level: warn\ncors:\n  max_age: 1m\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want func(Config) bool
	}{
		{"the file overrides a default", nil, nil, func(c Config) bool { return c.Listen == "127.0.0.1:1000" && c.CORS.MaxAge == time.Minute }},
		{"the environment overrides the file", map[string]string{"CORSPROXY_LISTEN": "127.0.0.1:1001"}, nil, func(c Config) bool { return c.Listen == "127.0.0.1:1001" }},
		{"a flag overrides the environment", map[string]string{"CORSPROXY_LISTEN": "127.0.0.1:1001"}, []string{"--listen=127.0.0.1:1002"}, func(c Config) bool { return c.Listen == "127.0.0.1:1002" }},
		{"an empty environment variable counts as unset", map[string]string{"CORSPROXY_LISTEN": ""}, nil, func(c Config) bool { return c.Listen == "127.0.0.1:1000" }},
		{"a nested key is read from the environment", map[string]string{"CORSPROXY_LOG_LEVEL": "debug"}, nil, func(c Config) bool { return c.Log.Level == slog.LevelDebug }},
		{"environment lists are split on commas, not spaces", map[string]string{"CORSPROXY_CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example"}, nil, func(c Config) bool {
			return reflect.DeepEqual(c.CORS.AllowedOrigins, []string{"https://a.example", "https://b.example"})
		}},
		{"flag lists are split on commas", nil, []string{"--cors.allowed_methods", "GET,PUT"}, func(c Config) bool { return reflect.DeepEqual(c.CORS.AllowedMethods, []string{"GET", "PUT"}) }},
		{"a duration in plain seconds is accepted", map[string]string{"CORSPROXY_CORS_MAX_AGE": "90"}, nil, func(c Config) bool { return c.CORS.MaxAge == 90*time.Second }},
		{"a duration in Go syntax is accepted", nil, []string{"--timeouts.dial=1m30s"}, func(c Config) bool { return c.Timeouts.Dial == 90*time.Second }},
		{"a bool flag alone means true", nil, []string{"--cors.allow_credentials"}, func(c Config) bool { return c.CORS.AllowCredentials }},
		{"an empty upstream with allowed targets turns fixed mode off", map[string]string{"CORSPROXY_ALLOWED_TARGETS": "http://tokenserver:8081"}, []string{"--upstream="}, func(c Config) bool {
			return c.Upstream == nil && len(c.AllowedTargets) == 1 && c.AllowedTargets[0].String() == "http://tokenserver:8081"
		}},
		{"the config file can be named by the environment", map[string]string{"CORSPROXY_CONFIG": file}, nil, func(c Config) bool { return c.Listen == "127.0.0.1:1000" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.env["CORSPROXY_CONFIG"] == "" {
				args = append([]string{"--config", file}, args...)
			}
			c, err := Load(args, env(tt.env), &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(c) {
				t.Errorf("unexpected config: %+v", c)
			}
		})
	}
}

func TestHostileInput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		file string            // YAML; "" = no file
		env  map[string]string // environment
		args []string
		want []string // every line of the error must contain these, in order
		not  string   // must not appear in the error
	}{
		{name: "a file that is not YAML is reported with its name", file: "listen: [unclosed", want: []string{"not valid YAML"}},
		{name: "a YAML list at the top level is refused", file: "- a\n- b\n", want: []string{"not valid YAML"}},
		{name: "an alias bomb is refused without blowing up", file: billionLaughs, want: []string{"not valid YAML"}},
		{name: "an unknown top-level key is refused", file: "listn: \":8080\"\n", want: []string{`unknown key "listn"`}},
		{name: "a misspelled nested key is refused", file: "cors:\n  allowed_origin: [\"https://a.example\"]\n", want: []string{`unknown key "cors.allowed_origin"`}},
		{name: "a section written as a scalar is refused", file: "cors: yes\n", want: []string{"cors: must be a mapping of keys"}},
		{name: "a number where an address belongs is refused", file: "listen: 8080\n", want: []string{`config: listen: must be host:port, e.g. :8080 or 127.0.0.1:0 (got "8080")`}},
		{name: "a mapping where a list belongs is refused", file: "cors:\n  allowed_origins: {a: 1}\n", want: []string{`unknown key "cors.allowed_origins.a"`}},
		{name: "a list entry that is not a string is refused", file: "cors:\n  allowed_methods: [GET, [POST]]\n", want: []string{"every entry must be a string"}},
		{name: "a duration that is not one is refused", env: map[string]string{"CORSPROXY_CORS_MAX_AGE": "abc"}, want: []string{`config: cors.max_age: must be a duration like 90s or a number of seconds (got "abc")`}},
		{name: "a NaN duration is refused", env: map[string]string{"CORSPROXY_TIMEOUTS_DIAL": "NaN"}, want: []string{"config: timeouts.dial: must be a duration"}},
		{name: "an infinite duration is refused", file: "timeouts:\n  dial: .inf\n", want: []string{"config: timeouts.dial: must be a duration"}},
		{name: "a negative duration is refused", args: []string{"--timeouts.read=-5s"}, want: []string{"config: timeouts.read: must be at least 1ns (got -5s)"}},
		{name: "a negative drain is refused", args: []string{"--timeouts.drain=-1s"}, want: []string{"config: timeouts.drain: must be at least 0s (got -1s)"}},
		{name: "a zero timeout is refused", args: []string{"--timeouts.read_header=0"}, want: []string{"config: timeouts.read_header: must be at least 1ns (got 0s)"}},
		{name: "a write timeout shorter than the upstream's is refused", args: []string{"--timeouts.write=5s"}, want: []string{"config: timeouts.write: must be longer than timeouts.response_header"}},
		{name: "a bool that is not one is refused", env: map[string]string{"CORSPROXY_CORS_ALLOW_CREDENTIALS": "maybe"}, want: []string{`config: cors.allow_credentials: must be true or false (got "maybe")`}},
		{name: "a body cap that is not a number is refused", args: []string{"--max_body_bytes=1MB"}, want: []string{`config: max_body_bytes: must be a size in bytes like 16384 or 16KiB (got "1MB")`}},
		{name: "a negative body cap is refused", file: "max_body_bytes: -1\n", want: []string{`config: max_body_bytes: must be a size in bytes like 16384 or 16KiB (got "-1")`}},
		{name: "an absurd body cap is refused", file: "max_body_bytes: 1e30\n", want: []string{"config: max_body_bytes: must be a size in bytes like 16384 or 16KiB (too large)"}},
		{name: "a tiny header cap is refused", args: []string{"--max_header_bytes=10"}, want: []string{"config: max_header_bytes: must be 4096-16777216 bytes (got 10)"}},
		{name: "a negative connection cap is refused", args: []string{"--max_conns=-1"}, want: []string{"config: max_conns: must be 0-1000000 (got -1)"}},
		{name: "a connection cap that is not a number is refused", env: map[string]string{"CORSPROXY_MAX_CONNS": "4k"}, want: []string{`config: max_conns: must be a whole number (got "4k")`}},
		{name: "an allowed path without its leading slash is refused", args: []string{"--allowed_paths=/rtm/,rtc/"}, want: []string{`config: allowed_paths: "rtc/" must start with "/"`}},
		{name: "an allowed path that climbs is refused", file: "allowed_paths: [/rtm/../]\n", want: []string{`config: allowed_paths: "/rtm/../" must not have . or .. segments`}},
		{name: "an allowed path with an empty segment is refused", env: map[string]string{"CORSPROXY_ALLOWED_PATHS": "/rtm//"}, want: []string{`config: allowed_paths: "/rtm//" must not have an empty segment`}},
		{name: "an allowed path with percent-encoding is refused", args: []string{"--allowed_paths=/rtm%2F"}, want: []string{`config: allowed_paths: "/rtm%2F" must hold only`}},
		{name: "an allowed path with a wildcard is refused", file: "allowed_paths: [\"/rtm/*\"]\n", want: []string{`config: allowed_paths: "/rtm/*" must hold only`}},
		{name: "an allowed path that YAML reads as a number is refused", file: "allowed_paths: [/rtm/, 7]\n", want: []string{`config: allowed_paths: "7" must start with "/"`}},
		{name: "every bad allowed path is named, one line each", args: []string{"--allowed_paths=x,/ok/,/a/./b"},
			want: []string{`config: allowed_paths: "x" must start with "/"`, `config: allowed_paths: "/a/./b" must not have . or .. segments`}},
		{name: "an address without a port is refused", args: []string{"--listen=localhost"}, want: []string{"config: listen: must be host:port"}},
		{name: "a port out of range is refused", args: []string{"--listen=:70000"}, want: []string{"config: listen: port must be a number"}},
		{name: "a host with a space is refused", args: []string{"--admin_listen=bad host:1"}, want: []string{"config: admin_listen: host"}},
		{name: "the admin listener on the proxy's port is refused", args: []string{"--listen=:9091"}, want: []string{"config: admin_listen: must differ from listen"}},
		{name: "a non-http upstream is refused", args: []string{"--upstream=ftp://files.example"}, want: []string{"config: upstream:", "http:// or https://"}},
		{name: "an upstream password is not echoed", args: []string{"--upstream=http://user:hunter2@tokenserver:8081"}, want: []string{"config: upstream:", "must not contain user info"}, not: "hunter2"},
		{name: "no upstream and no targets is refused", args: []string{"--upstream="}, want: []string{"config: upstream: must be set unless allowed_targets"}},
		{name: "an allowed target with a path is refused", env: map[string]string{"CORSPROXY_ALLOWED_TARGETS": "http://tokenserver:8081/rtm"}, want: []string{`config: allowed_targets: "http://tokenserver:8081/rtm" must be an origin`}},
		{name: "a wildcard origin with credentials from the environment is refused", env: map[string]string{"CORSPROXY_CORS_ALLOWED_ORIGINS": "*", "CORSPROXY_CORS_ALLOW_CREDENTIALS": "true"}, want: []string{`config: cors.allowed_origins: "*" cannot be combined with allow_credentials`}},
		{name: "an empty origin list is refused", file: "cors:\n  allowed_origins: []\n", want: []string{"config: cors.allowed_origins: must list at least one origin"}},
		{name: "a null origin is refused", args: []string{"--cors.allowed_origins=null"}, want: []string{`config: cors.allowed_origins: "null"`}},
		{name: "a proxy password is not echoed", args: []string{"--transport.proxy=ftp://user:hunter2@proxy:3128"}, want: []string{"config: transport.proxy: must be a URL with scheme http, https or socks5"}, not: "hunter2"},
		{name: "an unknown upstream protocol is refused", args: []string{"--transport.protocol=h2"}, want: []string{"config: transport.protocol: must be http1 or h2c"}},
		{name: "h2c through an outgoing proxy is refused, without the proxy's password", args: []string{"--transport.protocol=h2c", "--transport.proxy=http://user:hunter2@proxy:3128"},
			want: []string{"config: transport.protocol: h2c cannot go through transport.proxy"}, not: "hunter2"},
		{name: "half a TLS configuration is refused", args: []string{"--tls.cert_file=/x.pem"}, want: []string{"config: tls: set both"}},
		{name: "missing TLS files are refused", args: []string{"--tls.cert_file=" + dir + "/no.pem", "--tls.key_file=" + dir + "/no.key"}, want: []string{"config: tls: cannot load"}},
		{name: "an unknown log level is refused", env: map[string]string{"CORSPROXY_LOG_LEVEL": "loud"}, want: []string{`config: log.level: must be debug, info, warn or error (got "loud")`}},
		{name: "an unknown log format is refused", args: []string{"--log.format=xml"}, want: []string{"config: log.format: must be text or json"}},
		{name: "a missing config file named on the command line is refused", args: []string{"--config", dir + "/absent.yaml"}, want: []string{"config:", "no such file"}},
		{name: "a directory as config file is refused", args: []string{"--config", dir}, want: []string{"not a regular file"}},
		{name: "an oversized config file is refused", file: "# " + strings.Repeat("x", 1<<20), want: []string{"larger than"}},
		{name: "an unknown flag is refused", args: []string{"--lisen=:1"}, want: []string{"config: unknown flag: --lisen"}},
		{name: "a stray argument is refused", args: []string{"extra"}, want: []string{`config: unexpected argument "extra"`}},
		{name: "a bad CORS policy is reported even when another CORS key does not parse", file: "cors:\n  allowed_origins: [\"null\", \"https://x.example/app\"]\n", env: map[string]string{"CORSPROXY_CORS_MAX_AGE": "abc"},
			want: []string{"config: cors.max_age:", `config: cors.allowed_origins: "null"`, "config: cors.allowed_origins: \"https://x.example/app\": must not have a path"}},
		{name: "every problem is reported, one line each", file: "bogus: 1\n", env: map[string]string{"CORSPROXY_CORS_MAX_AGE": "abc", "CORSPROXY_LOG_FORMAT": "xml"}, args: []string{"--listen=nope"},
			want: []string{`unknown key "bogus"`, "config: listen:", "config: cors.max_age:", "config: log.format:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append([]string{"--config", writeFile(t, tt.file)}, args...)
			}
			_, err := Load(args, env(tt.env), &bytes.Buffer{})
			if err == nil {
				t.Fatalf("Load accepted it; want an error with %q", tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(tt.want) > 1 && len(lines) == len(tt.want) {
				for i, w := range tt.want {
					if !strings.Contains(lines[i], w) {
						t.Errorf("line %d = %q, want it to contain %q", i, lines[i], w)
					}
				}
			} else {
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error = %q, want it to contain %q", err, w)
					}
				}
			}
			for _, l := range lines {
				if !strings.HasPrefix(l, "config: ") {
					t.Errorf("line %q does not start with \"config: \"", l)
				}
			}
			if tt.not != "" && strings.Contains(err.Error(), tt.not) {
				t.Errorf("error %q contains %q", err, tt.not)
			}
		})
	}
}

// billionLaughs expands to ~10^9 entries if a parser follows every alias.
const billionLaughs = `a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	_, err := Load([]string{"--help"}, env(nil), &out)
	if !errors.Is(err, ErrHelp) {
		t.Fatalf("err = %v, want ErrHelp", err)
	}
	for _, k := range Program.Keys {
		if k.Kind != settings.Section && (!strings.Contains(out.String(), "--"+k.Name) || !strings.Contains(out.String(), Program.EnvName(k.Name))) {
			t.Errorf("--help does not document --%s and %s", k.Name, Program.EnvName(k.Name))
		}
	}
}

func TestTLSIsLoadedAtStart(t *testing.T) {
	cert, key, _ := testcert.Write(t)
	c, err := Load([]string{"--tls.cert_file", cert, "--tls.key_file", key}, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS == nil || len(c.TLS.Certificate) != 1 {
		t.Fatalf("TLS = %v, want the loaded certificate", c.TLS)
	}
	// The key file given as the certificate is caught at start.
	if _, err := Load([]string{"--tls.cert_file", key, "--tls.key_file", cert}, env(nil), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "config: tls: cannot load") {
		t.Fatalf("swapped files: err = %v", err)
	}
}
