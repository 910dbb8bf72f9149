package cors_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"signaling-auth/corsproxy/internal/cors"
	"signaling-auth/corsproxy/internal/proxy"
	"signaling-auth/corsproxy/internal/target"
)

// served is the middleware in front of the real proxy and a real upstream on
// loopback, which answers with CORS headers of its own (a token server with
// built-in CORS): the proxy must strip them, so the only CORS headers a
// browser sees are the middleware's.
type served struct {
	url      string
	upstream atomic.Int64 // requests that reached the upstream
}

func serve(t *testing.T, cfg cors.Config) *served {
	t.Helper()
	s := &served{}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.upstream.Add(1)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Expose-Headers", "X-Secret")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"rtmToken":"007x"}`)
	}))
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	policy, errs := cors.Compile(cfg)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	m := cors.New(policy, nil)
	p := proxy.New(proxy.Options{Resolver: target.New(u, nil, nil), Transport: up.Client().Transport, MaxBodyBytes: 1 << 10})
	srv := httptest.NewServer(m.Handler(p))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func policy(mod func(*cors.Config)) cors.Config {
	c := cors.Config{
		AllowedOrigins:          []string{"http://localhost:9000", "https://*.example.com", "https://legacy.example.org:443/"},
		AllowedMethods:          []string{"GET", "POST"},
		AllowedHeaders:          []string{"Content-Type", "Authorization", "X-Requested-With"},
		ExposedHeaders:          []string{"Retry-After"},
		MaxAge:                  10 * time.Minute,
		RejectDisallowedOrigins: true,
	}
	if mod != nil {
		mod(&c)
	}
	return c
}

