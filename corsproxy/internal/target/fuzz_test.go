package target

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzResolve checks the property that makes the proxy safe: whatever the
// request target, Resolve either refuses it or sends it to the fixed
// upstream or to an allowed origin exactly — and the URL the transport will
// dial has that host, no user info, and a path the client cannot use to
// leave the host.
//
// Seeds are in testdata/fuzz/FuzzResolve (checked in); run longer with
// go test -run '^$' -fuzz FuzzResolve -fuzztime 60s ./internal/target
func FuzzResolve(f *testing.F) {
	for _, s := range []string{
		"/rtm/alice/?expiry=60",
		"/http://tokenserver:8081/rtm/alice/?expiry=60",
		"//evil.example/",
		"http://evil.example/",
		"/http://tokenserver:8081@evil.example/",
		"/http:%2F%2Fevil.example/",
		"/HTTP://tokenserver:8081/",
		"/http://2130706433:8081/",
	} {
		f.Add(s)
	}
	up := mustUpstream(f, "http://upstream.internal:8081/api")
	allowed := []*url.URL{mustOrigin(f, "http://tokenserver:8081"), mustOrigin(f, "https://api.example.com")}
	r := New(up, allowed, nil)
	hosts := map[string]bool{"upstream.internal:8081": true, "tokenserver:8081": true, "api.example.com": true}

	f.Fuzz(func(t *testing.T, uri string) {
		d, err := r.Resolve(uri)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Resolve(%q) returned %T, want *Error", uri, err)
			}
			return
		}
		if d.Base != up && !contains(allowed, d.Base) {
			t.Fatalf("Resolve(%q) base %v is neither the upstream nor an allowed origin", uri, d.Base)
		}
		if !strings.HasPrefix(uri, "/") {
			t.Fatalf("Resolve(%q) accepted a target that is not origin-form", uri)
		}
		// Build the outgoing URL the way httputil.ProxyRequest.SetURL does
		// and check where the transport would connect.
		out := &url.URL{Scheme: d.Base.Scheme, Host: d.Base.Host}
		if d.Embedded {
			out.Path, out.RawPath = d.Path, d.RawPath
			if !strings.HasPrefix(d.Path, "/") {
				t.Fatalf("Resolve(%q) embedded path %q does not start with /", uri, d.Path)
			}
		} else {
			in, perr := url.ParseRequestURI(uri)
			if perr != nil {
				return // net/http would have answered 400 before us
			}
			out = out.JoinPath(in.EscapedPath())
		}
		again, perr := url.Parse(out.String())
		if perr != nil {
			t.Fatalf("Resolve(%q): outgoing URL %q does not parse: %v", uri, out, perr)
		}
		if !hosts[again.Host] || again.User != nil {
			t.Fatalf("Resolve(%q): outgoing URL %q reaches host %q (user %v)", uri, out, again.Host, again.User)
		}
		for seg := range strings.SplitSeq(again.Path, "/") {
			if seg == ".." {
				t.Fatalf("Resolve(%q): outgoing path %q has a .. segment", uri, again.Path)
			}
		}
	})
}

func contains(list []*url.URL, u *url.URL) bool {
	for _, x := range list {
		if x == u {
			return true
		}
	}
	return false
}
