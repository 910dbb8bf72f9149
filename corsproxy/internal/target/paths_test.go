package target

import (
	"net/url"
	"path"
	"strings"
	"testing"
)

// defaultPaths is configs/corsproxy.yaml's allowed_paths.
var defaultPaths = []string{"/rtm/", "/rtc/", "/rte/", "/chat/", "/getToken", "/v1/tokens"}

func TestCheckPathRefusesHostileEntries(t *testing.T) {
	for _, e := range []string{"", "rtm/", "http://evil/", "/rtm/../metrics", "/rtm/./", "/..", "/.", "//", "/rtm//",
		"/rtm/%2e%2e/", "/rtm%2F", "/rtm/*", "/rtm/?x=1", "/rtm/#", "/rtm /", "/rtm\t/", "/rtm\\..\\", "/rtm/\x00",
		"/rtm/é/", "/" + strings.Repeat("a", maxPathEntry)} {
		if err := CheckPath(e); err == nil {
			t.Errorf("CheckPath(%q) = nil, want an error", e)
		}
	}
	for _, e := range append([]string{"/", "/a.b/", "/v1/tokens", "/x~y_z-1/"}, defaultPaths...) {
		if err := CheckPath(e); err != nil {
			t.Errorf("CheckPath(%q) = %v, want nil", e, err)
		}
	}
}

func TestParsePathsNamesEveryBadEntry(t *testing.T) {
	_, err := ParsePaths([]string{"/rtm/", "rtc/", "/a/../b"})
	if err == nil || !strings.Contains(err.Error(), `"rtc/"`) || !strings.Contains(err.Error(), `"/a/../b"`) || strings.Contains(err.Error(), `"/rtm/"`) {
		t.Fatalf("ParsePaths error = %v, want both bad entries named and the good one not", err)
	}
	if p, err := ParsePaths(nil); p != nil || err != nil {
		t.Fatalf("ParsePaths(nil) = %v, %v; want nil (every path), nil", p, err)
	}
}

func TestAllowedPathsInBothForms(t *testing.T) {
	paths, err := ParsePaths(defaultPaths)
	if err != nil {
		t.Fatal(err)
	}
	up := mustUpstream(t, "http://tokenserver:8081")
	r := New(up, []*url.URL{mustOrigin(t, "http://tokenserver:8081")}, paths)
	for _, c := range []struct {
		uri  string
		want string // "ok", "path" (404) or "target" (403)
	}{
		{"/rtm/alice/?expiry=60", "ok"},
		{"/rtm/alice", "ok"},
		{"/rtm/a%2Fb/", "ok"}, // an encoded slash inside a user ID, below /rtm/ in both forms
		{"/rtc/ch/publisher/uid/1/", "ok"},
		{"/chat/app/", "ok"},
		{"/getToken", "ok"},
		{"/v1/tokens", "ok"},
		{"/http://tokenserver:8081/rtm/alice/", "ok"},
		{"/rtm", "path"},
		{"/getToken/", "path"},
		{"/getTokenX", "path"},
		{"/v1/tokens/inspect", "path"},
		{"/v1/tokens/", "path"},
		{"/metrics", "path"},
		{"/readyz", "path"},
		{"/openapi.json", "path"},
		{"/", "path"},
		{"/rtmx/", "path"},
		{"/RTM/alice/", "path"},
		{"/rtm%2Falice/", "path"}, // /rtm/alice/ decoded, but not as sent
		{"/rtm%2falice/", "path"}, // lower-case escape too
		{"/%72tm/alice/", "path"}, // an escaped letter
		{"/getToken%2F", "path"},  // exact: /getToken/ decoded
		{"/v1%2Ftokens", "path"},  // exact: /v1/tokens decoded, not as sent
		{"/v1/tokens%2Finspect", "path"},
		{"/http://tokenserver:8081/metrics", "path"},
		{"/http://tokenserver:8081/v1/tokens/inspect", "path"},
		{"/http://tokenserver:8081//rtm/alice/", "path"},
		{"/http://tokenserver:8081", "path"},
		{"/rtm/../metrics", "target"},
		{"/rtm/%2e%2e/metrics", "target"},
		{"/rtm/.%2E/metrics", "target"},
		{"/rtm/..%2Fmetrics", "target"},
		{"/rtm%2F..%2Fmetrics", "target"},
		{"/rtm/./alice/", "target"},
		{"//rtm/alice/", "target"},
		{"/%2Frtm/alice/", "target"},
		{"/http://tokenserver:8081/rtm/../metrics", "target"},
		{"/http://tokenserver:8081/rtm/%2e%2e/metrics", "target"},
	} {
		d, err := r.Resolve(c.uri)
		got := "ok"
		if err != nil {
			got = "target"
			if err.(*Error).Path {
				got = "path"
			}
		}
		if got != c.want {
			t.Errorf("Resolve(%q) = %+v, %v; want %s", c.uri, d, err, c.want)
		}
	}
}

// FuzzAllowedPaths checks the promise of allowed_paths: whatever the request
// target, a path that is passed on lies below an allowed prefix or is an
// allowed exact path — as sent, decoded, and cleaned the way an upstream
// router might clean it.
//
// Run longer with go test -run '^$' -fuzz FuzzAllowedPaths -fuzztime 60s ./internal/target
func FuzzAllowedPaths(f *testing.F) {
	for _, s := range []string{"/rtm/alice/", "/rtm/../metrics", "/rtm%2F..%2Fmetrics", "/rtm//x", "/getToken",
		"/http://tokenserver:8081/rtm/x", "/http://tokenserver:8081/rtm/%2e%2e/v1/tokens/inspect", "/v1/tokens%2Finspect"} {
		f.Add(s)
	}
	paths, err := ParsePaths(defaultPaths)
	if err != nil {
		f.Fatal(err)
	}
	r := New(mustUpstream(f, "http://tokenserver:8081"), []*url.URL{mustOrigin(f, "http://tokenserver:8081")}, paths)
	inside := func(p string) bool {
		for _, e := range defaultPaths {
			if p == e || strings.HasSuffix(e, "/") && strings.HasPrefix(p, e) {
				return true
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, uri string) {
		d, err := r.Resolve(uri)
		if err != nil {
			return
		}
		raw, decoded := d.RawPath, d.Path
		if !d.Embedded {
			raw, _, _ = strings.Cut(uri, "?")
			decoded, _ = url.PathUnescape(raw)
		}
		cleaned := path.Clean(decoded)
		if strings.HasSuffix(decoded, "/") && cleaned != "/" {
			cleaned += "/"
		}
		for _, p := range []string{raw, decoded, cleaned} {
			if !inside(p) {
				t.Fatalf("Resolve(%q) passes on %q (as sent %q, decoded %q, cleaned %q), outside allowed_paths", uri, p, raw, decoded, cleaned)
			}
		}
	})
}
