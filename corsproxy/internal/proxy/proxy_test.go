package proxy

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"signaling-auth/corsproxy/internal/target"
	"signaling-auth/corsproxy/internal/testnet"
	"signaling-auth/ratelimit/clientip"
)

// start serves a Proxy in front of upstream (its fixed upstream and its only
// allowed target) on a real loopback listener.
func start(t *testing.T, upstream string, tweak func(*Options, *TransportConfig)) *httptest.Server {
	t.Helper()
	u, err := target.ParseUpstream(upstream)
	if err != nil {
		t.Fatal(err)
	}
	o, err := target.ParseOrigin(u.Scheme + "://" + u.Host)
	if err != nil {
		t.Fatal(err)
	}
	tc := TransportConfig{DialTimeout: time.Second, TLSHandshakeTimeout: time.Second, ResponseHeaderTimeout: 5 * time.Second, IdleConnTimeout: time.Second, MaxIdleConnsPerHost: 4}
	opts := Options{Resolver: target.New(u, []*url.URL{o}, nil), MaxBodyBytes: 1 << 10}
	if tweak != nil {
		tweak(&opts, &tc)
	}
	tr := NewTransport(tc)
	opts.Transport = tr
	srv := httptest.NewServer(New(opts))
	t.Cleanup(func() { srv.Close(); tr.CloseIdleConnections() })
	return srv
}

