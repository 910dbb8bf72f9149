package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/clientip"
	"signaling-auth/ratelimit/connsettings"
	"signaling-auth/ratelimit/limitsettings"
	"signaling-auth/settings"
	"signaling-auth/settings/settingstest"
	"signaling-auth/tokenserver/internal/auth/authsettings"
)

const (
	testAppID = "970CA35de60c44645bbae8a215061b33"
	testCert  = "5CFd2fd1755d40ecb72977518be15d3b"
	otherID   = "0123456789abcdef0123456789abcdef"
	otherCert = "fedcba9876543210fedcba9876543210"
)

// load runs Load against a fresh directory holding files, with env as the
// whole environment and args as the command line.
func load(t *testing.T, files map[string]string, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	return loadIn(t, t.TempDir(), files, env, args...)
}

// loadIn is load in a directory the test chose, so paths can be named in args and env.
func loadIn(t *testing.T, dir string, files, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return Load(Source{Flags: fs, Getenv: func(k string) string { return env[k] }, Dir: dir})
}

func mustLoad(t *testing.T, files, env map[string]string, args ...string) Config {
	t.Helper()
	cfg, err := load(t, files, env, args...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

func TestDefaultsWithNothingConfigured(t *testing.T) {
	cfg := mustLoad(t, nil, nil)
	// Outside a repository only the working directory's .env counts.
	if len(cfg.DotEnv) != 1 || filepath.Base(cfg.DotEnv[0]) != ".env" || !filepath.IsAbs(cfg.DotEnv[0]) {
		t.Errorf("DotEnv %q, want the working directory's .env, absolute", cfg.DotEnv)
	}
	cfg.DotEnv = nil
	noProxies, _ := clientip.New(nil)
	want := Config{
		Listen:         ":8081",
		Demo:           true,
		DefaultExpiry:  24 * time.Hour,
		MaxExpiry:      24 * time.Hour,
		TrustedProxies: []string{},
		Clients:        noProxies,
		Auth:           authsettings.Settings{Mode: "none", JWT: authsettings.JWT{UIDClaim: "sub", Leeway: 30 * time.Second, JWKSRefresh: 5 * time.Minute}},
		RateLimit: RateLimit{
			PerIP:  ratelimit.Limit{Rate: 10, Period: time.Second, Burst: 40},
			PerUID: ratelimit.Limit{Rate: 2, Period: time.Second, Burst: 40},
			StoreConfig: limitsettings.StoreConfig{
				Store:        "memory",
				RedisTimeout: 250 * time.Millisecond,
				MaxKeys:      100000,
			},
		},
		Timeouts:       Timeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 10 * time.Second, Idle: 60 * time.Second, Shutdown: 10 * time.Second, Drain: 5 * time.Second},
		Conns:          connsettings.Limits{Max: 4096, PerIP: 32, Trusted: noProxies},
		MaxHeaderBytes: 16384,
		MaxBodyBytes:   16384,
		Log:            settings.Log{Level: slog.LevelInfo, Format: "text"},
		AuditOutput:    "off",
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestPrecedence(t *testing.T) {
	file := map[string]string{DefaultFile: "listen: \":1001\"\ntoken:\n  default_expiry: 1h\nlog:\n  level: warn\n"}
	tests := []struct {
		name       string
		files      map[string]string
		env        map[string]string
		args       []string
		wantListen string
		wantExpiry time.Duration
		wantLevel  slog.Level
	}{
		{name: "the file overrides the defaults", files: file,
			wantListen: ":1001", wantExpiry: time.Hour, wantLevel: slog.LevelWarn},
		{name: "the environment overrides the file", files: file,
			env:        map[string]string{"TOKENSERVER_LISTEN": ":1002", "TOKENSERVER_TOKEN_DEFAULT_EXPIRY": "120"},
			wantListen: ":1002", wantExpiry: 2 * time.Minute, wantLevel: slog.LevelWarn},
		{name: "flags override the environment", files: file,
			env:        map[string]string{"TOKENSERVER_LISTEN": ":1002", "TOKENSERVER_LOG_LEVEL": "debug"},
			args:       []string{"--listen", ":1003", "--log.level=error"},
			wantListen: ":1003", wantExpiry: time.Hour, wantLevel: slog.LevelError},
		{name: "SERVER_PORT from the existing servers sets the port",
			env:        map[string]string{"SERVER_PORT": "9999"},
			wantListen: ":9999", wantExpiry: 24 * time.Hour, wantLevel: slog.LevelInfo},
		{name: "PORT is used when SERVER_PORT is not set",
			env:        map[string]string{"PORT": "7777"},
			wantListen: ":7777", wantExpiry: 24 * time.Hour, wantLevel: slog.LevelInfo},
		{name: "SERVER_PORT wins over PORT as in agora-token-service",
			env:        map[string]string{"PORT": "7777", "SERVER_PORT": "9999"},
			wantListen: ":9999", wantExpiry: 24 * time.Hour, wantLevel: slog.LevelInfo},
		{name: "TOKENSERVER_LISTEN wins over the compat port names",
			env:        map[string]string{"PORT": "7777", "SERVER_PORT": "9999", "TOKENSERVER_LISTEN": "127.0.0.1:1"},
			wantListen: "127.0.0.1:1", wantExpiry: 24 * time.Hour, wantLevel: slog.LevelInfo},
		{name: "compat names override the file", files: file,
			env:        map[string]string{"PORT": "7777"},
			wantListen: ":7777", wantExpiry: time.Hour, wantLevel: slog.LevelWarn},
		{name: "an explicit --config file replaces the default file",
			files:      map[string]string{DefaultFile: "listen: \":1001\"\n", "other.yaml": "listen: \":1004\"\n"},
			args:       []string{"--config", "other.yaml"},
			wantListen: ":1004", wantExpiry: 24 * time.Hour, wantLevel: slog.LevelInfo},
		{name: ".env values apply when the real environment does not set them",
			files:      map[string]string{".env": "SERVER_PORT=5555\nTOKENSERVER_LOG_LEVEL=debug\n"},
			wantListen: ":5555", wantExpiry: 24 * time.Hour, wantLevel: slog.LevelDebug},
		{name: "the real environment wins over .env",
			files:      map[string]string{".env": "SERVER_PORT=5555\nTOKENSERVER_LOG_LEVEL=debug\n"},
			env:        map[string]string{"SERVER_PORT": "6666"},
			wantListen: ":6666", wantExpiry: 24 * time.Hour, wantLevel: slog.LevelDebug},
		{name: "durations accept plain seconds from flags",
			args:       []string{"--token.default_expiry", "90"},
			wantListen: ":8081", wantExpiry: 90 * time.Second, wantLevel: slog.LevelInfo},
		{name: "durations accept a YAML number as seconds",
			files:      map[string]string{DefaultFile: "token:\n  default_expiry: 600\n"},
			wantListen: ":8081", wantExpiry: 10 * time.Minute, wantLevel: slog.LevelInfo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, tt.files, tt.env, tt.args...)
			if cfg.Listen != tt.wantListen || cfg.DefaultExpiry != tt.wantExpiry || cfg.Log.Level != tt.wantLevel {
				t.Errorf("got listen=%q default_expiry=%s level=%s; want %q %s %s",
					cfg.Listen, cfg.DefaultExpiry, cfg.Log.Level, tt.wantListen, tt.wantExpiry, tt.wantLevel)
			}
		})
	}
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		env      map[string]string
		args     []string
		wantID   string
		wantCert string
		// wantSecondary is the secondary certificate, "" for none.
		wantSecondary string
	}{
		{name: "APP_ID and APP_CERTIFICATE from the existing servers are read",
			env:    map[string]string{"APP_ID": testAppID, "APP_CERTIFICATE": testCert},
			wantID: testAppID, wantCert: testCert},
		{name: "TOKENSERVER_ names win over APP_ID and APP_CERTIFICATE",
			env:    map[string]string{"APP_ID": otherID, "APP_CERTIFICATE": otherCert, "TOKENSERVER_AGORA_APP_ID": testAppID, "TOKENSERVER_AGORA_APP_CERTIFICATE": testCert},
			wantID: testAppID, wantCert: testCert},
		{name: "credentials in .env are read",
			files:  map[string]string{".env": "APP_ID=" + testAppID + "\nAPP_CERTIFICATE=" + testCert + "\n"},
			wantID: testAppID, wantCert: testCert},
		{name: "the certificate file is read and trimmed",
			files:  map[string]string{"secret": testCert + "\n"},
			env:    map[string]string{"TOKENSERVER_AGORA_APP_ID": testAppID},
			args:   []string{"--agora.app_certificate_file", "SECRETPATH"},
			wantID: testAppID, wantCert: testCert},
		{name: "flags set both credentials",
			args:   []string{"--agora.app_id", testAppID, "--agora.app_certificate", testCert},
			wantID: testAppID, wantCert: testCert},
		{name: "a secondary certificate is read beside the primary one",
			env:    map[string]string{"APP_ID": testAppID, "APP_CERTIFICATE": testCert, "TOKENSERVER_AGORA_APP_CERTIFICATE_SECONDARY": otherCert},
			wantID: testAppID, wantCert: testCert, wantSecondary: otherCert},
		{name: "the secondary certificate file is read and trimmed",
			files:  map[string]string{"secret": otherCert + "\n"},
			env:    map[string]string{"APP_ID": testAppID, "APP_CERTIFICATE": testCert},
			args:   []string{"--agora.app_certificate_secondary_file", "SECRETPATH"},
			wantID: testAppID, wantCert: testCert, wantSecondary: otherCert},
		{name: "the file sets both credentials",
			files:  map[string]string{DefaultFile: "agora:\n  app_id: " + testAppID + "\n  app_certificate: \"" + testCert + "\"\n"},
			wantID: testAppID, wantCert: testCert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := slices.Clone(tt.args)
			for i, a := range args {
				if a == "SECRETPATH" {
					args[i] = filepath.Join(dir, "secret")
					if err := os.WriteFile(args[i], []byte(tt.files["secret"]), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			cfg := mustLoad(t, tt.files, tt.env, args...)
			if cfg.AppID != tt.wantID || cfg.AppCertificate.Reveal() != tt.wantCert || cfg.Demo {
				t.Errorf("got app_id=%q, certificate matches=%v, demo=%v", cfg.AppID, cfg.AppCertificate.Reveal() == tt.wantCert, cfg.Demo)
			}
			if cfg.AppCertificateSecondary.Reveal() != tt.wantSecondary {
				t.Errorf("the secondary certificate is not the one configured (set: %v)", !cfg.AppCertificateSecondary.IsZero())
			}
		})
	}
}

func TestListsAreCommaSeparated(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		env   map[string]string
		args  []string
		want  []string
	}{
		{name: "CORS_ALLOW_ORIGIN with two origins gives two entries",
			env:  map[string]string{"CORS_ALLOW_ORIGIN": "http://localhost:9000, https://App.example.com"},
			want: []string{"http://localhost:9000", "https://app.example.com"}},
		{name: "a space inside a value does not split it",
			env:  map[string]string{"TOKENSERVER_CORS_ALLOWED_ORIGINS": "http://a.example ,  http://b.example"},
			want: []string{"http://a.example", "http://b.example"}},
		{name: "a flag takes a comma-separated list",
			args: []string{"--cors.allowed_origins=http://a.example,http://b.example:8080"},
			want: []string{"http://a.example", "http://b.example:8080"}},
		{name: "a YAML list is read as is",
			files: map[string]string{DefaultFile: "cors:\n  allowed_origins:\n    - http://a.example\n    - https://*.example.com\n    - https://*.example.co.uk\n    - https://wildcard.example\n"},
			want:  []string{"http://a.example", "https://*.example.com", "https://*.example.co.uk", "https://wildcard.example"}},
		{name: "a default port and a trailing slash are dropped: the origin as a browser sends it",
			env:  map[string]string{"CORS_ALLOW_ORIGIN": "https://a.example:443/,http://b.example:80,http://c.example:8080/"},
			want: []string{"https://a.example", "http://b.example", "http://c.example:8080"}},
		{name: "an asterisk alone allows every origin",
			env:  map[string]string{"CORS_ALLOW_ORIGIN": "*"},
			want: []string{"*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, tt.files, tt.env, tt.args...)
			if got := cfg.Origins.Entries(); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInvalidConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		files map[string]string
		env   map[string]string
		args  []string
		want  []string // every line of the error, in order
	}{
		{name: "an unknown key in the file is refused",
			files: map[string]string{DefaultFile: "listen: \":1\"\nauth:\n  method: jwt\n"},
			want:  []string{`config: DIR/configs/tokenserver.yaml: unknown key "auth.method"`}},
		{name: "a file that is not YAML is refused",
			files: map[string]string{DefaultFile: "listen: [\n"},
			want:  []string{`config: DIR/configs/tokenserver.yaml: not valid YAML: yaml: line 1: did not find expected node content`}},
		{name: "a missing --config file is refused",
			args: []string{"--config", "nope.yaml"},
			want: []string{`config: --config DIR/nope.yaml: cannot read: no such file or directory`}},
		{name: "an empty audit.output is refused (off turns the audit log off)",
			args: []string{"--audit.output="},
			want: []string{`config: audit.output: must be off, stdout, stderr or a file path (got an empty value)`}},
		{name: "a malformed listen address is refused",
			env:  map[string]string{"TOKENSERVER_LISTEN": "8081"},
			want: []string{`config: listen: must be host:port, e.g. :8080 or 127.0.0.1:0 (got "8081")`}},
		{name: "a port out of range is refused",
			args: []string{"--listen", ":70000"},
			want: []string{`config: listen: port must be a number 0-65535 (got ":70000")`}},
		{name: "a non-numeric SERVER_PORT is refused",
			env:  map[string]string{"SERVER_PORT": "http"},
			want: []string{`config: SERVER_PORT: must be a port number 0-65535 (got "http")`}},
		{name: "a short App ID is refused with its length",
			env:  map[string]string{"APP_ID": "abc", "APP_CERTIFICATE": testCert},
			want: []string{`config: agora.app_id: must be 32 hex characters (got 3)`}},
		{name: "a certificate that is not hex is refused without echoing it",
			env:  map[string]string{"APP_ID": testAppID, "APP_CERTIFICATE": "zCFd2fd1755d40ecb72977518be15d3b"},
			want: []string{`config: agora.app_certificate: must be 32 hex characters (the character at offset 0 is not hex)`}},
		{name: "an App ID without a certificate is refused",
			env:  map[string]string{"APP_ID": testAppID},
			want: []string{`config: agora.app_certificate: required when agora.app_id is set (or unset both for demo mode)`}},
		{name: "a certificate without an App ID is refused",
			env:  map[string]string{"APP_CERTIFICATE": testCert},
			want: []string{`config: agora.app_id: required when a certificate is set (or unset both for demo mode)`}},
		{name: "a certificate and a certificate file together are refused",
			env:  map[string]string{"APP_ID": testAppID, "APP_CERTIFICATE": testCert, "TOKENSERVER_AGORA_APP_CERTIFICATE_FILE": filepath.Join(dir, "x")},
			want: []string{`config: agora.app_certificate_file: set either agora.app_certificate or agora.app_certificate_file, not both`}},
		{name: "a secondary certificate that is not hex is refused without echoing it",
			env:  map[string]string{"APP_ID": testAppID, "APP_CERTIFICATE": testCert, "TOKENSERVER_AGORA_APP_CERTIFICATE_SECONDARY": "zCFd2fd1755d40ecb72977518be15d3b"},
			want: []string{`config: agora.app_certificate_secondary: must be 32 hex characters (the character at offset 0 is not hex)`}},
		{name: "a secondary certificate without a primary one is refused",
			env:  map[string]string{"TOKENSERVER_AGORA_APP_CERTIFICATE_SECONDARY": otherCert},
			want: []string{`config: agora.app_certificate_secondary: needs agora.app_certificate (the primary one) too`}},
		{name: "a missing certificate file is refused",
			env:  map[string]string{"APP_ID": testAppID, "TOKENSERVER_AGORA_APP_CERTIFICATE_FILE": filepath.Join(dir, "missing")},
			want: []string{`config: agora.app_certificate_file: cannot read ` + filepath.Join(dir, "missing") + `: no such file or directory`}},
		{name: "a duration that is not one is refused",
			env:  map[string]string{"TOKENSERVER_TOKEN_DEFAULT_EXPIRY": "abc"},
			want: []string{`config: token.default_expiry: must be a duration like 90s or a number of seconds (got "abc")`}},
		{name: "a max expiry beyond Agora's 24 h is refused",
			args: []string{"--token.max_expiry", "25h"},
			want: []string{`config: token.max_expiry: must be 1s-24h (got 25h)`}},
		{name: "a zero expiry is refused",
			args: []string{"--token.default_expiry", "0"},
			want: []string{`config: token.default_expiry: must be 1s-24h (got 0s)`}},
		{name: "a fractional-second expiry is refused",
			args: []string{"--token.default_expiry", "1500ms"},
			want: []string{`config: token.default_expiry: must be a whole number of seconds (got 1.5s)`}},
		{name: "a default expiry above the max is refused",
			args: []string{"--token.default_expiry", "2h", "--token.max_expiry", "1h"},
			want: []string{`config: token.default_expiry: must not exceed token.max_expiry (1h0m0s) (got 2h0m0s)`}},
		{name: "an origin with a path is refused",
			env:  map[string]string{"CORS_ALLOW_ORIGIN": "http://a.example/app"},
			want: []string{`config: cors.allowed_origins: "http://a.example/app": must not have a path, query or fragment (an Origin header never has one)`}},
		{name: "an origin without a scheme is refused",
			env:  map[string]string{"CORS_ALLOW_ORIGIN": "a.example"},
			want: []string{`config: cors.allowed_origins: "a.example": must look like scheme://host[:port], e.g. https://app.example.com`}},
		{name: "a wildcard over a top-level domain is refused",
			env:  map[string]string{"CORS_ALLOW_ORIGIN": "https://*.com"},
			want: []string{`config: cors.allowed_origins: "https://*.com": "*.com" would match every site under a top-level domain`}},
		{name: "a wildcard over a country's public suffix is refused",
			env:  map[string]string{"CORS_ALLOW_ORIGIN": "https://*.Co.UK"},
			want: []string{`config: cors.allowed_origins: "https://*.Co.UK": "*.co.uk" would match every site under the public suffix "co.uk", where anyone can register a name`}},
		{name: "a wildcard over a hosting platform's public suffix is refused",
			env:  map[string]string{"CORS_ALLOW_ORIGIN": "https://*.github.io:8443"},
			want: []string{`config: cors.allowed_origins: "https://*.github.io:8443": "*.github.io" would match every site under the public suffix "github.io", where anyone can register a name`}},
		{name: "an asterisk next to other origins is refused",
			env:  map[string]string{"CORS_ALLOW_ORIGIN": "*,http://a.example"},
			want: []string{`config: cors.allowed_origins: "*" must be the only entry (it already allows every origin)`}},
		{name: "a trusted proxy that is not an IP or CIDR is refused",
			env:  map[string]string{"TOKENSERVER_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"},
			want: []string{`config: trusted_proxies: must be an IP address or CIDR (got "proxy.local")`}},
		{name: "a negative timeout is refused",
			args: []string{"--timeouts.read", "-1s"},
			want: []string{`config: timeouts.read: must be at least 1ns (got -1s)`}},
		{name: "a negative drain is refused",
			args: []string{"--timeouts.drain", "-1s"},
			want: []string{`config: timeouts.drain: must be at least 0s (got -1s)`}},
		{name: "a body limit that is not a number is refused",
			args: []string{"--max_body_bytes", "16k"},
			want: []string{`config: max_body_bytes: must be a size in bytes like 16384 or 16KiB (got "16k")`}},
		{name: "a tiny header limit is refused",
			args: []string{"--max_header_bytes", "10"},
			want: []string{`config: max_header_bytes: must be at least 1024 bytes (got 10)`}},
		{name: "an unknown log level is refused",
			env:  map[string]string{"TOKENSERVER_LOG_LEVEL": "loud"},
			want: []string{`config: log.level: must be debug, info, warn or error (got "loud")`}},
		{name: "an unknown log format is refused",
			env:  map[string]string{"TOKENSERVER_LOG_FORMAT": "xml"},
			want: []string{`config: log.format: must be text or json (got "xml")`}},
		{name: "a map where a string belongs is refused",
			files: map[string]string{DefaultFile: "listen:\n  port: 1\n"},
			want:  []string{`config: DIR/configs/tokenserver.yaml: unknown key "listen.port"`}},
		{name: "an unquoted all-digit App ID in YAML gets a hint to quote it",
			files: map[string]string{DefaultFile: "agora:\n  app_id: 12345678901234567890123456789012\n  app_certificate: \"" + testCert + "\"\n"},
			want: []string{`config: agora.app_id: must be a string; quote the value in YAML (got a number)`,
				`config: agora.app_id: required when a certificate is set (or unset both for demo mode)`}},
		{name: "a broken .env file is refused without quoting it",
			files: map[string]string{".env": "APP_CERTIFICATE " + testCert + "\n"},
			want:  []string{`config: DIR/.env: not a valid .env file (expected NAME=value lines)`}},
		{name: "every problem is reported, one line each",
			env: map[string]string{"TOKENSERVER_LISTEN": "nope", "TOKENSERVER_LOG_LEVEL": "loud", "TOKENSERVER_LOG_FORMAT": "xml",
				"TOKENSERVER_TOKEN_MAX_EXPIRY": "48h", "APP_ID": "x"},
			want: []string{
				`config: listen: must be host:port, e.g. :8080 or 127.0.0.1:0 (got "nope")`,
				`config: agora.app_id: must be 32 hex characters (got 1)`,
				`config: agora.app_certificate: required when agora.app_id is set (or unset both for demo mode)`,
				`config: token.max_expiry: must be 1s-24h (got 48h)`,
				`config: log.level: must be debug, info, warn or error (got "loud")`,
				`config: log.format: must be text or json (got "xml")`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			files := tt.files
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			for name, body := range files {
				p := filepath.Join(d, name)
				_ = os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Load(Source{Flags: fs, Getenv: func(k string) string { return tt.env[k] }, Dir: d})
			if err == nil {
				t.Fatal("Load accepted an invalid configuration")
			}
			got := strings.Split(strings.ReplaceAll(err.Error(), d, "DIR"), "\n")
			if !slices.Equal(got, tt.want) {
				t.Errorf("error lines:\n got %q\nwant %q", got, tt.want)
			}
			for _, line := range got {
				if strings.Contains(line, testCert) {
					t.Errorf("an error line contains the certificate")
				}
			}
		})
	}
}

// TestShippedFileMatchesDefaults keeps configs/tokenserver.yaml and the
// registered defaults from drifting apart: loading the file changes nothing,
// and it mentions every key.
func TestShippedFileMatchesDefaults(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	body, err := os.ReadFile(filepath.Join(root, DefaultFile))
	if err != nil {
		t.Fatalf("reading the shipped config: %v", err)
	}
	withFile, err := Load(Source{Getenv: func(string) string { return "" }, Dir: root})
	if err != nil {
		t.Fatalf("the shipped config does not load: %v", err)
	}
	withFile.File, withFile.DotEnv = "", nil
	without := mustLoad(t, nil, nil)
	without.DotEnv = nil
	if !reflect.DeepEqual(withFile, without) {
		t.Errorf("the shipped config is not the defaults:\n file %+v\n defaults %+v", withFile, without)
	}
	for _, k := range Program.Keys {
		leaf := k.Name[strings.LastIndex(k.Name, ".")+1:]
		if !strings.Contains(string(body), leaf+":") {
			t.Errorf("key %s is missing from %s", k.Name, DefaultFile)
		}
	}
}

// TestGeneratedFilesMatchTheKeyTable fails when configs/tokenserver.yaml or
// docs/config-tokenserver.md drift from the key table (go generate rewrites them).
func TestGeneratedFilesMatchTheKeyTable(t *testing.T) {
	settingstest.Generated(t, &Program, filepath.Join("..", "..", ".."))
}

func TestEnvName(t *testing.T) {
	if got := Program.EnvName("cors.allowed_origins"); got != "TOKENSERVER_CORS_ALLOWED_ORIGINS" {
		t.Errorf("EnvName = %q", got)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := NewSecret(testCert)
	cfg := Config{AppCertificate: s}
	outs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg),
		s.LogValue().String(),
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(b))
	var sb strings.Builder
	slog.New(slog.NewJSONHandler(&sb, nil)).Info("x", "cfg", cfg, "cert", s)
	outs = append(outs, sb.String())
	for _, o := range outs {
		if strings.Contains(o, testCert) || strings.Contains(o, fmt.Sprintf("%x", testCert)) {
			t.Errorf("the certificate leaked: %s", o)
		}
		if !strings.Contains(o, "[redacted]") {
			t.Errorf("no [redacted] marker in %s", o)
		}
	}
	if s.Reveal() != testCert {
		t.Error("Reveal does not return the value")
	}
}