func TestMiddleware(t *testing.T) {
	reject := serve(t, policy(nil))
	pass := serve(t, policy(func(c *cors.Config) { c.RejectDisallowedOrigins = false }))
	star := serve(t, policy(func(c *cors.Config) { c.AllowedOrigins = []string{"*"} }))
	creds := serve(t, policy(func(c *cors.Config) {
		c.AllowedOrigins = []string{"https://app.example.net"}
		c.AllowCredentials = true
	}))
	preflight := func(origin string) map[string]string {
		return map[string]string{"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-requested-with"}
	}

	tests := []struct {
		name     string
		srv      *served
		method   string
		header   map[string]string
		origin2  string // a second Origin header
		status   int
		acao     string // the one Access-Control-Allow-Origin wanted; "" none
		acac     bool   // Access-Control-Allow-Credentials: true wanted
		methods  bool   // preflight answer headers (Allow-Methods/-Headers, Max-Age) wanted
		upstream bool   // the request must reach the upstream
	}{
		{name: "a preflight from an allowed origin is answered 204 here with the preflight headers",
			srv: reject, method: "OPTIONS", header: preflight("http://localhost:9000"), status: 204, acao: "http://localhost:9000", methods: true},
		{name: "a preflight from a subdomain matching a pattern is answered",
			srv: reject, method: "OPTIONS", header: preflight("https://a.b.example.com"), status: 204, acao: "https://a.b.example.com", methods: true},
		{name: "a preflight for a method not allowed gets no CORS headers",
			srv: reject, method: "OPTIONS", header: map[string]string{"Origin": "http://localhost:9000", "Access-Control-Request-Method": "DELETE"}, status: 204},
		{name: "a preflight for a header not allowed gets no CORS headers",
			srv: reject, method: "OPTIONS", header: map[string]string{"Origin": "http://localhost:9000", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-admin"}, status: 204},
		{name: "a preflight from a disallowed origin is refused with 403 and no CORS headers",
			srv: reject, method: "OPTIONS", header: preflight("http://evil.example"), status: 403},
		{name: "a preflight from a disallowed origin without rejection gets 204 and no CORS headers",
			srv: pass, method: "OPTIONS", header: preflight("http://evil.example"), status: 204},
		{name: "a GET from an allowed origin is forwarded with exactly our Allow-Origin, the upstream's stripped",
			srv: reject, header: map[string]string{"Origin": "http://localhost:9000"}, status: 200, acao: "http://localhost:9000", upstream: true},
		{name: "an entry written with its default port and a slash matches the origin a browser sends",
			srv: reject, header: map[string]string{"Origin": "https://legacy.example.org"}, status: 200, acao: "https://legacy.example.org", upstream: true},
		{name: "a GET from a disallowed origin is refused with 403 and never reaches the upstream",
			srv: reject, header: map[string]string{"Origin": "http://evil.example"}, status: 403},
		{name: "a look-alike of an allowed origin is refused",
			srv: reject, header: map[string]string{"Origin": "http://localhost:9000.evil.net"}, status: 403},
		{name: "a look-alike under a pattern's domain is refused",
			srv: reject, header: map[string]string{"Origin": "https://a.example.com.evil.net"}, status: 403},
		{name: "the bare domain of a pattern is refused",
			srv: reject, header: map[string]string{"Origin": "https://example.com"}, status: 403},
		{name: "a GET from a disallowed origin without rejection is forwarded with no CORS headers at all",
			srv: pass, header: map[string]string{"Origin": "http://evil.example"}, status: 200, upstream: true},
		{name: "a GET without Origin is forwarded with no CORS headers (the upstream's are stripped)",
			srv: reject, status: 200, upstream: true},
		{name: "an OPTIONS without Access-Control-Request-Method is not a preflight: it is forwarded",
			srv: reject, method: "OPTIONS", header: map[string]string{"Origin": "http://localhost:9000"}, status: 200, acao: "http://localhost:9000", upstream: true},
		{name: "two Origin headers are refused",
			srv: reject, header: map[string]string{"Origin": "http://localhost:9000"}, origin2: "http://localhost:9000", status: 400},
		{name: "with * any origin gets * and never credentials",
			srv: star, header: map[string]string{"Origin": "http://anything.example"}, status: 200, acao: "*", upstream: true},
		{name: "with credentials an allowed origin gets it echoed and Allow-Credentials",
			srv: creds, header: map[string]string{"Origin": "https://app.example.net"}, status: 200, acao: "https://app.example.net", acac: true, upstream: true},
		{name: "with credentials a preflight is answered with Allow-Credentials",
			srv: creds, method: "OPTIONS", header: preflight("https://app.example.net"), status: 204, acao: "https://app.example.net", acac: true, methods: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.srv.upstream.Load()
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequest(method, tt.srv.url+"/rtm/alice/", nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			if tt.origin2 != "" {
				req.Header.Add("Origin", tt.origin2)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			h := resp.Header

			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if reached := tt.srv.upstream.Load() > before; reached != tt.upstream {
				t.Errorf("reached the upstream: %v, want %v", reached, tt.upstream)
			}
			if got := h.Values("Access-Control-Allow-Origin"); (tt.acao == "" && len(got) > 0) || (tt.acao != "" && !slices.Equal(got, []string{tt.acao})) {
				t.Errorf("Access-Control-Allow-Origin %q, want exactly %q", got, tt.acao)
			}
			if got := h.Values("Access-Control-Allow-Credentials"); tt.acac != slices.Equal(got, []string{"true"}) || (!tt.acac && len(got) > 0) {
				t.Errorf("Access-Control-Allow-Credentials %q, want it: %v", got, tt.acac)
			}
			if tt.acao == "" {
				for k := range h {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("%s: %q on an answer that must carry no CORS headers", k, h.Values(k))
					}
				}
			}
			if strings.Contains(strings.Join(h.Values("Access-Control-Expose-Headers"), ","), "X-Secret") {
				t.Error("the upstream's Access-Control-Expose-Headers reached the client")
			}
			if tt.methods {
				if got := h.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "GET") {
					t.Errorf("Access-Control-Allow-Methods %q, want GET in it", got)
				}
				if got := strings.ToLower(h.Get("Access-Control-Allow-Headers")); !strings.Contains(got, "x-requested-with") {
					t.Errorf("Access-Control-Allow-Headers %q, want x-requested-with in it", got)
				}
				if got := h.Get("Access-Control-Max-Age"); got != "600" {
					t.Errorf("Access-Control-Max-Age %q, want 600", got)
				}
			} else if got := h.Get("Access-Control-Allow-Methods"); got != "" {
				t.Errorf("Access-Control-Allow-Methods %q on an answer that is not a preflight's", got)
			}
			if tt.acao != "" && !tt.methods && h.Get("Access-Control-Expose-Headers") != "Retry-After" {
				t.Errorf("Access-Control-Expose-Headers %q, want our Retry-After", h.Get("Access-Control-Expose-Headers"))
			}
			vary := strings.Join(h.Values("Vary"), ",")
			if !strings.Contains(vary, "Origin") {
				t.Errorf("Vary %q: every answer must carry Vary: Origin", vary)
			}
		})
	}
}
