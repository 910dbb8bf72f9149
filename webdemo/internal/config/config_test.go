package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"signaling-auth/lifecycle"
	"signaling-auth/ratelimit/connsettings"
	"signaling-auth/settings"
	"time"

	"github.com/spf13/viper"

	"signaling-auth/settings/settingstest"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "webdemo.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	t.Chdir(t.TempDir()) // no configs/webdemo.yaml here
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Listen:      ":9000",
		ProxyURL:    "http://localhost:8080/",
		TokenExpiry: 600 * time.Second,
		SDKURL:      DefaultSDKURL,
		SDKDir:      ".sdk",
		Log:         settings.Log{Format: "text"},
		Timeouts:    lifecycle.Timeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 30 * time.Second, Idle: 60 * time.Second, Shutdown: 10 * time.Second, Drain: 5 * time.Second},
		Conns:       connsettings.Limits{Max: 4096, PerIP: connsettings.DefaultPerIP},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", c, want)
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, "listen: \":7001\"\nproxy_url: http://file.example/\ntoken_expiry: 60\nagora:\n  app_id: 970CA35de60c44645bbae8a215061b33\n")
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		listen string
		proxy  string
		expiry time.Duration
	}{
		{"the file overrides the defaults", []string{"--config", file}, nil, ":7001", "http://file.example/", time.Minute},
		{"the environment overrides the file", []string{"--config", file},
			map[string]string{"WEBDEMO_LISTEN": ":7002", "WEBDEMO_TOKEN_EXPIRY": "2m"}, ":7002", "http://file.example/", 2 * time.Minute},
		{"flags override the environment", []string{"--config", file, "--listen", ":7003", "--token_expiry=90s"},
			map[string]string{"WEBDEMO_LISTEN": ":7002", "WEBDEMO_TOKEN_EXPIRY": "2m"}, ":7003", "http://file.example/", 90 * time.Second},
		{"an empty environment variable counts as unset", []string{"--config", file},
			map[string]string{"WEBDEMO_LISTEN": ""}, ":7001", "http://file.example/", time.Minute},
		{"a nested key is read from its environment variable", []string{"--config", file},
			map[string]string{"WEBDEMO_PROXY_URL": "https://env.example"}, ":7001", "https://env.example/", time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.Listen != tt.listen || c.ProxyURL != tt.proxy || c.TokenExpiry != tt.expiry {
				t.Errorf("got listen %q proxy %q expiry %v, want %q %q %v", c.Listen, c.ProxyURL, c.TokenExpiry, tt.listen, tt.proxy, tt.expiry)
			}
			if c.AppID != "970CA35de60c44645bbae8a215061b33" {
				t.Errorf("app id from the nested file key: got %q", c.AppID)
			}
			if c.File != file {
				t.Errorf("File = %q, want %q", c.File, file)
			}
		})
	}
}

func TestAppIDFromEnvAndFlag(t *testing.T) {
	t.Chdir(t.TempDir())
	id := "970ca35de60c44645bbae8a215061b33"
	c, err := Load(nil, env(map[string]string{"WEBDEMO_AGORA_APP_ID": id}))
	if err != nil || c.AppID != id {
		t.Fatalf("env: got %q, %v", c.AppID, err)
	}
	c, err = Load([]string{"--agora.app_id", strings.ToUpper(id)}, env(map[string]string{"WEBDEMO_AGORA_APP_ID": id}))
	if err != nil || c.AppID != strings.ToUpper(id) {
		t.Fatalf("flag: got %q, %v", c.AppID, err)
	}
}

func TestDefaultFileIsReadFromTheWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "configs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, DefaultFile), []byte("listen: \":7100\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":7100" || c.File != DefaultFile {
		t.Errorf("got listen %q from %q", c.Listen, c.File)
	}
}

func TestURLsAreNormalised(t *testing.T) {
	t.Chdir(t.TempDir())
	tests := []struct {
		name                 string
		args                 []string
		proxy, server, token string
	}{
		{"a proxy URL without a trailing slash gets one", []string{"--proxy_url", "http://p:8080"}, "http://p:8080/", "", "http://p:8080/"},
		{"a server URL loses its trailing slash", []string{"--server_url", "http://s:8081/"}, "http://localhost:8080/", "http://s:8081", "http://localhost:8080/http://s:8081/"},
		{"without a proxy the page calls the server directly", []string{"--proxy_url=", "--server_url", "http://s:8081"}, "", "http://s:8081", "http://s:8081/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if c.ProxyURL != tt.proxy || c.ServerURL != tt.server || c.TokenURLPrefix() != tt.token {
				t.Errorf("got %q %q %q, want %q %q %q", c.ProxyURL, c.ServerURL, c.TokenURLPrefix(), tt.proxy, tt.server, tt.token)
			}
		})
	}
}

