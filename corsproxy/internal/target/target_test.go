package target

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func mustOrigin(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := ParseOrigin(s)
	if err != nil {
		t.Fatalf("ParseOrigin(%q): %v", s, err)
	}
	return u
}

func mustUpstream(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := ParseUpstream(s)
	if err != nil {
		t.Fatalf("ParseUpstream(%q): %v", s, err)
	}
	return u
}

func testResolver(t testing.TB) *Resolver {
	return New(mustUpstream(t, "http://upstream.internal:8081"),
		[]*url.URL{mustOrigin(t, "http://tokenserver:8081"), mustOrigin(t, "https://api.example.com"), mustOrigin(t, "http://127.0.0.1:8081"),
			mustOrigin(t, "https://allowed.example.com")}, nil)
}

func TestResolve(t *testing.T) {
	type want struct {
		refused  string // substring of the refusal; "" when accepted
		embedded bool
		base     string // Base scheme://host
		path     string // Path (embedded only)
	}
	tests := []struct {
		name string
		uri  string
		want want
	}{
		{"a plain path goes to the fixed upstream", "/rtm/alice/?expiry=60", want{base: "http://upstream.internal:8081"}},
		{"the root goes to the fixed upstream", "/", want{base: "http://upstream.internal:8081"}},
		{"a colon after the first segment stays on the fixed upstream", "/v1/things:batch", want{base: "http://upstream.internal:8081"}},
		{"an allowed target in the path is forwarded to it", "/http://tokenserver:8081/rtm/alice/?expiry=60", want{embedded: true, base: "http://tokenserver:8081", path: "/rtm/alice/"}},
		{"an allowed https target without a port is forwarded to it", "/https://api.example.com/v1/x", want{embedded: true, base: "https://api.example.com", path: "/v1/x"}},
		{"an allowed target without a path gets the root path", "/http://tokenserver:8081", want{embedded: true, base: "http://tokenserver:8081", path: "/"}},
		{"an allowed target followed by a query gets the root path", "/http://tokenserver:8081?x=1", want{embedded: true, base: "http://tokenserver:8081", path: "/"}},
		{"an encoded slash inside the target path stays inside its segment", "/http://tokenserver:8081/rtm/a%2Fb/", want{embedded: true, base: "http://tokenserver:8081", path: "/rtm/a/b/"}},

		{"a target not on the list is refused", "/http://evil.example/", want{refused: "not in allowed_targets"}},
		{"an allowed target is forwarded (the look-alikes below are not)", "/https://allowed.example.com/rtm/a", want{embedded: true, base: "https://allowed.example.com", path: "/rtm/a"}},
		{"a look-alike host that starts with an allowed one is refused", "/https://allowed.example.com.evil.net/rtm/a", want{refused: "not in allowed_targets"}},
		{"a look-alike host that ends with an allowed one is refused", "/https://notallowed.example.com/rtm/a", want{refused: "not in allowed_targets"}},
		{"a subdomain of an allowed host is refused", "/https://x.allowed.example.com/rtm/a", want{refused: "not in allowed_targets"}},
		{"a look-alike host with a port is refused", "/https://allowed.example.com.evil.net:443/rtm/a", want{refused: "not in allowed_targets"}},
		{"a protocol-relative path is refused", "//evil.example/x", want{refused: "starting with //"}},
		{"an encoded protocol-relative path is refused", "/%2F%2Fevil.example/x", want{refused: "starting with //"}},
		{"an absolute-form request target is refused", "http://evil.example/", want{refused: "not a forward proxy"}},
		{"an absolute-form request target naming an allowed target is refused", "http://tokenserver:8081/rtm/a/", want{refused: "not a forward proxy"}},
		{"an authority-form request target is refused", "evil.example:443", want{refused: "not a forward proxy"}},
		{"an asterisk-form request target is refused", "*", want{refused: "not a forward proxy"}},
		{"an empty request target is refused", "", want{refused: "not a forward proxy"}},
		{"user info in front of an allowed host is refused", "/http://tokenserver:8081@evil.example/", want{refused: "not in allowed_targets"}},
		{"an allowed host as user info is refused", "/http://tokenserver@evil.example:8081/", want{refused: "not in allowed_targets"}},
		{"an encoded at sign in the authority is refused", "/http://tokenserver:8081%40evil.example/", want{refused: "not in allowed_targets"}},
		{"an upper-case scheme is refused", "/HTTP://tokenserver:8081/", want{refused: "not in allowed_targets"}},
		{"an upper-case host is refused", "/http://TOKENSERVER:8081/", want{refused: "not in allowed_targets"}},
		{"an explicit default port is refused", "/https://api.example.com:443/", want{refused: "not in allowed_targets"}},
		{"a zero-padded port is refused", "/http://tokenserver:08081/", want{refused: "not in allowed_targets"}},
		{"another port on an allowed host is refused", "/http://tokenserver:6379/", want{refused: "not in allowed_targets"}},
		{"a missing port for an allowed host is refused", "/http://tokenserver/", want{refused: "not in allowed_targets"}},
		{"the wrong scheme for an allowed host is refused", "/https://tokenserver:8081/", want{refused: "not in allowed_targets"}},
		{"a decimal IP spelling of an allowed IP is refused", "/http://2130706433:8081/", want{refused: "not in allowed_targets"}},
		{"a hexadecimal IP spelling of an allowed IP is refused", "/http://0x7f.0.0.1:8081/", want{refused: "not in allowed_targets"}},
		{"a zero-padded IP spelling of an allowed IP is refused", "/http://127.000.000.001:8081/", want{refused: "not in allowed_targets"}},
		{"a short IP spelling of an allowed IP is refused", "/http://127.1:8081/", want{refused: "not in allowed_targets"}},
		{"an IPv4-mapped IPv6 spelling of an allowed IP is refused", "/http://[::ffff:127.0.0.1]:8081/", want{refused: "not in allowed_targets"}},
		{"a trailing dot on an allowed host is refused", "/https://api.example.com./", want{refused: "not in allowed_targets"}},
		{"encoded slashes after the scheme are refused", "/http:%2F%2Ftokenserver:8081/", want{refused: "without percent-encoding"}},
		{"an encoded colon and slashes are refused", "/http%3A%2F%2Ftokenserver:8081/", want{refused: "without percent-encoding"}},
		{"an encoded host is refused", "/http://%74okenserver:8081/", want{refused: "not in allowed_targets"}},
		{"a single slash after the scheme is refused", "/http:/tokenserver:8081/", want{refused: "scheme://host"}},
		{"backslashes instead of slashes are refused", "/http:\\\\evil.example/", want{refused: "not allowed"}},
		{"a scheme-less host with a port is refused", "/evil.example:80/x", want{refused: "scheme://host"}},
		{"a non-http scheme is refused", "/file:///etc/passwd", want{refused: "not in allowed_targets"}},
		{"a javascript: target is refused", "/javascript:alert(1)", want{refused: "scheme://host"}},
		{"a fragment in the target is refused", "/http://evil.example#@tokenserver:8081/", want{refused: "not allowed"}},
		{"a space in the path is refused", "/http://tokenserver:8081 /", want{refused: "not allowed"}},
		{"a control character in the path is refused", "/http://tokenserver:8081/\x00", want{refused: "not allowed"}},
		{"dot-dot segments are refused", "/rtm/../admin", want{refused: ". or .. segments"}},
		{"encoded dot-dot segments are refused", "/rtm/%2e%2e/admin", want{refused: ". or .. segments"}},
		{"dot-dot segments in a target path are refused", "/http://tokenserver:8081/../x", want{refused: ". or .. segments"}},
		{"a malformed percent-encoding is refused", "/rtm/%zz", want{refused: "malformed percent-encoding"}},
	}
	r := testResolver(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := r.Resolve(tt.uri)
			if tt.want.refused != "" {
				var te *Error
				if !errors.As(err, &te) {
					t.Fatalf("Resolve(%q) = %+v, %v; want a *target.Error", tt.uri, d, err)
				}
				if !strings.Contains(err.Error(), tt.want.refused) {
					t.Fatalf("Resolve(%q) error = %q, want it to contain %q", tt.uri, err, tt.want.refused)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.uri, err)
			}
			if got := d.Base.Scheme + "://" + d.Base.Host; got != tt.want.base || d.Embedded != tt.want.embedded {
				t.Fatalf("Resolve(%q) = %s (embedded %v), want %s (embedded %v)", tt.uri, got, d.Embedded, tt.want.base, tt.want.embedded)
			}
			if tt.want.embedded && d.Path != tt.want.path {
				t.Errorf("Resolve(%q) path = %q, want %q", tt.uri, d.Path, tt.want.path)
			}
		})
	}
}