func get(t *testing.T, client *http.Client, method, url string, body io.Reader, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func problemOf(t *testing.T, res *http.Response) map[string]any {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	var p map[string]any
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUpstreamCORSHeadersAreRemoved(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Expose-Headers", "X-Secret")
		w.Header().Add("Vary", "Origin, Accept-Encoding")
		w.Header().Add("Vary", "origin")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"rtmToken":"007x"}`)
	}))
	defer up.Close()
	px := start(t, up.URL, nil)
	res := get(t, http.DefaultClient, "GET", px.URL+"/rtm/alice/", nil, nil)
	for k := range res.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("upstream header %s = %q reached the client", k, res.Header[k])
		}
	}
	if got := res.Header.Values("Vary"); len(got) != 1 || got[0] != "Accept-Encoding" {
		t.Errorf("Vary = %q, want only the upstream's non-Origin entry", got)
	}
	body, _ := io.ReadAll(res.Body)
	if string(body) != `{"rtmToken":"007x"}` {
		t.Errorf("body = %q", body)
	}
}

func TestRewriteSetsForwardedHeadersAndTargetHost(t *testing.T) {
	var seen atomic.Pointer[http.Request]
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Clone(context.Background()))
	}))
	defer up.Close()
	px := start(t, up.URL+"/base/", nil)
	pxURL, _ := url.Parse(px.URL)
	upURL, _ := url.Parse(up.URL)

	res := get(t, http.DefaultClient, "GET", px.URL+"/rtm/alice/?expiry=60", nil, map[string]string{
		"X-Forwarded-For": "6.6.6.6", "Forwarded": "for=6.6.6.6", "X-Forwarded-Host": "evil.example",
	})
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	r := seen.Load()
	if r.URL.Path != "/base/rtm/alice/" || r.URL.RawQuery != "expiry=60" {
		t.Errorf("upstream saw %s?%s, want /base/rtm/alice/?expiry=60", r.URL.Path, r.URL.RawQuery)
	}
	if r.Host != upURL.Host {
		t.Errorf("upstream Host = %q, want %q", r.Host, upURL.Host)
	}
	if got := r.Header.Get("X-Forwarded-For"); got != "127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q, want only the real peer 127.0.0.1 (client-sent values dropped)", got)
	}
	if got := r.Header.Get("Forwarded"); got != "" {
		t.Errorf("Forwarded = %q, want the client's value dropped", got)
	}
	if got := r.Header.Get("X-Forwarded-Host"); got != pxURL.Host {
		t.Errorf("X-Forwarded-Host = %q, want %q", got, pxURL.Host)
	}

	// The embedded form forwards only the path after the origin.
	res = get(t, http.DefaultClient, "GET", px.URL+"/"+up.URL+"/rtm/bob/?expiry=5", nil, nil)
	if res.StatusCode != 200 {
		t.Fatalf("embedded: status %d", res.StatusCode)
	}
	if r := seen.Load(); r.URL.Path != "/rtm/bob/" || r.URL.RawQuery != "expiry=5" {
		t.Errorf("embedded: upstream saw %s?%s, want /rtm/bob/?expiry=5", r.URL.Path, r.URL.RawQuery)
	}
}

// TestUpstreamGetsTheClientTheProxyBelieves: from a trusted peer (a load
// balancer) the client its X-Forwarded-For names reaches the upstream as the
// only entry, so the upstream need trust only the proxy; from anyone else only
// the peer goes on.
func TestUpstreamGetsTheClientTheProxyBelieves(t *testing.T) {
	var seen atomic.Pointer[http.Request]
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Clone(context.Background()))
	}))
	defer up.Close()
	for _, tt := range []struct {
		trusted []string
		want    string
	}{
		{[]string{"127.0.0.1"}, "10.0.0.9"},
		{[]string{"127.0.0.1", "10.0.0.0/8"}, "203.0.113.7"},
		{[]string{"127.0.0.2", "10.0.0.0/8"}, "127.0.0.1"}, // the peer is not trusted
		{nil, "127.0.0.1"},
	} {
		trusted, err := clientip.New(tt.trusted)
		if err != nil {
			t.Fatal(err)
		}
		px := start(t, up.URL, func(o *Options, _ *TransportConfig) { o.TrustedProxies = trusted })
		res := get(t, http.DefaultClient, "GET", px.URL+"/rtm/alice/", nil, map[string]string{"X-Forwarded-For": "203.0.113.7, 10.0.0.9"})
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		if got := seen.Load().Header.Get("X-Forwarded-For"); got != tt.want {
			t.Errorf("trusted %v: upstream X-Forwarded-For = %q, want %q", tt.trusted, got, tt.want)
		}
	}
}

func TestRedirects(t *testing.T) {
	var upURL string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/self":
			http.Redirect(w, r, upURL+"/landed?x=1", http.StatusFound)
		case "/away":
			http.Redirect(w, r, "http://evil.example/phish", http.StatusFound)
		}
	}))
	defer up.Close()
	upURL = up.URL
	px := start(t, up.URL, nil)

	res := get(t, noRedirect, "GET", px.URL+"/self", nil, nil)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/landed?x=1" {
		t.Errorf("redirect to the upstream: %d Location %q, want 302 /landed?x=1", res.StatusCode, res.Header.Get("Location"))
	}
	res = get(t, noRedirect, "GET", px.URL+"/"+up.URL+"/self", nil, nil)
	if want := "/" + up.URL + "/landed?x=1"; res.Header.Get("Location") != want {
		t.Errorf("redirect from an embedded target: Location %q, want %q", res.Header.Get("Location"), want)
	}
	res = get(t, noRedirect, "GET", px.URL+"/away", nil, nil)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "http://evil.example/phish" {
		t.Errorf("redirect to another host: %d Location %q, want it passed on unchanged (not followed, not proxied)", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestUnreachableUpstreamIs502(t *testing.T) {
	addr := testnet.RefusingAddr(t)
	px := start(t, "http://"+addr, nil)
	res := get(t, http.DefaultClient, "GET", px.URL+"/rtm/alice/", nil, nil)
	if res.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", res.StatusCode)
	}
	if p := problemOf(t, res); p["status"] != float64(502) || strings.Contains(p["detail"].(string), addr) {
		t.Errorf("problem = %v; want status 502 and no upstream address in the detail", p)
	}
}

func TestSlowUpstreamIs504(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer up.Close()
	defer close(release)
	px := start(t, up.URL, func(_ *Options, tc *TransportConfig) { tc.ResponseHeaderTimeout = 50 * time.Millisecond })
	res := get(t, http.DefaultClient, "GET", px.URL+"/slow", nil, nil)
	if res.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("status %d, want 504", res.StatusCode)
	}
	problemOf(t, res)
}

func TestBodyCap(t *testing.T) {
	var hits atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer up.Close()
	px := start(t, up.URL, nil) // MaxBodyBytes 1 KiB

	res := get(t, http.DefaultClient, "POST", px.URL+"/getToken", strings.NewReader(strings.Repeat("a", 1024)), nil)
	if res.StatusCode != 200 {
		t.Fatalf("a body at the cap: status %d, want 200", res.StatusCode)
	}
	res = get(t, http.DefaultClient, "POST", px.URL+"/getToken", strings.NewReader(strings.Repeat("a", 1025)), nil)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a declared body over the cap: status %d, want 413", res.StatusCode)
	}
	if hits.Load() != 1 {
		t.Errorf("upstream hits = %d, want 1 (an over-long declared body never reaches it)", hits.Load())
	}
	// Chunked: no Content-Length, so the cap is hit while streaming.
	res = get(t, http.DefaultClient, "POST", px.URL+"/getToken", io.MultiReader(strings.NewReader(strings.Repeat("a", 4096))), nil)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a chunked body over the cap: status %d, want 413", res.StatusCode)
	}
	problemOf(t, res)
}

func TestTransportIgnoresProxyEnvironment(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	// http.DefaultTransport would route through these; ours must not even
	// look (a nil Proxy func means direct connections).
	if tr := NewTransport(TransportConfig{}); tr.Proxy != nil {
		t.Fatal("transport has a Proxy func without one configured")
	}
}

func TestTransportUsesConfiguredProxy(t *testing.T) {
	var sawAbsolute atomic.Value
	fwd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAbsolute.Store(r.RequestURI) // a forward proxy gets absolute-form
		_, _ = io.WriteString(w, "via proxy")
	}))
	defer fwd.Close()
	fwdURL, _ := url.Parse(fwd.URL)
	px := start(t, "http://tokenserver.invalid:8081", func(_ *Options, tc *TransportConfig) { tc.Proxy = fwdURL })
	res := get(t, http.DefaultClient, "GET", px.URL+"/rtm/alice/", nil, nil)
	body, _ := io.ReadAll(res.Body)
	if string(body) != "via proxy" || sawAbsolute.Load() != "http://tokenserver.invalid:8081/rtm/alice/" {
		t.Fatalf("body %q, proxy saw %v; want the request sent through the configured proxy", body, sawAbsolute.Load())
	}
}

func TestReachable(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer up.Close()
	closed := "http://" + testnet.RefusingAddr(t)
	good, _ := url.Parse(up.URL)
	bad, _ := url.Parse(closed)
	errs := Reachable(context.Background(), []*url.URL{good, bad}, nil, time.Second)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), closed) {
		t.Fatalf("Reachable = %v, want one error naming %s", errs, closed)
	}
}

func TestUpstreamCORSTrailersAreRemoved(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "Access-Control-Allow-Origin, X-Checksum")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"rtmToken":"007x"}`)
		w.Header().Set("Access-Control-Allow-Origin", "https://evil.example")
		w.Header().Set("X-Checksum", "abc")
		// Not announced: net/http sends it as a trailer all the same.
		w.Header().Set(http.TrailerPrefix+"Access-Control-Allow-Credentials", "true")
	}))
	defer up.Close()
	px := start(t, up.URL, nil)
	res := get(t, http.DefaultClient, "GET", px.URL+"/rtm/alice/", nil, nil)
	if body, _ := io.ReadAll(res.Body); string(body) != `{"rtmToken":"007x"}` {
		t.Errorf("body = %q", body)
	}
	if got := res.Trailer.Get("X-Checksum"); got != "abc" {
		t.Errorf("trailer X-Checksum = %q, want the upstream's other trailers passed on (trailers: %v)", got, res.Trailer)
	}
	for k := range res.Trailer {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("upstream trailer %s = %q reached the client", k, res.Trailer[k])
		}
	}
	for _, v := range res.Header.Values("Trailer") {
		if strings.Contains(v, "Access-Control-") {
			t.Errorf("Trailer: %q announces an upstream CORS trailer", v)
		}
	}
}