func TestHostileValuesAreRejected(t *testing.T) {
	t.Chdir(t.TempDir())
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a listen address without a port is refused", []string{"--listen", "localhost"}, `config: listen: must be host:port`},
		{"a listen port out of range is refused", []string{"--listen", ":70000"}, `config: listen: port must be a number 0-65535 (got ":70000")`},
		{"a listen host name other than localhost is refused", []string{"--listen", "example.com:80"}, `config: listen: host must be empty, localhost or an IP address`},
		{"a proxy URL with another scheme is refused", []string{"--proxy_url", "ftp://p/"}, `config: proxy_url: must be a URL with scheme http or https (got "ftp://p/")`},
		{"a relative proxy URL is refused", []string{"--proxy_url", "/proxy/"}, `config: proxy_url: must be a URL with scheme http or https`},
		{"a proxy URL with a query is refused", []string{"--proxy_url", "http://p/?a=b"}, `config: proxy_url: must not have a query or fragment`},
		{"a proxy URL with credentials is refused without echoing them", []string{"--proxy_url", "http://user:secret@p/"}, `config: proxy_url: must not contain credentials (got "http://user:xxxxx@p/")`},
		{"a URL that would break the CSP header is refused", []string{"--server_url", "http://p/a;script-src *"}, `config: server_url: must not contain spaces, quotes, commas or semicolons`},
		{"a host with odd characters is refused", []string{"--sdk_url", "https://cdn_x$/a.js"}, `config: sdk_url: must have a valid host`},
		{"neither proxy nor server is refused", []string{"--proxy_url="}, `config: proxy_url: must be set when server_url is empty`},
		{"an empty SDK URL is refused", []string{"--sdk_url="}, `config: sdk_url: must be set`},
		{"an SDK URL naming a directory is refused", []string{"--sdk_url", "https://cdn.example/npm/agora-rtm-sdk@2/"}, `config: sdk_url: must name the script file`},
		{"a short App ID is refused", []string{"--agora.app_id", "abc"}, `config: agora.app_id: must be 32 hex characters (got 3 characters)`},
		{"a non-hex App ID is refused", []string{"--agora.app_id", "970CA35de60c44645bbae8a215061b3z"}, `config: agora.app_id: must be 32 hex characters (byte 'z' at offset 31 is not hex)`},
		{"a token expiry of zero is refused", []string{"--token_expiry", "0"}, `config: token_expiry: must be 1s-24h (got 0s)`},
		{"a negative token expiry is refused", []string{"--token_expiry", "-5"}, `config: token_expiry: must be a duration like 90s or a number of seconds (got "-5")`},
		{"a token expiry over a day is refused", []string{"--token_expiry", "25h"}, `config: token_expiry: must be 1s-24h (got 25h)`},
		{"a fractional token expiry is refused", []string{"--token_expiry", "1.5s"}, `config: token_expiry: must be a whole number of seconds (got 1.5s)`},
		{"a word for a token expiry is refused", []string{"--token_expiry", "abc"}, `config: token_expiry: must be a duration like 90s or a number of seconds (got "abc")`},
		{"a huge number for a token expiry is refused", []string{"--token_expiry", "99999999999999999999"}, `config: token_expiry: must be a duration like 90s or a number of seconds`},
		{"demo_mode is a boolean", []string{"--demo_mode=maybe"}, `config: demo_mode: must be true or false (got "maybe")`},
		{"a negative drain is refused", []string{"--timeouts.drain", "-1s"}, `config: timeouts.drain: must be`},
		{"a word for a drain is refused", []string{"--timeouts.drain", "soon"}, `config: timeouts.drain: must be a duration`},
		{"a zero shutdown is refused", []string{"--timeouts.shutdown", "0"}, `config: timeouts.shutdown: must be`},
		{"an unknown log level is refused", []string{"--log.level", "loud"}, `config: log.level: must be debug, info, warn or error (got "loud")`},
		{"an unknown log format is refused", []string{"--log.format", "xml"}, `config: log.format: must be text or json (got "xml")`},
		{"an unknown flag is refused", []string{"--listne", ":1"}, `config: unknown flag: --listne`},
		{"a stray argument is refused", []string{"serve"}, `config: unexpected argument "serve"`},
		{"a missing config file is an error", []string{"--config", "/nonexistent/webdemo.yaml"}, `config: --config /nonexistent/webdemo.yaml: cannot read: no such file or directory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.args, env(nil))
			if err == nil {
				t.Fatalf("Load(%q) succeeded, want an error containing %q", tt.args, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load(%q) error:\n%v\nwant it to contain %q", tt.args, err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error echoes a credential: %v", err)
			}
		})
	}
}

func TestABadURLIsReportedOnce(t *testing.T) {
	t.Chdir(t.TempDir())
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a bad proxy URL without a server URL is one problem, not also a missing proxy URL",
			[]string{"--proxy_url=ftp://x"}, `config: proxy_url: must be a URL with scheme http or https (got "ftp://x")`},
		{"a bad server URL without a proxy URL is one problem, not also a missing proxy URL",
			[]string{"--proxy_url=", "--server_url=ftp://s"}, `config: server_url: must be a URL with scheme http or https (got "ftp://s")`},
		{"a list for the proxy URL without a server URL is one problem, not also a missing proxy URL",
			[]string{"--config", writeFile(t, "proxy_url: [a, b]\n")}, `config: proxy_url: must be a single value (got a list)`},
		{"neither proxy URL nor server URL is one problem",
			[]string{"--proxy_url="}, `config: proxy_url: must be set when server_url is empty (the page needs somewhere to fetch tokens from)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.args, env(nil))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Load(%q) error:\n%v\nwant exactly:\n%s", tt.args, err, tt.want)
			}
		})
	}
}

