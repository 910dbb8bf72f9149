package site

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"signaling-auth/lifecycle/testlog"
	"signaling-auth/settings"
	"signaling-auth/webdemo/internal/config"
)

func testConfig() config.Config {
	return config.Config{
		Listen:      "127.0.0.1:0",
		ProxyURL:    "http://proxy.test:8080/",
		ServerURL:   "http://tokens.test:8081",
		AppID:       "970CA35de60c44645bbae8a215061b33",
		TokenExpiry: 600 * time.Second,
		SDKURL:      "https://cdn.test/npm/agora-rtm-sdk@2.2.2/agora-rtm.js",
		Log:         settings.Log{Format: "json"},
	}
}

func start(t *testing.T, cfg config.Config) (*httptest.Server, *testlog.Buffer) {
	t.Helper()
	logs := &testlog.Buffer{}
	srv := httptest.NewServer(New(cfg, "v1.2.3", slog.New(slog.NewJSONHandler(logs, nil)), nil))
	t.Cleanup(srv.Close)
	return srv, logs
}

func do(t *testing.T, method, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func TestRoutes(t *testing.T) {
	srv, _ := start(t, testConfig())
	tests := []struct {
		name, method, path string
		status             int
		ctype              string
		contains           string
	}{
		{"the root lists the guides in a selector", "GET", "/", 200, "text/html; charset=utf-8", `<option value="/authentication_guide/"`},
		{"the guide page has the user ID field", "GET", "/authentication_guide/", 200, "text/html; charset=utf-8", `<label for="uid">User ID</label>`},
		{"the guide page has the optional session token field", "GET", "/authentication_guide/", 200, "text/html; charset=utf-8", `<label for="session-token">Session token (optional)</label>`},
		{"the guide without its slash redirects to it", "GET", "/authentication_guide", 301, "", ""},
		{"the root lists the token doctor", "GET", "/", 200, "text/html; charset=utf-8", `<option value="/token_doctor/">`},
		{"the token doctor page has the token field", "GET", "/token_doctor/", 200, "text/html; charset=utf-8", `<label for="token">Token</label>`},
		{"the token doctor without its slash redirects to it", "GET", "/token_doctor", 301, "", ""},
		{"an ES module is served as JavaScript", "GET", "/assets/js/guide.js", 200, "text/javascript; charset=utf-8", "renewToken"},
		{"the stylesheet is served as CSS", "GET", "/assets/css/site.css", 200, "text/css; charset=utf-8", ".card"},
		{"the page configuration is JSON", "GET", "/config.json", 200, "application/json", `"proxyUrl"`},
		{"health reports the version", "GET", "/healthz", 200, "application/json", `"version":"v1.2.3"`},
		{"readiness answers", "GET", "/readyz", 200, "application/json", `"ready"`},
		{"metrics are exposed", "GET", "/metrics", 200, "text/plain", "go_goroutines"},
		{"HEAD works like GET without a body", "HEAD", "/authentication_guide/", 200, "text/html; charset=utf-8", ""},
		{"an unknown page is a problem document", "GET", "/nope", 404, "application/problem+json", `"status":404`},
		{"a page below the guide does not exist", "GET", "/authentication_guide/x", 404, "application/problem+json", ""},
		{"the assets directory is not listed", "GET", "/assets/", 404, "application/problem+json", ""},
		{"an asset directory is not listed", "GET", "/assets/js/", 404, "application/problem+json", ""},
		{"the embedded HTML is not reachable under assets", "GET", "/assets/index.html", 404, "application/problem+json", ""},
		{"POST is refused", "POST", "/config.json", 405, "application/problem+json", `"status":405`},
		{"DELETE is refused even on unknown paths", "DELETE", "/nope", 405, "application/problem+json", ""},
		{"OPTIONS is refused", "OPTIONS", "/", 405, "application/problem+json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, tt.method, srv.URL+tt.path, nil)
			if res.StatusCode != tt.status {
				t.Fatalf("%s %s: status %d, want %d\n%s", tt.method, tt.path, res.StatusCode, tt.status, body)
			}
			if tt.ctype != "" && !strings.HasPrefix(res.Header.Get("Content-Type"), tt.ctype) {
				t.Errorf("Content-Type %q, want %q", res.Header.Get("Content-Type"), tt.ctype)
			}
			if !strings.Contains(body, tt.contains) {
				t.Errorf("body does not contain %q:\n%.400s", tt.contains, body)
			}
			if tt.method == "HEAD" && body != "" {
				t.Errorf("HEAD answered with a body")
			}
		})
	}
}

