package cors

import (
	"strings"
	"testing"
	"time"
)

func safe() Config {
	return Config{
		AllowedOrigins: []string{"http://localhost:9000"},
		AllowedMethods: []string{"GET", "POST"},
		AllowedHeaders: []string{"Content-Type", "Authorization", "X-Requested-With"},
		MaxAge:         10 * time.Minute,
	}
}

func TestCompile(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   []string // substrings, one per expected problem, in order; nil: accepted
	}{
		{"the default configuration is accepted", func(*Config) {}, nil},
		{"an https origin with a port is accepted", func(c *Config) { c.AllowedOrigins = []string{"https://app.example.com:8443"} }, nil},
		{"a subdomain pattern is accepted", func(c *Config) { c.AllowedOrigins = []string{"https://*.example.com"} }, nil},
		{"a subdomain pattern with a port is accepted", func(c *Config) { c.AllowedOrigins = []string{"http://*.example.com:9000"} }, nil},
		{"an IPv4 origin is accepted", func(c *Config) { c.AllowedOrigins = []string{"http://127.0.0.1:9000"} }, nil},
		{"an IPv6 origin in brackets is accepted", func(c *Config) { c.AllowedOrigins = []string{"http://[::1]:9000"} }, nil},
		{"a wildcard origin without credentials is accepted", func(c *Config) { c.AllowedOrigins = []string{"*"} }, nil},
		{"credentials with explicit origins are accepted", func(c *Config) { c.AllowCredentials = true }, nil},
		{"credentials with https and loopback origins are accepted", func(c *Config) {
			c.AllowedOrigins = []string{"https://app.example.com", "http://127.0.0.1:9000", "http://[::1]:9000", "http://LOCALHOST:9000"}
			c.AllowCredentials = true
		}, nil},
		{"credentials with a subdomain pattern are refused", func(c *Config) { c.AllowedOrigins = []string{"https://*.example.com"}; c.AllowCredentials = true }, []string{`"https://*.example.com": a pattern cannot be combined with allow_credentials`}},
		{"credentials with a plain-http origin off the loopback are refused", func(c *Config) { c.AllowedOrigins = []string{"http://app.example.org"}; c.AllowCredentials = true }, []string{`"http://app.example.org": an http origin cannot be combined with allow_credentials`}},
		{"credentials with a plain-http LAN address are refused", func(c *Config) { c.AllowedOrigins = []string{"http://192.168.1.20:9000"}; c.AllowCredentials = true }, []string{`an http origin cannot be combined`}},
		{"a plain-http origin without credentials is accepted", func(c *Config) { c.AllowedOrigins = []string{"http://app.example.org"} }, nil},
		{"a zero max age is accepted", func(c *Config) { c.MaxAge = 0 }, nil},

		{"an empty origin list is refused because rs/cors would allow every origin", func(c *Config) { c.AllowedOrigins = nil }, []string{"allowed_origins: must list at least one origin"}},
		{"a wildcard origin with credentials is refused", func(c *Config) { c.AllowedOrigins = []string{"*"}; c.AllowCredentials = true }, []string{`allowed_origins: "*" cannot be combined with allow_credentials`}},
		{"a wildcard origin next to other origins is refused", func(c *Config) { c.AllowedOrigins = []string{"*", "http://a.example"} }, []string{`"*" must be the only entry`}},
		{"the null origin is refused", func(c *Config) { c.AllowedOrigins = []string{"null"} }, []string{`"null": the "null" origin`}},
		{"an origin without a scheme is refused", func(c *Config) { c.AllowedOrigins = []string{"example.com"} }, []string{"must look like scheme://host[:port]"}},
		{"an origin with a trailing slash is accepted (and matched without it)", func(c *Config) { c.AllowedOrigins = []string{"https://example.com/"} }, nil},
		{"an origin with two trailing slashes is refused", func(c *Config) { c.AllowedOrigins = []string{"https://example.com//"} }, []string{"must not have a path"}},
		{"an origin with a path is refused", func(c *Config) { c.AllowedOrigins = []string{"https://example.com/app"} }, []string{"must not have a path"}},
		{"an origin with a query is refused", func(c *Config) { c.AllowedOrigins = []string{"https://example.com?x=1"} }, []string{"must not have a path, query or fragment"}},
		{"an origin with user info is refused", func(c *Config) { c.AllowedOrigins = []string{"https://user@example.com"} }, []string{"must not contain user info"}},
		{"an origin with the default port is accepted (and matched without it)", func(c *Config) { c.AllowedOrigins = []string{"https://example.com:443"} }, nil},
		{"an origin with a signed port is refused", func(c *Config) { c.AllowedOrigins = []string{"http://example.com:+8080"} }, []string{`port "+8080" must be a number`}},
		{"an origin with a port out of range is refused", func(c *Config) { c.AllowedOrigins = []string{"http://example.com:70000"} }, []string{`port "70000" must be a number`}},
		{"an origin with a zero-padded port is refused", func(c *Config) { c.AllowedOrigins = []string{"http://example.com:09000"} }, []string{`port "09000"`}},
		{"an origin with an empty port is refused", func(c *Config) { c.AllowedOrigins = []string{"http://example.com:"} }, []string{`port ""`}},
		{"an origin with a space is refused", func(c *Config) { c.AllowedOrigins = []string{"http://exa mple.com"} }, []string{"must not contain spaces"}},
		{"an origin with non-ASCII characters is refused", func(c *Config) { c.AllowedOrigins = []string{"https://bücher.example"} }, []string{"punycode"}},
		{"an origin with a mangled IPv4 address is refused", func(c *Config) { c.AllowedOrigins = []string{"http://0x7f.0.0.1"} }, []string{"not a valid host name or IP address"}},
		{"an origin with a numeric IPv4 spelling is refused", func(c *Config) { c.AllowedOrigins = []string{"http://2130706433"} }, []string{"not a valid host name or IP address"}},
		{"an IPv6 origin without brackets is refused", func(c *Config) { c.AllowedOrigins = []string{"http://::1"} }, []string{"IPv6 addresses must be in brackets"}},
		{"an IPv6 origin not written as browsers write it is refused", func(c *Config) { c.AllowedOrigins = []string{"http://[0:0::1]"} }, []string{"the way browsers do: [::1]"}},
		{"a wildcard in the middle of a host is refused", func(c *Config) { c.AllowedOrigins = []string{"https://app.*.example.com"} }, []string{`"*." only as the first label`}},
		{"a wildcard host suffix is refused", func(c *Config) { c.AllowedOrigins = []string{"https://example.*"} }, []string{`"*." only as the first label`}},
		{"a wildcard over a top-level domain is refused", func(c *Config) { c.AllowedOrigins = []string{"https://*.com"} }, []string{"every site under a top-level domain"}},
		{"a wildcard over a country's public suffix is refused", func(c *Config) { c.AllowedOrigins = []string{"https://*.co.uk"} }, []string{`"*.co.uk" would match every site under the public suffix "co.uk"`}},
		{"a wildcard over a hosting platform's public suffix is refused", func(c *Config) { c.AllowedOrigins = []string{"https://*.github.io"} }, []string{`public suffix "github.io"`}},
		{"a wildcard over a public suffix in upper case is refused", func(c *Config) { c.AllowedOrigins = []string{"https://*.Co.UK"} }, []string{`public suffix "co.uk"`}},
		{"a wildcard over a name registered under a public suffix is accepted", func(c *Config) {
			c.AllowedOrigins = []string{"https://*.example.co.uk", "https://*.agora-demo.github.io"}
		}, nil},
		{"a wildcard in the scheme is refused", func(c *Config) { c.AllowedOrigins = []string{"*://example.com"} }, []string{"must look like scheme://host"}},
		{"a bare wildcard host is refused", func(c *Config) { c.AllowedOrigins = []string{"https://*"} }, []string{`"*." only as the first label`}},
		{"a wildcard for a non-http scheme is refused", func(c *Config) { c.AllowedOrigins = []string{"chrome-extension://*.abc"} }, []string{"only supported for http and https"}},

		{"an empty method list is refused because rs/cors would use its defaults", func(c *Config) { c.AllowedMethods = nil }, []string{"allowed_methods: must list at least one method"}},
		{"a wildcard method is refused because rs/cors compares methods literally", func(c *Config) { c.AllowedMethods = []string{"*"} }, []string{`"*" is not supported`}},
		{"a method with a space is refused", func(c *Config) { c.AllowedMethods = []string{"GET POST"} }, []string{"not a valid method name"}},
		{"the CONNECT method is refused as forbidden", func(c *Config) { c.AllowedMethods = []string{"connect"} }, []string{"forbidden method"}},
		{"the TRACE method is refused as forbidden", func(c *Config) { c.AllowedMethods = []string{"TRACE"} }, []string{"forbidden method"}},

		{"an empty header list is refused because rs/cors would use its defaults", func(c *Config) { c.AllowedHeaders = nil }, []string{"allowed_headers: must list at least one header"}},
		{"a wildcard header list with credentials is refused", func(c *Config) { c.AllowedHeaders = []string{"*"}; c.AllowCredentials = true }, []string{`allowed_headers: "*" cannot be combined`}},
		{"a header name with a colon is refused", func(c *Config) { c.AllowedHeaders = []string{"X-Token:"} }, []string{"not a valid header name"}},
		{"a forbidden request header is refused", func(c *Config) { c.AllowedHeaders = []string{"Cookie"} }, []string{"forbidden request header"}},
		{"a Sec- request header is refused", func(c *Config) { c.AllowedHeaders = []string{"Sec-Fetch-Mode"} }, []string{"forbidden request header"}},
		{"a Proxy- request header is refused", func(c *Config) { c.AllowedHeaders = []string{"Proxy-Authorization"} }, []string{"forbidden request header"}},
		{"exposing Set-Cookie is refused", func(c *Config) { c.ExposedHeaders = []string{"Set-Cookie"} }, []string{"forbidden response header"}},
		{"exposing every header with credentials is refused", func(c *Config) { c.ExposedHeaders = []string{"*"}; c.AllowCredentials = true }, []string{`exposed_headers: "*" cannot be combined`}},
		{"an exposed header with a space is refused", func(c *Config) { c.ExposedHeaders = []string{"X Total"} }, []string{"not a valid header name"}},

		{"a negative max age is refused", func(c *Config) { c.MaxAge = -time.Second }, []string{"max_age: must not be negative"}},
		{"a max age with a fraction of a second is refused", func(c *Config) { c.MaxAge = 1500 * time.Millisecond }, []string{"must be whole seconds"}},
		{"a max age over a day is refused", func(c *Config) { c.MaxAge = 48 * time.Hour }, []string{"must be at most 24h0m0s"}},

		{"every problem is reported, not just the first", func(c *Config) {
			c.AllowedOrigins = []string{"null", "https://x.example/app"}
			c.AllowedMethods = []string{"TRACE"}
			c.MaxAge = -1
		}, []string{"null", "must not have a path", "forbidden method", "must not be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := safe()
			tt.modify(&cfg)
			_, got := Compile(cfg)
			if len(got) != len(tt.want) {
				t.Fatalf("Compile = %v, want %d problems like %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i].Error(), w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i].Error(), w)
				}
			}
		})
	}
}