func TestEveryProblemIsReportedOneLineEach(t *testing.T) {
	t.Chdir(t.TempDir())
	_, err := Load(nil, env(map[string]string{
		"WEBDEMO_LISTEN":       "nope",
		"WEBDEMO_TOKEN_EXPIRY": "abc",
		"WEBDEMO_LOG_FORMAT":   "xml",
		"WEBDEMO_AGORA_APP_ID": "short",
	}))
	if err == nil {
		t.Fatal("want an error")
	}
	lines := strings.Split(err.Error(), "\n")
	var keys []string
	for _, l := range lines {
		parts := strings.SplitN(l, ": ", 3)
		if len(parts) < 3 || parts[0] != "config" {
			t.Errorf("line %q is not `config: key: reason`", l)
			continue
		}
		keys = append(keys, parts[1])
	}
	want := []string{"listen", "agora.app_id", "token_expiry", "log.format"}
	if !slices.Equal(keys, want) {
		t.Errorf("problems for %v, want %v\n%v", keys, want, err)
	}
}

func TestFileProblems(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"an unknown key is an error, not ignored", "listen: \":1\"\ntoken_expiri: 60\n", []string{`unknown key "token_expiri"`}},
		{"every unknown key is listed", "a: 1\nb: 2\n", []string{`unknown key "a"`, `unknown key "b"`}},
		{"a scalar where a section belongs is an unknown key", "agora: abc\n", []string{`agora: must be a mapping of keys`}},
		{"a list where a value belongs is refused", "listen: [\":1\", \":2\"]\n", []string{`config: listen: must be a single value`}},
		{"a map where a value belongs is refused", "sdk_url: {a: b}\n", []string{`unknown key "sdk_url.a"`}},
		{"broken YAML is reported", "listen: [\n", []string{"config: "}},
		{"a number where a URL belongs is refused", "proxy_url: 8080\n", []string{`config: proxy_url: must be a URL with scheme http or https (got "8080")`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]string{"--config", writeFile(t, tt.body)}, env(nil))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestFileValuesOfOtherYAMLTypes(t *testing.T) {
	c, err := Load([]string{"--config", writeFile(t, "token_expiry: 1e3\nlisten: \"127.0.0.1:0\"\n")}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.TokenExpiry != 1000*time.Second || c.Listen != "127.0.0.1:0" {
		t.Errorf("got %v %q", c.TokenExpiry, c.Listen)
	}
}

func TestHelp(t *testing.T) {
	_, err := Load([]string{"--help"}, env(nil))
	if !errors.Is(err, ErrHelp) {
		t.Fatalf("got %v, want ErrHelp", err)
	}
	u := Program.Usage()
	for _, k := range Program.Keys {
		if !strings.Contains(u, "--"+k.Name) {
			t.Errorf("usage does not mention --%s:\n%s", k.Name, u)
		}
	}
}

// The checked-in config file documents every key with its default: loading it must give
// exactly the defaults, and it must name every key the program knows.
func TestRepositoryConfigFileMatchesTheDefaults(t *testing.T) {
	file, err := filepath.Abs(filepath.Join("..", "..", "..", "configs", "webdemo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := Load([]string{"--config", file}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	defaults, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	fromFile.File = ""
	if !reflect.DeepEqual(fromFile, defaults) {
		t.Errorf("configs/webdemo.yaml differs from the defaults:\nfile     %+v\ndefaults %+v", fromFile, defaults)
	}

	v := viper.New()
	v.SetConfigFile(file)
	if err := v.ReadInConfig(); err != nil {
		t.Fatal(err)
	}
	for _, k := range Program.Keys {
		if !v.IsSet(k.Name) {
			t.Errorf("configs/webdemo.yaml does not document %s", k.Name)
		}
	}
}

// TestGeneratedFilesMatchTheKeyTable fails when configs/webdemo.yaml (its comments
// included) or docs/config-webdemo.md drift from the key table; go generate rewrites them.
func TestGeneratedFilesMatchTheKeyTable(t *testing.T) {
	settingstest.Generated(t, &Program, filepath.Join("..", "..", ".."))
}