func TestPathTricksStayInsideTheSite(t *testing.T) {
	srv, _ := start(t, testConfig())
	for _, p := range []string{"/assets/../config.json", "/assets/%2e%2e/main.go", "/assets//js/guide.js", "/assets/js/../../site.go", "/static/index.html", "/site.go"} {
		res, body := do(t, "GET", srv.URL+p, nil)
		if res.StatusCode == 200 && strings.Contains(body, "package site") {
			t.Errorf("%s served Go source", p)
		}
		if res.StatusCode == 200 && !strings.HasPrefix(res.Header.Get("Content-Type"), "text/") {
			t.Errorf("%s: 200 with %q", p, res.Header.Get("Content-Type"))
		}
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	srv, _ := start(t, testConfig())
	for _, p := range []string{"/", "/authentication_guide/", "/config.json", "/nope", "/assets/js/guide.js", "/healthz"} {
		for _, m := range []string{"GET", "POST"} {
			res, _ := do(t, m, srv.URL+p, nil)
			h := res.Header
			if h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s %s: X-Content-Type-Options %q", m, p, h.Get("X-Content-Type-Options"))
			}
			if h.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("%s %s: Referrer-Policy %q", m, p, h.Get("Referrer-Policy"))
			}
			if h.Get("Content-Security-Policy") == "" {
				t.Errorf("%s %s: no Content-Security-Policy", m, p)
			}
			if h.Get("X-Request-Id") == "" {
				t.Errorf("%s %s: no X-Request-Id", m, p)
			}
		}
	}
}

func directives(csp string) map[string][]string {
	d := map[string][]string{}
	for _, part := range strings.Split(csp, ";") {
		f := strings.Fields(part)
		if len(f) > 0 {
			d[f[0]] = f[1:]
		}
	}
	return d
}