func TestTheClientsAcceptEncodingReachesTheUpstreamUnchanged(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, strings.Join(r.Header.Values("Accept-Encoding"), ", "))
		mu.Unlock()
		if r.Header.Get("Accept-Encoding") == "gzip" {
			w.Header().Set("Content-Encoding", "gzip")
			gz := gzip.NewWriter(w)
			_, _ = io.WriteString(gz, `{"rtmToken":"007x"}`)
			_ = gz.Close()
			return
		}
		_, _ = io.WriteString(w, `{"rtmToken":"007x"}`)
	}))
	defer up.Close()
	px := start(t, up.URL, nil)
	// A client that adds no Accept-Encoding of its own, as a browser's
	// request arrives with exactly what the browser sent.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	tests := []struct {
		name, sent string
	}{
		{name: "no Accept-Encoding stays none: the proxy adds no gzip of its own", sent: ""},
		{name: "brotli only stays brotli only", sent: "br"},
		{name: "gzip stays gzip, and the compressed answer is passed on compressed", sent: "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			hdr := map[string]string{}
			if tt.sent != "" {
				hdr["Accept-Encoding"] = tt.sent
			}
			res := get(t, client, "GET", px.URL+"/rtm/alice/", nil, hdr)
			body, _ := io.ReadAll(res.Body)
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != 1 || seen[0] != tt.sent {
				t.Errorf("upstream saw Accept-Encoding %q, want exactly %q", seen, tt.sent)
			}
			wantGzip := tt.sent == "gzip"
			if got := res.Header.Get("Content-Encoding") == "gzip"; got != wantGzip {
				t.Errorf("Content-Encoding = %q, want gzip %v", res.Header.Get("Content-Encoding"), wantGzip)
			}
			if !wantGzip && string(body) != `{"rtmToken":"007x"}` {
				t.Errorf("body = %q", body)
			}
			if wantGzip && (len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b) {
				t.Errorf("body = %q, want the upstream's gzip bytes, not decompressed", body)
			}
		})
	}
}
