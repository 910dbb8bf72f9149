package origin

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // the normalised entry; "" when refused
		err  string // a substring of the reason when refused
	}{
		{"an https origin is kept as it is", "https://app.example.com", "https://app.example.com", ""},
		{"an origin with a port is kept", "https://app.example.com:8443", "https://app.example.com:8443", ""},
		{"upper case is lowered, as browsers send it", "HTTPS://App.Example.COM", "https://app.example.com", ""},
		{"the https default port is dropped", "https://a.com:443", "https://a.com", ""},
		{"the http default port is dropped", "http://a.com:80", "http://a.com", ""},
		{"a default port of the other scheme is kept", "http://a.com:443", "http://a.com:443", ""},
		{"one trailing slash is dropped", "https://a.com/", "https://a.com", ""},
		{"a trailing slash after a default port is dropped with it", "https://a.com:443/", "https://a.com", ""},
		{"a subdomain pattern is kept", "https://*.example.com", "https://*.example.com", ""},
		{"a pattern with a port is kept", "http://*.example.com:9000", "http://*.example.com:9000", ""},
		{"a pattern's default port is dropped", "https://*.Example.com:443/", "https://*.example.com", ""},
		{"a pattern under a name registered at a public suffix is accepted", "https://*.example.co.uk", "https://*.example.co.uk", ""},
		{"a pattern under a name registered at a platform's suffix is accepted", "https://*.agora-demo.github.io", "https://*.agora-demo.github.io", ""},
		{"an IPv4 origin is accepted", "http://127.0.0.1:9000", "http://127.0.0.1:9000", ""},
		{"an IPv6 origin in brackets is accepted", "http://[::1]:9000", "http://[::1]:9000", ""},
		{"an extension origin is accepted", "chrome-extension://abcdef", "chrome-extension://abcdef", ""},

		{"the null origin is refused", "null", "", `the "null" origin`},
		{"a lone asterisk is not an entry Parse accepts", "*", "", `must be the whole list`},
		{"an empty entry is refused", "", "", "must look like scheme://host[:port]"},
		{"an origin without a scheme is refused", "example.com", "", "must look like scheme://host[:port]"},
		{"a wildcard in the scheme is refused", "*://example.com", "", "must look like scheme://host"},
		{"two trailing slashes are refused", "https://a.com//", "", "must not have a path"},
		{"an origin with a path is refused", "https://example.com/app", "", "must not have a path"},
		{"an origin with a query is refused", "https://example.com?x=1", "", "must not have a path, query or fragment"},
		{"an origin with a fragment is refused", "https://example.com#x", "", "must not have a path, query or fragment"},
		{"an origin with user info is refused", "https://user@example.com", "", "must not contain user info"},
		{"an origin without a host is refused", "https://", "", `"" is not a valid host name`},
		{"the highest port is accepted", "http://example.com:65535", "http://example.com:65535", ""},
		{"the port past the highest is refused", "http://example.com:65536", "", `port "65536" must be a number from 1 to 65535`},
		{"a port out of range is refused", "http://example.com:70000", "", `port "70000" must be a number`},
		{"a zero port is refused", "http://example.com:0", "", `port "0"`},
		{"a zero-padded port is refused", "http://example.com:09000", "", `port "09000"`},
		{"an empty port is refused", "http://example.com:", "", `port ""`},
		{"a signed port is refused", "http://example.com:+80", "", `port "+80"`},
		{"a space is refused", "http://exa mple.com", "", "must not contain spaces"},
		{"a leading space is refused", " http://example.com", "", "must not contain spaces"},
		{"a control character is refused", "http://example.com\n", "", "must not contain spaces, control"},
		{"non-ASCII is refused", "https://bücher.example", "", "punycode"},
		{"a mangled IPv4 address is refused", "http://0x7f.0.0.1", "", "not a valid host name or IP address"},
		{"a numeric IPv4 spelling is refused", "http://2130706433", "", "not a valid host name or IP address"},
		{"an IPv4 with leading zeros is refused", "http://127.000.0.1", "", "not a valid host name or IP address"},
		{"an IPv6 origin without brackets is refused", "http://::1", "", "IPv6 addresses must be in brackets"},
		{"an IPv6 origin not written as browsers write it is refused", "http://[0:0::1]", "", "the way browsers do: [::1]"},
		{"an IPv6 origin with a zone is refused", "http://[fe80::1%25eth0]", "", "not a valid IPv6 address"},
		{"an IPv4 in brackets is refused", "http://[127.0.0.1]", "", "not a valid IPv6 address"},
		{"an unterminated IPv6 literal is refused", "http://[::1", "", "unterminated IPv6 literal"},
		{"text after an IPv6 literal is refused", "http://[::1]x", "", "unexpected text after the IPv6 literal"},
		{"a host label starting with a hyphen is refused", "https://-a.example.com", "", "not a valid host name"},
		{"a wildcard in the middle of a host is refused", "https://app.*.example.com", "", `"*." only as the first label`},
		{"a wildcard host suffix is refused", "https://example.*", "", `"*." only as the first label`},
		{"two wildcards are refused", "https://*.*.example.com", "", `"*." only as the first label`},
		{"a wildcard glued to a label is refused", "https://*app.example.com", "", `"*." only as the first label`},
		{"a bare wildcard host is refused", "https://*", "", `"*." only as the first label`},
		{"a wildcard over a top-level domain is refused", "https://*.com", "", "every site under a top-level domain"},
		{"a wildcard over a country's public suffix is refused", "https://*.co.uk", "", `"*.co.uk" would match every site under the public suffix "co.uk"`},
		{"a wildcard over a platform's public suffix is refused", "https://*.github.io:8443", "", `public suffix "github.io"`},
		{"a wildcard over a public suffix in upper case is refused", "https://*.Co.UK", "", `public suffix "co.uk"`},
		{"a wildcard for a non-http scheme is refused", "chrome-extension://*.abc", "", "only supported for http and https"},
		{"a wildcard over a bad domain is refused", "https://*.exa_mple.com", "", `"exa_mple.com" is not a valid host name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.in)
			if tt.want != "" {
				if err != nil || e.String() != tt.want {
					t.Fatalf("Parse(%q) = %q, %v; want %q", tt.in, e, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want an error containing %q", tt.in, e, tt.err)
			}
			var oe *Error
			if !errors.As(err, &oe) || oe.Entry != tt.in || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Parse(%q) error = %v, want an *Error naming the entry, containing %q", tt.in, err, tt.err)
			}
			if !strings.HasPrefix(err.Error(), `"`) {
				t.Errorf("error %q does not start with the quoted entry", err)
			}
		})
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		name        string
		in          []string
		credentials bool
		want        []string // Entries of the returned list
		errs        []string // substrings, one per refused entry, in order
	}{
		{"an empty list allows nothing and is no error here", nil, false, nil, nil},
		{"a lone asterisk allows every origin", []string{"*"}, false, []string{"*"}, nil},
		{"an asterisk next to other origins is refused", []string{"*", "https://a.example"}, false, []string{"https://a.example"}, []string{`"*" must be the only entry`}},
		{"an asterisk with credentials is refused", []string{"*"}, true, nil, []string{`"*" cannot be combined with allow_credentials`}},
		{"entries are normalised and spellings of one origin kept once", []string{"https://A.example:443/", "https://a.example", "http://localhost:9000"}, false, []string{"https://a.example", "http://localhost:9000"}, nil},
		{"credentials with https and loopback origins are accepted", []string{"https://app.example.com", "http://127.0.0.1:9000", "http://[::1]:9000", "http://LOCALHOST:9000"}, true,
			[]string{"https://app.example.com", "http://127.0.0.1:9000", "http://[::1]:9000", "http://localhost:9000"}, nil},
		{"credentials with a pattern are refused", []string{"https://*.example.com"}, true, nil, []string{`"https://*.example.com": a pattern cannot be combined with allow_credentials`}},
		{"credentials with plain http off the loopback are refused", []string{"http://app.example.org"}, true, nil, []string{`"http://app.example.org": an http origin cannot be combined with allow_credentials`}},
		{"credentials with a plain-http LAN address are refused", []string{"http://192.168.1.20:9000"}, true, nil, []string{"an http origin cannot be combined"}},
		{"credentials with a host that only starts like localhost are refused", []string{"http://localhost.evil.net"}, true, nil, []string{"an http origin cannot be combined"}},
		{"plain http without credentials is accepted", []string{"http://app.example.org"}, false, []string{"http://app.example.org"}, nil},
		{"every bad entry is reported and the good ones kept", []string{"null", "https://ok.example", "https://x.example/app", "https://*.com"}, false,
			[]string{"https://ok.example"}, []string{`"null"`, `"https://x.example/app": must not have a path`, `"https://*.com"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, errs := ParseList(tt.in, tt.credentials)
			if got := l.Entries(); !slices.Equal(got, tt.want) || got == nil {
				t.Errorf("Entries = %q, want %q", got, tt.want)
			}
			if len(errs) != len(tt.errs) {
				t.Fatalf("errors = %v, want %d like %q", errs, len(tt.errs), tt.errs)
			}
			for i, w := range tt.errs {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i], w)
				}
			}
			if l.AllowsAny() != slices.Equal(tt.want, []string{"*"}) {
				t.Errorf("AllowsAny = %v for %q", l.AllowsAny(), tt.want)
			}
		})
	}
}

func TestAllows(t *testing.T) {
	list := []string{
		"https://app.example.com",
		"http://localhost:9000/",
		"https://legacy.example.org:443",
		"https://*.example.net",
		"http://*.dev.example.io:8080",
		"http://[::1]:9000",
	}
	tests := []struct {
		name   string
		origin string
		want   bool
	}{
		{"an exact origin is allowed", "https://app.example.com", true},
		{"an exact origin in upper case is allowed", "HTTPS://APP.EXAMPLE.COM", true},
		{"a config entry written with a trailing slash matches the header without one", "http://localhost:9000", true},
		{"a config entry written with its default port matches the header without it", "https://legacy.example.org", true},
		{"a header carrying the default port is not what browsers send", "https://legacy.example.org:443", false},
		{"a header with a trailing slash is not what browsers send", "https://app.example.com/", false},
		{"another scheme is refused", "http://app.example.com", false},
		{"another port is refused", "https://app.example.com:8443", false},
		{"another port on localhost is refused", "http://localhost:9001", false},
		{"a subdomain of an exact origin is refused", "https://x.app.example.com", false},
		{"a look-alike host that ends with the allowed one is refused", "https://evilapp.example.com", false},
		{"a look-alike host that starts with the allowed one is refused", "https://app.example.com.evil.net", false},
		{"the IPv6 loopback is allowed", "http://[::1]:9000", true},

		{"one label under a pattern is allowed", "https://a.example.net", true},
		{"several labels under a pattern are allowed", "https://a.b.example.net", true},
		{"labels with digits, hyphens and underscores are allowed", "https://my-app_2.example.net", true},
		{"the pattern's own domain is not matched by *.", "https://example.net", false},
		{"an empty label under a pattern is refused", "https://.example.net", false},
		{"an empty inner label under a pattern is refused", "https://a..example.net", false},
		{"a look-alike domain under a pattern is refused", "https://evilexample.net", false},
		{"a pattern's domain followed by more labels is refused", "https://a.example.net.evil.org", false},
		{"a port on an origin matching a portless pattern is refused", "https://a.example.net:8443", false},
		{"the pattern's scheme is required", "http://a.example.net", false},
		{"user info hidden in a pattern's star is refused", "https://evil.org@a.example.net", false},
		{"a port hidden in a pattern's star is refused", "https://evil.org:1.example.net", false},
		{"a path hidden in a pattern's star is refused", "https://evil.org/.example.net", false},
		{"a pattern with a port matches that port", "http://a.dev.example.io:8080", true},
		{"a pattern with a port refuses another port", "http://a.dev.example.io:8081", false},
		{"a pattern with a port refuses no port", "http://a.dev.example.io", false},

		{"an empty header is refused", "", false},
		{"null is refused", "null", false},
		{"an overlong header is refused", "https://" + strings.Repeat("a.", 600) + "example.net", false},
	}
	l, errs := ParseList(list, false)
	if errs != nil {
		t.Fatal(errs)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.Allows(tt.origin); got != tt.want {
				t.Errorf("Allows(%q) = %v, want %v", tt.origin, got, tt.want)
			}
		})
	}

	t.Run("the zero list allows nothing", func(t *testing.T) {
		if (List{}).Allows("https://app.example.com") {
			t.Error("the zero List allowed an origin")
		}
	})
	t.Run("the asterisk allows any origin", func(t *testing.T) {
		any, _ := ParseList([]string{"*"}, false)
		if !any.Allows("https://anything.example") {
			t.Error(`"*" did not allow an origin`)
		}
	})
	t.Run("a refused entry allows nothing", func(t *testing.T) {
		bad, _ := ParseList([]string{"https://*.com", "https://a.example/app"}, false)
		for _, o := range []string{"https://x.com", "https://a.example"} {
			if bad.Allows(o) {
				t.Errorf("a list of refused entries allowed %q", o)
			}
		}
	})
}