func TestContentSecurityPolicyFollowsTheConfig(t *testing.T) {
	tests := []struct {
		name        string
		edit        func(*config.Config)
		script      []string
		connect     []string
		notConnect  []string
		notAnywhere []string
	}{
		{
			name:       "scripts come from the site and the SDK's exact URL, requests go to the proxy and Agora",
			edit:       func(c *config.Config) { c.ServerURL = "" },
			script:     []string{"'self'", "https://cdn.test/npm/agora-rtm-sdk@2.2.2/agora-rtm.js"},
			connect:    []string{"'self'", "http://proxy.test:8080", "wss://*.agora.io", "wss://*.sd-rtn.com"},
			notConnect: []string{"http://tokens.test:8081"},
		},
		{
			name:    "with a server URL both origins may be connected to",
			edit:    func(c *config.Config) {},
			connect: []string{"http://proxy.test:8080", "http://tokens.test:8081"},
		},
		{
			name:    "without a proxy the token server's origin is allowed",
			edit:    func(c *config.Config) { c.ProxyURL = ""; c.ServerURL = "https://tokens.example.com" },
			connect: []string{"https://tokens.example.com"},
		},
		{
			name:        "the SDK is allowed by its whole URL, never its whole origin",
			edit:        func(c *config.Config) { c.SDKURL = "http://127.0.0.1:5555/x/agora-rtm.js" },
			script:      []string{"http://127.0.0.1:5555/x/agora-rtm.js"},
			notAnywhere: []string{"cdn.test", "http://127.0.0.1:5555 ", "http://127.0.0.1:5555/ "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.edit(&cfg)
			srv, _ := start(t, cfg)
			res, _ := do(t, "GET", srv.URL+"/authentication_guide/", nil)
			csp := res.Header.Get("Content-Security-Policy")
			d := directives(csp)
			if !contains(d["default-src"], "'none'") {
				t.Errorf("default-src is not 'none': %s", csp)
			}
			// Inline scripts, eval and inline style sheets stay forbidden whatever the config.
			for _, dir := range []string{"script-src", "style-src"} {
				if contains(d[dir], "'unsafe-inline'") || contains(d[dir], "'unsafe-eval'") || contains(d[dir], "*") {
					t.Errorf("%s is too loose: %s", dir, csp)
				}
			}
			for _, s := range tt.script {
				if !contains(d["script-src"], s) {
					t.Errorf("script-src lacks %s: %s", s, csp)
				}
			}
			for _, s := range tt.connect {
				if !contains(d["connect-src"], s) {
					t.Errorf("connect-src lacks %s: %s", s, csp)
				}
			}
			for _, s := range tt.notConnect {
				if contains(d["connect-src"], s) {
					t.Errorf("connect-src has %s: %s", s, csp)
				}
			}
			for _, s := range tt.notAnywhere {
				if strings.Contains(csp, s) {
					t.Errorf("policy contains %s: %s", s, csp)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestConfigJSON(t *testing.T) {
	srv, _ := start(t, testConfig())
	res, body := do(t, "GET", srv.URL+"/config.json", nil)
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"proxyUrl":    "http://proxy.test:8080/",
		"serverUrl":   "http://tokens.test:8081",
		"appId":       "970CA35de60c44645bbae8a215061b33",
		"tokenExpiry": float64(600),
		"sdkUrl":      "https://cdn.test/npm/agora-rtm-sdk@2.2.2/agora-rtm.js",
		"mode":        "live",
		"version":     "v1.2.3",
	}
	if len(got) != len(want) {
		t.Errorf("config.json has %d fields, want %d: %s", len(got), len(want), body)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestAssetsRevalidateWithETag(t *testing.T) {
	srv, _ := start(t, testConfig())
	res, _ := do(t, "GET", srv.URL+"/assets/js/guide.js", nil)
	etag := res.Header.Get("ETag")
	if etag == "" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, res.Header.Get("Cache-Control"))
	}
	res, body := do(t, "GET", srv.URL+"/assets/js/guide.js", http.Header{"If-None-Match": {etag}})
	if res.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("revalidation: %d with %d bytes, want 304 and no body", res.StatusCode, len(body))
	}
	res, _ = do(t, "GET", srv.URL+"/assets/js/guide.js", http.Header{"If-None-Match": {`"other"`}})
	if res.StatusCode != http.StatusOK {
		t.Errorf("stale ETag: %d, want 200", res.StatusCode)
	}
}

// There is no build step to catch a broken reference, so this test does: every
// /assets/ path in the HTML and every relative import in the modules must be served.
func TestEveryReferencedFileIsServed(t *testing.T) {
	srv, _ := start(t, testConfig())
	ref := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`)
	imp := regexp.MustCompile(`(?m)^import .* from '\./([^']+)';$`)
	seen := map[string]bool{}
	queue := []string{"/", "/authentication_guide/", "/token_doctor/"}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		res, body := do(t, "GET", srv.URL+p, nil)
		if res.StatusCode != 200 {
			t.Errorf("%s is referenced but answers %d", p, res.StatusCode)
			continue
		}
		for _, m := range ref.FindAllStringSubmatch(body, -1) {
			queue = append(queue, m[1])
		}
		if strings.HasSuffix(p, ".js") {
			dir := p[:strings.LastIndex(p, "/")+1]
			for _, m := range imp.FindAllStringSubmatch(body, -1) {
				queue = append(queue, dir+m[1])
			}
		}
	}
	for _, want := range []string{"/assets/js/guide.js", "/assets/js/doctor.js", "/assets/js/token.js", "/assets/js/uid.js", "/assets/js/tokenclient.js", "/assets/js/sdk.js", "/assets/css/site.css"} {
		if !seen[want] {
			t.Errorf("%s was never reached from the pages", want)
		}
	}
}

func TestAccessLogNamesTheRouteNotThePath(t *testing.T) {
	srv, logs := start(t, testConfig())
	do(t, "GET", srv.URL+"/secret-user-id-in-path", nil)
	do(t, "GET", srv.URL+"/authentication_guide/", nil)
	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if r["msg"] == "request" { // not the start's line about the SDK
			records = append(records, r)
		}
	}
	if len(records) != 2 {
		t.Fatalf("%d access log records, want one per request:\n%s", len(records), logs)
	}
	if strings.Contains(logs.String(), "secret-user-id") {
		t.Errorf("the raw path was logged:\n%s", logs)
	}
	first, second := records[0], records[1]
	if first["route"] != "/" || first["status"] != float64(404) {
		t.Errorf("unknown path logged as %v", first)
	}
	if second["route"] != "/authentication_guide/{$}" || second["status"] != float64(200) || second["method"] != "GET" {
		t.Errorf("guide logged as %v", second)
	}
	for _, k := range []string{"request_id", "latency"} {
		if _, ok := second[k]; !ok {
			t.Errorf("access log lacks %s: %v", k, second)
		}
	}
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	srv, _ := start(t, testConfig())
	do(t, "GET", srv.URL+"/config.json", nil)
	do(t, "GET", srv.URL+"/config.json", nil)
	_, body := do(t, "GET", srv.URL+"/metrics", nil)
	if !strings.Contains(body, `webdemo_http_requests_total{code="200",route="/config.json"} 2`) {
		t.Errorf("metrics do not count the two requests:\n%s", body)
	}
}