func TestResolveWithoutFixedUpstreamRefusesPlainPaths(t *testing.T) {
	r := New(nil, []*url.URL{mustOrigin(t, "http://tokenserver:8081")}, nil)
	if _, err := r.Resolve("/rtm/alice/"); err == nil || !strings.Contains(err.Error(), "no fixed upstream") {
		t.Fatalf("Resolve = %v, want a refusal naming the missing upstream", err)
	}
	if _, err := r.Resolve("/http://tokenserver:8081/rtm/alice/"); err != nil {
		t.Fatalf("Resolve of an allowed target: %v", err)
	}
}

func TestResolveWithoutAllowedTargetsRefusesEmbeddedTargets(t *testing.T) {
	r := New(mustUpstream(t, "http://tokenserver:8081"), nil, nil)
	if _, err := r.Resolve("/http://tokenserver:8081/rtm/alice/"); err == nil || !strings.Contains(err.Error(), "allowed_targets is empty") {
		t.Fatalf("Resolve = %v, want a refusal saying the form is off", err)
	}
}

func TestProxyLocation(t *testing.T) {
	up := mustUpstream(t, "http://upstream.internal:8081/api")
	r := New(up, []*url.URL{mustOrigin(t, "http://tokenserver:8081")}, nil)
	fixedOut, _ := url.Parse("http://upstream.internal:8081/api/rtm/alice/")
	embOut, _ := url.Parse("http://tokenserver:8081/rtm/alice/")
	fixed := Destination{Base: up}
	emb := Destination{Base: mustOrigin(t, "http://tokenserver:8081"), Embedded: true, Path: "/rtm/alice/"}
	tests := []struct {
		name string
		loc  string
		out  *url.URL
		dest Destination
		want string // "" = leave unchanged
	}{
		{"an absolute Location at the upstream points at the proxy", "http://upstream.internal:8081/api/rtm/bob/?x=1", fixedOut, fixed, "/rtm/bob/?x=1"},
		{"a Location at the upstream's prefix itself points at the proxy root", "http://upstream.internal:8081/api", fixedOut, fixed, "/"},
		{"a root-relative Location under the prefix points at the proxy", "/api/login", fixedOut, fixed, "/login"},
		{"a relative Location is resolved against the request first", "../bob/", fixedOut, fixed, "/rtm/bob/"},
		{"an upper-case host with the default port still matches", "HTTP://UPSTREAM.INTERNAL:8081/api/x", fixedOut, fixed, "/x"},
		{"a Location outside the upstream's prefix is left alone", "http://upstream.internal:8081/other", fixedOut, fixed, ""},
		{"a Location at another host is left alone", "https://evil.example/steal", fixedOut, fixed, ""},
		{"a Location with user info is left alone", "http://u@upstream.internal:8081/api/x", fixedOut, fixed, ""},
		{"a Location at an allowed target keeps the embedded form", "http://tokenserver:8081/rtm/bob/", embOut, emb, "/http://tokenserver:8081/rtm/bob/"},
		{"a relative Location from an allowed target keeps the embedded form", "/login?next=%2F", embOut, emb, "/http://tokenserver:8081/login?next=%2F"},
		{"a Location from an allowed target to another host is left alone", "http://evil.example/", embOut, emb, ""},
		{"a javascript: Location is left alone", "javascript:alert(1)", fixedOut, fixed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := r.ProxyLocation(tt.loc, tt.out, tt.dest)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("ProxyLocation(%q) = %q, %v; want %q", tt.loc, got, ok, tt.want)
			}
		})
	}
}

