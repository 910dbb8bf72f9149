package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"signaling-auth/corsproxy/internal/iplimit"
	"signaling-auth/ratelimit/redistest"
)

const pageOrigin = "http://localhost:9000"

func getWith(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 20 * time.Second} // far above any store timeout: reaching it is a hang
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func TestATooManyRequestsAnswerCarriesCORSAndNeverReachesTheUpstream(t *testing.T) {
	up := newTestUpstream(t)
	p := startProxy(t, "--upstream="+up.URL, "--rate_limit.per_ip=1/h", "--rate_limit.burst=3")
	// Preflights have a bucket of their own, iplimit.PreflightFactor times the
	// requests' one (a refused preflight hides the 429 from the page): they
	// are limited, and do not use up the requests' bucket.
	preflight := [][2]string{{"Origin", pageOrigin}, {"Access-Control-Request-Method", "GET"}, {"Access-Control-Request-Headers", "authorization"}}
	preflights := 3 * iplimit.PreflightFactor
	for i := range preflights + 1 {
		want := http.StatusNoContent
		if i == preflights {
			want = http.StatusTooManyRequests
		}
		if res := rawDo(t, p.addr, "OPTIONS", "/rtm/a/", preflight, ""); res.StatusCode != want {
			t.Fatalf("preflight %d with a preflight burst of %d: %d, want %d", i+1, preflights, res.StatusCode, want)
		}
	}
	// An OPTIONS that is not a preflight is an ordinary request.
	if res := rawDo(t, p.addr, "OPTIONS", "/rtm/a/", [][2]string{{"Origin", pageOrigin}}, ""); res.StatusCode == http.StatusTooManyRequests {
		t.Fatal("an OPTIONS without Access-Control-Request-Method was counted as a preflight")
	}
	for i := 0; i < 2; i++ {
		res, _ := getWith(t, p.url()+"/rtm/a/", map[string]string{"Origin": pageOrigin})
		if res.StatusCode != 200 || res.Header.Get("RateLimit-Remaining") != strconv.Itoa(1-i) || res.Header.Get("RateLimit-Limit") != "3" {
			t.Fatalf("request %d: %d, RateLimit-Remaining %q", i+1, res.StatusCode, res.Header.Get("RateLimit-Remaining"))
		}
	}
	hits := up.hits.Load()
	res, body := getWith(t, p.url()+"/rtm/a/", map[string]string{"Origin": pageOrigin})
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("fourth request (the OPTIONS was the first): %d %s", res.StatusCode, body)
	}
	var prob struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(body, &prob); err != nil || prob.Status != 429 || !strings.Contains(prob.Detail, "retry after") {
		t.Errorf("problem %s", body)
	}
	if res.Header.Get("Access-Control-Allow-Origin") != pageOrigin || !varyHas(res.Header, "Origin") {
		t.Errorf("the 429 lacks CORS headers, so the page cannot read it: %v", res.Header)
	}
	if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	exposed := strings.ToLower(res.Header.Get("Access-Control-Expose-Headers"))
	for _, h := range []string{"retry-after", "ratelimit-remaining"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("Access-Control-Expose-Headers %q lacks %s: the page cannot back off", exposed, h)
		}
	}
	if up.hits.Load() != hits {
		t.Error("a refused request reached the upstream")
	}
	_, metrics := getWith(t, "http://"+p.admin+"/metrics", nil)
	if !strings.Contains(string(metrics), "corsproxy_rate_limited_total 2") {
		t.Error("the refusal is not counted in corsproxy_rate_limited_total")
	}
}

// TestProxyClientAddresses: the limiter keys on the client the one rule of
// package clientip finds, and the upstream receives that same address as
// X-Forwarded-For, whatever forwarding headers arrive.
func TestProxyClientAddresses(t *testing.T) {
	xff := func(f string) func(int) map[string]string {
		return func(i int) map[string]string { return map[string]string{"X-Forwarded-For": fmt.Sprintf(f, i)} }
	}
	tests := []struct {
		name     string
		args     []string
		header   func(int) map[string]string
		allowed  int
		upstream func(int) string // X-Forwarded-For the upstream receives for request i
	}{
		{name: "a spoofed X-Forwarded-For from an untrusted client is ignored",
			header: xff("203.0.113.%d"), allowed: 2, upstream: func(int) string { return "127.0.0.1" }},
		{name: "a trusted load balancer's X-Forwarded-For separates clients", args: []string{"--trusted_proxies=127.0.0.1"},
			header: xff("203.0.113.%d"), allowed: 6, upstream: func(i int) string { return fmt.Sprintf("203.0.113.%d", i) }},
		{name: "behind a trusted load balancer one client stays one client", args: []string{"--trusted_proxies=127.0.0.0/8"},
			header: xff("6.6.6.%d, 203.0.113.9"), allowed: 2, upstream: func(int) string { return "203.0.113.9" }},
		{name: "a trusted load balancer's Forwarded is not read, as it is not forwarded either", args: []string{"--trusted_proxies=127.0.0.1"},
			header: func(i int) map[string]string {
				return map[string]string{"Forwarded": fmt.Sprintf("for=203.0.113.%d", i)}
			},
			allowed: 2, upstream: func(int) string { return "127.0.0.1" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newTestUpstream(t)
			p := startProxy(t, append([]string{"--upstream=" + up.URL, "--rate_limit.per_ip=1/h", "--rate_limit.burst=2"}, tt.args...)...)
			allowed := 0
			for i := 0; i < 6; i++ {
				res, body := getWith(t, p.url()+"/echo", tt.header(i))
				switch res.StatusCode {
				case 200:
					allowed++
					var e echo
					if err := json.Unmarshal(body, &e); err != nil {
						t.Fatal(err)
					}
					if got := strings.Join(e.Header.Values("X-Forwarded-For"), ", "); got != tt.upstream(i) || e.Header.Get("Forwarded") != "" {
						t.Errorf("request %d: upstream got X-Forwarded-For %q, Forwarded %q; want %q alone", i, got, e.Header.Get("Forwarded"), tt.upstream(i))
					}
				case 429:
				default:
					t.Fatalf("status %d", res.StatusCode)
				}
			}
			if allowed != tt.allowed {
				t.Errorf("%d of 6 allowed, want %d", allowed, tt.allowed)
			}
		})
	}
}