// Labels come from a closed set: a thousand made-up methods and paths add no series
// beyond the route table's patterns and "unmatched".
func TestMadeUpMethodsAndPathsDoNotGrowTheMetrics(t *testing.T) {
	srv, _ := start(t, testConfig())
	for i := range 1000 {
		method := "M" + strconv.Itoa(i) + strings.Repeat("X", 100)
		path := "/no/such/page-" + strconv.Itoa(i)
		if i%2 == 1 {
			path = "/config.json"
		}
		do(t, method, srv.URL+path, nil)
	}
	_, body := do(t, "GET", srv.URL+"/metrics", nil)
	if n := strings.Count(body, "webdemo_http_requests_total{"); n > 3 {
		t.Errorf("%d request series after 1000 made-up methods and paths, want at most 3:\n%s", n, body)
	}
}

// Every form field of the pages must have a label a screen reader announces, and every
// id its aria-describedby names must exist: nothing in the browser fails on a missing one.
func TestEveryFieldIsLabelled(t *testing.T) {
	srv, _ := start(t, testConfig())
	field := regexp.MustCompile(`<(?:input|select|textarea)\b[^>]*>`)
	attr := func(tag, name string) string {
		m := regexp.MustCompile(`\s` + name + `="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			return ""
		}
		return m[1]
	}
	label := regexp.MustCompile(`(?s)<label\b[^>]*>.*?</label>`)
	for _, page := range []string{"/", "/authentication_guide/"} {
		_, body := do(t, "GET", srv.URL+page, nil)
		wrapped := label.FindAllStringIndex(body, -1)
		ids := map[string]bool{}
		for _, m := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllStringSubmatch(body, -1) {
			ids[m[1]] = true
		}
		fields := field.FindAllStringIndex(body, -1)
		if len(fields) == 0 {
			t.Errorf("%s: no form fields found", page)
		}
		for _, f := range fields {
			tag := body[f[0]:f[1]]
			id := attr(tag, "id")
			inLabel := false
			for _, l := range wrapped {
				inLabel = inLabel || (l[0] < f[0] && f[1] < l[1])
			}
			if !inLabel && (id == "" || !strings.Contains(body, `<label for="`+id+`"`)) {
				t.Errorf("%s: %s has no label", page, tag)
			}
			for _, ref := range strings.Fields(attr(tag, "aria-describedby")) {
				if !ids[ref] {
					t.Errorf("%s: %s is described by #%s, which does not exist", page, tag, ref)
				}
			}
		}
	}
}

// scriptSrc is the script-src directive's sources, in order.
func scriptSrc(t *testing.T, res *http.Response) []string {
	t.Helper()
	return directives(res.Header.Get("Content-Security-Policy"))["script-src"]
}

func TestTheCDNDefaultAllowsExactlyTheSDKsURL(t *testing.T) {
	cfg := testConfig()
	cfg.SDKDir = t.TempDir() // no agora-rtm.js in it
	srv, logs := start(t, cfg)
	res, _ := do(t, "GET", srv.URL+"/authentication_guide/", nil)
	want := []string{"'self'", cfg.SDKURL, "'wasm-unsafe-eval'"}
	if got := scriptSrc(t, res); !slices.Equal(got, want) {
		t.Errorf("script-src %q, want exactly %q", got, want)
	}
	_, body := do(t, "GET", srv.URL+"/config.json", nil)
	if !strings.Contains(body, `"sdkUrl":"`+cfg.SDKURL+`"`) {
		t.Errorf("config.json does not send the page to sdk_url: %s", body)
	}
	if res, _ := do(t, "GET", srv.URL+"/sdk/agora-rtm.js", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("/sdk/agora-rtm.js answers %d without a local copy, want 404", res.StatusCode)
	}
	if !strings.Contains(logs.String(), "from sdk_url: no local copy") {
		t.Errorf("the log does not say why the CDN is used:\n%s", logs.String())
	}
}

func TestALocalSDKIsServedFromTheSiteAndOnlyTheSiteMayRunScripts(t *testing.T) {
	dir := t.TempDir()
	js := "window.AgoraRTM = { RTM: function () {} }; // stand-in for agora-rtm.js\n"
	if err := os.WriteFile(filepath.Join(dir, "agora-rtm.js"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("not served"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.SDKDir = dir
	srv, _ := start(t, cfg)

	res, body := do(t, "GET", srv.URL+"/sdk/agora-rtm.js", nil)
	if res.StatusCode != http.StatusOK || body != js {
		t.Fatalf("/sdk/agora-rtm.js: %d %q, want 200 and the file", res.StatusCode, body)
	}
	for k, v := range map[string]string{
		"Content-Type":           "text/javascript; charset=utf-8",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-cache",
	} {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if res.Header.Get("ETag") == "" {
		t.Error("no ETag on the SDK")
	}
	if got, want := scriptSrc(t, res), []string{"'self'", "'wasm-unsafe-eval'"}; !slices.Equal(got, want) {
		t.Errorf("script-src %q, want exactly %q: the CDN is not needed", got, want)
	}
	_, body = do(t, "GET", srv.URL+"/config.json", nil)
	if !strings.Contains(body, `"sdkUrl":"/sdk/agora-rtm.js"`) {
		t.Errorf("config.json does not send the page to /sdk/agora-rtm.js: %s", body)
	}
	for _, p := range []string{"/sdk/README.md", "/sdk/", "/sdk/agora-rtm.js/x", "/sdk/agora-rtm.jsx"} {
		if res, _ := do(t, "GET", srv.URL+p, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s answers %d, want 404: only agora-rtm.js is served", p, res.StatusCode)
		}
	}
}

func TestConfigJSONSaysDemoMode(t *testing.T) {
	cfg := testConfig()
	cfg.DemoMode = true
	srv, _ := start(t, cfg)
	_, body := do(t, "GET", srv.URL+"/config.json", nil)
	if !strings.Contains(body, `"mode":"demo"`) {
		t.Errorf("config.json with demo_mode: %s", body)
	}
}
