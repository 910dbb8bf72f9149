package origin

import (
	"strings"
	"testing"
)

// FuzzParse checks, for any input, that Parse never panics, that an accepted
// entry is ASCII lower case with no path, that its normalised spelling parses
// to itself (one spelling per origin), and that an exact origin is allowed by
// a list of itself while a pattern never allows its own bare domain. The seeds
// run in every go test.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com", "HTTPS://App.Example.com:443/", "http://localhost:9000/",
		"https://*.example.com", "http://*.example.co.uk:8080", "https://*.github.io", "https://*.com",
		"http://[::1]:9000", "http://[0:0::1]", "http://[::1", "http://127.0.0.1", "http://0x7f.0.0.1",
		"chrome-extension://abc", "null", "*", "", "://", "https://", "https:///", "https://a.com//",
		"https://user@a.com", "https://a.com:0", "https://a.com:65536", "https://a.com:09", "https://a.com?#",
		"https://*.*.a.com", "https://a*.b.com", "https://bücher.example", "http://a.com\x00", "https://" + strings.Repeat("a.", 200) + "com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			if e != (Entry{}) {
				t.Fatalf("Parse(%q) returned %q with error %v", s, e, err)
			}
			return
		}
		norm := e.String()
		if norm != strings.ToLower(norm) || strings.ContainsAny(norm[strings.Index(norm, "://")+3:], "/?#@ ") {
			t.Fatalf("Parse(%q) = %q: not lower case, or has a path, query, fragment or user info", s, norm)
		}
		again, err := Parse(norm)
		if err != nil || again != e {
			t.Fatalf("Parse(%q) = %q, but parsing that gives %q, %v", s, norm, again, err)
		}
		l, errs := ParseList([]string{s}, false)
		if errs != nil {
			t.Fatalf("ParseList(%q) = %v, but Parse accepted it", s, errs)
		}
		if e.IsPattern() {
			if l.Allows(e.scheme + "://" + e.host) {
				t.Fatalf("pattern %q allows its bare domain", norm)
			}
			return
		}
		if !l.Allows(norm) {
			t.Fatalf("the list [%q] does not allow %q", s, norm)
		}
	})
}

// FuzzAllows checks that no Origin header makes matching panic and that a
// pattern only ever allows scheme://labels.domain[:port].
func FuzzAllows(f *testing.F) {
	for _, s := range []string{
		"https://a.example.net", "https://evil.org@a.example.net", "https://evil.org:1.example.net",
		"https://.example.net", "https://a..example.net", "HTTPS://A.EXAMPLE.NET", "https://a.example.net:443", "",
	} {
		f.Add(s)
	}
	l, errs := ParseList([]string{"https://*.example.net", "http://localhost:9000"}, false)
	if errs != nil {
		f.Fatal(errs)
	}
	f.Fuzz(func(t *testing.T, origin string) {
		if !l.Allows(origin) {
			return
		}
		lower := strings.ToLower(origin)
		if lower == "http://localhost:9000" {
			return
		}
		sub, ok := strings.CutSuffix(strings.TrimPrefix(lower, "https://"), ".example.net")
		if !strings.HasPrefix(lower, "https://") || !ok || !isLabels(sub) {
			t.Fatalf("Allows(%q) = true", origin)
		}
	})
}