func TestRateLimitOffSendsNoHeaders(t *testing.T) {
	up := newTestUpstream(t)
	p := startProxy(t, "--upstream="+up.URL, "--rate_limit.per_ip=off")
	for i := 0; i < 60; i++ {
		res, _ := getWith(t, p.url()+"/rtm/a/", nil)
		if res.StatusCode != 200 || res.Header.Get("RateLimit-Limit") != "" {
			t.Fatalf("request %d: %d %v", i, res.StatusCode, res.Header)
		}
	}
}

func TestTwoProxiesShareTheLimitThroughRedis(t *testing.T) {
	r := redistest.Start(t)
	up := newTestUpstream(t)
	args := []string{"--upstream=" + up.URL, "--rate_limit.per_ip=1/h", "--rate_limit.burst=4", "--rate_limit.store=redis", "--rate_limit.redis_url=" + r.URL()}
	a, b := startProxy(t, args...), startProxy(t, args...)
	var codes []int
	for i := 0; i < 8; i++ {
		p := a
		if i%2 == 1 {
			p = b
		}
		res, _ := getWith(t, p.url()+"/rtm/a/", nil)
		codes = append(codes, res.StatusCode)
	}
	if fmt.Sprint(codes) != "[200 200 200 200 429 429 429 429]" {
		t.Errorf("two proxies on one Redis answered %v, want 4 × 200 then 429s", codes)
	}
}

func TestProxyFollowsOnStoreErrorWhenRedisGoes(t *testing.T) {
	for _, tt := range []struct {
		policy string
		want   int
	}{{"allow", 200}, {"deny", 503}} {
		t.Run(tt.policy+" when Redis is killed", func(t *testing.T) {
			r := redistest.Start(t)
			up := newTestUpstream(t)
			p := startProxy(t, "--upstream="+up.URL, "--rate_limit.store=redis", "--rate_limit.redis_url="+r.URL(),
				"--rate_limit.on_store_error="+tt.policy, "--rate_limit.redis_timeout=300ms")
			if res, _ := getWith(t, p.url()+"/rtm/a/", map[string]string{"Origin": pageOrigin}); res.StatusCode != 200 {
				t.Fatalf("with Redis up: %d", res.StatusCode)
			}
			r.Stop()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for i := 0; i < 4; i++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url()+"/rtm/a/", nil)
				req.Header.Set("Origin", pageOrigin)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("request %d did not come back: %v", i, err)
				}
				res.Body.Close()
				if res.StatusCode != tt.want || res.Header.Get("Access-Control-Allow-Origin") != pageOrigin {
					t.Fatalf("request %d: %d (ACAO %q), want %d with CORS headers", i, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"), tt.want)
				}
			}
			n := 0
			for _, rec := range p.logs.Records(t, "") {
				if m, _ := rec["msg"].(string); strings.HasPrefix(m, "rate limit store failed") {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d store failure records, want 1:\n%s", n, p.logs.String())
			}
		})
	}
}

func TestAnUpstreamThatLimitsTooLeavesOneSetOfRateLimitFields(t *testing.T) {
	tests := []struct {
		name          string
		upstreamLeft  string
		wantRemaining string
		wantLimit     string
	}{
		{name: "the upstream's set stays when it has fewer requests left", upstreamLeft: "0", wantRemaining: "0", wantLimit: "5"},
		{name: "the proxy's set stays when it has fewer requests left", upstreamLeft: "99", wantRemaining: "39", wantLimit: "40"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("RateLimit-Limit", "5")
				w.Header().Set("RateLimit-Remaining", tt.upstreamLeft)
				w.Header().Set("RateLimit-Reset", "9")
				_, _ = io.WriteString(w, `{"rtmToken":"007x"}`)
			}))
			t.Cleanup(up.Close)
			p := startProxy(t, "--upstream="+up.URL)
			res, _ := getWith(t, p.url()+"/rtm/a/", map[string]string{"Origin": pageOrigin})
			for _, f := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
				if n := len(res.Header.Values(f)); n != 1 {
					t.Errorf("%s appears %d times: %q", f, n, res.Header.Values(f))
				}
			}
			if res.Header.Get("RateLimit-Remaining") != tt.wantRemaining || res.Header.Get("RateLimit-Limit") != tt.wantLimit {
				t.Errorf("RateLimit-Limit %q Remaining %q, want %s and %s", res.Header.Get("RateLimit-Limit"),
					res.Header.Get("RateLimit-Remaining"), tt.wantLimit, tt.wantRemaining)
			}
		})
	}
}