func TestParseOriginAndUpstream(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		upstream bool   // ParseUpstream instead of ParseOrigin
		want     string // canonical form, or "error: substring"
	}{
		{"an origin is kept", "http://tokenserver:8081", false, "http://tokenserver:8081"},
		{"an origin is lower-cased", "HTTP://TokenServer:8081", false, "http://tokenserver:8081"},
		{"an origin's default port is dropped", "https://api.example.com:443", false, "https://api.example.com"},
		{"an origin's trailing slash is tolerated", "http://tokenserver:8081/", false, "http://tokenserver:8081"},
		{"an IPv6 origin is kept in brackets", "http://[::1]:8081", false, "http://[::1]:8081"},
		{"an origin with a path is refused", "http://tokenserver:8081/rtm", false, "error: without a path"},
		{"an origin with a query is refused", "http://tokenserver:8081?x", false, "error: without a path or query"},
		{"an origin with user info is refused", "http://user:pw@tokenserver:8081", false, "error: user info"},
		{"an origin with a fragment is refused", "http://tokenserver:8081#x", false, "error: fragment"},
		{"a non-http origin is refused", "ftp://files.example", false, "error: http:// or https://"},
		{"an origin without a host is refused", "http://", false, "error: must have a host"},
		{"an origin without a scheme is refused", "tokenserver:8081", false, "error: http:// or https://"},
		{"an origin with a bad port is refused", "http://tokenserver:99999", false, "error: port"},
		{"an origin with an empty port is refused", "http://tokenserver:", false, "error: empty port"},
		{"an origin with a space is refused", "http://token server", false, "error: spaces"},
		{"an origin with an IPv6 zone is refused", "http://[fe80::1%25eth0]:80", false, "error: zone"},
		{"an upstream with a path prefix is kept", "http://tokenserver:8081/api/", true, "http://tokenserver:8081/api/"},
		{"an upstream with a query is refused", "http://tokenserver:8081/?a=b", true, "error: query"},
		{"an upstream with user info is refused", "http://a:b@tokenserver:8081", true, "error: user info"},
		{"an opaque upstream is refused", "http:tokenserver", true, "error: must have a host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parse := ParseOrigin
			if tt.upstream {
				parse = ParseUpstream
			}
			u, err := parse(tt.in)
			if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("parse(%q) = %v, %v; want an error containing %q", tt.in, u, err, want)
				}
				return
			}
			if err != nil || u.String() != tt.want {
				t.Fatalf("parse(%q) = %v, %v; want %s", tt.in, u, err, tt.want)
			}
		})
	}
}
